"""Notification fixtures: a patient with a verified phone and SMS reminders on, and a
confirmed appointment they were reminded of by SMS (through the real services)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from booking import reminders
from booking import services as booking
from booking.models import Appointment
from careconnect.accounts.models import User
from careconnect.notifications import phones
from careconnect.notifications import services as notifications
from tests.booking.conftest import free_slots_of, publish_rule
from tests.careconnect.notifications.twilio_fake import twilio_fake  # noqa: F401 - a fixture
from tests.factories import make_doctor, make_patient

PHONE = "+351912345678"
TWILIO_TOKEN = "test-twilio-token"


@pytest.fixture(autouse=True)
def sms_dir(settings: Any, tmp_path: Path) -> Path:
    settings.SMS_DIR = tmp_path / "sms"
    settings.TWILIO_ACCOUNT_SID = ""
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.PUBLIC_URL = "https://care.example.test"
    return Path(settings.SMS_DIR)


def sms_files(directory: Path) -> list[str]:
    if not directory.exists():
        return []
    return [p.read_text() for p in sorted(directory.glob("*.txt"), key=lambda p: p.stat().st_mtime)]


def code_from(directory: Path) -> str:
    texts = [t for t in sms_files(directory) if "Your CareConnect code" in t]
    match = re.search(r"code is (\d{6})", texts[-1])
    assert match is not None
    return match.group(1)


def verify_phone(
    user: User, directory: Path, capture: Callable[..., Any], number: str = PHONE
) -> None:
    with capture(execute=True):
        phones.start_verification(actor=user, number=number)
    phones.confirm_verification(actor=user, code=code_from(directory))


@pytest.fixture
def sms_patient(
    db: None, sms_dir: Path, django_capture_on_commit_callbacks: Callable[..., Any]
) -> User:
    """A patient with a verified phone and SMS on for appointment reminders."""
    patient = make_patient()
    verify_phone(patient, sms_dir, django_capture_on_commit_callbacks)
    notifications.update_preferences(actor=patient, kinds={"appointment_reminder": {"sms": True}})
    return patient


def book(patient: User, *, days: int = 1) -> Appointment:
    doctor = make_doctor()
    publish_rule(doctor)
    after = timezone.now() + timedelta(days=days)
    slot = next(s for s in free_slots_of(doctor) if s.start > after)
    appointment = booking.book_slot(actor=patient, slot_id=slot.id, mode="in_person")
    assert appointment.status == Appointment.Status.CONFIRMED
    return appointment


@pytest.fixture
def reminded(
    sms_patient: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> Appointment:
    """A confirmed appointment of `sms_patient`, reminded 2 hours before by SMS (and email
    and in-app)."""
    appointment = book(sms_patient)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        assert reminders.remind(appointment, 120) == 3
    return appointment
