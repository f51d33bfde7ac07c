"""The waitlist: joining, a freed time offered (held) to the first in line with an email,
lapsing to the next in line, booking the held time, and leaving."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from booking import services, tasks
from booking.models import Appointment, Hold, Slot, SlotMode, WaitlistEntry
from careconnect.accounts.models import DoctorProfile, User
from careconnect.audit.models import AuditEvent
from tests.booking.conftest import free_slots_of
from tests.chat.conftest import make_grant
from tests.conftest import signed_in
from tests.factories import make_patient
from tests.utils import last_email_to

pytestmark = pytest.mark.django_db

REASON = "Sudden loss of hearing in one ear"


def _profile(doctor_user: User) -> DoctorProfile:
    return DoctorProfile.objects.get(user=doctor_user)


def _local_day(slot: Slot) -> date:
    return slot.start.astimezone(ZoneInfo("Europe/Lisbon")).date()


def _join(api: Any, doctor_user: User, **fields: Any) -> Any:
    today = timezone.localdate()
    body = {
        "doctor": str(_profile(doctor_user).id),
        "earliest": today.isoformat(),
        "latest": (today + timedelta(days=30)).isoformat(),
        **fields,
    }
    return api.post("/api/waitlist/", body)


def _code(response: Any) -> str:
    return str(response.json()["error"]["code"])


def _entry(patient: User) -> WaitlistEntry:
    return WaitlistEntry.objects.get(patient=patient)


def _book(api: Any, slot: Slot) -> Any:
    return api.post("/api/appointments/", {"slot": str(slot.id), "mode": "online"})


def _booked_with_a_queue(
    make_api: Any, scheduled_doctor: User, slot: Slot, queue: int = 2
) -> tuple[Any, Appointment, list[User], list[Any]]:
    """Given: the slot is booked (with a reason); `queue` patients joined the waitlist in turn.
    Returns the booker's client, the appointment, the waiting patients and their clients."""
    booker = make_patient()
    booker_api = signed_in(make_api(), booker)
    booked = booker_api.post(
        "/api/appointments/", {"slot": str(slot.id), "mode": "online", "reason": REASON}
    )
    assert booked.status_code == 201
    waiting = [make_patient() for _ in range(queue)]
    clients = [signed_in(make_api(), p) for p in waiting]
    for client in clients:
        assert _join(client, scheduled_doctor).status_code == 201
    appointment = Appointment.objects.get(id=booked.json()["id"])
    return booker_api, appointment, waiting, clients


def test_joining_the_waitlist_then_joining_again_is_409_already_waiting(
    api: Any, scheduled_doctor: User
) -> None:
    # given
    patient = make_patient()
    signed_in(api, patient)
    # when
    joined = _join(api, scheduled_doctor, mode="online")
    again = _join(api, scheduled_doctor)
    # then
    assert joined.status_code == 201, joined.content
    body = joined.json()
    assert (body["status"], body["mode"], body["offer"]) == ("waiting", "online", None)
    assert body["doctor"]["id"] == str(_profile(scheduled_doctor).id)
    assert body["patient"] == {"id": str(patient.id), "name": patient.full_name}
    assert (again.status_code, _code(again)) == (409, "already_waiting")
    assert WaitlistEntry.objects.count() == 1
    assert [e["id"] for e in api.get("/api/waitlist/").json()] == [body["id"]]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"earliest": "2030-02-10", "latest": "2030-02-01"}, "latest"),
        ({"earliest": "2001-01-01", "latest": "2001-01-31"}, "latest"),
        ({"mode": "telepathy"}, "mode"),
        ({"status": "offered"}, "status"),
    ],
    ids=["reversed", "past", "mode", "unknown-field"],
)
def test_joining_with_bad_input_is_400_and_writes_nothing(
    api: Any, scheduled_doctor: User, fields: dict[str, Any], field: str
) -> None:
    signed_in(api, make_patient())
    response = _join(api, scheduled_doctor, **fields)
    assert response.status_code == 400
    assert (_code(response), field in response.json()["error"]["fields"]) == ("invalid", True)
    assert not WaitlistEntry.objects.exists()


