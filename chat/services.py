"""Chat writes: the one write path for text, attachments and cards (DESIGN §3-4, STYLE).

Send path: validate → persist under the conversation's row lock (next `seq` and `change`, the
sender's `client_id` for idempotency) → after commit, push to every participant's group. The
channel layer is a doorbell; the database is the record and `sync` replays what a client
missed (new messages by `seq`, edits and card updates by `change`)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from careconnect.accounts.access import resolve_patient_access
from careconnect.accounts.models import CareRelationship, DoctorProfile, MedicalCenter, User
from careconnect.accounts.services import require_center_admin
from careconnect.audit.services import record
from careconnect.crypto.models import DataKey
from careconnect.crypto.services import create_data_key, open_sealed, seal
from careconnect.errors import (
    ApplicationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from careconnect.notifications import services as notifications
from careconnect.notifications.models import Kind
from careconnect.notifications.services import app_link
from chat import attachments as files
from chat import presence, selectors
from chat.models import (
    Attachment,
    CenterChatSettings,
    ChatSettings,
    Conversation,
    Message,
    Participant,
    ParticipantRole,
)
from chat.registry import ActionResult, get_action

logger = logging.getLogger(__name__)

MAX_TEXT = 10_000
REPLAY_LIMIT = 500
# A task that is due runs at most this early and still counts as due (worker clock skew).
NOTIFY_SLACK = timedelta(seconds=5)

Fanout = tuple[list[str], dict[str, Any]]  # (user ids, frame) for the consumer to group_send


class ActionNotAllowedError(ApplicationError):
    code = "action_not_allowed"
    status = 403
    default_message = "You can't do that in this conversation."


class NoCareRelationshipError(ApplicationError):
    code = "no_care_relationship"
    status = 403
    default_message = "You can message a doctor once you have an appointment with them."


class TextTooLongError(InvalidInputError):
    code = "too_long"
    default_message = f"Messages are at most {MAX_TEXT:,} characters."


class EditWindowClosedError(ConflictError):
    code = "edit_window_closed"
    default_message = "Messages can be edited for 15 minutes after sending."


class NotEditableError(ConflictError):
    code = "not_editable"
    default_message = "That message can't be changed (a card, or already deleted)."


class NotYourMessageError(PermissionDeniedError):
    code = "not_your_message"
    default_message = "You can only change your own messages."


def user_group(user_id: UUID | str) -> str:
    """Channel-layer group of one user's sockets (ASCII letters, digits, hyphens, periods)."""
    return f"user.{user_id}"


# ------------------------------------------------------------------ rendering


def _body_aad(conversation_id: UUID, message_id: UUID) -> str:
    return f"chat.message.body:{conversation_id}:{message_id}"


def _attachment_aad(attachment: Attachment) -> str:
    return f"chat.attachment:{attachment.conversation_id}:{attachment.id}:{attachment.content_type}"


def _attachment_name_aad(attachment: Attachment) -> str:
    return f"chat.attachment.name:{attachment.conversation_id}:{attachment.id}"


def open_body(message: Message, conversation: Conversation) -> str:
    if not message.body_sealed or message.deleted_at is not None:
        return ""
    return open_sealed(
        conversation.data_key_id,
        bytes(message.body_sealed),
        aad=_body_aad(conversation.id, message.id),
    ).decode()


def attachment_frame(attachment: Attachment, conversation: Conversation) -> dict[str, Any]:
    return {
        "id": str(attachment.id),
        "name": open_sealed(
            conversation.data_key_id,
            bytes(attachment.name_sealed),
            aad=_attachment_name_aad(attachment),
        ).decode(),
        "content_type": attachment.content_type,
        "size": attachment.size,
    }


