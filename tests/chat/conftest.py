"""Chat fixtures: a patient and a doctor with a conversation (opened by a real booking), and
helpers for websocket tests (connect as a user, read frames past the ephemeral ones)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from booking import services as booking_services
from booking.models import Appointment
from careconnect.accounts.models import CareGrant, DoctorProfile, MedicalCenter, User
from chat.models import Conversation
from chat.routing import websocket_urlpatterns
from tests.booking.conftest import free_slots_of, publish_rule
from tests.factories import make_doctor, make_patient

# Small, valid-looking files by their magic bytes (content is what counts, not names).
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"secret-scan-png-payload" * 4
PDF = b"%PDF-1.7\n%secret-scan-pdf-payload lab results\n%%EOF\n"


@dataclass
class Chat:
    patient: User
    doctor: User
    conversation: Conversation
    appointment: Appointment

    @property
    def center(self) -> MedicalCenter:
        return self.conversation.center


def with_user(app: Any, user: User | None) -> Any:
    """The ASGI app with `user` put into the scope, as channels' AuthMiddleware would."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> Any:
        return await app({**scope, "user": user}, receive, send)

    return wrapped


def chat_app(user: User | None) -> Any:
    return with_user(URLRouter(websocket_urlpatterns), user)  # type: ignore[arg-type]


def make_chat(*, reason: str = "Rash") -> Chat:
    """Given: a doctor with availability and a patient who booked them (which opens the
    conversation and posts the booking card)."""
    doctor = make_doctor()
    publish_rule(doctor)
    patient = make_patient()
    slot = free_slots_of(doctor)[3]
    appointment = booking_services.book_slot(
        actor=patient, slot_id=slot.id, mode="online", reason=reason
    )
    conversation = Conversation.objects.select_related("center", "doctor__user", "patient").get(
        patient=patient, doctor=DoctorProfile.objects.get(user=doctor)
    )
    return Chat(patient, doctor, conversation, appointment)


def make_grant(patient: User, grantee: User, scopes: list[str], **fields: Any) -> CareGrant:
    """A family grant as accepting an invitation leaves it (live unless `fields` say not)."""
    values: dict[str, Any] = {"status": CareGrant.Status.ACTIVE, **fields}
    return CareGrant.objects.create(
        patient=patient,
        grantee=grantee,
        email=str(grantee.email),
        scopes=scopes,
        accepted_at=timezone.now(),
        **values,
    )


@pytest.fixture
def chat(db: None) -> Chat:
    return make_chat()


@pytest.fixture(autouse=True)
def attachment_dir(settings: Any, tmp_path: Path) -> Path:
    """Attachments are written under a per-test media dir (scanned by the privacy tests)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CHAT_ATTACHMENT_DIR = tmp_path / "media" / "chat"
    return Path(settings.CHAT_ATTACHMENT_DIR)


# ------------------------------------------------------------------ websocket helpers

# An in-app notification push (notification.new) is a doorbell on the same socket: a booking
# notice may ring it in the middle of a chat flow.
EPHEMERAL = frozenset({"presence", "typing", "read", "notification.new"})


async def connect(user: User | None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(chat_app(user), "/ws/chat/")
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def receive(
    communicator: WebsocketCommunicator, *types: str, wait: float = 5
) -> dict[str, Any]:
    """The next frame of one of `types` (any type when none given), skipping ephemeral frames
    (presence, typing, read) that were not asked for."""
    while True:
        frame: dict[str, Any] = await communicator.receive_json_from(timeout=wait)
        if types and frame["type"] in types:
            return frame
        if not types and frame["type"] not in EPHEMERAL:
            return frame
        if frame["type"] not in EPHEMERAL:
            raise AssertionError(f"expected {types}, got {frame}")


async def drain_until(communicator: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    """Skip whatever comes (pushes, ephemeral frames) until a frame of type `kind`."""
    while True:
        frame: dict[str, Any] = await communicator.receive_json_from(timeout=5)
        if frame["type"] == kind:
            return frame


async def nothing_more(
    communicator: WebsocketCommunicator, *, ignore: frozenset[str] = EPHEMERAL
) -> None:
    """No further frame arrives (ephemeral ones excepted) within a short wait."""
    while not await communicator.receive_nothing(timeout=0.3):
        frame = await communicator.receive_json_from()
        assert frame["type"] in ignore, frame


async def disconnect(*communicators: WebsocketCommunicator) -> None:
    for communicator in communicators:
        await communicator.disconnect()


def send_frame(chat: Chat, body: str, client_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "message.send",
        "conversation": str(chat.conversation.id),
        "client_id": client_id or str(uuid.uuid4()),
        "body": body,
    }


def action_frame(conversation: Conversation, action: str, **payload: Any) -> dict[str, Any]:
    return {
        "type": "action.submit",
        "conversation": str(conversation.id),
        "client_id": str(uuid.uuid4()),
        "action": action,
        "payload": payload,
    }


async def amake_chat(**kwargs: Any) -> Chat:
    return await database_sync_to_async(make_chat)(**kwargs)


def in_thread(function: Any) -> Any:
    """Run ORM code from an async test (the consumer's ORM runs in another thread)."""
    return database_sync_to_async(function)
