"""The /ws/chat/ consumer over a real channel layer (in-memory embedded, Redis with REDIS_URL):
every frame type and every error code of docs/chat-protocol.md."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from careconnect.asgi import application
from chat import services
from chat.models import ChatSettings, Message, Participant
from tests.chat.conftest import (
    amake_chat,
    chat_app,
    connect,
    disconnect,
    in_thread,
    nothing_more,
    receive,
    send_frame,
)
from tests.factories import make_patient

pytestmark = pytest.mark.django_db(transaction=True)


def _count(**filters: Any) -> Any:
    return in_thread(lambda: Message.objects.filter(**filters).count())()


# ------------------------------------------------------------------ the handshake


async def test_unauthenticated_socket_is_closed_with_4401() -> None:
    communicator = WebsocketCommunicator(chat_app(None), "/ws/chat/")
    await communicator.connect()
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4401}


async def test_foreign_origin_is_refused_at_the_handshake_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given: the real entry point (Origin check, then session auth), a page on another site
    communicator = WebsocketCommunicator(
        application,
        "/ws/chat/",
        headers=[(b"origin", b"https://evil.example"), (b"host", b"127.0.0.1:8000")],
    )
    # when
    with caplog.at_level(logging.WARNING, logger="careconnect.websocket"):
        connected, _ = await communicator.connect()
    # then
    assert connected is False
    assert any("https://evil.example" in r.getMessage() for r in caplog.records)
    await communicator.disconnect()


async def test_same_origin_without_a_session_reaches_the_consumer_and_gets_4401() -> None:
    communicator = WebsocketCommunicator(
        application,
        "/ws/chat/",
        headers=[(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")],
    )
    await communicator.connect()
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4401}


# ------------------------------------------------------------------ message.send


async def test_message_reaches_the_doctor_and_every_tab_of_the_sender() -> None:
    chat = await amake_chat()
    tab1, tab2, doctor = (
        await connect(chat.patient),
        await connect(chat.patient),
        await connect(chat.doctor),
    )
    frame = send_frame(chat, "Hello doctor")
    await tab1.send_json_to(frame)
    ack = await receive(tab1)
    assert ack["type"] == "ack"
    assert ack["client_id"] == frame["client_id"]
    assert ack["message"]["body"] == "Hello doctor"
    assert ack["message"]["seq"] == 2  # 1 is the booking card
    assert ack["message"]["kind"] == "text"
    expected = {"type": "message.new", "message": ack["message"]}
    assert await receive(doctor) == expected
    assert await receive(tab1) == expected  # the sender's tabs all stay in step
    assert await receive(tab2) == expected
    await disconnect(tab1, tab2, doctor)


async def test_a_retried_send_with_the_same_client_id_is_stored_once_and_pushed_once() -> None:
    chat = await amake_chat()
    patient, doctor = await connect(chat.patient), await connect(chat.doctor)
    frame = send_frame(chat, "Only once")
    await patient.send_json_to(frame)
    first = await receive(patient, "ack")
    await receive(patient, "message.new")
    await patient.send_json_to(frame)  # the outbox retries after a reconnect
    second = await receive(patient, "ack")
    assert first["message"]["id"] == second["message"]["id"]
    assert await _count(conversation=chat.conversation, kind="text") == 1
    assert (await receive(doctor))["message"]["id"] == first["message"]["id"]
    await nothing_more(doctor)
    await disconnect(patient, doctor)


async def test_text_over_10000_characters_is_too_long_and_not_stored() -> None:
    chat = await amake_chat()
    patient = await connect(chat.patient)
    frame = send_frame(chat, "x" * 10_001)
    await patient.send_json_to(frame)
    error = await receive(patient)
    assert error["type"] == "error"
    assert error["code"] == "too_long"
    assert error["client_id"] == frame["client_id"]
    assert await _count(conversation=chat.conversation, kind="text") == 0
    await patient.send_json_to(send_frame(chat, "x" * 10_000))  # the limit itself is fine
    assert (await receive(patient))["type"] == "ack"
    await disconnect(patient)


async def test_blank_text_and_a_missing_client_id_are_refused() -> None:
    chat = await amake_chat()
    patient = await connect(chat.patient)
    await patient.send_json_to(send_frame(chat, "   "))
    assert (await receive(patient))["code"] == "invalid"
    frame = send_frame(chat, "hi")
    del frame["client_id"]
    await patient.send_json_to(frame)
    error = await receive(patient)
    assert error["code"] == "bad_frame"
    assert "client_id" in error["fields"]
    await disconnect(patient)


# ------------------------------------------------------------------ sync


async def test_sync_replays_what_was_missed_in_seq_order_and_counts_as_delivered() -> None:
    chat = await amake_chat()
    doctor = await connect(chat.doctor)
    for text in ("one", "two", "three"):
        await doctor.send_json_to(send_frame(chat, text))
        await receive(doctor, "ack")
        await receive(doctor, "message.new")
    patient = await connect(chat.patient)
    conversation = str(chat.conversation.id)
    await patient.send_json_to({"type": "sync", "cursors": {conversation: 2}})
    replay = [await receive(patient) for _ in range(2)]
    synced = await receive(patient)
    assert [f["type"] for f in replay] == ["message.new", "message.new"]
    assert [f["message"]["body"] for f in replay] == ["two", "three"]
    assert [f["message"]["seq"] for f in replay] == [3, 4]
    assert synced == {"type": "synced", "cursors": {conversation: 4}, "more": []}
    # then the doctor learns the patient's client now holds everything up to 4
    receipt = await receive(doctor, "read")
    assert receipt["user"] == str(chat.patient.id)
    assert (receipt["delivered_seq"], receipt["read_seq"]) == (4, 0)
    await disconnect(patient, doctor)


async def test_sync_with_change_cursors_replays_edits_and_deletions_it_missed() -> None:
    chat = await amake_chat()
    sent = await in_thread(services.send_text)(
        conversation_id=chat.conversation.id, actor=chat.doctor, body="Take 2 pills"
    )
    patient = await connect(chat.patient)
    conversation = str(chat.conversation.id)
    await patient.send_json_to({"type": "sync", "cursors": {conversation: 0}, "changes": {}})
    await receive(patient, "message.new")
    await receive(patient, "message.new")
    synced = await receive(patient, "synced")
    assert synced["changes"] == {}  # not asked for this conversation: nothing claimed
    await patient.send_json_to(
        {"type": "sync", "cursors": {conversation: 2}, "changes": {conversation: 0}}
    )
    updates = [await receive(patient, "message.update") for _ in range(2)]
    assert [u["message"]["change"] for u in updates] == [1, 2]  # in change order
    synced = await receive(patient, "synced")
    assert synced["changes"] == {conversation: 2}
    await disconnect(patient)
    # while the patient is away: the doctor edits, then deletes
    await in_thread(services.edit_message)(actor=chat.doctor, message_id=sent.id, body="Take 1")
    await in_thread(services.delete_message)(actor=chat.doctor, message_id=sent.id)
    patient = await connect(chat.patient)
    await patient.send_json_to(
        {"type": "sync", "cursors": {conversation: 2}, "changes": {conversation: 2}}
    )
    update = await receive(patient)
    assert update["type"] == "message.update"
    assert update["message"]["id"] == str(sent.id)
    assert update["message"]["deleted"] is True
    assert update["message"]["body"] == ""
    assert await receive(patient) == {
        "type": "synced",
        "cursors": {conversation: 2},
        "changes": {conversation: 4},
        "more": [],
    }
    await disconnect(patient)


async def test_sync_of_a_conversation_that_is_not_yours_is_not_found() -> None:
    chat = await amake_chat()
    stranger = await connect(await in_thread(make_patient)())
    conversation, unknown = str(chat.conversation.id), str(uuid.uuid4())
    await stranger.send_json_to({"type": "sync", "cursors": {conversation: 0, unknown: 0}})
    first, second = await receive(stranger), await receive(stranger)
    assert {first["code"], second["code"]} == {"not_found"}
    assert {first["message"], second["message"]} == {"Conversation not found."}
    assert await receive(stranger) == {"type": "synced", "cursors": {}, "more": []}
    await disconnect(stranger)


# ------------------------------------------------------------------ typing, read, delivered


async def test_typing_reaches_the_others_only_and_is_not_stored() -> None:
    chat = await amake_chat()
    patient, doctor = await connect(chat.patient), await connect(chat.doctor)
    before = await _count()
    await patient.send_json_to({"type": "typing", "conversation": str(chat.conversation.id)})
    assert await receive(doctor, "typing") == {
        "type": "typing",
        "conversation": str(chat.conversation.id),
        "user": str(chat.patient.id),
    }
    await nothing_more(patient, ignore=frozenset({"presence"}))
    assert await _count() == before
    await disconnect(patient, doctor)


async def test_read_stores_the_cursor_and_tells_everyone_never_moving_back() -> None:
    chat = await amake_chat()
    doctor, patient = await connect(chat.doctor), await connect(chat.patient)
    await doctor.send_json_to(send_frame(chat, "Results are in"))
    ack = await receive(doctor, "ack")
    await receive(doctor, "message.new")
    await receive(patient, "message.new")
    conversation = str(chat.conversation.id)
    await patient.send_json_to({"type": "read", "conversation": conversation, "seq": 2})
    expected = {
        "type": "read",
        "conversation": conversation,
        "user": str(chat.patient.id),
        "seq": 2,
        "read_seq": 2,
        "delivered_seq": 2,
    }
    assert await receive(doctor, "read") == expected  # the sender sees "read"
    assert await receive(patient, "read") == expected  # the reader's other tabs too
    await patient.send_json_to({"type": "read", "conversation": conversation, "seq": 1})
    await nothing_more(doctor, ignore=frozenset({"presence"}))  # going back changes nothing
    participant = await in_thread(Participant.objects.get)(
        conversation=chat.conversation, user=chat.patient
    )
    assert participant.read_seq == 2
    assert ack["message"]["seq"] == 2
    await disconnect(doctor, patient)


async def test_delivered_moves_only_the_delivery_cursor() -> None:
    chat = await amake_chat()
    doctor, patient = await connect(chat.doctor), await connect(chat.patient)
    await doctor.send_json_to(send_frame(chat, "Hi"))
    await receive(doctor, "ack")
    await receive(doctor, "message.new")
    await receive(patient, "message.new")
    conversation = str(chat.conversation.id)
    await patient.send_json_to({"type": "delivered", "conversation": conversation, "seq": 99})
    receipt = await receive(doctor, "read")
    assert (receipt["delivered_seq"], receipt["read_seq"]) == (2, 0)  # capped at the last seq
    await disconnect(doctor, patient)


# ------------------------------------------------------------------ edit and delete


async def test_edit_and_delete_push_message_update_to_both_sides() -> None:
    chat = await amake_chat()
    patient, doctor = await connect(chat.patient), await connect(chat.doctor)
    await patient.send_json_to(send_frame(chat, "I feel dizy"))
    sent = (await receive(patient, "ack"))["message"]
    await receive(patient, "message.new")
    await receive(doctor, "message.new")
    edit_id = str(uuid.uuid4())
    await patient.send_json_to(
        {
            "type": "message.edit",
            "conversation": sent["conversation"],
            "message": sent["id"],
            "body": "I feel dizzy",
            "client_id": edit_id,
        }
    )
    ack = await receive(patient, "ack")
    assert ack["client_id"] == edit_id
    assert ack["message"]["body"] == "I feel dizzy"
    assert ack["message"]["edited_at"] is not None
    update = await receive(doctor, "message.update")
    assert update["message"]["body"] == "I feel dizzy"
    assert update["message"]["seq"] == sent["seq"]
    await patient.send_json_to(
        {"type": "message.delete", "conversation": sent["conversation"], "message": sent["id"]}
    )
    deleted = (await receive(doctor, "message.update"))["message"]
    assert (deleted["deleted"], deleted["body"]) == (True, "")
    await disconnect(patient, doctor)


async def test_someone_elses_message_cannot_be_edited_and_late_edits_are_refused() -> None:
    chat = await amake_chat()
    sent = await in_thread(services.send_text)(
        conversation_id=chat.conversation.id, actor=chat.doctor, body="Doctor's words"
    )
    patient = await connect(chat.patient)
    edit = {
        "type": "message.edit",
        "conversation": str(chat.conversation.id),
        "message": str(sent.id),
        "body": "changed",
        "client_id": str(uuid.uuid4()),
    }
    await patient.send_json_to(edit)
    assert (await receive(patient, "error"))["code"] == "not_your_message"
    doctor = await connect(chat.doctor)
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        await doctor.send_json_to(edit)
        error = await receive(doctor, "error")
    assert error["code"] == "edit_window_closed"
    assert error["client_id"] == edit["client_id"]
    await disconnect(patient, doctor)


# ------------------------------------------------------------------ protocol errors


async def test_unknown_type_malformed_json_and_large_frames_get_errors_and_the_socket_stays() -> (
    None
):
    chat = await amake_chat()
    patient = await connect(chat.patient)
    await patient.send_json_to({"type": "shout", "client_id": "c-1"})
    assert await receive(patient) == {
        "type": "error",
        "code": "unknown_type",
        "message": "Unknown frame type.",
        "client_id": "c-1",
        "fields": {"type": ["shout"]},
    }
    await patient.send_to(text_data='{"type": "message.send", ')
    assert (await receive(patient))["code"] == "malformed_json"
    await patient.send_json_to(["not", "an", "object"])
    assert (await receive(patient))["code"] == "bad_frame"
    await patient.send_json_to(send_frame(chat, "y" * (64 * 1024)))  # over 64 KiB as a frame
    assert (await receive(patient))["code"] == "too_large"
    await patient.send_json_to({"type": "ping"})
    assert await receive(patient) == {"type": "pong"}  # still open
    assert await _count(conversation=chat.conversation, kind="text") == 0
    await disconnect(patient)


async def test_rate_limit_is_per_user_across_sockets_and_keeps_the_connection(
    settings: Any,
) -> None:
    # given: 3 frames per 3-second window for each user, two tabs of one patient
    settings.CHAT_RATE_BURST, settings.CHAT_RATE_PER_SECOND = 3, 1
    chat = await amake_chat()
    tab1, tab2 = await connect(chat.patient), await connect(chat.patient)
    doctor = await connect(chat.doctor)
    start = timezone.now().replace(microsecond=0) + timedelta(seconds=30)
    start = start.replace(second=(start.second // 3) * 3)  # the beginning of a window
    with time_machine.travel(start, tick=False) as clock:
        for tab in (tab1, tab2, tab1):
            await tab.send_json_to({"type": "ping"})
            assert await receive(tab) == {"type": "pong"}
        frame = send_frame(chat, "one too many")
        await tab2.send_json_to(frame)
        limited = await receive(tab2)
        assert limited["code"] == "rate_limited"
        assert limited["client_id"] == frame["client_id"]
        await doctor.send_json_to({"type": "ping"})  # other users have their own allowance
        assert await receive(doctor) == {"type": "pong"}
        clock.shift(timedelta(seconds=3))
        await tab2.send_json_to(frame)  # the same socket, the next window: accepted
        assert (await receive(tab2, "ack"))["client_id"] == frame["client_id"]
    await disconnect(tab1, tab2, doctor)


async def test_a_non_participant_gets_not_found_and_learns_nothing() -> None:
    chat = await amake_chat()
    stranger = await connect(await in_thread(make_patient)())
    conversation = str(chat.conversation.id)
    sent = await in_thread(services.send_text)(
        conversation_id=chat.conversation.id, actor=chat.doctor, body="private"
    )
    frames = [
        send_frame(chat, "let me in"),
        {
            "type": "action.submit",
            "conversation": conversation,
            "client_id": str(uuid.uuid4()),
            "action": "booking.request_appointment",
            "payload": {"reason": "x"},
        },
        {"type": "typing", "conversation": conversation},
        {"type": "read", "conversation": conversation, "seq": 1},
        {"type": "delivered", "conversation": conversation, "seq": 1},
        {
            "type": "message.edit",
            "conversation": conversation,
            "message": str(sent.id),
            "body": "x",
        },
        {"type": "message.delete", "conversation": conversation, "message": str(sent.id)},
    ]
    answers = []
    for frame in frames:
        await stranger.send_json_to(frame)
        answers.append(await receive(stranger))
    # the same answer as for a conversation that does not exist
    await stranger.send_json_to({**frames[0], "conversation": str(uuid.uuid4())})
    missing = await receive(stranger)
    assert {(a["code"], a["message"]) for a in answers} == {
        ("not_found", "Conversation not found.")
    }
    assert (missing["code"], missing["message"]) == ("not_found", "Conversation not found.")
    assert await _count(conversation=chat.conversation) == 2
    await disconnect(stranger)


# ------------------------------------------------------------------ presence


async def test_presence_tells_the_other_side_when_someone_comes_and_goes() -> None:
    chat = await amake_chat()
    patient = await connect(chat.patient)
    doctor = await connect(chat.doctor)
    online = await receive(patient, "presence")
    assert online == {
        "type": "presence",
        "user": str(chat.doctor.id),
        "online": True,
        "last_seen": None,
    }
    second_tab = await connect(chat.doctor)  # already online: no news
    await second_tab.disconnect()
    await doctor.disconnect()  # the last socket: now offline, last seen now
    offline = await receive(patient, "presence")
    assert offline["online"] is False
    assert offline["last_seen"] is not None
    await nothing_more(patient, ignore=frozenset())
    await disconnect(patient)


async def test_a_doctor_who_hides_presence_sends_no_presence_frames() -> None:
    chat = await amake_chat()
    await in_thread(ChatSettings.objects.create)(user=chat.doctor, show_presence=False)
    patient = await connect(chat.patient)
    doctor = await connect(chat.doctor)
    await doctor.disconnect()
    await nothing_more(patient, ignore=frozenset())
    await disconnect(patient)
