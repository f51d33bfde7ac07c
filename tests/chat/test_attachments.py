"""Attachments: images and PDFs by content (not name or declared type), at most 10 MB, sealed
on disk with the conversation's key and bound to their row, downloadable only by participants,
gone with their message."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from careconnect.accounts.services import revoke_grant
from careconnect.audit.models import AuditEvent
from careconnect.crypto.services import DecryptionError
from chat import attachments, services
from chat.models import Attachment, Message
from tests.chat.conftest import PDF, PNG, Chat, make_chat, make_grant
from tests.conftest import Api, signed_in
from tests.factories import make_patient

pytestmark = pytest.mark.django_db


def _upload(
    api: Api,
    chat: Chat,
    content: bytes,
    name: str = "scan.png",
    declared: str = "image/png",
    **fields: Any,
) -> Any:
    data = {
        "file": SimpleUploadedFile(name, content, content_type=declared),
        "client_id": str(uuid.uuid4()),
        **fields,
    }
    with api._capture(execute=True):
        return api.client.post(
            f"/api/conversations/{chat.conversation.id}/attachments/",
            data,
            HTTP_X_CSRFTOKEN=api._csrf(),
        )


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_an_image_is_sent_sealed_on_disk_and_downloaded_by_the_other_side(
    make_api: Callable[[], Api], attachment_dir: Path
) -> None:
    chat = make_chat()
    patient_api, doctor_api = make_api(), make_api()
    signed_in(patient_api, chat.patient)
    signed_in(doctor_api, chat.doctor)
    # when
    sent = _upload(patient_api, chat, PNG, name="my rash.png", body="Since Monday")
    # then: a text message carrying the attachment
    assert sent.status_code == 201, sent.content
    message = sent.json()
    assert (message["kind"], message["body"]) == ("text", "Since Monday")
    [attachment] = message["attachments"]
    assert attachment["name"] == "my rash.png"
    assert (attachment["content_type"], attachment["size"]) == ("image/png", len(PNG))
    # only ciphertext on disk
    [stored] = _files(attachment_dir)
    assert PNG not in stored.read_bytes()
    assert b"secret-scan" not in stored.read_bytes()
    assert b"my rash" not in stored.read_bytes()
    # the doctor downloads the original bytes, as an inline image that is never cached
    download = doctor_api.get(f"/api/attachments/{attachment['id']}/")
    assert download.status_code == 200
    assert download.content == PNG
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"].startswith("inline;")
    assert "my rash.png" in download["Content-Disposition"]
    assert "no-store" in download["Cache-Control"]
    assert download["X-Content-Type-Options"] == "nosniff"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"chat.attachment.upload", "chat.attachment.download"} <= actions


def test_type_is_decided_by_content_not_by_name_or_declared_type(api: Api) -> None:
    chat = make_chat()
    signed_in(api, chat.patient)
    pdf = _upload(api, chat, PDF, name="holiday.png", declared="image/png")
    assert pdf.status_code == 201
    [attachment] = pdf.json()["attachments"]
    assert attachment["content_type"] == "application/pdf"
    download = api.get(f"/api/attachments/{attachment['id']}/")
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    html = b"<html><script>alert(1)</script></html>"
    disguised = _upload(api, chat, html, name="x.jpg", declared="image/jpeg")
    assert (disguised.status_code, disguised.json()["error"]["code"]) == (415, "unsupported_type")
    svg = _upload(api, chat, b'<svg xmlns="http://www.w3.org/2000/svg"/>', name="a.svg")
    assert svg.status_code == 415
    assert Attachment.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"GIF87a\x01\x00\x01\x00", "image/gif"),
        (b"\x89PNG\r\n\x1a\n\x00", "image/png"),
        (b"%PDF-1.4\n", "application/pdf"),
        (b"PK\x03\x04", None),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
    ],
)
def test_sniffing_by_magic_bytes(content: bytes, content_type: str | None) -> None:
    assert attachments.sniff_content_type(content[:16]) == content_type


def test_files_over_10_mb_are_413_and_nothing_is_written(api: Api, attachment_dir: Path) -> None:
    chat = make_chat()
    signed_in(api, chat.patient)
    too_big = PNG + b"\x00" * (10 * 1024 * 1024 + 1 - len(PNG))
    response = _upload(api, chat, too_big)
    assert (response.status_code, response.json()["error"]["code"]) == (413, "too_large")
    assert not Message.objects.filter(kind="text").exists()
    assert _files(attachment_dir) == []
    at_limit = PNG + b"\x00" * (10 * 1024 * 1024 - len(PNG))
    assert _upload(api, chat, at_limit).status_code == 201


def test_a_retried_upload_is_stored_once(api: Api) -> None:
    chat = make_chat()
    signed_in(api, chat.patient)
    client_id = str(uuid.uuid4())
    first = _upload(api, chat, PNG, client_id=client_id)
    again = _upload(api, chat, PNG, client_id=client_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Attachment.objects.count() == 1


def test_downloads_are_for_participants_and_live_grants_only(
    make_api: Callable[[], Api],
) -> None:
    chat = make_chat()
    owner, family_api, booker_api, stranger_api = (make_api() for _ in range(4))
    signed_in(owner, chat.patient)
    attachment_id = _upload(owner, chat, PDF).json()["attachments"][0]["id"]
    url = f"/api/attachments/{attachment_id}/"
    family, booker = make_patient(), make_patient()
    grant = make_grant(chat.patient, family, ["message"])
    make_grant(chat.patient, booker, ["book"])
    signed_in(family_api, family)
    signed_in(booker_api, booker)
    signed_in(stranger_api, make_patient())
    assert stranger_api.get(url).status_code == 404
    assert booker_api.get(url).status_code == 404
    assert stranger_api.get(f"/api/attachments/{uuid.uuid4()}/").status_code == 404
    assert family_api.get(url).content == PDF
    event = AuditEvent.objects.get(action="chat.attachment.download", actor=family)
    assert event.acting_for == chat.patient
    revoke_grant(patient=chat.patient, grant_id=grant.id)
    assert family_api.get(url).status_code == 404


def test_deleting_the_message_removes_the_file(api: Api, attachment_dir: Path) -> None:
    chat = make_chat()
    signed_in(api, chat.patient)
    sent = _upload(api, chat, PNG).json()
    assert len(_files(attachment_dir)) == 1
    api.request("delete", f"/api/conversations/{chat.conversation.id}/messages/{sent['id']}/")
    assert _files(attachment_dir) == []
    assert api.get(f"/api/attachments/{sent['attachments'][0]['id']}/").status_code == 404
    history = api.get(f"/api/conversations/{chat.conversation.id}/messages/").json()
    assert history[-1]["attachments"] == []


def test_a_sealed_file_is_bound_to_its_row(chat: Chat) -> None:
    first, _ = services.send_attachment(
        conversation_id=chat.conversation.id, actor=chat.patient, name="a.png", data=PNG
    )
    second, _ = services.send_attachment(
        conversation_id=chat.conversation.id, actor=chat.patient, name="b.pdf", data=PDF
    )
    a, b = first.attachments.get(), second.attachments.get()
    attachments.attachment_path(b.id).write_bytes(attachments.attachment_path(a.id).read_bytes())
    with pytest.raises(DecryptionError):
        services.read_attachment(actor=chat.doctor, attachment_id=b.id)
