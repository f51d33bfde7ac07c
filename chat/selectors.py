"""Chat reads: who takes part in a conversation and in what role, lists, history, replay."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from careconnect.accounts.access import resolve_patient_access, role_pairs
from careconnect.accounts.models import (
    CareGrant,
    CareRelationship,
    MedicalCenter,
    Role,
    RoleAssignment,
    User,
)
from careconnect.errors import ApplicationError, NotFoundError
from chat import presence
from chat.models import (
    Attachment,
    CenterChatSettings,
    ChatSettings,
    Conversation,
    Message,
    Participant,
    ParticipantRole,
)
from chat.presence import Presence

STAFF_ROLES = {Role.DOCTOR: ParticipantRole.DOCTOR, Role.NURSE: ParticipantRole.NURSE}
CENTER_STAFF = [Role.DOCTOR, Role.NURSE, Role.CENTER_ADMIN]
CLINICIANS = [Role.DOCTOR, Role.NURSE]


def participant_role(*, conversation: Conversation, user: User | None) -> str:
    """The role of `user` in the conversation, decided now (a revoked grant ends a proxy's
    access on the very next call). Anyone else gets 404: existence is not revealed."""
    if user is None:
        return ParticipantRole.STAFF  # the system (webhooks, tasks) posts as staff
    if user.id == conversation.patient_id:
        return ParticipantRole.PATIENT
    if conversation.doctor is not None and conversation.doctor.user_id == user.id:
        return ParticipantRole.DOCTOR
    if conversation.kind == Conversation.Kind.CARE_TEAM:
        for role, center_id in role_pairs(user):
            if center_id == conversation.center_id and role in CENTER_STAFF:
                return STAFF_ROLES.get(Role(role), ParticipantRole.STAFF)
    try:
        access = resolve_patient_access(
            actor=user, patient_id=conversation.patient_id, scope="message"
        )
    except ApplicationError as exc:
        raise NotFoundError("Conversation not found.") from exc
    if access.acting_for:
        return ParticipantRole.PROXY
    raise NotFoundError("Conversation not found.")


def get_conversation(*, conversation_id: UUID | str) -> Conversation:
    try:
        return Conversation.objects.select_related("doctor__user", "center", "patient").get(
            id=conversation_id
        )
    except (Conversation.DoesNotExist, ValueError) as exc:
        raise NotFoundError("Conversation not found.") from exc


def lock_conversation(*, conversation_id: UUID | str) -> Conversation:
    """The conversation row locked (FOR UPDATE) until the transaction ends: `seq` and
    `change` order."""
    try:
        return (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("doctor__user", "center", "patient")
            .get(id=conversation_id)
        )
    except (Conversation.DoesNotExist, ValueError) as exc:
        raise NotFoundError("Conversation not found.") from exc


def get_message(*, message_id: UUID | str) -> Message:
    try:
        return Message.objects.get(id=message_id)
    except (Message.DoesNotExist, ValueError) as exc:
        raise NotFoundError("Message not found.") from exc


def get_attachment(*, attachment_id: UUID | str) -> Attachment:
    try:
        return Attachment.objects.select_related(
            "message", "conversation__doctor__user", "conversation__patient"
        ).get(id=attachment_id, message__deleted_at__isnull=True)
    except (Attachment.DoesNotExist, ValueError) as exc:
        raise NotFoundError("Attachment not found.") from exc


def _proxied_patient_ids(user: User) -> list[UUID]:
    return [
        g.patient_id
        for g in CareGrant.objects.filter(grantee=user, status=CareGrant.Status.ACTIVE)
        if "message" in g.scopes and g.effective_status() == "active"
    ]


def visible_conversations(*, user: User) -> QuerySet[Conversation]:
    """Conversations the user takes part in: as the patient, as the doctor, as staff of a care
    team's center, or as a proxy holding a live `message` grant."""
    centers = [c for r, c in role_pairs(user) if c is not None and r in CENTER_STAFF]
    return Conversation.objects.filter(
        Q(patient=user)
        | Q(doctor__user=user)
        | Q(kind=Conversation.Kind.CARE_TEAM, center_id__in=centers)
        | Q(patient_id__in=_proxied_patient_ids(user))
    )


def _inbox(*, user: User) -> QuerySet[Conversation]:
    """The user's conversations, each with `unread` (messages of others after the user's read
    cursor, deleted ones not counted) and its participants prefetched."""
    read = Participant.objects.filter(conversation=OuterRef("pk"), user=user).values("read_seq")
    unread = (
        Message.objects.filter(
            conversation=OuterRef("pk"), seq__gt=OuterRef("my_read"), deleted_at__isnull=True
        )
        .exclude(sender=user)
        .values("conversation")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        visible_conversations(user=user)
        .select_related("doctor__user", "center__chat_settings", "patient")
        .annotate(my_read=Coalesce(Subquery(read[:1]), Value(0)))
        .annotate(unread=Coalesce(Subquery(unread[:1]), Value(0)))
        .prefetch_related("participants__user")
    )


def list_conversations(
    *,
    user: User,
    unread_only: bool = False,
    kind: str | None = None,
    patient_id: UUID | None = None,
    limit: int = 200,
) -> list[Conversation]:
    """The inbox, by last activity (newest first)."""
    conversations = _inbox(user=user)
    if unread_only:
        conversations = conversations.filter(**{"unread__gt": 0})  # an annotation
    if kind:
        conversations = conversations.filter(kind=kind)
    if patient_id:
        conversations = conversations.filter(patient_id=patient_id)
    return list(conversations.order_by(F("last_activity_at").desc(), "id")[:limit])