def message_frame(message: Message, conversation: Conversation) -> dict[str, Any]:
    """API.md's MESSAGE, with the extensions of docs/chat-protocol.md."""
    frame: dict[str, Any] = {
        "id": str(message.id),
        "conversation": str(message.conversation_id),
        "seq": message.seq,
        "change": message.change,
        "sender": str(message.sender_id) if message.sender_id else None,
        "acting_for": str(message.acting_for_id) if message.acting_for_id else None,
        "kind": message.kind,
        "created_at": message.created_at.isoformat(),
    }
    if message.kind == Message.Kind.TEXT:
        frame["body"] = open_body(message, conversation)
        frame["edited_at"] = message.edited_at.isoformat() if message.edited_at else None
        frame["deleted"] = message.deleted_at is not None
        frame["attachments"] = (
            [attachment_frame(a, conversation) for a in message.attachments.all()]
            if message.payload.get("attachments") and message.deleted_at is None
            else []
        )
    else:
        frame["action"] = message.action
        frame["payload"] = message.payload
        frame["state"] = message.state
        if message.body_sealed:
            frame["body"] = open_body(message, conversation)
    if message.client_id:
        frame["client_id"] = str(message.client_id)
    return frame


def display_name(user: User) -> str:
    """How a person is named to others in chat (and in offline emails)."""
    if DoctorProfile.objects.filter(user=user).exists():
        return f"Dr {user.full_name}"
    return user.full_name


# ------------------------------------------------------------------ conversations


def _create_conversation(**fields: Any) -> Conversation:
    conversation = Conversation.objects.create(
        data_key=create_data_key(purpose=DataKey.Purpose.CONVERSATION),
        last_activity_at=timezone.now(),
        **fields,
    )
    Participant.objects.create(
        conversation=conversation, user=conversation.patient, role=ParticipantRole.PATIENT
    )
    if conversation.doctor is not None:
        Participant.objects.create(
            conversation=conversation, user=conversation.doctor.user, role=ParticipantRole.DOCTOR
        )
    return conversation


def ensure_conversation(*, patient: User, doctor: DoctorProfile) -> tuple[Conversation, bool]:
    """Get or create the patient-doctor conversation (inside a transaction; race-safe on the
    unique constraint)."""
    lookup = {"kind": Conversation.Kind.DOCTOR, "patient": patient, "doctor": doctor}
    existing = Conversation.objects.filter(**lookup).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return _create_conversation(**lookup, center_id=doctor.center_id), True
    except IntegrityError:
        return Conversation.objects.get(**lookup), False


def ensure_care_team_conversation(
    *, patient: User, center: MedicalCenter
) -> tuple[Conversation, bool]:
    lookup = {"kind": Conversation.Kind.CARE_TEAM, "patient": patient, "center": center}
    existing = Conversation.objects.filter(**lookup).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return _create_conversation(**lookup), True
    except IntegrityError:
        return Conversation.objects.get(**lookup), False


def _audit_opened(actor: User, conversation: Conversation, acting_for: bool) -> None:
    record(
        actor=actor,
        action="chat.conversation.open",
        object_type="chat.conversation",
        object_id=conversation.id,
        patient=conversation.patient,
        acting_for=conversation.patient if acting_for else None,
        detail={"kind": conversation.kind},
    )


@transaction.atomic
def open_conversation(
    *, actor: User, doctor_id: UUID, patient_id: UUID | None = None
) -> tuple[Conversation, bool]:
    """The conversation between a patient and a doctor (created on first use). Allowed when the
    patient has or had an appointment with them (booking records that care relationship). The
    patient, a proxy with the `message` scope, or the doctor themselves may open it."""
    doctor = DoctorProfile.objects.select_related("center").filter(id=doctor_id).first()
    if doctor is None:
        raise NotFoundError("That doctor does not exist.")
    if doctor.user_id == actor.id and patient_id is not None:
        patient = User.objects.filter(id=patient_id, is_active=True).first()
        acting_for = False
        if (
            patient is None
            or not CareRelationship.objects.filter(patient=patient, clinician=actor).exists()
        ):
            raise NotFoundError("That patient is not yours.")
    else:
        access = resolve_patient_access(
            actor=actor, patient_id=patient_id or actor.id, scope="message"
        )
        patient, acting_for = access.patient, access.acting_for
        if not CareRelationship.objects.filter(
            patient=patient, clinician_id=doctor.user_id
        ).exists():
            raise NoCareRelationshipError()
    conversation, created = ensure_conversation(patient=patient, doctor=doctor)
    if created:
        _audit_opened(actor, conversation, acting_for)
    return conversation, created


