"""Booking fixtures: a doctor with a published weekly rule, and helpers to find free slots."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from booking import selectors, services
from booking.models import AvailabilityRule, Slot, SlotMode
from careconnect.accounts.models import DoctorProfile, User
from tests.booking.stripe_fake import stripe_fake  # noqa: F401 - a fixture for the package
from tests.factories import make_doctor


def publish_rule(doctor_user: User, **overrides: Any) -> AvailabilityRule:
    """A rule published by the doctor themselves through the service (slots materialised)."""
    profile = DoctorProfile.objects.get(user=doctor_user)
    data: dict[str, Any] = {
        "weekdays": [1, 2, 3, 4, 5, 6, 7],
        "start_time": time(9, 0),
        "end_time": time(12, 0),
        "slot_minutes": 30,
        "buffer_minutes": 0,
        "mode": SlotMode.BOTH,
        "effective_from": timezone.localdate() - timedelta(days=1),
        "effective_until": None,
        "min_notice_minutes": 0,
        "booking_horizon_days": 21,
        **overrides,
    }
    rule, _ = services.create_rule(actor=doctor_user, doctor_id=profile.id, data=data)
    return rule


def free_slots_of(doctor_user: User, **filters: Any) -> list[Slot]:
    profile = DoctorProfile.objects.get(user=doctor_user)
    return list(selectors.free_slots(**filters).filter(doctor=profile).order_by("start"))


@pytest.fixture
def scheduled_doctor(db: None) -> User:
    """A doctor (fee online 30, Lisbon center) with every day 09:00-12:00 bookable."""
    doctor = make_doctor()
    publish_rule(doctor)
    return doctor


@pytest.fixture
def slot(scheduled_doctor: User) -> Slot:
    """A free slot at least a day ahead."""
    tomorrow = timezone.now() + timedelta(days=1)
    return next(s for s in free_slots_of(scheduled_doctor) if s.start > tomorrow)


def next_weekday(weekday: int, after: date | None = None) -> date:
    """The next date with ISO weekday `weekday` strictly after `after` (default today)."""
    day = (after or timezone.localdate()) + timedelta(days=1)
    while day.isoweekday() != weekday:
        day += timedelta(days=1)
    return day
