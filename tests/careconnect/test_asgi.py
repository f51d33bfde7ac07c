"""The websocket entry point refuses foreign origins at the handshake (before any consumer)."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from careconnect.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


async def test_foreign_origin_is_refused_at_handshake() -> None:
    communicator = WebsocketCommunicator(
        application,
        "/ws/chat/",
        headers=[(b"origin", b"https://evil.example"), (b"host", b"127.0.0.1:8000")],
    )
    connected, _ = await communicator.connect()
    assert connected is False
    await communicator.disconnect()