@transaction.atomic
def open_care_team_conversation(
    *, actor: User, center_id: UUID, patient_id: UUID | None = None
) -> tuple[Conversation, bool]:
    """The conversation between a patient and a center's care team (its doctors, nurses and
    admins). The patient must have a care relationship with a clinician of the center. Opened
    by the patient, a proxy with `message`, or the center's staff (naming the patient)."""
    center = MedicalCenter.objects.filter(id=center_id).first()
    if center is None:
        raise NotFoundError("That center does not exist.")
    acting_for = False
    if selectors.is_center_staff(user=actor, center_id=center.id):
        if patient_id is None:
            raise InvalidInputError(patient=["Choose the patient."])
        patient = User.objects.filter(id=patient_id, is_active=True).first()
        if patient is None or not selectors.cares_at_center(
            patient_id=patient.id, center_id=center.id
        ):
            raise NotFoundError("That patient is not known to this center.")
    else:
        access = resolve_patient_access(
            actor=actor, patient_id=patient_id or actor.id, scope="message"
        )
        patient, acting_for = access.patient, access.acting_for
        if not selectors.cares_at_center(patient_id=patient.id, center_id=center.id):
            raise NoCareRelationshipError(
                "You can message a center's care team once one of its clinicians cares for you."
            )
    conversation, created = ensure_care_team_conversation(patient=patient, center=center)
    if created:
        _audit_opened(actor, conversation, acting_for)
    return conversation, created


def _join(conversation: Conversation, user: User | None, role: str) -> Participant | None:
    """The user's participant row (their read and delivery cursors), created on first use."""
    if user is None:
        return None
    participant, _ = Participant.objects.get_or_create(
        conversation=conversation, user=user, defaults={"role": role}
    )
    return participant


# ------------------------------------------------------------------ messages


def _next_change(conversation: Conversation) -> int:
    """The next `change` number (call under `lock_conversation`; the caller saves it). Read
    afresh: a service called from an action handler may have taken one through another
    instance of the same locked row."""
    conversation.refresh_from_db(fields=["last_change"])
    conversation.last_change += 1
    return conversation.last_change


def _seal_body(conversation: Conversation, message: Message, body: str) -> bytes:
    return seal(conversation.data_key_id, body.encode(), aad=_body_aad(conversation.id, message.id))


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
    payload: dict[str, Any] | None = None,
) -> Message:
    """Take the next seq (call under `lock_conversation`) and store the message."""
    conversation.refresh_from_db(fields=["last_seq"])
    conversation.last_seq += 1
    change = _next_change(conversation)
    conversation.last_activity_at = timezone.now()
    conversation.save(update_fields=["last_seq", "last_change", "last_activity_at"])
    message = Message(
        conversation=conversation,
        seq=conversation.last_seq,
        change=change,
        sender=sender,
        acting_for=acting_for,
        client_id=client_id,
        kind=kind,
        action=action,
        payload=payload or {},
    )
    text = result.body if result is not None and result.body else body
    if text:
        message.body_sealed = _seal_body(conversation, message, text)
    if result is not None:
        message.payload = result.payload
        message.state = result.state
        if result.target is not None:
            message.target_type = result.target._meta.label_lower
            message.target_id = str(result.target.pk)
    message.save(force_insert=True)
    return message


def _push_on_commit(message: Message, event: str) -> None:
    transaction.on_commit(partial(push_message, message_id=message.id, event=event), robust=True)


def _after_new_message(message: Message) -> None:
    """A person wrote: push it, and remind recipients who stay away (after commit)."""
    _push_on_commit(message, "message.new")
    transaction.on_commit(
        partial(schedule_unread_notifications, message_id=message.id), robust=True
    )


def push_message(*, message_id: UUID, event: str) -> None:
    """Send a stored message to every participant's sockets (after commit; best effort: a
    dropped push is repaired by the client's `sync`)."""
    message = (
        Message.objects.select_related("conversation__doctor")
        .prefetch_related("attachments")
        .filter(id=message_id)
        .first()
    )
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


def _clean_text(body: str, *, required: bool = True) -> str:
    body = body.strip()
    if required and not body:
        raise InvalidInputError(body=["Write a message."])
    if len(body) > MAX_TEXT:
        raise TextTooLongError(body=[f"Messages are at most {MAX_TEXT:,} characters."])
    return body


def _acting_for(conversation: Conversation, role: str) -> User | None:
    return conversation.patient if role == ParticipantRole.PROXY else None


