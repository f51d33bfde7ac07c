"""Twilio's webhooks (API.md: POST /api/notifications/twilio/inbound/ and .../status/).

Both are verified with `X-Twilio-Signature` (HMAC-SHA1 of the URL Twilio called plus the
sorted POST params, keyed by TWILIO_AUTH_TOKEN). The URL is rebuilt from `PUBLIC_URL` + the
path, not from the request: behind a TLS-terminating proxy Django sees another scheme or host
than Twilio signed, so `PUBLIC_URL` must be the exact origin configured in Twilio's console.
Without TWILIO_AUTH_TOKEN nothing verifies, so every call is refused.

Inbound replies are applied once per `MessageSid` (InboundSms is unique on it): Twilio retries
a webhook that timed out, and the retry must neither confirm nor cancel twice. Only the
command understood and the reply are kept, never the text the person sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from twilio.request_validator import RequestValidator

from careconnect.errors import ApplicationError
from careconnect.notifications import services
from careconnect.notifications.models import InboundSms, Notification, NotificationSettings

logger = logging.getLogger(__name__)

UNKNOWN_NUMBER_REPLY = "We don't recognise this number. Manage appointments in the CareConnect app."
REPLAY_CACHE_SECONDS = 24 * 60 * 60
OUTCOME_MAX = 200
# Twilio's MessageStatus values that end a message's life, and what they make the row.
FINAL_STATUSES = {
    "delivered": Notification.Status.DELIVERED,
    "undelivered": Notification.Status.FAILED,
    "failed": Notification.Status.FAILED,
}


def signature_is_valid(*, path: str, params: Mapping[str, str], signature: str) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    if not token or not signature:
        return False
    url = f"{settings.PUBLIC_URL}{path}"
    return bool(RequestValidator(token).validate(url, dict(params), signature))


def help_reply() -> str:
    words = sorted(services.sms_commands())
    listed = ", ".join(words) if words else "C, R, X"
    return (
        f"Sorry, we did not understand. Reply with one letter ({listed}): C to confirm, "
        "R to reschedule, X to cancel your next appointment."
    )


def _replay_key(sid: str) -> str:
    return f"notifications.inbound-sms.{sid}"


def _replay(row: InboundSms) -> str:
    """The reply to a repeated MessageSid: the one sent the first time. A reply longer than
    the stored outcome (a reschedule link) is kept in the cache for a day (Twilio retries
    within minutes)."""
    cached = cache.get(_replay_key(row.sid))
    if isinstance(cached, str):
        return cached
    if row.outcome and len(row.outcome) < OUTCOME_MAX:
        return row.outcome
    return "We already received your reply. Open the CareConnect app for the details."


def receive_sms(*, sid: str, sender: str, text: str) -> str:
    """Apply one inbound SMS; returns the reply text. Idempotent by `sid`."""
    if not sid:
        return help_reply()
    found = InboundSms.objects.filter(sid=sid).first()
    if found is not None:
        return _replay(found)
    try:
        reply = _apply(sid=sid, sender=sender, text=text)
    except IntegrityError:  # the same SID raced in on another worker: it answered
        found = InboundSms.objects.filter(sid=sid).first()
        return _replay(found) if found is not None else help_reply()
    cache.set(_replay_key(sid), reply, REPLAY_CACHE_SECONDS)
    return reply


@transaction.atomic
def _apply(*, sid: str, sender: str, text: str) -> str:
    settings_row = (
        NotificationSettings.objects.filter(
            sms_number_hash=services.number_hash(sender.strip()),
            sms_verified_at__isnull=False,
        )
        .select_related("user")
        .order_by("-sms_verified_at")
        .first()
        if sender
        else None
    )
    user = settings_row.user if settings_row is not None and settings_row.user.is_active else None
    words = text.split()
    word = words[0].upper().strip(".!") if words else ""
    commands = services.sms_commands()
    command = word if word in commands else ""
    row = InboundSms.objects.create(sid=sid, sender=user, command=command)
    if user is None:
        reply = UNKNOWN_NUMBER_REPLY
    elif not command:
        reply = help_reply()
    else:
        try:
            with transaction.atomic():
                reply = commands[command](user)
        except ApplicationError as exc:
            reply = exc.message
    row.outcome = reply[:OUTCOME_MAX]
    row.save(update_fields=["outcome"])
    logger.info(
        "inbound sms applied",
        extra={"sid": sid, "command": command, "known_sender": user is not None},
    )
    return reply


@transaction.atomic
def record_status(*, sid: str, status: str, error_code: str = "") -> bool:
    """Twilio's delivery status for a message we sent. Idempotent; callbacks may come twice
    or out of order, so a final status is never replaced by an earlier one. False for a SID
    we do not know (answered 200 all the same: Twilio has nothing to retry)."""
    row = Notification.objects.select_for_update().filter(provider_id=sid).first() if sid else None
    if row is None:
        return False
    status = status.strip().lower()[:30]
    if row.provider_status in FINAL_STATUSES and status not in FINAL_STATUSES:
        return True
    row.provider_status = status
    fields = ["provider_status"]
    if status in FINAL_STATUSES:
        row.status = FINAL_STATUSES[status]
        fields.append("status")
        if row.status == Notification.Status.FAILED:
            row.error = f"Twilio {status}" + (f" ({error_code[:20]})" if error_code else "")
            fields.append("error")
    row.save(update_fields=fields)
    return True
