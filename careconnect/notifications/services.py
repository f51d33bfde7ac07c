"""Outbound notifications. Email text never contains health data: it says that something
happened and links into the app (DESIGN §5). Sending runs in Celery after commit."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.db import transaction

from careconnect.notifications.tasks import send_email_task


def app_link(path: str) -> str:
    return f"{settings.PUBLIC_URL}{path}"


def queue_email(*, to: str, subject: str, body: str, kind: str) -> None:
    """Send after the surrounding transaction commits (nothing is sent for a rolled-back change)."""
    transaction.on_commit(
        partial(send_email_task.delay, to=to, subject=subject, body=body, kind=kind)
    )