@transaction.atomic
def send_text(
    *, conversation_id: UUID, actor: User, body: str, client_id: UUID | None = None
) -> Message:
    body = _clean_text(body)
    conversation = selectors.lock_conversation(conversation_id=conversation_id)
    role = selectors.participant_role(conversation=conversation, user=actor)
    if client_id and (sent := selectors.find_sent_message(sender=actor, client_id=client_id)):
        return sent  # a retry after reconnect: the same answer, stored once
    acting_for = _acting_for(conversation, role)
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
    _after_new_message(message)
    return message


@transaction.atomic
def send_attachment(
    *,
    conversation_id: UUID,
    actor: User,
    name: str,
    data: bytes,
    body: str = "",
    client_id: UUID | None = None,
) -> tuple[Message, bool]:
    """A text message carrying one file (an image or a PDF, by its bytes). The file is sealed
    with the conversation's data key, bound to its attachment row, and written under
    CHAT_ATTACHMENT_DIR; only ciphertext reaches the disk. Returns (message, created)."""
    if len(data) > settings.CHAT_ATTACHMENT_MAX_BYTES:
        raise files.AttachmentTooLargeError(
            f"Attachments are at most {settings.CHAT_ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB."
        )
    if not data:
        raise InvalidInputError(file=["The file is empty."])
    content_type = files.sniff_content_type(data[:16])
    if content_type is None:
        raise files.UnsupportedTypeError()
    body = _clean_text(body, required=False)
    conversation = selectors.lock_conversation(conversation_id=conversation_id)
    role = selectors.participant_role(conversation=conversation, user=actor)
    if client_id and (sent := selectors.find_sent_message(sender=actor, client_id=client_id)):
        return sent, False
    acting_for = _acting_for(conversation, role)
    _join(conversation, actor, role)
    attachment_id = uuid.uuid4()
    message = _append(
        conversation,
        sender=actor,
        kind=Message.Kind.TEXT,
        client_id=client_id,
        body=body,
        acting_for=acting_for,
        payload={"attachments": [str(attachment_id)]},
    )
    attachment = Attachment(
        id=attachment_id,
        conversation=conversation,
        message=message,
        content_type=content_type,
        size=len(data),
    )
    attachment.name_sealed = seal(
        conversation.data_key_id,
        files.clean_name(name, content_type).encode(),
        aad=_attachment_name_aad(attachment),
    )
    files.write_sealed(
        attachment.id, seal(conversation.data_key_id, data, aad=_attachment_aad(attachment))
    )
    try:
        attachment.save(force_insert=True)
    except Exception:
        files.remove_files([attachment.id])
        raise
    record(
        actor=actor,
        action="chat.attachment.upload",
        object_type="chat.attachment",
        object_id=attachment.id,
        patient=conversation.patient,
        acting_for=acting_for,
        detail={"message": str(message.id), "content_type": content_type, "size": len(data)},
    )
    _after_new_message(message)
    return message, True


def read_attachment(*, actor: User, attachment_id: UUID) -> tuple[Attachment, str, bytes]:
    """A participant downloads an attachment: (row, file name, plaintext bytes). Audited."""
    attachment = selectors.get_attachment(attachment_id=attachment_id)
    conversation = attachment.conversation
    role = selectors.participant_role(conversation=conversation, user=actor)
    sealed = files.read_sealed(attachment.id)
    if sealed is None:
        logger.error("chat attachment file missing", extra={"attachment_id": str(attachment.id)})
        raise NotFoundError("Attachment not found.")
    data = open_sealed(conversation.data_key_id, sealed, aad=_attachment_aad(attachment))
    name = attachment_frame(attachment, conversation)["name"]
    record(
        actor=actor,
        action="chat.attachment.download",
        object_type="chat.attachment",
        object_id=attachment.id,
        patient=conversation.patient,
        acting_for=_acting_for(conversation, role),
    )
    return attachment, name, data


@transaction.atomic
def submit_action(
    *,
    conversation_id: UUID,
    actor: User | None,
    name: str,
    payload: Mapping[str, Any],
    client_id: UUID | None = None,
) -> Message:
    """The one write path for cards (consumer, REST, services; actor None = the system). The
    handler runs in this transaction: an invalid payload or a failing handler writes nothing."""
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
    acting_for = _acting_for(conversation, role)
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
    if actor is None:
        _push_on_commit(message, "message.new")
    else:
        _after_new_message(message)
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
    _push_on_commit(message, "message.new")
    return message


