"""The websocket entry point: foreign origins are refused at the handshake (before any
consumer); the session cookie says who is on the socket."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from careconnect.accounts.models import User
from careconnect.asgi import application
from tests.factories import make_patient

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


# ------------------------------------------------------------------ session auth at the handshake

ORIGIN = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]


@database_sync_to_async
def _signed_in(**fields: Any) -> tuple[User, str]:
    user = make_patient(**fields)
    client = Client()
    client.force_login(user)
    return user, client.cookies[settings.SESSION_COOKIE_NAME].value


async def _handshake(session_key: str) -> WebsocketCommunicator:
    cookie = f"theme=dark; {settings.SESSION_COOKIE_NAME}={session_key}".encode()
    communicator = WebsocketCommunicator(
        application, "/ws/chat/", headers=[*ORIGIN, (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect()
    assert connected is True  # accepted first, then closed with 4401 when nobody signed in
    return communicator


async def test_the_session_cookie_signs_the_socket_in() -> None:
    _, key = await _signed_in()
    communicator = await _handshake(key)
    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "pong"
    await communicator.disconnect()


@pytest.mark.parametrize("change", ["password changed", "deactivated", "signed out"])
async def test_a_session_that_no_longer_holds_is_closed_with_4401(change: str) -> None:
    user, key = await _signed_in()

    @database_sync_to_async
    def apply() -> None:
        if change == "password changed":  # Django's session hash no longer matches
            user.set_password("a-brand-new-pass-2026")
            user.save()
        elif change == "deactivated":
            User.objects.filter(pk=user.pk).update(is_active=False)
        else:
            Session.objects.filter(session_key=key).delete()

    await apply()
    communicator = await _handshake(key)
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}


async def test_a_made_up_session_key_is_closed_with_4401() -> None:
    communicator = await _handshake("x" * 32)
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
