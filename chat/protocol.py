"""The /ws/chat/ protocol (docs/chat-protocol.md): parse a client frame, apply the per-user
rate limit, validate the envelope, then dispatch on `type` to one service call. Runs in a
worker thread (database access); returns what to send back to this socket and what to fan
out to other users' groups."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from careconnect.accounts.models import User
from careconnect.errors import (
    ApplicationError,
    InvalidInputError,
    TooLargeError,
    concurrent_change,
    error_frame,
)
from chat import limits, selectors, services
from chat.services import Fanout

logger = logging.getLogger(__name__)

MAX_CURSORS = 500


class BadFrameError(ApplicationError):
    code = "bad_frame"
    status = 400
    default_message = "That frame is not valid."


class UnknownTypeError(ApplicationError):
    code = "unknown_type"
    status = 400
    default_message = "Unknown frame type."


class MalformedJsonError(ApplicationError):
    code = "malformed_json"
    status = 400
    default_message = "Frames are JSON objects."


class RateLimitedError(ApplicationError):
    code = "rate_limited"
    status = 429
    default_message = "Too many frames; slow down and retry."


class ServerError(ApplicationError):
    code = "server_error"
    status = 500
    default_message = "Something went wrong; retry with the same client_id."


class FrameTooLargeError(TooLargeError):
    default_message = "Frames are at most 64 KiB."


@dataclass
class Outcome:
    replies: list[dict[str, Any]] = field(default_factory=list)  # to this socket, in order
    events: list[Fanout] = field(default_factory=list)  # to other users' groups


class SendFrame(serializers.Serializer[Any]):
    conversation = serializers.UUIDField()
    client_id = serializers.UUIDField()
    body = serializers.CharField(trim_whitespace=False, allow_blank=True)


class ActionFrame(serializers.Serializer[Any]):
    conversation = serializers.UUIDField()
    client_id = serializers.UUIDField()
    action = serializers.CharField(max_length=80)
    payload = serializers.DictField()


class SyncFrame(serializers.Serializer[Any]):
    cursors = serializers.DictField(child=serializers.IntegerField(min_value=0))
    changes = serializers.DictField(child=serializers.IntegerField(min_value=0), required=False)

    def validate_cursors(self, value: dict[str, int]) -> dict[str, int]:
        if len(value) > MAX_CURSORS:
            raise serializers.ValidationError(f"At most {MAX_CURSORS} conversations per sync.")
        return value


class ConversationFrame(serializers.Serializer[Any]):
    conversation = serializers.UUIDField()


class CursorFrame(ConversationFrame):
    seq = serializers.IntegerField(min_value=0)


class EditFrame(ConversationFrame):
    message = serializers.UUIDField()
    body = serializers.CharField(trim_whitespace=False, allow_blank=True)
    client_id = serializers.UUIDField(required=False)


class DeleteFrame(ConversationFrame):
    message = serializers.UUIDField()
    client_id = serializers.UUIDField(required=False)


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {str(key): _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _valid(serializer_class: type[serializers.Serializer[Any]], frame: dict[str, Any]) -> Any:
    serializer = serializer_class(data=frame)
    if not serializer.is_valid():
        raise BadFrameError(None, **_flatten(serializer.errors))
    return serializer.validated_data


def _error(exc: ApplicationError, client_id: str | None) -> dict[str, Any]:
    frame = error_frame(exc, client_id=client_id)
    if exc.fields:
        frame["fields"] = exc.fields
    return frame


def _client_id(frame: Any) -> str | None:
    value = frame.get("client_id") if isinstance(frame, dict) else None
    return value[:64] if isinstance(value, str) else None


def _ack(client_id: Any, message: Any) -> dict[str, Any]:
    return {
        "type": "ack",
        "client_id": str(client_id),
        "message": services.message_frame(message, message.conversation),
    }


def _receipt_events(receipts: list[services.Receipt]) -> list[Fanout]:
    """`read` frames (read and delivered cursors) to everyone in the conversation, the
    reader's other tabs included."""
    events: list[Fanout] = []
    for receipt in receipts:
        if receipt.moved:
            conversation = selectors.get_conversation(conversation_id=receipt.conversation_id)
            audience = selectors.participant_user_ids(conversation=conversation)
            events.append((sorted(str(u) for u in audience), receipt.frame()))
    return events


# ------------------------------------------------------------------ handlers


def _message_send(user: User, frame: dict[str, Any]) -> Outcome:
    data = _valid(SendFrame, frame)
    message = services.send_text(
        conversation_id=data["conversation"],
        actor=user,
        body=data["body"],
        client_id=data["client_id"],
    )
    return Outcome(replies=[_ack(data["client_id"], message)])