def _save_card(
    card: Message,
    conversation: Conversation,
    *,
    state: str | None,
    payload: Mapping[str, Any] | None,
) -> bool:
    """Apply a card change under its conversation's lock; push `message.update` on commit."""
    fields = []
    if state is not None and card.state != state:
        card.state = state
        fields.append("state")
    if payload:
        merged = {**card.payload, **payload}
        if merged != card.payload:
            card.payload = merged
            fields.append("payload")
    if not fields:
        return False
    card.change = _next_change(conversation)
    conversation.save(update_fields=["last_change"])
    card.save(update_fields=[*fields, "change", "updated_at"])
    _push_on_commit(card, "message.update")
    return True


def update_card(
    *,
    message_id: UUID,
    conversation: Conversation | None = None,
    state: str | None = None,
    payload: Mapping[str, Any] | None = None,
) -> Message:
    """Change one card's state or payload and push `message.update` (inside a transaction; pass
    the conversation when the caller already holds its lock, as action handlers do)."""
    card = selectors.get_message(message_id=message_id)
    locked = conversation or selectors.lock_conversation(conversation_id=card.conversation_id)
    card = Message.objects.select_for_update().get(id=message_id)
    if card.kind != Message.Kind.ACTION:
        raise NotEditableError()
    _save_card(card, locked, state=state, payload=payload)
    return card


def update_cards(
    *,
    target: models.Model,
    state: str | None = None,
    payload: Mapping[str, Any] | None = None,
    actions: Iterable[str] | None = None,
) -> list[Message]:
    """When a card's object changes anywhere, update its cards and push `message.update`.
    Call inside the change's transaction. Locks each conversation before its cards (the order
    every chat write takes)."""
    cards = Message.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk))
    if actions is not None:
        cards = cards.filter(action__in=list(actions))
    updated = []
    conversation_ids = sorted(set(cards.values_list("conversation_id", flat=True)), key=str)
    for conversation_id in conversation_ids:
        conversation = selectors.lock_conversation(conversation_id=conversation_id)
        for card in cards.filter(conversation_id=conversation_id).select_for_update():
            if _save_card(card, conversation, state=state, payload=payload):
                updated.append(card)
    return updated


@transaction.atomic
def set_card_state(
    *, message_id: UUID, state: str, payload: Mapping[str, Any] | None = None
) -> Message:
    return update_card(message_id=message_id, state=state, payload=payload)


def _own_text_message(
    *, actor: User, message_id: UUID, conversation_id: UUID | None
) -> tuple[Message, Conversation, str]:
    """The actor's text message, locked with its conversation (404 for outsiders)."""
    found = selectors.get_message(message_id=message_id)
    if conversation_id is not None and found.conversation_id != conversation_id:
        raise NotFoundError("Message not found.")
    conversation = selectors.lock_conversation(conversation_id=found.conversation_id)
    role = selectors.participant_role(conversation=conversation, user=actor)
    message = Message.objects.select_for_update().get(id=message_id)
    if message.sender_id != actor.id:
        raise NotYourMessageError()
    if message.kind != Message.Kind.TEXT:
        raise NotEditableError()
    return message, conversation, role


@transaction.atomic
def edit_message(
    *, actor: User, message_id: UUID, body: str, conversation_id: UUID | None = None
) -> Message:
    """The sender rewrites their text within CHAT_EDIT_WINDOW_MINUTES; pushes `message.update`."""
    body = _clean_text(body)
    message, conversation, role = _own_text_message(
        actor=actor, message_id=message_id, conversation_id=conversation_id
    )
    if message.deleted_at is not None:
        raise NotEditableError()
    window = timedelta(minutes=settings.CHAT_EDIT_WINDOW_MINUTES)
    now = timezone.now()
    if now - message.created_at > window:
        raise EditWindowClosedError()
    if open_body(message, conversation) == body:
        return message
    message.body_sealed = _seal_body(conversation, message, body)
    message.edited_at = now
    message.change = _next_change(conversation)
    conversation.save(update_fields=["last_change"])
    message.save(update_fields=["body_sealed", "edited_at", "change", "updated_at"])
    record(
        actor=actor,
        action="chat.message.edit",
        object_type="chat.message",
        object_id=message.id,
        patient=conversation.patient,
        acting_for=_acting_for(conversation, role),
    )
    _push_on_commit(message, "message.update")
    return message


