"""The /ws/chat/ consumer over a real channel layer (in-memory embedded, Redis with REDIS_URL):
every frame type and error."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from chat.models import Message
from tests.chat.conftest import Chat, chat_app, make_chat

pytestmark = pytest.mark.django_db(transaction=True)


async def _connect(user: Any) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(chat_app(user), "/ws/chat/")
    connected, _ = await communicator.connect()
    assert connected
    return communicator


def _send(chat: Chat, body: str, client_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "message.send",
        "conversation": str(chat.conversation.id),
        "client_id": client_id or str(uuid.uuid4()),
        "body": body,
    }


async def _make_chat() -> Chat:
    from channels.db import database_sync_to_async

    return await database_sync_to_async(make_chat)()


async def test_unauthenticated_socket_is_closed_with_4401() -> None:
    communicator = WebsocketCommunicator(chat_app(None), "/ws/chat/")
    connected, code = await communicator.connect()
    assert not connected
    assert code == 4401


async def test_message_reaches_the_doctor_and_the_sender_gets_an_ack() -> None:
    chat = await _make_chat()
    patient, doctor = await _connect(chat.patient), await _connect(chat.doctor)
    frame = _send(chat, "Hello doctor")
    await patient.send_json_to(frame)
    ack = await patient.receive_json_from(timeout=5)
    pushed_to_doctor = await doctor.receive_json_from(timeout=5)
    echoed_to_sender = await patient.receive_json_from(timeout=5)  # the sender's other tabs
    assert ack["type"] == "ack"
    assert ack["client_id"] == frame["client_id"]
    assert ack["message"]["body"] == "Hello doctor"
    assert ack["message"]["seq"] == 2  # 1 is the booking card
    assert pushed_to_doctor == {"type": "message.new", "message": ack["message"]}
    assert echoed_to_sender == pushed_to_doctor
    await patient.disconnect()
    await doctor.disconnect()


async def test_a_retried_send_with_the_same_client_id_is_stored_once() -> None:
    chat = await _make_chat()
    patient = await _connect(chat.patient)
    frame = _send(chat, "Only once")
    await patient.send_json_to(frame)
    first = await patient.receive_json_from(timeout=5)
    await patient.receive_json_from(timeout=5)  # the push to the sender's own group
    await patient.send_json_to(frame)
    second = await patient.receive_json_from(timeout=5)
    assert first["message"]["id"] == second["message"]["id"]
    from channels.db import database_sync_to_async

    count = await database_sync_to_async(
        Message.objects.filter(conversation=chat.conversation, kind="text").count
    )()
    assert count == 1
    await patient.disconnect()


async def test_sync_replays_what_was_missed_in_seq_order() -> None:
    chat = await _make_chat()
    doctor = await _connect(chat.doctor)
    for text in ("one", "two", "three"):
        await doctor.send_json_to(_send(chat, text))
        await doctor.receive_json_from(timeout=5)
        await doctor.receive_json_from(timeout=5)
    patient = await _connect(chat.patient)
    await patient.send_json_to({"type": "sync", "cursors": {str(chat.conversation.id): 2}})
    replay = [await patient.receive_json_from(timeout=5) for _ in range(2)]
    synced = await patient.receive_json_from(timeout=5)
    assert [f["type"] for f in replay] == ["message.new", "message.new"]
    assert [f["message"]["body"] for f in replay] == ["two", "three"]
    assert [f["message"]["seq"] for f in replay] == [3, 4]
    assert synced == {"type": "synced", "cursors": {str(chat.conversation.id): 4}}
    await patient.disconnect()
    await doctor.disconnect()
