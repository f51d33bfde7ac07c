"""Delivering one notification now (called by the Celery tasks)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage

logger = logging.getLogger(__name__)


def send_email_now(*, to: str, subject: str, body: str, kind: str) -> None:
    EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]).send()
    logger.info("email sent", extra={"kind": kind})