@transaction.atomic
def delete_message(
    *, actor: User, message_id: UUID, conversation_id: UUID | None = None
) -> Message:
    """The sender deletes their text: the body and attachments are wiped (files removed after
    commit), the message stays as "deleted" in the timeline; audited; pushes `message.update`.
    Deleting again changes nothing."""
    message, conversation, role = _own_text_message(
        actor=actor, message_id=message_id, conversation_id=conversation_id
    )
    if message.deleted_at is not None:
        return message
    attachment_ids = list(message.attachments.values_list("id", flat=True))
    message.attachments.all().delete()
    message.body_sealed = None
    message.payload = {}
    message.deleted_at = timezone.now()
    message.change = _next_change(conversation)
    conversation.save(update_fields=["last_change"])
    message.save(update_fields=["body_sealed", "payload", "deleted_at", "change", "updated_at"])
    record(
        actor=actor,
        action="chat.message.delete",
        object_type="chat.message",
        object_id=message.id,
        patient=conversation.patient,
        acting_for=_acting_for(conversation, role),
        detail={"attachments": [str(a) for a in attachment_ids]},
    )
    if attachment_ids:
        transaction.on_commit(partial(files.remove_files, attachment_ids), robust=True)
    _push_on_commit(message, "message.update")
    return message


# ------------------------------------------------------------------ receipts


@dataclass(frozen=True, slots=True)
class Receipt:
    """A participant's cursors after a read or delivered mark; `moved` when they advanced."""

    conversation_id: UUID
    user_id: UUID
    read_seq: int
    delivered_seq: int
    moved: bool

    def frame(self) -> dict[str, Any]:
        return {
            "type": "read",
            "conversation": str(self.conversation_id),
            "user": str(self.user_id),
            "seq": self.read_seq,
            "read_seq": self.read_seq,
            "delivered_seq": self.delivered_seq,
        }


def _pending_key(conversation_id: UUID | str, user_id: UUID | str) -> str:
    return f"chat:notify:{conversation_id}:{user_id}"


def _move_cursors(
    conversation: Conversation, actor: User, role: str, *, read: int | None, delivered: int
) -> Receipt:
    """Move the actor's cursors forward (never back, never past the last message)."""
    participant, _ = Participant.objects.select_for_update().get_or_create(
        conversation=conversation, user=actor, defaults={"role": role}
    )
    fields = []
    if read is not None:
        read = max(0, min(read, conversation.last_seq))
        if read > participant.read_seq:
            participant.read_seq = read
            fields.append("read_seq")
            delivered = max(delivered, read)
    delivered = max(0, min(delivered, conversation.last_seq))
    if delivered > participant.delivered_seq:
        participant.delivered_seq = delivered
        fields.append("delivered_seq")
    if fields:
        participant.save(update_fields=fields)
    if "read_seq" in fields:  # a new unread run may schedule its own reminder
        cache.delete(_pending_key(conversation.id, actor.id))
    return Receipt(
        conversation.id, actor.id, participant.read_seq, participant.delivered_seq, bool(fields)
    )


@transaction.atomic
def mark_read(*, conversation_id: UUID, actor: User, seq: int) -> Receipt:
    """The reader has seen everything up to `seq` (which also counts as delivered)."""
    conversation = selectors.get_conversation(conversation_id=conversation_id)
    role = selectors.participant_role(conversation=conversation, user=actor)
    return _move_cursors(conversation, actor, role, read=seq, delivered=seq)


@transaction.atomic
def mark_delivered(*, conversation_id: UUID, actor: User, seq: int) -> Receipt:
    """The actor's client holds every message up to `seq`."""
    conversation = selectors.get_conversation(conversation_id=conversation_id)
    role = selectors.participant_role(conversation=conversation, user=actor)
    return _move_cursors(conversation, actor, role, read=None, delivered=seq)


