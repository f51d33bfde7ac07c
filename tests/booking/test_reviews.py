"""Verified reviews: only after a completed appointment, one per patient and doctor, shown on
the doctor's public profile with the rating average and count."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from booking import services
from booking.models import Appointment, Review, Slot
from careconnect.accounts.models import DoctorProfile, User
from careconnect.audit.models import AuditEvent
from tests.booking.conftest import free_slots_of
from tests.conftest import signed_in
from tests.factories import make_patient

pytestmark = pytest.mark.django_db


def _profile(doctor_user: User) -> DoctorProfile:
    return DoctorProfile.objects.get(user=doctor_user)


def _code(response: Any) -> str:
    return str(response.json()["error"]["code"])


def _later_slots(doctor_user: User, count: int) -> list[Slot]:
    tomorrow = timezone.now() + timedelta(days=1)
    return [s for s in free_slots_of(doctor_user) if s.start > tomorrow][:count]


def _completed(patient: User, doctor_user: User, slot: Slot) -> Appointment:
    """Given: an appointment the doctor marked completed once it had started (the clock is
    moved to its start and back)."""
    appointment = services.book_slot(actor=patient, slot_id=slot.id, mode="online")
    with time_machine.travel(slot.start + timedelta(minutes=1), tick=False):
        return services.complete_appointment(actor=doctor_user, appointment_id=appointment.id)


def _review(api: Any, appointment: Appointment, **body: Any) -> Any:
    return api.post(f"/api/appointments/{appointment.id}/review/", body)


def test_patient_reviews_after_a_completed_appointment_and_it_shows_on_the_profile(
    api: Any, make_api: Any, scheduled_doctor: User
) -> None:
    # given: two patients each had a completed appointment
    first_slot, second_slot = _later_slots(scheduled_doctor, 2)
    maria = make_patient(first_name="Maria", last_name="Silva")
    other = make_patient()
    maria_visit = _completed(maria, scheduled_doctor, first_slot)
    other_visit = _completed(other, scheduled_doctor, second_slot)
    signed_in(api, maria)
    listed = api.get("/api/appointments/?when=all").json()
    assert [(a["id"], a["can_review"]) for a in listed] == [(str(maria_visit.id), True)]
    # when
    response = _review(api, maria_visit, rating=5, text="Listened carefully.")
    other_review = _review(signed_in(make_api(), other), other_visit, rating=4)
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["rating"], body["text"], body["author"]) == (5, "Listened carefully.", "Maria S.")
    assert other_review.status_code == 201, other_review.content
    review = Review.objects.get(id=body["id"])
    assert (review.doctor, review.patient, review.appointment) == (
        _profile(scheduled_doctor),
        maria,
        maria_visit,
    )
    assert AuditEvent.objects.filter(action="review.write", actor=maria).exists()
    # and: the public profile shows both, newest first, with the average and count
    profile = make_api().get(f"/api/doctors/{_profile(scheduled_doctor).id}/").json()
    assert profile["rating"] == {"average": "4.50", "count": 2}
    assert [r["id"] for r in profile["reviews"]] == [other_review.json()["id"], body["id"]]
    assert profile["reviews"][1]["author"] == "Maria S."
    assert "patient" not in profile["reviews"][1]
    assert api.get("/api/appointments/?when=all").json()[0]["can_review"] is False


def test_reviewing_before_the_appointment_is_completed_is_409_not_completed(
    api: Any, scheduled_doctor: User, slot: Slot
) -> None:
    # given: a booked, not yet completed appointment
    patient = make_patient()
    appointment = services.book_slot(actor=patient, slot_id=slot.id, mode="online")
    signed_in(api, patient)
    # when
    response = _review(api, appointment, rating=5)
    # then
    assert (response.status_code, _code(response)) == (409, "not_completed")
    assert not Review.objects.exists()


def test_reviewing_after_a_no_show_is_409_not_completed(
    api: Any, scheduled_doctor: User, slot: Slot
) -> None:
    patient = make_patient()
    appointment = services.book_slot(actor=patient, slot_id=slot.id, mode="online")
    with time_machine.travel(slot.start + timedelta(minutes=1), tick=False):
        services.mark_no_show(actor=scheduled_doctor, appointment_id=appointment.id)
    signed_in(api, patient)
    response = _review(api, appointment, rating=1)
    assert (response.status_code, _code(response)) == (409, "not_completed")
    assert not Review.objects.exists()


def test_a_second_review_of_the_same_doctor_is_409_already_reviewed(
    api: Any, scheduled_doctor: User
) -> None:
    # given: two completed appointments with the doctor, the first reviewed
    patient = make_patient()
    first_slot, second_slot = _later_slots(scheduled_doctor, 2)
    first = _completed(patient, scheduled_doctor, first_slot)
    second = _completed(patient, scheduled_doctor, second_slot)
    signed_in(api, patient)
    assert _review(api, first, rating=4).status_code == 201
    # when
    again_same = _review(api, first, rating=2)
    again_other = _review(api, second, rating=2)
    # then
    assert (again_same.status_code, _code(again_same)) == (409, "already_reviewed")
    assert (again_other.status_code, _code(again_other)) == (409, "already_reviewed")
    assert list(Review.objects.values_list("rating", flat=True)) == [4]


@pytest.mark.parametrize(
    "body",
    [
        {"rating": 0},
        {"rating": 6},
        {"rating": "five"},
        {},
        {"rating": 5, "text": "<img src=x onerror=alert(1)>"},
        {"rating": 5, "text": "x" * 2001},
        {"rating": 5, "author": "Someone else"},
    ],
    ids=["zero", "six", "not-a-number", "missing", "html", "too-long", "unknown-field"],
)
def test_a_review_with_bad_input_is_400_and_writes_nothing(
    api: Any, scheduled_doctor: User, slot: Slot, body: dict[str, Any]
) -> None:
    patient = make_patient()
    appointment = _completed(patient, scheduled_doctor, slot)
    signed_in(api, patient)
    response = _review(api, appointment, **body)
    assert (response.status_code, _code(response)) == (400, "invalid")
    assert not Review.objects.exists()


@pytest.mark.parametrize("who", ["other_patient", "doctor"])
def test_only_the_patient_reviews_their_appointment(
    api: Any, scheduled_doctor: User, slot: Slot, who: str
) -> None:
    # given: someone else's completed appointment
    appointment = _completed(make_patient(), scheduled_doctor, slot)
    signed_in(api, make_patient() if who == "other_patient" else scheduled_doctor)
    # when
    response = _review(api, appointment, rating=1)
    # then
    assert response.status_code == 404
    assert not Review.objects.exists()
