"""Sending SMS through the real twilio SDK, against a local fake of Twilio's API."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from booking import reminders
from careconnect.accounts.models import User
from careconnect.notifications import sms
from careconnect.notifications.models import Notification
from careconnect.notifications.services import deliver
from tests.careconnect.notifications.conftest import book, verify_phone
from tests.careconnect.notifications.twilio_fake import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    INVALID_NUMBER,
    OUTAGE_NUMBER,
    TwilioFake,
)
from tests.factories import make_patient

pytestmark = pytest.mark.django_db


def test_send_sms_posts_to_twilio_and_returns_the_sid(twilio_fake: TwilioFake) -> None:
    sid = sms.send_sms(to="+351912345678", body="Hello there", name="n1")
    assert sid is not None
    assert sid.startswith("SM")
    [request] = twilio_fake.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.form["To"] == "+351912345678"
    assert request.form["From"] == FROM_NUMBER
    assert request.form["Body"] == "Hello there"
    assert request.form["StatusCallback"] == (
        "https://care.example.test/api/notifications/twilio/status/"
    )
    expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"


def test_invalid_number_is_refused_for_good(twilio_fake: TwilioFake) -> None:
    with pytest.raises(sms.SmsRefusedError, match="21211"):
        sms.send_sms(to=INVALID_NUMBER, body="Hello", name="n2")


def test_outage_is_transient(twilio_fake: TwilioFake) -> None:
    with pytest.raises(ConnectionError):
        sms.send_sms(to=OUTAGE_NUMBER, body="Hello", name="n3")


def test_unreachable_twilio_is_transient(twilio_fake: TwilioFake, settings: Any) -> None:
    settings.TWILIO_API_BASE = "http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(OSError, match=r"."):
        sms.send_sms(to="+351912345678", body="Hello", name="n4")


def _reminder_to(
    number: str, sms_dir: Path, capture: Callable[..., Any], settings: Any
) -> tuple[User, Notification]:
    """Verify `number` on the embedded default (code read from the SMS file), then switch to
    Twilio and owe a reminder; its SMS row is left queued for the test to deliver."""
    patient = make_patient()
    verify_phone(patient, sms_dir, capture, number=number)
    from careconnect.notifications.services import update_preferences

    update_preferences(actor=patient, kinds={"appointment_reminder": {"sms": True}})
    appointment = book(patient)
    with capture(execute=False), transaction.atomic():
        reminders.remind(appointment, 120)
    return patient, Notification.objects.get(recipient=patient, channel="sms")


def test_reminder_sms_goes_through_twilio(
    sms_dir: Path,
    django_capture_on_commit_callbacks: Callable[..., Any],
    settings: Any,
    twilio_fake: TwilioFake,
) -> None:
    # given: verified on the embedded default, then Twilio configured
    settings.TWILIO_ACCOUNT_SID = ""
    _, row = _reminder_to("+351912345678", sms_dir, django_capture_on_commit_callbacks, settings)
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    # when
    assert deliver(row.id) == "sent"
    # then
    row.refresh_from_db()
    [request] = twilio_fake.requests
    assert row.status == Notification.Status.SENT
    assert (row.provider_id or "").startswith("SM")
    assert request.form["To"] == "+351912345678"
    assert "Reply C to confirm" in request.form["Body"]
    # delivering again sends nothing twice
    assert deliver(row.id) == "nothing to do"
    assert len(twilio_fake.requests) == 1


def test_refused_number_marks_the_notification_failed(
    sms_dir: Path,
    django_capture_on_commit_callbacks: Callable[..., Any],
    settings: Any,
    twilio_fake: TwilioFake,
) -> None:
    settings.TWILIO_ACCOUNT_SID = ""
    _, row = _reminder_to(INVALID_NUMBER, sms_dir, django_capture_on_commit_callbacks, settings)
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    assert deliver(row.id) == "failed"
    row.refresh_from_db()
    assert row.status == Notification.Status.FAILED
    assert "21211" in row.error
    assert row.provider_id is None