@dataclass
class Replay:
    """What a `sync` sends back: frames in order, the new cursors, conversations with more to
    fetch, and the delivered marks that moved (for `read` frames to the others)."""

    frames: list[dict[str, Any]] = field(default_factory=list)
    cursors: dict[str, int] = field(default_factory=dict)
    changes: dict[str, int] = field(default_factory=dict)
    more: list[str] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)


def replay_since(
    *,
    actor: User,
    cursors: Mapping[str, int],
    changes: Mapping[str, int] | None = None,
    limit: int = REPLAY_LIMIT,
) -> Replay:
    """What the client missed, per conversation it names: `message.new` for every message after
    its seq cursor (at most `limit`; then the conversation is listed in `more` and the client
    asks again from its new cursor) and, when it sends a change cursor too, `message.update`
    for the messages it had that were edited, deleted or whose card changed since. Receiving
    the replay counts as delivered. Each conversation read is audited."""
    replay = Replay()
    for key, seq in cursors.items():
        try:
            conversation = selectors.get_conversation(conversation_id=key)
            role = selectors.participant_role(conversation=conversation, user=actor)
        except NotFoundError:
            replay.frames.append(
                {
                    "type": "error",
                    "code": "not_found",
                    "message": "Conversation not found.",
                    "conversation": str(key),
                }
            )
            continue
        conversation_id = str(conversation.id)
        new = selectors.messages_after(conversation_id=conversation.id, seq=seq, limit=limit + 1)
        truncated = len(new) > limit
        new = new[:limit]
        updated: list[Message] = []
        since = changes.get(key) if changes is not None else None
        if since is not None:
            updated = selectors.messages_changed(
                conversation_id=conversation.id, up_to_seq=seq, since_change=since, limit=limit + 1
            )
            truncated = truncated or len(updated) > limit
            updated = updated[:limit]
        replay.frames.extend(
            {"type": "message.update", "message": message_frame(m, conversation)} for m in updated
        )
        replay.frames.extend(
            {"type": "message.new", "message": message_frame(m, conversation)} for m in new
        )
        replay.cursors[conversation_id] = new[-1].seq if new else seq
        if since is not None:
            # Complete up to the highest change replayed, unless a page was cut short.
            replay.changes[conversation_id] = (
                since if truncated else max([since, *(m.change for m in [*new, *updated])])
            )
        if truncated:
            replay.more.append(conversation_id)
        if new or updated:
            record(
                actor=actor,
                action="chat.sync",
                object_type="chat.conversation",
                object_id=conversation.id,
                patient=conversation.patient,
                acting_for=_acting_for(conversation, role),
                detail={"new": len(new), "updated": len(updated)},
            )
        held = replay.cursors[conversation_id]
        delivered = (
            Participant.objects.filter(conversation=conversation, user=actor)
            .values_list("delivered_seq", flat=True)
            .first()
        )
        if held > 0 and (delivered is None or delivered < held):  # write only when it moves
            with transaction.atomic():
                receipt = _move_cursors(conversation, actor, role, read=None, delivered=held)
            if receipt.moved:
                replay.receipts.append(receipt)
    return replay


# ------------------------------------------------------------------ presence


def _presence_frame(user: User, *, online: bool) -> dict[str, Any]:
    return {
        "type": "presence",
        "user": str(user.id),
        "online": online,
        "last_seen": None if online else timezone.now().isoformat(),
    }


def socket_connected(*, user: User) -> list[Fanout]:
    """A chat socket of `user` opened: count it; when they come online, tell the people they
    share conversations with (unless they hide their presence)."""
    if not presence.socket_opened(user.id) or not selectors.shows_presence(user_id=user.id):
        return []
    return [(selectors.presence_audience(user=user), _presence_frame(user, online=True))]


def socket_disconnected(*, user: User) -> list[Fanout]:
    if not presence.socket_closed(user.id) or not selectors.shows_presence(user_id=user.id):
        return []
    return [(selectors.presence_audience(user=user), _presence_frame(user, online=False))]


# ------------------------------------------------------------------ settings


@transaction.atomic
def update_chat_settings(*, actor: User, show_presence: bool) -> ChatSettings:
    """A person's chat preferences (a doctor hides their online status and last seen)."""
    chat_settings, _ = ChatSettings.objects.select_for_update().get_or_create(user=actor)
    if chat_settings.show_presence != show_presence:
        chat_settings.show_presence = show_presence
        chat_settings.save(update_fields=["show_presence", "updated_at"])
    return chat_settings


