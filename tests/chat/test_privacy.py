"""After a real chat (text, an attachment, a request with a reason for the visit) nothing that
was said is readable in the database, in files or in logs, and every read and write of it was
audited (DESIGN §5)."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from careconnect.audit.models import AuditEvent
from chat import services
from tests.chat.conftest import (
    Chat,
    action_frame,
    amake_chat,
    connect,
    disconnect,
    drain_until,
    in_thread,
    receive,
    send_frame,
)
from tests.utils import raw_database_text

pytestmark = pytest.mark.django_db(transaction=True)


def _files_containing(roots: list[Path], needles: list[bytes]) -> list[str]:
    found = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                found += [f"{path}: {n!r}" for n in needles if n in data]
    return found


def _download_and_read_history(chat: Chat, attachment_id: str) -> tuple[int, int]:
    client = Client()
    client.force_login(chat.doctor)
    download = client.get(f"/api/attachments/{attachment_id}/")
    history = client.get(f"/api/conversations/{chat.conversation.id}/messages/")
    return download.status_code, history.status_code


async def test_nothing_said_in_a_chat_is_stored_or_logged_in_plaintext_and_all_is_audited(
    caplog: pytest.LogCaptureFixture,
) -> None:
    marker = uuid.uuid4().hex  # unique, so a hit can only come from this chat
    text, reason, times = f"chest pain {marker}", f"reason {marker}", f"mornings {marker}"
    file_name, file_body = f"ecg-{marker}.pdf", f"%PDF-1.7 ecg {marker}".encode()
    chat = await amake_chat(reason=f"booking {marker}")
    caplog.set_level(logging.DEBUG)
    patient, doctor = await connect(chat.patient), await connect(chat.doctor)
    # when: a text, a request with a reason, an attachment; the doctor reads and downloads
    await patient.send_json_to(send_frame(chat, text))
    await receive(patient, "ack")
    request = action_frame(
        chat.conversation, "booking.request_appointment", reason=reason, preferred_times=times
    )
    await patient.send_json_to(request)
    card = (await receive(patient, "ack"))["message"]
    assert card["body"] == f"Reason: {reason}\nPreferred times: {times}"
    message, _ = await in_thread(services.send_attachment)(
        conversation_id=chat.conversation.id, actor=chat.patient, name=file_name, data=file_body
    )
    attachment_id = str(await in_thread(lambda: message.attachments.get().id)())
    assert await in_thread(_download_and_read_history)(chat, attachment_id) == (200, 200)
    await doctor.send_json_to({"type": "sync", "cursors": {str(chat.conversation.id): 0}})
    await drain_until(doctor, "synced")
    await disconnect(patient, doctor)
    # then: the raw database, the media and var dirs and the logs hold none of it
    secrets = [text, reason, times, file_name, f"booking {marker}", file_body.decode()]
    database = await in_thread(raw_database_text)()
    assert [s for s in secrets if s in database] == []
    assert marker not in database
    roots = [Path(settings.MEDIA_ROOT), Path(settings.VAR_DIR)]
    assert _files_containing(roots, [marker.encode(), file_body]) == []
    assert marker not in caplog.text
    # and every read and write of it is in the audit log, against the patient
    events: list[Any] = await in_thread(
        lambda: list(AuditEvent.objects.filter(patient=chat.patient).values("action", "actor"))
    )()
    actions = {(e["action"], e["actor"]) for e in events}
    assert {
        ("chat.message.send", chat.patient.id),
        ("chat.action.submit", chat.patient.id),
        ("chat.attachment.upload", chat.patient.id),
        ("chat.attachment.download", chat.doctor.id),
        ("chat.history.read", chat.doctor.id),
        ("chat.sync", chat.doctor.id),
    } <= actions
