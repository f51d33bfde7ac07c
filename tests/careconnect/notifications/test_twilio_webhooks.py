"""Twilio's webhooks, called as Twilio calls them: form-encoded and signed with
`X-Twilio-Signature` over PUBLIC_URL + path and the POST params."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client
from twilio.request_validator import RequestValidator

from booking.models import Appointment
from careconnect.accounts.models import User
from careconnect.notifications.models import InboundSms, Notification
from careconnect.notifications.twilio_webhooks import UNKNOWN_NUMBER_REPLY
from tests.careconnect.notifications.conftest import PHONE, TWILIO_TOKEN

INBOUND = "/api/notifications/twilio/inbound/"
STATUS = "/api/notifications/twilio/status/"


def signed_post(
    path: str, params: dict[str, str], *, token: str = TWILIO_TOKEN, signature: str | None = None
) -> Any:
    if signature is None:
        signature = RequestValidator(token).compute_signature(
            f"{settings.PUBLIC_URL}{path}", params
        )
    return Client().post(
        path,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


def inbound(body: str, *, sid: str = "SM" + "1" * 32, sender: str = PHONE) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }


def reply_of(response: Any) -> str:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    text: str = response.content.decode()
    assert text.startswith("<?xml")
    return text


def test_reply_c_confirms_the_reminded_appointment(reminded: Appointment) -> None:
    response = signed_post(INBOUND, inbound("c"))
    assert "is confirmed" in reply_of(response)
    reminded.refresh_from_db()
    assert reminded.attendance_confirmed_at is not None
    assert reminded.attendance_confirmed_via == "sms"
    stored = InboundSms.objects.get()
    assert stored.command == "C"
    assert stored.sender_id == reminded.patient_id


def test_reply_r_answers_with_a_reschedule_link(reminded: Appointment) -> None:
    response = signed_post(INBOUND, inbound("R please"))
    text = reply_of(response)
    assert "Choose a new time here: https://care.example.test/r/" in text
    reminded.refresh_from_db()
    assert reminded.status == Appointment.Status.CONFIRMED
    assert reminded.attendance_confirmed_at is None


def test_reply_x_cancels(reminded: Appointment) -> None:
    response = signed_post(INBOUND, inbound(" x "))
    assert "is cancelled" in reply_of(response)
    reminded.refresh_from_db()
    assert reminded.status == Appointment.Status.CANCELLED


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "bm90IGEgc2lnbmF0dXJl",
        RequestValidator("another-token").compute_signature(
            "https://care.example.test/api/notifications/twilio/inbound/", inbound("X")
        ),
    ],
)
def test_bad_signature_is_refused_and_changes_nothing(
    reminded: Appointment, signature: str
) -> None:
    response = signed_post(INBOUND, inbound("X"), signature=signature)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    reminded.refresh_from_db()
    assert reminded.status == Appointment.Status.CONFIRMED
    assert not InboundSms.objects.exists()


def test_signature_over_other_params_is_refused(reminded: Appointment) -> None:
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(
        f"{settings.PUBLIC_URL}{INBOUND}", inbound("C")
    )
    response = signed_post(INBOUND, inbound("X"), signature=signature)
    assert response.status_code == 403
    reminded.refresh_from_db()
    assert reminded.status == Appointment.Status.CONFIRMED


def test_without_auth_token_every_call_is_refused(reminded: Appointment, settings: Any) -> None:
    settings.TWILIO_AUTH_TOKEN = ""
    response = signed_post(INBOUND, inbound("X"), token="")
    assert response.status_code == 403
    reminded.refresh_from_db()
    assert reminded.status == Appointment.Status.CONFIRMED


def test_unknown_number_gets_a_pointer_to_the_app(reminded: Appointment) -> None:
    response = signed_post(INBOUND, inbound("X", sender="+447700900123"))
    assert UNKNOWN_NUMBER_REPLY in reply_of(response)
    reminded.refresh_from_db()
    assert reminded.status == Appointment.Status.CONFIRMED
    assert InboundSms.objects.get().sender_id is None


def test_unknown_word_lists_the_commands_and_keeps_no_text(reminded: Appointment) -> None:
    response = signed_post(INBOUND, inbound("Headache getting worse"))
    text = reply_of(response)
    assert "C to confirm" in text
    assert "R to reschedule" in text
    assert "X to cancel" in text
    stored = InboundSms.objects.get()
    assert stored.command == ""
    assert "Headache" not in stored.outcome
    reminded.refresh_from_db()
    assert reminded.status == Appointment.Status.CONFIRMED


def test_repeated_message_sid_replies_the_same_and_changes_nothing(
    reminded: Appointment,
) -> None:
    first = reply_of(signed_post(INBOUND, inbound("C")))
    confirmed_at = Appointment.objects.get(id=reminded.id).attendance_confirmed_at
    again = reply_of(signed_post(INBOUND, inbound("C")))
    assert again == first
    assert Appointment.objects.get(id=reminded.id).attendance_confirmed_at == confirmed_at
    assert InboundSms.objects.count() == 1


def test_repeated_reschedule_reply_is_the_same_link(reminded: Appointment) -> None:
    first = reply_of(signed_post(INBOUND, inbound("R", sid="SM" + "2" * 32)))
    again = reply_of(signed_post(INBOUND, inbound("R", sid="SM" + "2" * 32)))
    assert again == first


def test_a_second_x_after_cancelling_answers_without_failing(reminded: Appointment) -> None:
    reply_of(signed_post(INBOUND, inbound("X", sid="SM" + "3" * 32)))
    text = reply_of(signed_post(INBOUND, inbound("X", sid="SM" + "4" * 32)))
    assert "no upcoming appointment" in text


# ------------------------------------------------------------------ status callback


def _sms_row(patient: User) -> Notification:
    row = Notification.objects.get(recipient=patient, channel="sms", event="reminder")
    row.provider_id = "SM" + "9" * 32
    row.save(update_fields=["provider_id"])
    return row


def test_status_callback_records_delivery(reminded: Appointment) -> None:
    row = _sms_row(reminded.patient)
    params = {"MessageSid": row.provider_id or "", "MessageStatus": "delivered"}
    response = signed_post(STATUS, params)
    assert response.status_code == 200
    row.refresh_from_db()
    assert (row.status, row.provider_status) == (Notification.Status.DELIVERED, "delivered")
    # a late "sent" does not undo the final state; a repeat is harmless
    signed_post(STATUS, {"MessageSid": row.provider_id or "", "MessageStatus": "sent"})
    signed_post(STATUS, params)
    row.refresh_from_db()
    assert (row.status, row.provider_status) == (Notification.Status.DELIVERED, "delivered")


def test_status_callback_failure_marks_the_row_failed(reminded: Appointment) -> None:
    row = _sms_row(reminded.patient)
    params = {
        "MessageSid": row.provider_id or "",
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
    }
    assert signed_post(STATUS, params).status_code == 200
    row.refresh_from_db()
    assert row.status == Notification.Status.FAILED
    assert "30003" in row.error


def test_status_callback_for_an_unknown_sid_is_acknowledged(db: None) -> None:
    response = signed_post(STATUS, {"MessageSid": "SMunknown", "MessageStatus": "delivered"})
    assert response.status_code == 200


def test_status_callback_with_a_bad_signature_is_refused(reminded: Appointment) -> None:
    row = _sms_row(reminded.patient)
    params = {"MessageSid": row.provider_id or "", "MessageStatus": "failed"}
    response = signed_post(STATUS, params, signature="wrong")
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.status == Notification.Status.SENT