@transaction.atomic
def update_center_chat_settings(
    *, actor: User, center_id: UUID, expected_reply: str
) -> CenterChatSettings:
    """A center admin sets what the center's care team promises ("Replies within 1 business
    day"), shown on the center's conversations."""
    center = require_center_admin(actor, center_id)
    center_settings, _ = CenterChatSettings.objects.select_for_update().get_or_create(center=center)
    if center_settings.expected_reply != expected_reply:
        center_settings.expected_reply = expected_reply
        center_settings.save(update_fields=["expected_reply", "updated_at"])
    record(
        actor=actor,
        action="chat.center_settings.update",
        object_type="accounts.medicalcenter",
        object_id=center.id,
        detail={"fields": ["expected_reply"]},
    )
    return center_settings


# ------------------------------------------------------------------ offline notifications


def schedule_unread_notifications(*, message_id: UUID) -> None:
    """After a person's message commits: for each recipient without a reminder pending in this
    conversation, check back in CHAT_OFFLINE_NOTIFY_MINUTES (one task per unread run, not per
    message: the pending mark is cleared when they read)."""
    from chat.tasks import notify_unread_task

    message = Message.objects.select_related("conversation__doctor").filter(id=message_id).first()
    if message is None or message.sender_id is None:
        return
    countdown = int(settings.CHAT_OFFLINE_NOTIFY_MINUTES) * 60
    conversation = message.conversation
    for user_id in selectors.notification_recipients(conversation=conversation):
        if user_id == message.sender_id:
            continue
        if cache.add(_pending_key(conversation.id, user_id), 1, timeout=countdown):
            notify_unread_task.apply_async(
                args=(str(conversation.id), str(user_id)), countdown=countdown
            )


def _names(senders: list[User]) -> str:
    names = list(dict.fromkeys(display_name(user) for user in senders))[:3]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@transaction.atomic
def notify_unread(*, conversation_id: UUID | str, user_id: UUID | str) -> bool:
    """Email `user` that they have a new message, from whom, with a link (never the content)
    when a message of others has been unread for CHAT_OFFLINE_NOTIFY_MINUTES and they have no
    chat socket open. Once per unread run: `notified_seq` remembers what an email covered,
    under the participant's row lock. Returns whether an email was queued."""
    try:
        conversation = selectors.get_conversation(conversation_id=conversation_id)
    except NotFoundError:
        return False
    user = User.objects.filter(id=user_id, is_active=True).first()
    if user is None or not user.email:
        return False
    try:
        role = selectors.participant_role(conversation=conversation, user=user)
    except NotFoundError:  # a proxy whose grant ended meanwhile
        return False
    participant, _ = Participant.objects.select_for_update().get_or_create(
        conversation=conversation, user=user, defaults={"role": role}
    )
    if participant.notified_seq > participant.read_seq:
        return False  # this unread run was announced already
    unread = list(
        Message.objects.filter(
            conversation=conversation,
            seq__gt=participant.read_seq,
            deleted_at__isnull=True,
            sender__isnull=False,
        )
        .exclude(sender=user)
        .select_related("sender")
        .order_by("seq")[:50]
    )
    due = timezone.now() - timedelta(minutes=settings.CHAT_OFFLINE_NOTIFY_MINUTES) + NOTIFY_SLACK
    if not unread or unread[0].created_at > due:
        return False
    if presence.is_online(user.id):
        return False
    senders = [m.sender for m in unread if m.sender is not None]
    who = _names(senders)
    link = app_link(f"/messages/{conversation.id}")
    notifications.notify(
        recipient=user,
        kind=Kind.MESSAGE,
        event="message_unread",
        key=f"chat.unread:{conversation.id}:{conversation.last_seq}",
        title="New message on CareConnect",
        body=(
            f"Hello {user.first_name},\n\n"
            f"You have a new message from {who} on CareConnect.\n\n"
            f"Read it here: {link}\n\n"
            "For your privacy, messages are only shown in the app."
        ),
        link=link,
        subject=("chat.conversation", conversation.id),
    )
    participant.notified_seq = conversation.last_seq
    participant.save(update_fields=["notified_seq"])
    return True
