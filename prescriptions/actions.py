"""Prescriptions' chat cards (DESIGN §3):

- `prescriptions.issue_prescription`: posted by the service when a doctor signs (signing
  needs the prescribing form's re-authentication, so no role submits it from chat);
- `prescriptions.request_refill`: the patient or a family member asks for a refill;
- `prescriptions.send_to_pharmacy`: the patient or a family member sends it to a pharmacy.

Payloads carry ids, people's names and states; what was prescribed is the sealed body."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from careconnect.accounts.models import User
from careconnect.errors import PermissionDeniedError
from chat.models import Conversation
from chat.registry import PATIENT_SIDE, ActionResult, ActionSpec, register
from prescriptions import services


class IssuePayload(serializers.Serializer[Any]):
    pass


def _issue(*, conversation: Conversation, actor: User, role: str, data: Any) -> ActionResult:
    raise PermissionDeniedError(
        "Prescriptions are signed in the prescribing form, which asks for your password."
    )


class RefillPayload(serializers.Serializer[Any]):
    prescription = serializers.UUIDField()


def _refill(*, conversation: Conversation, actor: User, role: str, data: Any) -> ActionResult:
    return services.chat_request_refill(
        conversation=conversation, actor=actor, prescription_id=data["prescription"]
    )


class SendPayload(serializers.Serializer[Any]):
    prescription = serializers.UUIDField()
    pharmacy = serializers.UUIDField(required=False, allow_null=True, default=None)


def _send(*, conversation: Conversation, actor: User, role: str, data: Any) -> ActionResult:
    return services.chat_send_to_pharmacy(
        conversation=conversation,
        actor=actor,
        prescription_id=data["prescription"],
        pharmacy_id=data["pharmacy"],
    )


def register_actions() -> None:
    register(ActionSpec(services.ISSUE, IssuePayload, frozenset(), _issue))
    register(ActionSpec(services.REFILL, RefillPayload, PATIENT_SIDE, _refill))
    register(ActionSpec(services.SEND, SendPayload, PATIENT_SIDE, _send))
