"""Chat writes: the one write path for text and cards (DESIGN §3-4, STYLE).

Send path: validate → persist under the conversation's row lock (next `seq`, the sender's
`client_id` for idempotency) → after commit, push to every participant's group. The channel
layer is a doorbell; the database is the record and `sync` replays what a client missed."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from careconnect.accounts.access import resolve_patient_access
from careconnect.accounts.models import CareRelationship, DoctorProfile, User
from careconnect.audit.services import record
from careconnect.crypto.models import DataKey
from careconnect.crypto.services import create_data_key, open_sealed, seal
from careconnect.errors import ApplicationError, ConflictError, InvalidInputError, NotFoundError
from chat import selectors
from chat.models import Conversation, Message, Participant, ParticipantRole
from chat.registry import ActionResult, get_action

logger = logging.getLogger(__name__)

MAX_TEXT = 10_000


class ActionNotAllowedError(ApplicationError):
    code = "action_not_allowed"
    status = 403
    default_message = "You can't do that in this conversation."


class NoCareRelationshipError(ApplicationError):
    code = "no_care_relationship"
    status = 403
    default_message = "You can message a doctor once you have an appointment with them."


def user_group(user_id: UUID | str) -> str:
    """Channel-layer group of one user's sockets (ASCII letters, digits, hyphens, periods)."""
    return f"user.{user_id}"


def _body_aad(conversation_id: UUID, message_id: UUID) -> str:
    return f"chat.message.body:{conversation_id}:{message_id}"


def open_body(message: Message, conversation: Conversation) -> str:
    if not message.body_sealed or message.deleted_at is not None:
        return ""
    return open_sealed(
        conversation.data_key_id,
        bytes(message.body_sealed),
        aad=_body_aad(conversation.id, message.id),
    ).decode()


def message_frame(message: Message, conversation: Conversation) -> dict[str, Any]:
    """API.md's MESSAGE."""
    frame: dict[str, Any] = {
        "id": str(message.id),
        "conversation": str(message.conversation_id),
        "seq": message.seq,
        "sender": str(message.sender_id) if message.sender_id else None,
        "kind": message.kind,
        "created_at": message.created_at.isoformat(),
    }
    if message.kind == Message.Kind.TEXT:
        frame["body"] = open_body(message, conversation)
        frame["edited_at"] = message.edited_at.isoformat() if message.edited_at else None
        frame["deleted"] = message.deleted_at is not None
    else:
        frame["action"] = message.action
        frame["payload"] = message.payload
        frame["state"] = message.state
        if message.body_sealed:
            frame["body"] = open_body(message, conversation)
    if message.client_id:
        frame["client_id"] = str(message.client_id)
    return frame


# ------------------------------------------------------------------ conversations


@transaction.atomic
def open_conversation(
    *, actor: User, doctor_id: UUID, patient_id: UUID | None = None
) -> tuple[Conversation, bool]:
    """The conversation between a patient and a doctor (created on first use). Allowed when the
    patient has or had an appointment with them (booking records that care relationship)."""
    access = resolve_patient_access(actor=actor, patient_id=patient_id or actor.id, scope="message")
    doctor = DoctorProfile.objects.select_related("center").filter(id=doctor_id).first()
    if doctor is None:
        raise NotFoundError("That doctor does not exist.")
    if not CareRelationship.objects.filter(
        patient=access.patient, clinician_id=doctor.user_id
    ).exists():
        raise NoCareRelationshipError()
    conversation, created = ensure_conversation(patient=access.patient, doctor=doctor)
    if created:
        record(
            actor=actor,
            action="chat.conversation.open",
            object_type="chat.conversation",
            object_id=conversation.id,
            patient=access.patient,
            acting_for=access.patient if access.acting_for else None,
        )
    return conversation, created


def ensure_conversation(*, patient: User, doctor: DoctorProfile) -> tuple[Conversation, bool]:
    """Get or create the patient-doctor conversation (inside a transaction; race-safe on the
    unique constraint)."""
    existing = Conversation.objects.filter(
        kind=Conversation.Kind.DOCTOR, patient=patient, doctor=doctor
    ).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                kind=Conversation.Kind.DOCTOR,
                patient=patient,
                doctor=doctor,
                center_id=doctor.center_id,
                data_key=create_data_key(purpose=DataKey.Purpose.CONVERSATION),
                last_activity_at=timezone.now(),
            )
    except IntegrityError:
        return (
            Conversation.objects.get(kind=Conversation.Kind.DOCTOR, patient=patient, doctor=doctor),
            False,
        )
    return conversation, True


