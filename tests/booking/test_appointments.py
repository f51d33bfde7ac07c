"""Appointments over the REST API: booking for oneself and for a patient one acts for, status
and history, bad input refused with nothing written, reschedule, cancel under the center's
policy, the staff transitions, phoned-in bookings, holds, and the reason for visit at rest."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from booking import selectors, services
from booking.models import Appointment, BookingPolicy, Hold, Slot, SlotMode
from careconnect.accounts.models import CareGrant, CareRelationship, DoctorProfile, Role, User
from careconnect.audit.models import AuditEvent
from tests.booking.conftest import free_slots_of, publish_rule
from tests.conftest import signed_in
from tests.factories import make_doctor, make_patient, make_staff
from tests.utils import raw_database_text

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------ helpers


def _book(api: Any, slot: Slot, /, **fields: Any) -> Any:
    return api.post("/api/appointments/", {"slot": str(slot.id), "mode": "online", **fields})


def _code(response: Any) -> str:
    return str(response.json()["error"]["code"])


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _profile(doctor_user: User) -> DoctorProfile:
    return DoctorProfile.objects.get(user=doctor_user)


def _grant(patient: User, grantee: User, scopes: list[str], **fields: Any) -> CareGrant:
    """A family grant as accepting an invitation leaves it (live unless `fields` say not)."""
    values: dict[str, Any] = {"status": CareGrant.Status.ACTIVE, **fields}
    return CareGrant.objects.create(
        patient=patient,
        grantee=grantee,
        email=str(grantee.email),
        scopes=scopes,
        accepted_at=timezone.now(),
        **values,
    )


def _later_slots(doctor_user: User, count: int) -> list[Slot]:
    """`count` free slots more than a day ahead, each on a different day."""
    tomorrow = timezone.now() + timedelta(days=1)
    chosen: list[Slot] = []
    for candidate in free_slots_of(doctor_user):
        if candidate.start > tomorrow and all(
            candidate.start.date() != c.start.date() for c in chosen
        ):
            chosen.append(candidate)
        if len(chosen) == count:
            return chosen
    raise AssertionError("not enough free slots")


def _appointment(patient: User, slot: Slot, **fields: Any) -> Appointment:
    """Given: an appointment booked by the patient through the service."""
    return services.book_slot(actor=patient, slot_id=slot.id, mode="online", **fields)


def _other_doctor_slot() -> Slot:
    other = make_doctor()
    publish_rule(other)
    return _later_slots(other, 1)[0]


def _policy(doctor_user: User, **fields: Any) -> BookingPolicy:
    policy, _ = BookingPolicy.objects.update_or_create(
        center_id=_profile(doctor_user).center_id, defaults=fields
    )
    return policy


# ------------------------------------------------------------------ booking


def test_patient_books_a_free_slot_for_themselves(
    api: Any, scheduled_doctor: User, slot: Slot
) -> None:
    # given
    patient = make_patient()
    signed_in(api, patient)
    # when
    response = _book(api, slot, reason="Cough")
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "confirmed"
    assert body["patient"] == {"id": str(patient.id), "name": patient.full_name}
    assert body["booked_by"]["id"] == str(patient.id)
    assert body["doctor"]["id"] == str(_profile(scheduled_doctor).id)
    assert body["doctor"]["user"] == str(scheduled_doctor.id)
    assert (_at(body["start"]), _at(body["end"])) == (slot.start, slot.end)
    assert body["mode"] == "online"
    assert body["consult"] == body["id"]
    assert body["reason"] == "Cough"
    assert body["timezone"] == "Europe/Lisbon"
    assert body["late_cancellation"] is False
    assert body["cancelled_at"] is None
    assert (body["can_cancel"], body["can_reschedule"], body["can_review"]) == (True, True, False)
    appointment = Appointment.objects.get(id=body["id"])
    assert (appointment.patient, appointment.booked_by, appointment.slot) == (
        patient,
        patient,
        slot,
    )
    event = AuditEvent.objects.get(action="appointment.book")
    assert (event.actor, event.patient, event.acting_for) == (patient, patient, None)
    assert CareRelationship.objects.filter(patient=patient, clinician=scheduled_doctor).exists()


def test_booking_a_taken_slot_is_409_slot_taken(api: Any, slot: Slot) -> None:
    # given: someone booked the slot first
    _appointment(make_patient(), slot)
    signed_in(api, make_patient())
    # when
    response = _book(api, slot)
    # then
    assert response.status_code == 409
    assert _code(response) == "slot_taken"
    assert Appointment.objects.filter(slot=slot).count() == 1


def test_family_member_with_book_scope_books_for_the_patient_audited_as_acting_for(
    api: Any, slot: Slot
) -> None:
    # given: the patient granted a family member the `book` scope
    patient, family = make_patient(), make_patient()
    _grant(patient, family, ["book"])
    signed_in(api, family)
    # when
    response = _book(api, slot, patient=str(patient.id), reason="Ear ache")
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["patient"]["id"] == str(patient.id)
    assert body["booked_by"]["id"] == str(family.id)
    assert Appointment.objects.get(id=body["id"]).patient == patient
    event = AuditEvent.objects.get(action="appointment.book")
    assert (event.actor, event.patient, event.acting_for) == (family, patient, patient)
    # and the proxy lists the patient's appointments (not their own)
    listed = api.get(f"/api/appointments/?patient={patient.id}").json()
    assert [a["id"] for a in listed] == [body["id"]]
    assert listed[0]["reason"] == "Ear ache"
    assert api.get("/api/appointments/").json() == []


@pytest.mark.parametrize(
    ("grant", "status", "code"),
    [
        ({"scopes": ["message", "view_records"]}, 403, "scope_missing"),
        ({"scopes": ["book"], "status": CareGrant.Status.REVOKED}, 403, "grant_inactive"),
        ({"scopes": ["book"], "expires_at": timezone.now()}, 403, "grant_inactive"),
        (None, 404, "not_found"),
    ],
    ids=["without-book-scope", "revoked", "expired", "no-grant"],
)
def test_booking_for_a_patient_without_a_live_book_grant_is_refused(
    api: Any, slot: Slot, grant: dict[str, Any] | None, status: int, code: str
) -> None:
    # given
    patient, family = make_patient(), make_patient()
    if grant is not None:
        _grant(patient, family, **grant)
    signed_in(api, family)
    # when
    response = _book(api, slot, patient=str(patient.id))
    # then
    assert response.status_code == status
    assert _code(response) == code
    assert not Appointment.objects.exists()
    assert not AuditEvent.objects.filter(action="appointment.book").exists()


def test_center_requiring_confirmation_books_requested_until_staff_confirm(
    api: Any, make_api: Any, scheduled_doctor: User, slot: Slot
) -> None:
    # given: the center confirms bookings itself
    _policy(scheduled_doctor, requires_confirmation=True)
    patient = make_patient()
    signed_in(api, patient)
    booked = _book(api, slot)
    assert booked.status_code == 201
    assert booked.json()["status"] == "requested"
    appointment_id = booked.json()["id"]
    # when: the patient tries to confirm it themselves
    by_patient = api.post(f"/api/appointments/{appointment_id}/confirm/")
    # then
    assert by_patient.status_code == 403
    assert Appointment.objects.get(id=appointment_id).status == "requested"
    # when: the doctor confirms
    doctor_api = signed_in(make_api(), scheduled_doctor)
    confirmed = doctor_api.post(f"/api/appointments/{appointment_id}/confirm/")
    # then
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["status"] == "confirmed"
    again = doctor_api.post(f"/api/appointments/{appointment_id}/confirm/")
    assert again.status_code == 409
    assert _code(again) == "wrong_state"


def test_history_lists_upcoming_soonest_first_and_past_newest_first(
    make_api: Any, scheduled_doctor: User
) -> None:
    # given: three appointments on three days; one other patient's appointment
    patient = make_patient()
    first, second, third, others = _later_slots(scheduled_doctor, 4)
    ids = [str(_appointment(patient, s).id) for s in (first, second, third)]
    _appointment(make_patient(), others)
    # when: time moves on past the second one
    with time_machine.travel(second.end + timedelta(minutes=1), tick=False):
        api = signed_in(make_api(), patient)
        upcoming = api.get("/api/appointments/?when=upcoming")
        past = api.get("/api/appointments/?when=past")
        every = api.get("/api/appointments/?when=all")
        default = api.get("/api/appointments/")
        doctor_past = signed_in(make_api(), scheduled_doctor).get("/api/appointments/?when=past")
        # then
        assert [a["id"] for a in upcoming.json()] == [ids[2]]
        assert [a["id"] for a in past.json()] == [ids[1], ids[0]]
        assert [a["id"] for a in every.json()] == [ids[2], ids[1], ids[0]]
        assert default.json() == upcoming.json()
        assert [a["can_cancel"] for a in every.json()] == [True, False, False]
        assert [a["id"] for a in doctor_past.json()] == [ids[1], ids[0]]
    bad = signed_in(make_api(), patient).get("/api/appointments/?when=soon")
    assert bad.status_code == 400
    assert "when" in bad.json()["error"]["fields"]


# ------------------------------------------------------------------ bad input


def test_booking_a_slot_that_has_started_is_400_slot_not_bookable(
    make_api: Any, slot: Slot
) -> None:
    # given
    patient = make_patient()
    with time_machine.travel(slot.start + timedelta(minutes=1), tick=False):
        api = signed_in(make_api(), patient)
        # when
        response = _book(api, slot)
    # then
    assert response.status_code == 400
    assert _code(response) == "slot_not_bookable"
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("which", ["too_soon", "too_far"])
def test_booking_outside_the_booking_window_is_400_slot_not_bookable(api: Any, which: str) -> None:
    # given: a doctor taking bookings from 7 days ahead down to 2 days' notice
    doctor = make_doctor()
    publish_rule(doctor, min_notice_minutes=2 * 24 * 60, booking_horizon_days=7)
    now = timezone.now()
    slots = Slot.objects.filter(doctor=_profile(doctor)).order_by("start")
    target = (
        slots.filter(start__gt=now, start__lt=now + timedelta(days=2)).first()
        if which == "too_soon"
        else slots.filter(start__gt=now + timedelta(days=7)).first()
    )
    assert target is not None
    signed_in(api, make_patient())
    # when
    response = _book(api, target)
    # then
    assert response.status_code == 400
    assert _code(response) == "slot_not_bookable"
    assert not Appointment.objects.exists()


def test_booking_another_doctors_slot_is_400_wrong_doctor(api: Any, scheduled_doctor: User) -> None:
    # given: the client names the doctor it thinks it is booking
    elsewhere = _other_doctor_slot()
    signed_in(api, make_patient())
    # when
    response = _book(api, elsewhere, doctor=str(_profile(scheduled_doctor).id))
    # then
    assert response.status_code == 400
    assert _code(response) == "wrong_doctor"
    assert not Appointment.objects.exists()


def test_booking_a_mode_the_slot_does_not_offer_is_400_mode_not_offered(api: Any) -> None:
    # given: a doctor who only sees patients in person
    doctor = make_doctor()
    publish_rule(doctor, mode=SlotMode.IN_PERSON)
    in_person = _later_slots(doctor, 1)[0]
    signed_in(api, make_patient())
    # when
    response = _book(api, in_person, mode="online")
    # then
    assert response.status_code == 400
    assert _code(response) == "mode_not_offered"
    assert "mode" in response.json()["error"]["fields"]
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"status": "completed"}, "status"),
        ({"booked_by": "00000000-0000-0000-0000-000000000000"}, "booked_by"),
        ({"reason": "<script>alert(1)</script>"}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"mode": "telepathy"}, "mode"),
        ({"slot": "not-a-uuid"}, "slot"),
    ],
    ids=["unknown-status", "unknown-booked-by", "html-reason", "long-reason", "mode", "slot"],
)
def test_invalid_booking_input_is_400_with_the_field_named(
    api: Any, slot: Slot, fields: dict[str, Any], field: str
) -> None:
    # given
    signed_in(api, make_patient())
    # when
    response = _book(api, slot, **fields)
    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"]
    assert field in error["fields"]
    assert not Appointment.objects.exists()


def test_booking_an_unknown_slot_is_404(api: Any, scheduled_doctor: User) -> None:
    signed_in(api, make_patient())
    response = api.post(
        "/api/appointments/",
        {"slot": "00000000-0000-0000-0000-000000000000", "mode": "online"},
    )
    assert response.status_code == 404
    assert not Appointment.objects.exists()


def test_booking_needs_a_signed_in_user(api: Any, slot: Slot) -> None:
    response = _book(api, slot)
    assert response.status_code == 401
    assert not Appointment.objects.exists()


# ------------------------------------------------------------------ reschedule


def test_reschedule_moves_the_appointment_and_frees_the_old_slot(
    api: Any, make_api: Any, scheduled_doctor: User
) -> None:
    # given
    patient = make_patient()
    old, new = _later_slots(scheduled_doctor, 2)
    appointment = _appointment(patient, old, reason="Back pain")
    signed_in(api, patient)
    # when
    response = api.post(f"/api/appointments/{appointment.id}/reschedule/", {"slot": str(new.id)})
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == str(appointment.id)
    assert (_at(body["start"]), _at(body["end"])) == (new.start, new.end)
    assert body["reason"] == "Back pain"
    appointment.refresh_from_db()
    assert (appointment.slot, appointment.start, appointment.reschedule_count) == (
        new,
        new.start,
        1,
    )
    event = AuditEvent.objects.get(action="appointment.reschedule")
    assert event.detail == {"from_slot": str(old.id), "to_slot": str(new.id)}
    # and the old time is free for others
    assert _book(signed_in(make_api(), make_patient()), old).status_code == 201


def test_reschedule_onto_a_taken_slot_is_409_and_the_appointment_stays(
    api: Any, scheduled_doctor: User
) -> None:
    # given: the target time is someone else's
    patient = make_patient()
    old, taken = _later_slots(scheduled_doctor, 2)
    appointment = _appointment(patient, old)
    other = _appointment(make_patient(), taken)
    signed_in(api, patient)
    # when
    response = api.post(f"/api/appointments/{appointment.id}/reschedule/", {"slot": str(taken.id)})
    # then
    assert response.status_code == 409
    assert _code(response) == "slot_taken"
    appointment.refresh_from_db()
    assert (appointment.slot, appointment.start, appointment.reschedule_count) == (
        old,
        old.start,
        0,
    )
    assert list(Appointment.objects.filter(slot=taken)) == [other]
    assert not AuditEvent.objects.filter(action="appointment.reschedule").exists()


def test_reschedule_to_another_doctors_slot_is_400_wrong_doctor(
    api: Any, scheduled_doctor: User, slot: Slot
) -> None:
    # given
    patient = make_patient()
    appointment = _appointment(patient, slot)
    elsewhere = _other_doctor_slot()
    signed_in(api, patient)
    # when
    response = api.post(
        f"/api/appointments/{appointment.id}/reschedule/", {"slot": str(elsewhere.id)}
    )
    # then
    assert response.status_code == 400
    assert _code(response) == "wrong_doctor"
    appointment.refresh_from_db()
    assert appointment.slot == slot
    assert not Appointment.objects.filter(slot=elsewhere).exists()


def test_reschedule_to_a_mode_the_slot_does_not_offer_is_400_mode_not_offered(
    api: Any,
) -> None:
    # given: the doctor's later hours are in person only
    doctor = make_doctor()
    publish_rule(doctor, end_time=time(10, 0))
    publish_rule(
        doctor,
        start_time=time(14, 0),
        end_time=time(16, 0),
        mode=SlotMode.IN_PERSON,
    )
    tomorrow = timezone.now() + timedelta(days=1)
    slots = [s for s in free_slots_of(doctor) if s.start > tomorrow]
    both = next(s for s in slots if s.mode == SlotMode.BOTH)
    in_person = next(s for s in slots if s.mode == SlotMode.IN_PERSON)
    patient = make_patient()
    appointment = _appointment(patient, both)
    signed_in(api, patient)
    # when: moved keeping its online mode
    response = api.post(
        f"/api/appointments/{appointment.id}/reschedule/", {"slot": str(in_person.id)}
    )
    # then
    assert response.status_code == 400
    assert _code(response) == "mode_not_offered"
    appointment.refresh_from_db()
    assert appointment.slot == both
    # when: moved and switched to in person, it is fine
    moved = api.post(
        f"/api/appointments/{appointment.id}/reschedule/",
        {"slot": str(in_person.id), "mode": "in_person"},
    )
    assert moved.status_code == 200, moved.content
    assert (moved.json()["mode"], moved.json()["consult"]) == ("in_person", None)


def test_rescheduling_someone_elses_appointment_is_404(api: Any, scheduled_doctor: User) -> None:
    # given
    owner = make_patient()
    old, new = _later_slots(scheduled_doctor, 2)
    appointment = _appointment(owner, old)
    signed_in(api, make_patient())
    # when
    response = api.post(f"/api/appointments/{appointment.id}/reschedule/", {"slot": str(new.id)})
    # then
    assert response.status_code == 404
    appointment.refresh_from_db()
    assert appointment.slot == old
    assert not Appointment.objects.filter(slot=new).exists()


def test_rescheduling_a_cancelled_appointment_is_409_wrong_state(
    api: Any, scheduled_doctor: User
) -> None:
    # given
    patient = make_patient()
    old, new = _later_slots(scheduled_doctor, 2)
    appointment = _appointment(patient, old)
    services.cancel_appointment(actor=patient, appointment_id=appointment.id)
    signed_in(api, patient)
    # when
    response = api.post(f"/api/appointments/{appointment.id}/reschedule/", {"slot": str(new.id)})
    # then
    assert response.status_code == 409
    assert _code(response) == "wrong_state"
    assert not Appointment.objects.filter(slot=new).exists()


def test_reschedule_refuses_unknown_fields(api: Any, scheduled_doctor: User) -> None:
    patient = make_patient()
    old, new = _later_slots(scheduled_doctor, 2)
    appointment = _appointment(patient, old)
    signed_in(api, patient)
    response = api.post(
        f"/api/appointments/{appointment.id}/reschedule/",
        {"slot": str(new.id), "start": new.start.isoformat()},
    )
    assert response.status_code == 400
    assert "start" in response.json()["error"]["fields"]
    appointment.refresh_from_db()
    assert appointment.slot == old


# ------------------------------------------------------------------ cancel


@pytest.mark.parametrize(
    ("notice_hours", "late"), [(1, False), (24 * 30, True)], ids=["outside", "inside"]
)
def test_cancel_is_allowed_and_marked_late_inside_the_centers_notice(
    api: Any, make_api: Any, scheduled_doctor: User, slot: Slot, notice_hours: int, late: bool
) -> None:
    # given
    _policy(scheduled_doctor, cancellation_notice_hours=notice_hours)
    patient = make_patient()
    appointment = _appointment(patient, slot)
    signed_in(api, patient)
    shown = api.get(f"/api/appointments/{appointment.id}/").json()
    assert _at(shown["cancellation_deadline"]) == slot.start - timedelta(hours=notice_hours)
    # when
    response = api.post(f"/api/appointments/{appointment.id}/cancel/")
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["late_cancellation"]) == ("cancelled", late)
    assert body["cancelled_at"] is not None
    assert (body["can_cancel"], body["can_reschedule"]) == (False, False)
    appointment.refresh_from_db()
    assert (appointment.status, appointment.late_cancellation, appointment.cancelled_by) == (
        "cancelled",
        late,
        patient,
    )
    assert AuditEvent.objects.get(action="appointment.cancel").detail["late"] is late
    # and the time can be booked again
    assert _book(signed_in(make_api(), make_patient()), slot).status_code == 201


def test_staff_cancelling_inside_the_notice_is_not_late(
    api: Any, scheduled_doctor: User, slot: Slot
) -> None:
    # given: a cancellation now would be late for the patient
    _policy(scheduled_doctor, cancellation_notice_hours=24 * 30)
    appointment = _appointment(make_patient(), slot)
    signed_in(api, scheduled_doctor)
    # when
    response = api.post(f"/api/appointments/{appointment.id}/cancel/")
    # then
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["late_cancellation"]) == (
        "cancelled",
        False,
    )


def test_cancelling_twice_is_409_already_cancelled(api: Any, slot: Slot) -> None:
    # given
    patient = make_patient()
    appointment = _appointment(patient, slot)
    signed_in(api, patient)
    first = api.post(f"/api/appointments/{appointment.id}/cancel/")
    assert first.status_code == 200
    cancelled_at = Appointment.objects.get(id=appointment.id).cancelled_at
    # when
    second = api.post(f"/api/appointments/{appointment.id}/cancel/")
    # then
    assert second.status_code == 409
    assert _code(second) == "already_cancelled"
    assert Appointment.objects.get(id=appointment.id).cancelled_at == cancelled_at
    assert AuditEvent.objects.filter(action="appointment.cancel").count() == 1


def test_cancelling_someone_elses_appointment_is_404(api: Any, slot: Slot) -> None:
    appointment = _appointment(make_patient(), slot)
    signed_in(api, make_patient())
    response = api.post(f"/api/appointments/{appointment.id}/cancel/")
    assert response.status_code == 404
    assert Appointment.objects.get(id=appointment.id).status == "confirmed"


def test_proxy_with_book_scope_cancels_for_the_patient_audited_as_acting_for(
    api: Any, slot: Slot
) -> None:
    patient, family = make_patient(), make_patient()
    _grant(patient, family, ["book"])
    appointment = _appointment(patient, slot)
    signed_in(api, family)
    response = api.post(f"/api/appointments/{appointment.id}/cancel/")
    assert response.status_code == 200, response.content
    event = AuditEvent.objects.get(action="appointment.cancel")
    assert (event.actor, event.acting_for) == (family, patient)


# ------------------------------------------------------------------ complete and no-show


def test_completing_before_the_start_is_409_not_started(
    api: Any, scheduled_doctor: User, slot: Slot
) -> None:
    # given
    appointment = _appointment(make_patient(), slot)
    signed_in(api, scheduled_doctor)
    # when
    completed = api.post(f"/api/appointments/{appointment.id}/complete/")
    no_show = api.post(f"/api/appointments/{appointment.id}/no-show/")
    # then
    assert (completed.status_code, _code(completed)) == (409, "not_started")
    assert (no_show.status_code, _code(no_show)) == (409, "not_started")
    assert Appointment.objects.get(id=appointment.id).status == "confirmed"


def test_doctor_completes_and_center_nurse_marks_no_show_after_the_start(
    make_api: Any, scheduled_doctor: User
) -> None:
    # given: two appointments; a nurse of the doctor's center
    first, second = _later_slots(scheduled_doctor, 2)
    seen = _appointment(make_patient(), first)
    missed = _appointment(make_patient(), second)
    nurse = make_staff(role=Role.NURSE, center=_profile(scheduled_doctor).center)
    # when: both have started
    with time_machine.travel(second.start + timedelta(minutes=5), tick=False):
        completed = signed_in(make_api(), scheduled_doctor).post(
            f"/api/appointments/{seen.id}/complete/"
        )
        no_show = signed_in(make_api(), nurse).post(f"/api/appointments/{missed.id}/no-show/")
    # then
    assert completed.status_code == 200, completed.content
    assert completed.json()["status"] == "completed"
    assert no_show.status_code == 200, no_show.content
    assert no_show.json()["status"] == "no_show"
    assert {e.action for e in AuditEvent.objects.filter(actor__in=[scheduled_doctor, nurse])} >= {
        "appointment.complete",
        "appointment.no_show",
    }


@pytest.mark.parametrize(
    ("who", "status"),
    [("patient", 403), ("other_patient", 404), ("other_center_doctor", 404)],
)
def test_only_the_doctor_or_center_staff_complete_an_appointment(
    make_api: Any, slot: Slot, who: str, status: int
) -> None:
    # given
    patient = make_patient()
    appointment = _appointment(patient, slot)
    actor = {
        "patient": patient,
        "other_patient": make_patient(),
        "other_center_doctor": make_doctor(),
    }[who]
    with time_machine.travel(slot.start + timedelta(minutes=5), tick=False):
        api = signed_in(make_api(), actor)
        # when
        completed = api.post(f"/api/appointments/{appointment.id}/complete/")
        no_show = api.post(f"/api/appointments/{appointment.id}/no-show/")
    # then
    assert (completed.status_code, no_show.status_code) == (status, status)
    assert Appointment.objects.get(id=appointment.id).status == "confirmed"


# ------------------------------------------------------------------ phoned-in bookings


def test_doctor_books_by_phone_for_an_existing_patient_of_theirs(
    api: Any, scheduled_doctor: User
) -> None:
    # given: a patient the doctor has seen; the center confirms patients' own bookings
    _policy(scheduled_doctor, requires_confirmation=True)
    patient = make_patient()
    earlier, later = _later_slots(scheduled_doctor, 2)
    _appointment(patient, earlier)
    signed_in(api, scheduled_doctor)
    # when
    response = _book(api, later, patient=str(patient.id), reason="Follow-up")
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["patient"]["id"] == str(patient.id)
    assert body["booked_by"]["id"] == str(scheduled_doctor.id)
    assert body["status"] == "confirmed"
    assert body["reason"] == "Follow-up"
    event = AuditEvent.objects.filter(action="appointment.book", actor=scheduled_doctor).get()
    assert (event.patient, event.acting_for, event.detail["staff"]) == (patient, None, True)


def test_doctor_cannot_book_by_phone_for_a_patient_the_center_does_not_know(
    api: Any, scheduled_doctor: User, slot: Slot
) -> None:
    stranger = make_patient()
    signed_in(api, scheduled_doctor)
    response = _book(api, slot, patient=str(stranger.id))
    assert response.status_code == 404
    assert not Appointment.objects.exists()


def test_doctor_books_a_new_phoned_in_patient_whose_phone_is_encrypted(
    api: Any, scheduled_doctor: User, slot: Slot
) -> None:
    # given
    signed_in(api, scheduled_doctor)
    # when
    response = _book(
        api,
        slot,
        new_patient={
            "first_name": "Rosa",
            "last_name": "Almeida",
            "phone": "+351 912 345 678",
            "email": "rosa.almeida@example.test",
        },
    )
    # then: a patient account, cared for by the doctor, with the phone sealed at rest
    assert response.status_code == 201, response.content
    created = User.objects.get(id=response.json()["patient"]["id"])
    assert (created.first_name, created.last_name, created.has_usable_password()) == (
        "Rosa",
        "Almeida",
        False,
    )
    assert created.role_assignments.filter(role=Role.PATIENT).exists()
    assert CareRelationship.objects.filter(patient=created, clinician=scheduled_doctor).exists()
    assert Appointment.objects.get(id=response.json()["id"]).booked_by == scheduled_doctor
    assert "912 345 678" not in raw_database_text()


def test_doctor_books_a_phoned_in_patient_without_an_email(
    api: Any, scheduled_doctor: User, slot: Slot
) -> None:
    # given: a caller who gave only a name and a phone number
    signed_in(api, scheduled_doctor)
    # when
    response = _book(
        api,
        slot,
        new_patient={"first_name": "Tiago", "last_name": "Reis", "phone": "+351 913 222 111"},
    )
    # then: an account without email or password, marked as registered by staff
    assert response.status_code == 201, response.content
    created = User.objects.get(id=response.json()["patient"]["id"])
    assert created.email is None
    assert created.registered_by_staff
    assert not created.has_usable_password()


def test_naming_both_a_patient_and_a_new_patient_is_400(
    api: Any, scheduled_doctor: User, slot: Slot
) -> None:
    # given: a patient of the doctor
    patient = make_patient()
    CareRelationship.objects.create(patient=patient, clinician=scheduled_doctor)
    signed_in(api, scheduled_doctor)
    users = User.objects.count()
    # when: the request is ambiguous about who the booking is for
    response = _book(
        api,
        slot,
        patient=str(patient.id),
        new_patient={"first_name": "Rosa", "last_name": "Almeida", "email": "r@example.test"},
    )
    # then
    assert response.status_code == 400
    assert _code(response) == "invalid"
    assert "new_patient" in response.json()["error"]["fields"]
    assert User.objects.count() == users
    assert not Appointment.objects.exists()


def test_patient_cannot_register_a_new_patient(api: Any, slot: Slot) -> None:
    signed_in(api, make_patient())
    users = User.objects.count()
    response = _book(api, slot, new_patient={"first_name": "Rosa", "last_name": "Almeida"})
    assert response.status_code == 403
    assert User.objects.count() == users
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("booking_for", ["patient", "new_patient"])
def test_staff_of_another_center_cannot_book_by_phone(
    api: Any, scheduled_doctor: User, slot: Slot, booking_for: str
) -> None:
    # given: a patient of the doctor; a nurse of another center
    patient = make_patient()
    CareRelationship.objects.create(patient=patient, clinician=scheduled_doctor)
    signed_in(api, make_staff(role=Role.NURSE))
    users = User.objects.count()
    body: dict[str, Any] = (
        {"patient": str(patient.id)}
        if booking_for == "patient"
        else {"new_patient": {"first_name": "Rosa", "last_name": "Almeida"}}
    )
    # when
    response = _book(api, slot, **body)
    # then
    assert response.status_code == 404
    assert User.objects.count() == users
    assert not Appointment.objects.exists()


# ------------------------------------------------------------------ holds


def _hold(slot: Slot, patient: User, minutes: int = 15) -> Hold:
    with transaction.atomic():
        return services.place_hold(
            slot_id=slot.id, patient=patient, purpose=Hold.Purpose.WAITLIST_OFFER, minutes=minutes
        )


def test_a_slot_held_for_someone_else_is_409_and_the_holder_books_it(
    make_api: Any, scheduled_doctor: User, slot: Slot
) -> None:
    # given
    holder, other = make_patient(), make_patient()
    hold = _hold(slot, holder)
    other_api, holder_api = signed_in(make_api(), other), signed_in(make_api(), holder)
    doctor_id = _profile(scheduled_doctor).id
    window = f"from={(slot.start - timedelta(minutes=1)).isoformat()}&to={slot.end.isoformat()}"
    window = window.replace("+", "%2B")
    # then: others do not see it and cannot book it; the holder sees it held for them
    assert other_api.get(f"/api/doctors/{doctor_id}/slots/?{window}").json() == []
    listed = holder_api.get(f"/api/doctors/{doctor_id}/slots/?{window}").json()
    assert [(s["id"], s["held_for_you"]) for s in listed] == [(str(slot.id), True)]
    refused = _book(other_api, slot)
    assert (refused.status_code, _code(refused)) == (409, "slot_taken")
    assert not Appointment.objects.exists()
    # when
    booked = _book(holder_api, slot)
    # then
    assert booked.status_code == 201, booked.content
    hold.refresh_from_db()
    assert hold.released_at is not None


def test_an_expired_hold_stops_counting_without_any_job(
    make_api: Any, scheduled_doctor: User, slot: Slot
) -> None:
    # given: a 15-minute hold for someone else
    hold = _hold(slot, make_patient(), minutes=15)
    other = make_patient()
    # when: it expires and nothing has run since
    with time_machine.travel(hold.expires_at + timedelta(seconds=1), tick=False):
        assert slot in selectors.free_slots()
        response = _book(signed_in(make_api(), other), slot)
    # then
    assert response.status_code == 201, response.content
    assert Appointment.objects.get(slot=slot).patient == other
    hold.refresh_from_db()
    assert hold.released_at is not None


# ------------------------------------------------------------------ reason for visit


def test_reason_is_encrypted_at_rest_and_shown_only_to_those_who_may_see_it(
    make_api: Any, scheduled_doctor: User, slot: Slot
) -> None:
    # given: the patient books with a reason; a family member holds `book`
    patient, family, stranger = make_patient(), make_patient(), make_patient()
    _grant(patient, family, ["book"])
    reason = "Recurring chest tightness after exercise"
    booked = _book(signed_in(make_api(), patient), slot, reason=reason)
    assert booked.status_code == 201
    appointment_id = booked.json()["id"]
    # then: not in the database in clear
    assert reason not in raw_database_text()
    # and: the patient, the proxy and the doctor read it
    for reader in (patient, family, scheduled_doctor):
        shown = signed_in(make_api(), reader).get(f"/api/appointments/{appointment_id}/")
        assert shown.status_code == 200, (reader, shown.content)
        assert shown.json()["reason"] == reason
    proxy_read = AuditEvent.objects.get(action="appointment.read", actor=family)
    assert proxy_read.acting_for == patient
    # and: another patient gets 404 and does not see it listed
    stranger_api = signed_in(make_api(), stranger)
    hidden = stranger_api.get(f"/api/appointments/{appointment_id}/")
    assert hidden.status_code == 404
    assert reason not in hidden.content.decode()
    assert stranger_api.get("/api/appointments/?when=all").json() == []
    assert stranger_api.get(f"/api/appointments/?patient={patient.id}").status_code == 404
