"""Attachment files: what a file is (by its first bytes), where its sealed bytes live, and the
upload handler that keeps uploads in memory (a plaintext temporary file on disk would defeat
encryption at rest). Sealing itself is `careconnect.crypto`'s, called from chat.services."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.files.uploadhandler import MemoryFileUploadHandler

from careconnect.errors import ApplicationError, TooLargeError
from chat.models import AttachmentType

_MAGIC: list[tuple[bytes, int, str]] = [
    (b"\xff\xd8\xff", 0, AttachmentType.JPEG),
    (b"\x89PNG\r\n\x1a\n", 0, AttachmentType.PNG),
    (b"GIF87a", 0, AttachmentType.GIF),
    (b"GIF89a", 0, AttachmentType.GIF),
    (b"%PDF-", 0, AttachmentType.PDF),
]
_NAME_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f/\\<>:\"|?*]")
MAX_NAME = 150


def sniff_content_type(head: bytes) -> str | None:
    """The attachment type of a file from its first bytes; None when it is not one we take."""
    for magic, offset, content_type in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return AttachmentType.WEBP
    return None


def clean_name(name: str, content_type: str) -> str:
    """A display name safe in a Content-Disposition header and a page: the last path part,
    without control or path characters, at most MAX_NAME characters."""
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = _NAME_FORBIDDEN.sub("_", base).strip(" .")
    if len(base) > MAX_NAME:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 8 else base
        base = base[:MAX_NAME]
    if not base:
        base = "attachment" + {
            AttachmentType.JPEG: ".jpg",
            AttachmentType.PNG: ".png",
            AttachmentType.WEBP: ".webp",
            AttachmentType.GIF: ".gif",
            AttachmentType.PDF: ".pdf",
        }.get(AttachmentType(content_type), "")
    return base


def attachment_dir() -> Path:
    return Path(settings.CHAT_ATTACHMENT_DIR)


def attachment_path(attachment_id: UUID) -> Path:
    text = str(attachment_id)
    return attachment_dir() / text[:2] / f"{text}.sealed"


def write_sealed(attachment_id: UUID, sealed: bytes) -> Path:
    """Write the sealed bytes (0600, atomically: a reader never sees half a file)."""
    path = attachment_path(attachment_id)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(".partial")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(sealed)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)
    return path


def read_sealed(attachment_id: UUID) -> bytes | None:
    try:
        return attachment_path(attachment_id).read_bytes()
    except FileNotFoundError:
        return None


def remove_files(attachment_ids: list[UUID]) -> None:
    for attachment_id in attachment_ids:
        attachment_path(attachment_id).unlink(missing_ok=True)


class AttachmentTooLargeError(TooLargeError):
    default_message = "Attachments are at most 10 MB."


class UnsupportedTypeError(ApplicationError):
    code = "unsupported_type"
    status = 415
    default_message = "Attach an image (JPEG, PNG, WebP or GIF) or a PDF."


class InMemoryUploadHandler(MemoryFileUploadHandler):
    """Django's memory handler, always active (not only under FILE_UPLOAD_MAX_MEMORY_SIZE) and
    capped: an upload never reaches a temporary file on disk in plaintext."""

    def handle_raw_input(self, *args: Any, **kwargs: Any) -> None:
        super().handle_raw_input(*args, **kwargs)
        self.activated = True
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > settings.CHAT_ATTACHMENT_MAX_BYTES:
            raise AttachmentTooLargeError()
        return super().receive_data_chunk(raw_data, start)
