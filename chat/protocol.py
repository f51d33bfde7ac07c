"""The /ws/chat/ protocol (docs/chat-protocol.md): validate a client frame's envelope, then
dispatch on `type` to one service call. Runs in a worker thread (database access)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from careconnect.accounts.models import User
from careconnect.errors import ApplicationError
from chat import selectors, services

MAX_CURSORS = 500


class BadFrameError(ApplicationError):
    code = "bad_frame"
    status = 400
    default_message = "That frame is not valid."


class UnknownTypeError(ApplicationError):
    code = "unknown_type"
    status = 400
    default_message = "Unknown frame type."


class SendFrame(serializers.Serializer[Any]):
    conversation = serializers.UUIDField()
    client_id = serializers.UUIDField()
    body = serializers.CharField(max_length=services.MAX_TEXT, trim_whitespace=False)


class ActionFrame(serializers.Serializer[Any]):
    conversation = serializers.UUIDField()
    client_id = serializers.UUIDField()
    action = serializers.CharField(max_length=80)
    payload = serializers.DictField()


class SyncFrame(serializers.Serializer[Any]):
    cursors = serializers.DictField(child=serializers.IntegerField(min_value=0))

    def validate_cursors(self, value: dict[str, int]) -> dict[str, int]:
        if len(value) > MAX_CURSORS:
            raise serializers.ValidationError(f"At most {MAX_CURSORS} conversations per sync.")
        return value


class ConversationFrame(serializers.Serializer[Any]):
    conversation = serializers.UUIDField()


class ReadFrame(ConversationFrame):
    seq = serializers.IntegerField(min_value=0)


def _valid(serializer_class: type[Any], frame: dict[str, Any]) -> dict[str, Any]:
    serializer = serializer_class(data=frame)
    if not serializer.is_valid():
        raise BadFrameError(None, **{k: [str(e) for e in v] for k, v in serializer.errors.items()})
    return dict(serializer.validated_data)


def handle_frame(*, user: User, frame: Any) -> list[dict[str, Any]]:
    """Replies to the sender (ack, replay, ...). Events for others go through the layer:
    `typing` and `read` return ("fanout", frame) markers the consumer sends to the groups."""
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise BadFrameError("A frame is a JSON object with a `type`.")
    kind = frame["type"]
    if kind == "message.send":
        data = _valid(SendFrame, frame)
        message = services.send_text(
            conversation_id=data["conversation"],
            actor=user,
            body=data["body"],
            client_id=data["client_id"],
        )
        conversation = message.conversation
        return [
            {
                "type": "ack",
                "client_id": str(data["client_id"]),
                "message": services.message_frame(message, conversation),
            }
        ]
    if kind == "action.submit":
        data = _valid(ActionFrame, frame)
        message = services.submit_action(
            conversation_id=data["conversation"],
            actor=user,
            name=data["action"],
            payload=data["payload"],
            client_id=data["client_id"],
        )
        return [
            {
                "type": "ack",
                "client_id": str(data["client_id"]),
                "message": services.message_frame(message, message.conversation),
            }
        ]
    if kind == "sync":
        data = _valid(SyncFrame, frame)
        replay = services.replay_since(actor=user, cursors=data["cursors"])
        return [
            *replay,
            {
                "type": "synced",
                "cursors": {
                    str(c): max(
                        [
                            data["cursors"][c],
                            *[
                                f["message"]["seq"]
                                for f in replay
                                if f.get("type") == "message.new"
                                and f["message"]["conversation"] == str(c)
                            ],
                        ]
                    )
                    for c in data["cursors"]
                },
            },
        ]
    if kind == "typing":
        data = _valid(ConversationFrame, frame)
        conversation = selectors.get_conversation(conversation_id=data["conversation"])
        selectors.participant_role(conversation=conversation, user=user)
        return [
            {
                "fanout": sorted(
                    str(u)
                    for u in selectors.participant_user_ids(conversation=conversation)
                    if u != user.id
                ),
                "frame": {
                    "type": "typing",
                    "conversation": str(conversation.id),
                    "user": str(user.id),
                },
            }
        ]
    if kind == "read":
        data = _valid(ReadFrame, frame)
        seq = services.mark_read(conversation_id=data["conversation"], actor=user, seq=data["seq"])
        conversation = selectors.get_conversation(conversation_id=data["conversation"])
        return [
            {
                "fanout": sorted(
                    str(u) for u in selectors.participant_user_ids(conversation=conversation)
                ),
                "frame": {
                    "type": "read",
                    "conversation": str(conversation.id),
                    "user": str(user.id),
                    "seq": seq,
                },
            }
        ]
    if kind == "ping":
        return [{"type": "pong"}]
    raise UnknownTypeError(type=[kind[:40]])