@pytest.mark.parametrize(
    "run_expiry",
    [
        lambda hold: tasks.release_lapsed_holds_task.delay(),
        lambda hold: tasks.release_lapsed_hold_task.delay(str(hold.id)),
        lambda hold: services.release_lapsed_holds(),
    ],
    ids=["sweep-task", "per-hold-task", "service"],
)
def test_a_cancelled_time_is_offered_in_turn_and_the_next_in_line_gets_it_when_it_lapses(
    make_api: Any,
    scheduled_doctor: User,
    slot: Slot,
    django_capture_on_commit_callbacks: Callable[..., Any],
    run_expiry: Callable[[Hold], Any],
) -> None:
    # given: a booked time and two patients waiting, first then second
    booker_api, appointment, (first, second), (first_api, second_api) = _booked_with_a_queue(
        make_api, scheduled_doctor, slot
    )
    mail.outbox.clear()
    # when: the booking is cancelled
    assert booker_api.post(f"/api/appointments/{appointment.id}/cancel/").status_code == 200
    # then: it is held for the first in line, who is emailed (no health data in it)
    offered = _entry(first)
    assert (offered.status, _entry(second).status) == ("offered", "waiting")
    assert offered.hold is not None
    hold = offered.hold
    assert (hold.slot, hold.patient, hold.released_at) == (slot, first, None)
    minutes = (hold.expires_at - hold.created_at).total_seconds() / 60
    assert round(minutes) == 15
    email = last_email_to(str(first.email))
    assert "held for you for 15 minutes" in email.body
    for private in (REASON, scheduled_doctor.last_name, "hearing"):
        assert private not in email.body
        assert private not in email.subject
    # only the first in line is offered it; the booker is told of their own cancellation
    assert [m.to for m in mail.outbox if m.subject == email.subject] == [[first.email]]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [str(first.email), str(appointment.patient.email)]
    )
    listed = first_api.get("/api/waitlist/").json()[0]
    assert listed["offer"]["slot"] == str(slot.id)
    # and: nobody else can take it meanwhile
    refused = _book(second_api, slot)
    assert (refused.status_code, _code(refused)) == (409, "slot_taken")
    # when: the offer lapses unused and the expiry runs
    with time_machine.travel(hold.expires_at + timedelta(seconds=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            run_expiry(hold)
        # then: the first's entry lapsed; the slot is held for the second, who is emailed
        assert _entry(first).status == "lapsed"
        assert _entry(second).status == "offered"
        assert Hold.objects.get(id=hold.id).released_at is not None
        assert last_email_to(str(second.email)).subject == email.subject
        # when: the second books the held time
        late = _book(signed_in(make_api(), first), slot)
        booked = _book(signed_in(make_api(), second), slot)
    # then
    assert (late.status_code, _code(late)) == (409, "slot_taken")
    assert booked.status_code == 201, booked.content
    assert _entry(second).status == "booked"
    assert Appointment.objects.get(slot=slot, status="confirmed").patient == second
    assert AuditEvent.objects.filter(action="waitlist.offer").count() == 2


def test_an_offer_goes_to_the_first_whose_dates_and_mode_cover_the_time(
    make_api: Any, scheduled_doctor: User, slot: Slot
) -> None:
    # given: three waiting, the first two for other days or another mode
    booker = make_patient()
    appointment = services.book_slot(actor=booker, slot_id=slot.id, mode="online")
    day = _local_day(slot)
    other_days, in_person_only, fits = make_patient(), make_patient(), make_patient()
    for patient, fields in (
        (other_days, {"latest": (day - timedelta(days=1)).isoformat()}),
        (in_person_only, {"mode": SlotMode.IN_PERSON}),
        (fits, {"earliest": day.isoformat(), "latest": day.isoformat()}),
    ):
        assert _join(signed_in(make_api(), patient), scheduled_doctor, **fields).status_code == 201
    # and: the freed time is offered online only
    Slot.objects.filter(id=slot.id).update(mode=SlotMode.ONLINE)
    # when
    cancelled = signed_in(make_api(), booker).post(f"/api/appointments/{appointment.id}/cancel/")
    # then
    assert cancelled.status_code == 200
    statuses = {p: _entry(p).status for p in (other_days, in_person_only, fits)}
    assert statuses == {other_days: "waiting", in_person_only: "waiting", fits: "offered"}


def test_leaving_the_waitlist_releases_the_hold_and_offers_the_next(
    make_api: Any, scheduled_doctor: User, slot: Slot
) -> None:
    # given: the first in line holds an offer, the second waits
    booker_api, appointment, (first, second), (first_api, second_api) = _booked_with_a_queue(
        make_api, scheduled_doctor, slot
    )
    assert booker_api.post(f"/api/appointments/{appointment.id}/cancel/").status_code == 200
    entry = _entry(first)
    assert entry.hold is not None
    # when
    left = first_api.post(f"/api/waitlist/{entry.id}/leave/")
    # then
    assert left.status_code == 200, left.content
    assert (left.json()["status"], left.json()["offer"]) == ("cancelled", None)
    assert Hold.objects.get(id=entry.hold.id).released_at is not None
    assert _entry(second).status == "offered"
    assert last_email_to(str(second.email))
    assert _book(second_api, slot).status_code == 201
    assert _entry(second).status == "booked"
    # and: leaving again is refused
    again = first_api.post(f"/api/waitlist/{entry.id}/leave/")
    assert (again.status_code, _code(again)) == (409, "wrong_state")


def test_leaving_with_unknown_fields_is_400_and_keeps_the_entry(
    api: Any, scheduled_doctor: User
) -> None:
    patient = make_patient()
    signed_in(api, patient)
    assert _join(api, scheduled_doctor).status_code == 201
    entry = _entry(patient)
    response = api.post(f"/api/waitlist/{entry.id}/leave/", {"status": "booked"})
    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]
    assert _entry(patient).status == "waiting"


def test_leaving_someone_elses_waitlist_entry_is_404(make_api: Any, scheduled_doctor: User) -> None:
    owner = make_patient()
    assert _join(signed_in(make_api(), owner), scheduled_doctor).status_code == 201
    entry = _entry(owner)
    response = signed_in(make_api(), make_patient()).post(f"/api/waitlist/{entry.id}/leave/")
    assert response.status_code == 404
    assert _entry(owner).status == "waiting"


def test_rescheduling_away_offers_the_freed_time_to_the_waitlist(
    make_api: Any, scheduled_doctor: User
) -> None:
    # given
    tomorrow = timezone.now() + timedelta(days=1)
    old, new = [s for s in free_slots_of(scheduled_doctor) if s.start > tomorrow][:2]
    patient, waiting = make_patient(), make_patient()
    appointment = services.book_slot(actor=patient, slot_id=old.id, mode="online")
    assert _join(signed_in(make_api(), waiting), scheduled_doctor).status_code == 201
    # when
    moved = signed_in(make_api(), patient).post(
        f"/api/appointments/{appointment.id}/reschedule/", {"slot": str(new.id)}
    )
    # then
    assert moved.status_code == 200, moved.content
    entry = _entry(waiting)
    assert entry.status == "offered"
    assert entry.hold is not None
    assert entry.hold.slot == old


def test_a_proxy_joins_for_the_patient_and_both_are_emailed_the_offer(
    make_api: Any, scheduled_doctor: User, slot: Slot
) -> None:
    # given: a family member with `book` puts the patient on the waitlist
    patient, family = make_patient(), make_patient()
    make_grant(patient, family, ["book"])
    booker = make_patient()
    appointment = services.book_slot(actor=booker, slot_id=slot.id, mode="online")
    joined = _join(signed_in(make_api(), family), scheduled_doctor, patient=str(patient.id))
    assert joined.status_code == 201, joined.content
    assert joined.json()["patient"]["id"] == str(patient.id)
    event = AuditEvent.objects.get(action="waitlist.join")
    assert (event.actor, event.acting_for) == (family, patient)
    # when
    signed_in(make_api(), booker).post(f"/api/appointments/{appointment.id}/cancel/")
    # then
    assert _entry(patient).status == "offered"
    assert last_email_to(str(patient.email))
    assert last_email_to(str(family.email))


def test_the_waitlist_lists_one_patient_when_asked_and_only_someone_you_book_for(
    make_api: Any, scheduled_doctor: User
) -> None:
    # given: a family member on the waitlist for themself and, with `book`, for the patient
    patient, family, stranger = make_patient(), make_patient(), make_patient()
    make_grant(patient, family, ["book"])
    api = signed_in(make_api(), family)
    own = _join(api, scheduled_doctor)
    for_patient = _join(api, scheduled_doctor, patient=str(patient.id))
    assert (own.status_code, for_patient.status_code) == (201, 201)
    # when / then: everyone they book for by default, one patient with ?patient=
    both = {e["id"] for e in api.get("/api/waitlist/").json()}
    assert both == {own.json()["id"], for_patient.json()["id"]}
    only = api.get(f"/api/waitlist/?patient={patient.id}").json()
    assert [e["id"] for e in only] == [for_patient.json()["id"]]
    mine = api.get(f"/api/waitlist/?patient={family.id}").json()
    assert [e["id"] for e in mine] == [own.json()["id"]]
    # someone they do not book for is not found; a malformed id is a clear 400
    assert api.get(f"/api/waitlist/?patient={stranger.id}").status_code == 404
    bad = api.get("/api/waitlist/?patient=not-an-id")
    assert (bad.status_code, _code(bad)) == (400, "invalid")
