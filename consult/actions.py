"""Consult's chat cards: `consult.invite` (the way into the call; the doctor's client or the
server posts it) and `consult.summary` (posted when the doctor ends the call)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from careconnect.accounts.models import User
from careconnect.errors import NotFoundError
from chat.models import Conversation, ParticipantRole
from chat.registry import ActionResult, ActionSpec, register
from consult import services


class InvitePayload(serializers.Serializer[Any]):
    appointment = serializers.UUIDField()


def _invite(*, conversation: Conversation, actor: User, role: str, data: Any) -> ActionResult:
    result = services.invite_result(actor=actor, appointment_id=data["appointment"])
    appointment = result.target
    if appointment is None or getattr(appointment, "patient_id", None) != conversation.patient_id:
        raise NotFoundError("That appointment is not part of this conversation.")
    return result


class SummaryPayload(serializers.Serializer[Any]):
    pass


def _summary(*, conversation: Conversation, actor: User, role: str, data: Any) -> ActionResult:
    raise NotFoundError("Summaries are posted when the doctor ends the consult.")


def register_actions() -> None:
    register(
        ActionSpec(services.INVITE, InvitePayload, frozenset({ParticipantRole.DOCTOR}), _invite)
    )
    # Posted by the service only: no role may submit it.
    register(ActionSpec(services.SUMMARY, SummaryPayload, frozenset(), _summary))
