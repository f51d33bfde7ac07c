"""SMS: Twilio through its SDK when TWILIO_* are set; otherwise (the embedded default) each
SMS is a file under SMS_DIR named by the notification's id, so a retried delivery rewrites
the same file. Twilio lives only here (STYLE: one owner per integration)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.utils import timezone
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

from careconnect.notifications.models import Notification

logger = logging.getLogger(__name__)

STATUS_CALLBACK_PATH = "/api/notifications/twilio/status/"
# Twilio error codes that no retry will fix: the number is invalid, not a mobile, opted out
# (STOP), blocked, or not reachable from our sender. Any other 4xx is refused as well (the
# request itself is wrong); 429 and 5xx are transient and retried by the Celery task.
PERMANENT_CODES = frozenset(
    {21211, 21408, 21610, 21612, 21614, 21617, 21635, 30003, 30004, 30005, 30006}
)


class SmsRefusedError(Exception):
    """No verified number, or the provider refused the number for good."""


def write_sms_file(*, name: str, to: str, body: str) -> None:
    directory = Path(settings.SMS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{name}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"To: {to}\nDate: {timezone.now().isoformat()}\n\n{body}\n")
    tmp.replace(directory / f"{name}.txt")  # atomic, and the same name on a retry


def recipient_number(row: Notification) -> str:
    from careconnect.notifications.phones import verified_number

    number = verified_number(row.recipient)
    if not number:
        raise SmsRefusedError("no verified phone number")
    return number


def sms_text(row: Notification) -> str:
    lines = [row.body]
    if row.link:
        lines.append(row.link)
    return "\n".join(lines)


def send_notification_sms(row: Notification) -> str | None:
    return send_sms(to=recipient_number(row), body=sms_text(row), name=str(row.id))


def send_sms(*, to: str, body: str, name: str) -> str | None:
    """Send one SMS; returns Twilio's SID (None on the embedded default)."""
    if not settings.TWILIO_ACCOUNT_SID:
        write_sms_file(name=name, to=to, body=body)
        return None
    return _send_with_twilio(to=to, body=body, name=name)


class _BaseUrlHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio is untyped
    """Twilio's HTTP client, with every request's scheme and host replaced by
    `TWILIO_API_BASE` (a local fake in tests, a recording proxy); unset: Twilio's own hosts."""

    def __init__(self, *, base: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.base = urlsplit(base) if base else None

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        if self.base is not None:
            parts = urlsplit(url)
            prefix = self.base.path.rstrip("/")
            url = urlunsplit(
                (self.base.scheme, self.base.netloc, prefix + parts.path, parts.query, "")
            )
        return super().request(method, url, *args, **kwargs)


def twilio_client() -> Client:
    http_client = _BaseUrlHttpClient(
        base=settings.TWILIO_API_BASE, timeout=float(settings.TWILIO_TIMEOUT_SECONDS)
    )
    return Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)


def _send_with_twilio(*, to: str, body: str, name: str) -> str:
    """Returns the message SID. Permanent refusals raise SmsRefusedError (the row fails);
    transient trouble raises ConnectionError/OSError (the Celery task retries; requests'
    own errors are OSErrors)."""
    try:
        message = twilio_client().messages.create(
            to=to,
            from_=settings.TWILIO_FROM_NUMBER,
            body=body,
            status_callback=f"{settings.PUBLIC_URL}{STATUS_CALLBACK_PATH}",
        )
    except TwilioRestException as exc:
        logger.warning(
            "twilio refused sms", extra={"sms": name, "status": exc.status, "code": exc.code}
        )
        if exc.status == 429 or exc.status >= 500:
            raise ConnectionError(f"Twilio answered {exc.status}") from exc
        reason = "refused by the provider"
        if exc.code in PERMANENT_CODES:
            reason = f"refused by the provider (Twilio {exc.code})"
        elif exc.code:
            reason = f"refused by the provider (Twilio {exc.code}, HTTP {exc.status})"
        raise SmsRefusedError(reason) from exc
    except TwilioException as exc:  # e.g. a response that is not JSON: a proxy in the way
        raise ConnectionError("Twilio answered unexpectedly") from exc
    return str(message.sid)
