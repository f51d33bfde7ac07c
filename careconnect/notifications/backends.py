"""Embedded-default email backend: each message is one .eml file under MAIL_DIR, so links
and codes can be followed without a mail server (API.md, "Running and demo data")."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage


class MailDirBackend(BaseEmailBackend):
    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.directory = Path(settings.MAIL_DIR)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            # A notification's email is named by its row (its Message-ID): a retried delivery
            # rewrites the same file instead of adding a second one.
            message_id = str(message.extra_headers.get("Message-ID", ""))
            stem = message_id.strip("<>").split("@")[0] if message_id else ""
            name = (
                f"n-{stem}.eml"
                if stem and stem.replace("-", "").isalnum()
                else f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
            )
            tmp = self.directory / f".{name}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(message.message().as_bytes())
            tmp.replace(self.directory / name)  # atomic: readers never see half a message
            sent += 1
        return sent
