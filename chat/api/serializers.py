"""Chat REST shapes (API.md "Chat"; docs/chat-protocol.md for MESSAGE)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from careconnect.api import StrictSerializer
from chat.models import CardState, Conversation, Message


class OpenConversationInput(StrictSerializer):
    doctor = serializers.UUIDField()
    patient = serializers.UUIDField(required=False)


class HistoryInput(serializers.Serializer[Any]):
    before_seq = serializers.IntegerField(required=False, min_value=1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)


class SendInput(StrictSerializer):
    client_id = serializers.UUIDField()
    body = serializers.CharField(max_length=10_000)


class ActionInput(StrictSerializer):
    client_id = serializers.UUIDField()
    action = serializers.CharField(max_length=80)
    payload = serializers.DictField()


class MessageOutput(serializers.Serializer[Any]):
    """API.md's MESSAGE (rendered by chat.services.message_frame)."""

    id = serializers.UUIDField()
    conversation = serializers.UUIDField()
    seq = serializers.IntegerField()
    sender = serializers.UUIDField(allow_null=True)
    kind = serializers.ChoiceField(choices=Message.Kind.choices)
    body = serializers.CharField(required=False)
    edited_at = serializers.DateTimeField(required=False, allow_null=True)
    deleted = serializers.BooleanField(required=False)
    action = serializers.CharField(required=False)
    payload = serializers.DictField(required=False)
    state = serializers.ChoiceField(choices=CardState.choices, required=False)
    client_id = serializers.UUIDField(required=False)
    created_at = serializers.DateTimeField()


class CounterpartOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField()


class ConversationOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Conversation.Kind.choices)
    patient = serializers.SerializerMethodField()
    doctor = serializers.SerializerMethodField()
    center = serializers.SerializerMethodField()
    last_seq = serializers.IntegerField()
    last_activity_at = serializers.DateTimeField()
    unread = serializers.SerializerMethodField()

    def get_patient(self, conversation: Conversation) -> dict[str, Any]:
        return {"id": conversation.patient_id, "name": conversation.patient.full_name}

    def get_doctor(self, conversation: Conversation) -> dict[str, Any] | None:
        doctor = conversation.doctor
        if doctor is None:
            return None
        return {"id": doctor.id, "user": doctor.user_id, "name": f"Dr {doctor.user.full_name}"}

    def get_center(self, conversation: Conversation) -> dict[str, Any]:
        return {"id": conversation.center_id, "name": conversation.center.name}

    def get_unread(self, conversation: Conversation) -> int:
        return int(getattr(conversation, "unread", None) or 0)
