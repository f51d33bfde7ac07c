"""The appointment's calendar file: a valid iCalendar event at the right instant in the
center's zone, with an alarm and the place, no reason for the visit, only for those who may
see the appointment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

import pytest
from django.utils import timezone
from icalendar import Calendar

from booking import services
from booking.models import Appointment, Slot
from careconnect.accounts import services as accounts
from careconnect.accounts.models import DoctorProfile, Role, User
from tests.booking.conftest import free_slots_of, publish_rule
from tests.conftest import Api, signed_in
from tests.factories import make_center, make_doctor, make_patient, make_staff

pytestmark = pytest.mark.django_db

REASON = "Chest pain when climbing stairs"


def ics_of(api: Api, appointment: Appointment) -> Any:
    return api.get(f"/api/appointments/{appointment.id}/ics/")


def parsed(response: Any) -> tuple[Calendar, Any]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def book(patient: User, slot: Slot, mode: str) -> Appointment:
    return services.book_slot(actor=patient, slot_id=slot.id, mode=mode, reason=REASON)


def test_online_appointment_ics(api: Api, patient: User, slot: Slot) -> None:
    # given: an online appointment booked with a reason
    appointment = book(patient, slot, "online")
    signed_in(api, patient)
    # when
    calendar, event = parsed(ics_of(api, appointment))
    # then: the instant is right, written in the center's zone
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start.astimezone(UTC) == appointment.start
    assert end.astimezone(UTC) == appointment.end
    assert event["DTSTART"].params["TZID"] == "Europe/Lisbon"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Lisbon"]
    # an alarm an hour before, the online place, and no reason anywhere
    (alarm,) = event.walk("VALARM")
    assert alarm.decoded("TRIGGER") == timedelta(hours=-1)
    assert str(event["LOCATION"]) == "Online consult"
    assert str(event["UID"]) == f"{appointment.id}@careconnect"
    assert "Dr " in str(event["SUMMARY"])
    assert REASON.encode() not in ics_of(api, appointment).content
    assert b"Chest" not in ics_of(api, appointment).content


def test_in_person_appointment_ics_is_at_the_center_address(
    api: Api, patient: User, slot: Slot
) -> None:
    appointment = book(patient, slot, "in_person")
    center = appointment.doctor.center
    signed_in(api, patient)
    _, event = parsed(ics_of(api, appointment))
    assert center.address in str(event["LOCATION"])
    assert center.city in str(event["LOCATION"])
    assert str(event["LOCATION"]) != "Online consult"
    assert event.walk("VALARM")


def test_ics_in_a_zone_with_a_different_offset(api: Api, patient: User) -> None:
    # given: a New York center, which is not on UTC at any time of year
    doctor = make_doctor(
        center=make_center(timezone="America/New_York", city="New York", address="5 Park Ave")
    )
    publish_rule(doctor)
    slot = next(s for s in free_slots_of(doctor) if s.start > timezone.now() + timedelta(days=1))
    appointment = book(patient, slot, "in_person")
    signed_in(api, patient)
    # when
    calendar, event = parsed(ics_of(api, appointment))
    # then: the local time is 09:00 or later in New York, and the instant is the same
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert event.decoded("DTSTART").astimezone(UTC) == appointment.start
    assert event.decoded("DTSTART").utcoffset() in (timedelta(hours=-5), timedelta(hours=-4))
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    assert "5 Park Ave" in str(event["LOCATION"])


def test_proxy_and_center_staff_may_download_the_ics(
    make_api: Callable[[], Api], patient: User, slot: Slot
) -> None:
    # given: a family member with the book scope, and a nurse of the doctor's center
    appointment = book(patient, slot, "online")
    family = make_patient()
    grant = accounts.invite_family_member(
        patient=patient, email=str(family.email), scopes=["book"], expires_at=None
    )
    accounts.accept_grant(user=family, grant_id=grant.id)
    center = DoctorProfile.objects.get(id=appointment.doctor_id).center
    nurse = make_staff(role=Role.NURSE, center=center)
    doctor = appointment.doctor.user
    # when / then
    for user in (family, nurse, doctor):
        _, event = parsed(ics_of(signed_in(make_api(), user), appointment))
        assert event.decoded("DTSTART").astimezone(UTC) == appointment.start


def test_others_may_not_download_the_ics(
    api: Api, make_api: Callable[[], Api], patient: User, slot: Slot
) -> None:
    # given
    appointment = book(patient, slot, "online")
    another_patient = make_patient()
    other_center_doctor = make_doctor()
    other_center_admin = make_staff(role=Role.CENTER_ADMIN)
    # when / then: not found for people unrelated to it, sign-in needed for the anonymous
    for user in (another_patient, other_center_doctor, other_center_admin):
        response = ics_of(signed_in(make_api(), user), appointment)
        assert response.status_code == 404, response.content
        assert response.json()["error"]["code"] == "not_found"
        assert REASON.encode() not in response.content
    anonymous = ics_of(api, appointment)
    assert anonymous.status_code in (401, 403)
    assert anonymous.json()["error"]["code"] == "not_authenticated"


def test_family_member_without_the_book_scope_may_not_download_the_ics(
    make_api: Callable[[], Api], patient: User, slot: Slot
) -> None:
    appointment = book(patient, slot, "online")
    family = make_patient()
    grant = accounts.invite_family_member(
        patient=patient, email=str(family.email), scopes=["message"], expires_at=None
    )
    accounts.accept_grant(user=family, grant_id=grant.id)
    response = ics_of(signed_in(make_api(), family), appointment)
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "scope_missing"
