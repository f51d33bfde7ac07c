"""Consult sessions without media: who may join and when, the waiting room, admission,
rejoin, ending with the summary card, the visit note, and the REST view."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from booking import services as booking
from booking.models import Appointment
from careconnect.accounts.models import CareGrant, User
from careconnect.audit.models import AuditEvent
from careconnect.errors import NotFoundError, PermissionDeniedError
from chat.models import Message
from consult import services
from consult.models import Consult, ConsultParticipant
from tests.booking.conftest import free_slots_of, publish_rule
from tests.conftest import signed_in
from tests.factories import make_doctor, make_patient
from tests.utils import raw_database_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(db: None) -> Appointment:
    """A confirmed online appointment with a free doctor, two days ahead."""
    doctor = make_doctor()
    publish_rule(doctor)
    patient = make_patient()
    later = timezone.now() + timedelta(days=2)
    slot = next(s for s in free_slots_of(doctor) if s.start > later)
    return booking.book_slot(actor=patient, slot_id=slot.id, mode="online")


@pytest.fixture
def during(visit: Appointment) -> Iterator[None]:
    with time_machine.travel(visit.start + timedelta(minutes=1), tick=False):
        yield


def doctor_of(visit: Appointment) -> User:
    return visit.doctor.user


def grant(patient: User, scopes: list[str]) -> User:
    relative = make_patient()
    CareGrant.objects.create(
        patient=patient,
        grantee=relative,
        email=str(relative.email),
        scopes=scopes,
        status=CareGrant.Status.ACTIVE,
    )
    return relative


@pytest.mark.parametrize(
    ("offset", "open_"),
    [
        (timedelta(minutes=-11), False),
        (timedelta(minutes=-9), True),
        (timedelta(minutes=59), True),  # 30 min slot + 30 min after its end
        (timedelta(minutes=61), False),
    ],
)
def test_the_consult_is_open_from_ten_minutes_before_until_thirty_after(
    visit: Appointment, offset: timedelta, open_: bool
) -> None:
    with time_machine.travel(visit.start + offset, tick=False):
        if open_:
            assert services.join(actor=visit.patient, consult_id=visit.id).admitted is False
        else:
            with pytest.raises(services.ConsultClosedError):
                services.join(actor=visit.patient, consult_id=visit.id)


def test_strangers_and_family_without_scope_are_not_found(visit: Appointment, during: None) -> None:
    for outsider in (make_patient(), make_doctor(), grant(visit.patient, ["pay"])):
        with pytest.raises(NotFoundError):
            services.join(actor=outsider, consult_id=visit.id)
    assert not ConsultParticipant.objects.exists()


@pytest.mark.parametrize("scope", ["book", "message"])
def test_a_family_member_with_book_or_message_scope_joins_as_proxy(
    visit: Appointment, during: None, scope: str
) -> None:
    relative = grant(visit.patient, [scope])
    result = services.join(actor=relative, consult_id=visit.id)
    assert (result.role, result.admitted) == ("proxy", False)
    event = AuditEvent.objects.get(action="consult.join", actor=relative)
    assert event.acting_for_id == visit.patient_id


def test_an_in_person_appointment_has_no_consult(db: None) -> None:
    doctor = make_doctor()
    publish_rule(doctor)
    patient = make_patient()
    slot = free_slots_of(doctor)[-1]
    appointment = booking.book_slot(actor=patient, slot_id=slot.id, mode="in_person")
    with pytest.raises(services.NotOnlineError):
        services.consult_access(actor=patient, consult_id=appointment.id, check_window=False)


def test_the_patient_waits_the_doctor_sees_them_and_admits_them(
    visit: Appointment, during: None
) -> None:
    # when
    first = services.join(actor=visit.patient, consult_id=visit.id)
    doctor = services.join(actor=doctor_of(visit), consult_id=visit.id)
    # then
    assert first.admitted is False
    assert doctor.admitted is True
    assert [w["user"] for w in doctor.waiting] == [str(visit.patient_id)]
    assert services.waiting_for(actor=doctor_of(visit))[0]["user"] == visit.patient_id
    invite = Message.objects.get(action=services.INVITE, target_id=str(visit.id))
    assert invite.payload["waiting"] is True
    # when
    services.admit(actor=doctor_of(visit), consult_id=visit.id, user_id=visit.patient_id)
    # then
    invite.refresh_from_db()
    assert invite.payload["waiting"] is False
    assert services.waiting_for(actor=doctor_of(visit)) == []
    consult = Consult.objects.get(pk=visit.id)
    assert consult.started_at is not None


def test_waiting_since_is_when_they_came_back_to_the_waiting_room(visit: Appointment) -> None:
    # given: the patient waited, left, and comes back ten minutes later
    with time_machine.travel(visit.start - timedelta(minutes=8), tick=False):
        services.join(actor=visit.patient, consult_id=visit.id)
        services.leave(actor=visit.patient, consult_id=visit.id)
    back = visit.start + timedelta(minutes=2)
    with time_machine.travel(back, tick=False):
        # when
        services.join(actor=visit.patient, consult_id=visit.id)
        # then: the doctor's week says since when they are waiting now, not since the first time
        [waiting] = services.waiting_for(actor=doctor_of(visit))
        assert waiting["since"] == back
        # and a second tab (already waiting) does not restart the clock
    with time_machine.travel(back + timedelta(minutes=1), tick=False):
        services.join(actor=visit.patient, consult_id=visit.id)
        assert services.waiting_for(actor=doctor_of(visit))[0]["since"] == back


def test_only_the_doctor_admits_and_ends(visit: Appointment, during: None) -> None:
    services.join(actor=visit.patient, consult_id=visit.id)
    with pytest.raises(PermissionDeniedError):
        services.admit(actor=visit.patient, consult_id=visit.id, user_id=visit.patient_id)
    with pytest.raises(PermissionDeniedError):
        services.end_consult(actor=visit.patient, consult_id=visit.id)


def test_an_admitted_patient_who_drops_out_rejoins_without_waiting(
    visit: Appointment, during: None
) -> None:
    services.join(actor=visit.patient, consult_id=visit.id)
    services.admit(actor=doctor_of(visit), consult_id=visit.id, user_id=visit.patient_id)
    services.leave(actor=visit.patient, consult_id=visit.id)
    assert services.join(actor=visit.patient, consult_id=visit.id).admitted is True


def test_ending_posts_the_summary_completes_the_visit_and_closes_the_consult(
    visit: Appointment, during: None
) -> None:
    # given
    services.join(actor=doctor_of(visit), consult_id=visit.id)
    services.join(actor=visit.patient, consult_id=visit.id)
    services.admit(actor=doctor_of(visit), consult_id=visit.id, user_id=visit.patient_id)
    # when
    services.end_consult(actor=doctor_of(visit), consult_id=visit.id)
    # then
    summary = Message.objects.get(action=services.SUMMARY)
    assert summary.state == "completed"
    assert {p["user"] for p in summary.payload["participants"]} == {
        str(visit.patient_id),
        str(doctor_of(visit).id),
    }
    assert Appointment.objects.get(id=visit.id).status == "completed"
    invite = Message.objects.get(action=services.INVITE)
    assert (invite.state, invite.payload["status"]) == ("completed", "ended")
    with pytest.raises(services.ConsultEndedError):
        services.join(actor=visit.patient, consult_id=visit.id)
    assert not ConsultParticipant.objects.exclude(state="left").exists()


def test_the_visit_note_is_the_doctors_sealed_and_audited(visit: Appointment, during: None) -> None:
    services.write_note(
        actor=doctor_of(visit), consult_id=visit.id, text="Wheeze resolved; reduce inhaler"
    )
    assert "Wheeze resolved" not in raw_database_text()
    _, text = services.read_note(actor=doctor_of(visit), consult_id=visit.id)
    assert text == "Wheeze resolved; reduce inhaler"
    with pytest.raises(NotFoundError):
        services.read_note(actor=visit.patient, consult_id=visit.id)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"consult.note.write", "consult.note.read"} <= actions


def test_the_consult_page_view_says_when_it_opens_and_who_waits(
    api: Any, make_api: Any, visit: Appointment
) -> None:
    # before the window
    body = signed_in(api, visit.patient).get(f"/api/consults/{visit.id}/").json()
    assert (body["role"], body["status"], body["joinable"]) == ("patient", "not_started", False)
    assert body["ice_servers"] == []
    assert body["video"] == {"width": 640, "height": 360}
    with time_machine.travel(visit.start, tick=False):
        services.join(actor=visit.patient, consult_id=visit.id)
        doctor = signed_in(make_api(), doctor_of(visit))
        seen = doctor.get(f"/api/consults/{visit.id}/").json()
        assert seen["joinable"] is True
        assert [w["user"] for w in seen["waiting"]] == [str(visit.patient_id)]
        ended = doctor.post(f"/api/consults/{visit.id}/end/")
        assert ended.json()["status"] == "ended"
        note = doctor.put(f"/api/consults/{visit.id}/note/", {"text": "Fine"})
        assert note.json()["text"] == "Fine"
        assert doctor.get(f"/api/consults/{visit.id}/note/").json()["text"] == "Fine"
    stranger = signed_in(make_api(), make_patient())
    assert stranger.get(f"/api/consults/{visit.id}/").status_code == 404
    assert api.get(f"/api/consults/{visit.id}/note/").status_code == 404


def test_appointments_say_when_the_consult_waiting_room_opens(api: Any, settings: Any) -> None:
    from datetime import datetime

    from tests.conftest import signed_in
    from tests.consult.conftest import make_call

    settings.CONSULT_OPEN_MINUTES_BEFORE = 10
    call = make_call(days_ahead=1)
    signed_in(api, call.patient)
    [shown] = [
        a for a in api.get("/api/appointments/").json() if a["id"] == str(call.appointment.id)
    ]
    opens = datetime.fromisoformat(shown["consult_opens_at"].replace("Z", "+00:00"))
    assert (call.appointment.start - opens).total_seconds() == 600
