"""Chat reads: who takes part in a conversation and in what role, lists, history, replay."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery

from careconnect.accounts.access import resolve_patient_access, role_pairs
from careconnect.accounts.models import CareGrant, Role, User
from careconnect.errors import ApplicationError, NotFoundError
from chat.models import Conversation, Message, Participant, ParticipantRole

STAFF_ROLES = {Role.DOCTOR: ParticipantRole.DOCTOR, Role.NURSE: ParticipantRole.NURSE}


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
            if center_id == conversation.center_id:
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
    """The conversation row locked (FOR UPDATE) until the transaction ends: `seq` order."""
    try:
        return (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("doctor__user", "center", "patient")
            .get(id=conversation_id)
        )
    except (Conversation.DoesNotExist, ValueError) as exc:
        raise NotFoundError("Conversation not found.") from exc


def visible_conversations(*, user: User) -> QuerySet[Conversation]:
    """Conversations the user takes part in: as the patient, as the doctor, as staff of a care
    team's center, or as a proxy holding a live `message` grant."""
    centers = [c for r, c in role_pairs(user) if c is not None and r != Role.PATIENT]
    proxied = [
        g.patient_id
        for g in CareGrant.objects.filter(grantee=user, status=CareGrant.Status.ACTIVE)
        if "message" in g.scopes and g.effective_status() == "active"
    ]
    return Conversation.objects.filter(
        Q(patient=user)
        | Q(doctor__user=user)
        | Q(kind=Conversation.Kind.CARE_TEAM, center_id__in=centers)
        | Q(patient_id__in=proxied)
    )


def list_conversations(*, user: User) -> QuerySet[Conversation]:
    read = Participant.objects.filter(conversation=OuterRef("pk"), user=user).values("read_seq")
    unread = (
        Message.objects.filter(conversation=OuterRef("pk"), seq__gt=OuterRef("my_read"))
        .exclude(sender=user)
        .values("conversation")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        visible_conversations(user=user)
        .select_related("doctor__user", "center", "patient")
        .annotate(my_read=Subquery(read[:1]))
        .annotate(unread=Subquery(unread[:1]))
        .order_by(F("last_activity_at").desc())
    )


def find_sent_message(*, sender: User | None, client_id: UUID) -> Message | None:
    if sender is None:
        return None
    return Message.objects.filter(sender=sender, client_id=client_id).first()


def history(*, conversation: Conversation, before_seq: int | None, limit: int) -> list[Message]:
    messages = Message.objects.filter(conversation=conversation)
    if before_seq is not None:
        messages = messages.filter(seq__lt=before_seq)
    page = list(messages.select_related("sender").order_by("-seq")[:limit])
    page.reverse()
    return page


def messages_after(*, conversation_id: UUID, seq: int, limit: int) -> list[Message]:
    return list(
        Message.objects.filter(conversation_id=conversation_id, seq__gt=seq)
        .select_related("sender")
        .order_by("seq")[:limit]
    )


def participant_user_ids(*, conversation: Conversation) -> set[UUID]:
    """Everyone to push to: the patient, the doctor, joined participants (proxies, staff) and,
    for care teams, the center's staff."""
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
        from careconnect.accounts.models import RoleAssignment

        ids.update(
            RoleAssignment.objects.filter(
                center_id=conversation.center_id,
                role__in=[Role.DOCTOR, Role.NURSE, Role.CENTER_ADMIN],
            ).values_list("user_id", flat=True)
        )
    return ids