def _action_submit(user: User, frame: dict[str, Any]) -> Outcome:
    data = _valid(ActionFrame, frame)
    message = services.submit_action(
        conversation_id=data["conversation"],
        actor=user,
        name=data["action"],
        payload=data["payload"],
        client_id=data["client_id"],
    )
    return Outcome(replies=[_ack(data["client_id"], message)])


def _sync(user: User, frame: dict[str, Any]) -> Outcome:
    data = _valid(SyncFrame, frame)
    changes = data.get("changes")
    replay = services.replay_since(actor=user, cursors=data["cursors"], changes=changes)
    synced: dict[str, Any] = {"type": "synced", "cursors": replay.cursors, "more": replay.more}
    if changes is not None:
        synced["changes"] = replay.changes
    return Outcome(replies=[*replay.frames, synced], events=_receipt_events(replay.receipts))


def _typing(user: User, frame: dict[str, Any]) -> Outcome:
    data = _valid(ConversationFrame, frame)
    conversation = selectors.get_conversation(conversation_id=data["conversation"])
    selectors.participant_role(conversation=conversation, user=user)
    others = selectors.participant_user_ids(conversation=conversation) - {user.id}
    typing = {"type": "typing", "conversation": str(conversation.id), "user": str(user.id)}
    return Outcome(events=[(sorted(str(u) for u in others), typing)])


def _read(user: User, frame: dict[str, Any]) -> Outcome:
    data = _valid(CursorFrame, frame)
    receipt = services.mark_read(conversation_id=data["conversation"], actor=user, seq=data["seq"])
    return Outcome(events=_receipt_events([receipt]))


def _delivered(user: User, frame: dict[str, Any]) -> Outcome:
    data = _valid(CursorFrame, frame)
    receipt = services.mark_delivered(
        conversation_id=data["conversation"], actor=user, seq=data["seq"]
    )
    return Outcome(events=_receipt_events([receipt]))


def _message_edit(user: User, frame: dict[str, Any]) -> Outcome:
    data = _valid(EditFrame, frame)
    message = services.edit_message(
        actor=user,
        message_id=data["message"],
        body=data["body"],
        conversation_id=data["conversation"],
    )
    client_id = data.get("client_id")
    return Outcome(replies=[_ack(client_id, message)] if client_id else [])


def _message_delete(user: User, frame: dict[str, Any]) -> Outcome:
    data = _valid(DeleteFrame, frame)
    message = services.delete_message(
        actor=user, message_id=data["message"], conversation_id=data["conversation"]
    )
    client_id = data.get("client_id")
    return Outcome(replies=[_ack(client_id, message)] if client_id else [])


def _ping(user: User, frame: dict[str, Any]) -> Outcome:
    return Outcome(replies=[{"type": "pong"}])


HANDLERS: dict[str, Callable[[User, dict[str, Any]], Outcome]] = {
    "message.send": _message_send,
    "action.submit": _action_submit,
    "sync": _sync,
    "typing": _typing,
    "read": _read,
    "delivered": _delivered,
    "message.edit": _message_edit,
    "message.delete": _message_delete,
    "ping": _ping,
}


def handle_frame(*, user: User, frame: Any) -> Outcome:
    """Dispatch one parsed frame; application errors propagate to the caller."""
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise BadFrameError("A frame is a JSON object with a `type`.")
    handler = HANDLERS.get(frame["type"])
    if handler is None:
        raise UnknownTypeError(type=[frame["type"][:40]])
    return handler(user, frame)


def handle_text(*, user: User, raw: str) -> Outcome:
    """One websocket text frame (already checked for size): rate limit, parse, dispatch. Every
    failure becomes an error frame to the sender; the socket stays open."""
    try:
        frame: Any = json.loads(raw)
        parsed = True
    except ValueError:
        frame, parsed = None, False
    client_id = _client_id(frame)
    try:
        if not limits.allow_frame(user.id):
            raise RateLimitedError()
        if not parsed:
            raise MalformedJsonError()
        return handle_frame(user=user, frame=frame)
    except ApplicationError as exc:
        return Outcome(replies=[_error(exc, client_id)])
    except ValidationError as exc:  # an action's payload serializer
        fields = _flatten(exc.detail)
        invalid = InvalidInputError(
            None, **(fields if isinstance(fields, dict) else {"non_field_errors": fields})
        )
        return Outcome(replies=[_error(invalid, client_id)])
    except Exception as exc:  # a bug or a database hiccup: the client retries (same client_id)
        if (collided := concurrent_change(exc)) is not None:  # two writers collided: say so
            return Outcome(replies=[_error(collided, client_id)])
        logger.exception("chat frame failed", extra={"user_id": str(user.id)})
        return Outcome(replies=[_error(ServerError(), client_id)])