def _join(conversation: Conversation, user: User | None, role: str) -> None:
    """Record a participant's first message (their read cursor lives on that row)."""
    if user is not None:
        Participant.objects.get_or_create(
            conversation=conversation, user=user, defaults={"role": role}
        )


# ------------------------------------------------------------------ messages


def _append(
    conversation: Conversation,
    *,
    sender: User | None,
    kind: str,
    client_id: UUID | None,
    body: str = "",
    action: str = "",
    result: ActionResult | None = None,
    acting_for: User | None = None,
) -> Message:
    """Take the next seq (call under `lock_conversation`) and store the message."""
    conversation.last_seq += 1
    conversation.last_activity_at = timezone.now()
    conversation.save(update_fields=["last_seq", "last_activity_at"])
    message = Message(
        conversation=conversation,
        seq=conversation.last_seq,
        sender=sender,
        acting_for=acting_for,
        client_id=client_id,
        kind=kind,
        action=action,
    )
    if body:
        message.body_sealed = seal(
            conversation.data_key_id, body.encode(), aad=_body_aad(conversation.id, message.id)
        )
    if result is not None and result.body:
        message.body_sealed = seal(
            conversation.data_key_id,
            result.body.encode(),
            aad=_body_aad(conversation.id, message.id),
        )
    if result is not None:
        message.payload = result.payload
        message.state = result.state
        if result.target is not None:
            message.target_type = result.target._meta.label_lower
            message.target_id = str(result.target.pk)
    message.save(force_insert=True)
    return message


def _push_on_commit(message: Message, conversation: Conversation, event: str) -> None:
    transaction.on_commit(partial(push_message, message_id=message.id, event=event), robust=True)


def push_message(*, message_id: UUID, event: str) -> None:
    """Send a stored message to every participant's sockets (after commit; best effort: a
    dropped push is repaired by the client's `sync`)."""
    message = Message.objects.select_related("conversation__doctor").filter(id=message_id).first()
    layer = get_channel_layer()
    if message is None or layer is None:
        return
    conversation = message.conversation
    frame = {"type": event, "message": message_frame(message, conversation)}
    for user_id in selectors.participant_user_ids(conversation=conversation):
        try:
            async_to_sync(layer.group_send)(
                user_group(user_id), {"type": "chat.event", "frame": frame}
            )
        except Exception:  # a full or unreachable layer must not fail the sender
            logger.warning("chat push failed", extra={"message_id": str(message_id)}, exc_info=True)


@transaction.atomic
def send_text(
    *, conversation_id: UUID, actor: User, body: str, client_id: UUID | None = None
) -> Message:
    body = body.strip()
    if not body:
        raise InvalidInputError(body=["Write a message."])
    if len(body) > MAX_TEXT:
        raise InvalidInputError(body=[f"Messages are at most {MAX_TEXT} characters."])
    conversation = selectors.lock_conversation(conversation_id=conversation_id)
    role = selectors.participant_role(conversation=conversation, user=actor)
    if client_id and (sent := selectors.find_sent_message(sender=actor, client_id=client_id)):
        return sent  # a retry after reconnect: the same answer, stored once
    acting_for = conversation.patient if role == ParticipantRole.PROXY else None
    _join(conversation, actor, role)
    message = _append(
        conversation,
        sender=actor,
        kind=Message.Kind.TEXT,
        client_id=client_id,
        body=body,
        acting_for=acting_for,
    )
    record(
        actor=actor,
        action="chat.message.send",
        object_type="chat.message",
        object_id=message.id,
        patient=conversation.patient,
        acting_for=acting_for,
    )
    _push_on_commit(message, conversation, "message.new")
    return message


@transaction.atomic
def submit_action(
    *,
    conversation_id: UUID,
    actor: User | None,
    name: str,
    payload: Mapping[str, Any],
    client_id: UUID | None = None,
) -> Message:
    """The one write path for cards (consumer, REST, services; actor None = the system)."""
    spec = get_action(name)
    conversation = selectors.lock_conversation(conversation_id=conversation_id)
    role = selectors.participant_role(conversation=conversation, user=actor)
    if actor is not None and role not in spec.allowed_roles:
        raise ActionNotAllowedError(action=[name])
    if client_id and (sent := selectors.find_sent_message(sender=actor, client_id=client_id)):
        return sent
    serializer = spec.payload_serializer(data=dict(payload), context={"conversation": conversation})
    serializer.is_valid(raise_exception=True)
    result = spec.handler(
        conversation=conversation, actor=actor, role=role, data=serializer.validated_data
    )
    acting_for = conversation.patient if role == ParticipantRole.PROXY else None
    _join(conversation, actor, role)
    message = _append(
        conversation,
        sender=actor,
        kind=Message.Kind.ACTION,
        client_id=client_id,
        action=spec.name,
        result=result,
        acting_for=acting_for,
    )
    record(
        actor=actor,
        action="chat.action.submit",
        object_type="chat.message",
        object_id=message.id,
        patient=conversation.patient,
        acting_for=acting_for,
        detail={"action": spec.name},
    )
    _push_on_commit(message, conversation, "message.new")
    return message


