"""Chat REST shapes (API.md "Chat"; docs/chat-protocol.md for MESSAGE and its extensions)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from careconnect.api import PlainTextField, StrictSerializer
from chat.models import AttachmentType, CardState, Conversation, Message, ParticipantRole
from chat.presence import Presence
from chat.services import MAX_TEXT


class OpenConversationInput(StrictSerializer):
    doctor = serializers.UUIDField(required=False, help_text="A conversation with this doctor.")
    center = serializers.UUIDField(
        required=False, help_text="A conversation with this center's care team."
    )
    patient = serializers.UUIDField(
        required=False, help_text="For whom (a proxy's patient; staff name their patient)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("doctor" in attrs) == ("center" in attrs):
            raise serializers.ValidationError("Name either a doctor or a center.")
        return attrs


class ConversationListInput(serializers.Serializer[Any]):
    filter = serializers.ChoiceField(
        choices=["unread", "care_team", "doctor"],
        required=False,
        help_text="unread: with unread messages; care_team / doctor: by kind.",
    )
    patient = serializers.UUIDField(required=False, help_text="Only this patient's.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=200)


class HistoryInput(serializers.Serializer[Any]):
    before_seq = serializers.IntegerField(required=False, min_value=1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)


class SendInput(StrictSerializer):
    client_id = serializers.UUIDField()
    body = serializers.CharField(trim_whitespace=False, help_text=f"At most {MAX_TEXT} characters.")


class EditInput(StrictSerializer):
    body = serializers.CharField(trim_whitespace=False, help_text=f"At most {MAX_TEXT} characters.")


class ActionInput(StrictSerializer):
    client_id = serializers.UUIDField()
    action = serializers.CharField(max_length=80)
    payload = serializers.DictField()


class AttachmentInput(serializers.Serializer[Any]):
    file = serializers.FileField(
        help_text="A JPEG, PNG, WebP or GIF image or a PDF (by content), at most 10 MB."
    )
    client_id = serializers.UUIDField()
    body = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, default="", help_text="A caption."
    )


class AttachmentOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField()
    content_type = serializers.ChoiceField(choices=AttachmentType.choices)
    size = serializers.IntegerField()


class MessageOutput(serializers.Serializer[Any]):
    """API.md's MESSAGE (rendered by chat.services.message_frame)."""

    id = serializers.UUIDField()
    conversation = serializers.UUIDField()
    seq = serializers.IntegerField()
    change = serializers.IntegerField(
        help_text="The conversation's change counter at the last write."
    )
    sender = serializers.UUIDField(allow_null=True)
    acting_for = serializers.UUIDField(
        allow_null=True, help_text="The patient a family member wrote for."
    )
    kind = serializers.ChoiceField(choices=Message.Kind.choices)
    body = serializers.CharField(required=False)
    edited_at = serializers.DateTimeField(required=False, allow_null=True)
    deleted = serializers.BooleanField(required=False)
    attachments = AttachmentOutput(many=True, required=False)
    action = serializers.CharField(required=False)
    payload = serializers.DictField(required=False)
    state = serializers.ChoiceField(choices=CardState.choices, required=False)
    client_id = serializers.UUIDField(required=False)
    created_at = serializers.DateTimeField()


class ConversationPersonOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField()


class ConversationDoctorOutput(ConversationPersonOutput):
    user = serializers.UUIDField()


class ParticipantOutput(serializers.Serializer[Any]):
    user = serializers.UUIDField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=ParticipantRole.choices)
    read_seq = serializers.IntegerField(help_text="Messages up to this seq are read.")
    delivered_seq = serializers.IntegerField(help_text="Messages up to this seq are delivered.")
    online = serializers.BooleanField(allow_null=True, help_text="null: they hide it.")
    last_seen = serializers.DateTimeField(allow_null=True)


class ConversationOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Conversation.Kind.choices)
    patient = serializers.SerializerMethodField()
    doctor = serializers.SerializerMethodField()
    center = serializers.SerializerMethodField()
    expected_reply = serializers.SerializerMethodField()
    last_seq = serializers.IntegerField()
    last_change = serializers.IntegerField()
    last_activity_at = serializers.DateTimeField()
    unread = serializers.SerializerMethodField()
    read_seq = serializers.SerializerMethodField()
    participants = serializers.SerializerMethodField()

    @extend_schema_field(ConversationPersonOutput)
    def get_patient(self, conversation: Conversation) -> dict[str, Any]:
        return {"id": conversation.patient_id, "name": conversation.patient.full_name}

    @extend_schema_field(ConversationDoctorOutput(allow_null=True))
    def get_doctor(self, conversation: Conversation) -> dict[str, Any] | None:
        doctor = conversation.doctor
        if doctor is None:
            return None
        return {"id": doctor.id, "user": doctor.user_id, "name": f"Dr {doctor.user.full_name}"}

    @extend_schema_field(ConversationPersonOutput)
    def get_center(self, conversation: Conversation) -> dict[str, Any]:
        return {"id": conversation.center_id, "name": conversation.center.name}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_expected_reply(self, conversation: Conversation) -> str | None:
        settings = getattr(conversation.center, "chat_settings", None)
        return (settings.expected_reply or None) if settings is not None else None

    def get_unread(self, conversation: Conversation) -> int:
        return int(getattr(conversation, "unread", None) or 0)

    def get_read_seq(self, conversation: Conversation) -> int:
        return int(getattr(conversation, "my_read", None) or 0)

    @extend_schema_field(ParticipantOutput(many=True))
    def get_participants(self, conversation: Conversation) -> list[dict[str, Any]]:
        presence: dict[str, Presence | None] = self.context.get("presence", {})
        rows = []
        for participant in conversation.participants.all():
            seen = presence.get(str(participant.user_id))
            name = participant.user.full_name
            if participant.role == ParticipantRole.DOCTOR:
                name = f"Dr {name}"
            rows.append(
                {
                    "user": participant.user_id,
                    "name": name,
                    "role": participant.role,
                    "read_seq": participant.read_seq,
                    "delivered_seq": participant.delivered_seq,
                    "online": seen.online if seen is not None else None,
                    "last_seen": seen.last_seen if seen is not None else None,
                }
            )
        return ParticipantOutput(rows, many=True).data  # type: ignore[return-value]


class ChatSettingsInput(StrictSerializer):
    show_presence = serializers.BooleanField(
        help_text="Others see when you are online and when you were last seen."
    )


class ChatSettingsOutput(serializers.Serializer[Any]):
    show_presence = serializers.BooleanField()


class CenterChatSettingsInput(StrictSerializer):
    expected_reply = PlainTextField(
        max_length=120, allow_blank=True, help_text='e.g. "Replies within 1 business day".'
    )


class CenterChatSettingsOutput(serializers.Serializer[Any]):
    center = serializers.UUIDField(source="center_id")
    expected_reply = serializers.CharField()