def get_conversation_for(*, user: User, conversation_id: UUID | str) -> Conversation:
    """One conversation as the inbox shows it (404 unless the user takes part)."""
    try:
        conversation = _inbox(user=user).filter(id=conversation_id).first()
    except ValueError:
        conversation = None
    if conversation is None:
        raise NotFoundError("Conversation not found.")
    return conversation


def find_sent_message(*, sender: User | None, client_id: UUID) -> Message | None:
    if sender is None:
        return None
    return Message.objects.filter(sender=sender, client_id=client_id).first()


def history(*, conversation: Conversation, before_seq: int | None, limit: int) -> list[Message]:
    messages = Message.objects.filter(conversation=conversation)
    if before_seq is not None:
        messages = messages.filter(seq__lt=before_seq)
    page = list(messages.prefetch_related("attachments").order_by("-seq")[:limit])
    page.reverse()
    return page


def messages_after(*, conversation_id: UUID, seq: int, limit: int) -> list[Message]:
    return list(
        Message.objects.filter(conversation_id=conversation_id, seq__gt=seq)
        .prefetch_related("attachments")
        .order_by("seq")[:limit]
    )


def messages_changed(
    *, conversation_id: UUID, up_to_seq: int, since_change: int, limit: int
) -> list[Message]:
    """Messages the client already had (seq <= up_to_seq) that changed after `since_change`."""
    return list(
        Message.objects.filter(
            conversation_id=conversation_id, seq__lte=up_to_seq, change__gt=since_change
        )
        .prefetch_related("attachments")
        .order_by("change")[:limit]
    )


def participant_user_ids(*, conversation: Conversation) -> set[UUID]:
    """Everyone to push to: the patient, the doctor, joined participants (proxies, staff),
    proxies with a live `message` grant and, for care teams, the center's staff."""
    ids = {conversation.patient_id}
    if conversation.doctor is not None:
        ids.add(conversation.doctor.user_id)
    ids.update(
        Participant.objects.filter(conversation=conversation).values_list("user_id", flat=True)
    )
    ids.update(
        grant.grantee_id
        for grant in CareGrant.objects.filter(
            patient_id=conversation.patient_id, status=CareGrant.Status.ACTIVE
        ).exclude(grantee=None)
        if grant.grantee_id is not None
        and "message" in grant.scopes
        and grant.effective_status() == "active"
    )
    if conversation.kind == Conversation.Kind.CARE_TEAM:
        ids.update(
            RoleAssignment.objects.filter(
                center_id=conversation.center_id, role__in=CENTER_STAFF
            ).values_list("user_id", flat=True)
        )
    return ids


def notification_recipients(*, conversation: Conversation) -> set[UUID]:
    """Who may get an offline email about a new message: the patient, the doctor, and everyone
    who has joined (written, read or synced). Access is checked again when the email is due."""
    ids = {conversation.patient_id}
    if conversation.doctor is not None:
        ids.add(conversation.doctor.user_id)
    ids.update(
        Participant.objects.filter(conversation=conversation).values_list("user_id", flat=True)
    )
    return ids


def presence_audience(*, user: User) -> list[str]:
    """The people who see `user`'s presence: everyone they share a conversation with (the
    patient, the doctor and joined participants of each of their conversations)."""
    conversations = visible_conversations(user=user)
    ids: set[UUID] = set()
    for patient_id, doctor_user_id in conversations.values_list("patient_id", "doctor__user_id"):
        ids.add(patient_id)
        if doctor_user_id is not None:
            ids.add(doctor_user_id)
    ids.update(
        Participant.objects.filter(conversation__in=conversations).values_list("user_id", flat=True)
    )
    ids.discard(user.id)
    return sorted(str(i) for i in ids)


def shows_presence(*, user_id: UUID | str) -> bool:
    return not ChatSettings.objects.filter(user_id=user_id, show_presence=False).exists()


def hidden_presence(*, user_ids: list[UUID]) -> set[UUID]:
    return set(
        ChatSettings.objects.filter(user_id__in=user_ids, show_presence=False).values_list(
            "user_id", flat=True
        )
    )


def get_chat_settings(*, user: User) -> ChatSettings:
    return ChatSettings.objects.filter(user=user).first() or ChatSettings(user=user)


def get_center_chat_settings(*, center_id: UUID) -> CenterChatSettings:
    if not MedicalCenter.objects.filter(id=center_id).exists():
        raise NotFoundError("That center does not exist.")
    return CenterChatSettings.objects.filter(center_id=center_id).first() or CenterChatSettings(
        center_id=center_id
    )


def cares_at_center(*, patient_id: UUID, center_id: UUID) -> bool:
    """The patient has a care relationship with a doctor or nurse of the center."""
    return CareRelationship.objects.filter(
        patient_id=patient_id,
        clinician__role_assignments__center_id=center_id,
        clinician__role_assignments__role__in=CLINICIANS,
    ).exists()


def is_center_staff(*, user: User, center_id: UUID) -> bool:
    return any(c == center_id and r in CENTER_STAFF for r, c in role_pairs(user))


def presence_of(*, conversations: list[Conversation]) -> dict[str, Presence | None]:
    """Presence of every participant of these conversations (prefetched), None for people who
    hide it."""
    user_ids = {p.user_id for c in conversations for p in c.participants.all()}
    hidden = hidden_presence(user_ids=list(user_ids))
    shown = presence.snapshot(u for u in user_ids if u not in hidden)
    return {str(u): shown.get(str(u)) for u in user_ids}
