from __future__ import annotations

from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from django.core.mail import get_connection

from careconnect.notifications.delivery import send_email_now


def test_embedded_mail_backend_writes_one_file_per_email(settings: Any, tmp_path: Path) -> None:
    settings.MAIL_DIR = tmp_path / "mail"
    settings.EMAIL_BACKEND = "careconnect.notifications.backends.MailDirBackend"
    send_email_now(to="a@example.test", subject="Hello", body="Link: http://x/y", kind="test")
    send_email_now(to="b@example.test", subject="Again", body="Second", kind="test")
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2
    first = message_from_bytes(files[0].read_bytes())
    assert first["To"] == "a@example.test"
    assert "http://x/y" in first.get_payload()
    assert files[0].stat().st_mode & 0o777 == 0o600
    assert get_connection().__class__.__name__ == "MailDirBackend"


@pytest.mark.parametrize("kind", ["confirm_email"])
def test_queue_email_waits_for_commit(
    kind: str, db: None, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    from careconnect.notifications.services import queue_email

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queue_email(to="c@example.test", subject="s", body="b", kind=kind)
        assert mailoutbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert [m.to for m in mailoutbox] == [["c@example.test"]]