def post_card(
    *, conversation: Conversation, name: str, result: ActionResult, sender: User | None = None
) -> Message:
    """A card produced outside chat (a booking over REST, a webhook): appended as a message
    of `sender` (None = the system). Call inside the transaction of the change it shows."""
    locked = selectors.lock_conversation(conversation_id=conversation.id)
    message = _append(
        locked, sender=sender, kind=Message.Kind.ACTION, client_id=None, action=name, result=result
    )
    _push_on_commit(message, locked, "message.new")
    return message


def update_cards(
    *,
    target: models.Model,
    state: str | None = None,
    payload: Mapping[str, Any] | None = None,
    actions: Iterable[str] | None = None,
) -> list[Message]:
    """When a card's object changes anywhere, update its cards and push `message.update`."""
    cards = Message.objects.select_for_update().filter(
        target_type=target._meta.label_lower, target_id=str(target.pk)
    )
    if actions is not None:
        cards = cards.filter(action__in=list(actions))
    updated = []
    for card in cards.select_related("conversation"):
        fields = ["updated_at"]
        if state is not None and card.state != state:
            card.state = state
            fields.append("state")
        if payload:
            card.payload = {**card.payload, **payload}
            fields.append("payload")
        if len(fields) > 1:
            card.save(update_fields=fields)
            _push_on_commit(card, card.conversation, "message.update")
            updated.append(card)
    return updated


@transaction.atomic
def set_card_state(
    *, message_id: UUID, state: str, payload: Mapping[str, Any] | None = None
) -> Message:
    card = Message.objects.select_for_update().select_related("conversation").get(id=message_id)
    card.state = state
    if payload:
        card.payload = {**card.payload, **payload}
    card.save(update_fields=["state", "payload", "updated_at"])
    _push_on_commit(card, card.conversation, "message.update")
    return card


@transaction.atomic
def mark_read(*, conversation_id: UUID, actor: User, seq: int) -> int:
    """Move the reader's cursor forward (never back); returns the cursor."""
    conversation = selectors.get_conversation(conversation_id=conversation_id)
    role = selectors.participant_role(conversation=conversation, user=actor)
    seq = max(0, min(seq, conversation.last_seq))
    participant, _ = Participant.objects.select_for_update().get_or_create(
        conversation=conversation, user=actor, defaults={"role": role}
    )
    if seq > participant.read_seq:
        participant.read_seq = seq
        participant.delivered_seq = max(participant.delivered_seq, seq)
        participant.save(update_fields=["read_seq", "delivered_seq"])
    return participant.read_seq


def replay_since(
    *, actor: User, cursors: Mapping[str, int], limit: int = 500
) -> list[dict[str, Any]]:
    """What the client missed: messages after each cursor, per conversation it may read, in seq
    order (at most `limit` per conversation; the client asks again from its new cursor).
    Conversations it did not name are sent from 0 only when asked with cursor 0."""
    frames: list[dict[str, Any]] = []
    for conversation_id, seq in cursors.items():
        try:
            conversation = selectors.get_conversation(conversation_id=conversation_id)
            selectors.participant_role(conversation=conversation, user=actor)
        except NotFoundError:
            frames.append(
                {
                    "type": "error",
                    "code": "not_found",
                    "message": "Conversation not found.",
                    "conversation": str(conversation_id),
                }
            )
            continue
        for message in selectors.messages_after(
            conversation_id=conversation.id, seq=int(seq), limit=limit
        ):
            frames.append({"type": "message.new", "message": message_frame(message, conversation)})
    if frames:
        record(
            actor=actor,
            action="chat.sync",
            object_type="chat.conversation",
            detail={"conversations": sorted(cursors)[:50]},
        )
    return frames


class EditWindowClosedError(ConflictError):
    code = "edit_window_closed"
    default_message = "Messages can be edited for 15 minutes after sending."
