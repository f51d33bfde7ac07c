"""Notification serializers: strict inputs, and the output shapes of API.md's Notifications
section."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from careconnect.api import StrictSerializer
from careconnect.notifications.models import Channel, Kind, Notification


class ActionOutput(serializers.Serializer[Any]):
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    url = serializers.CharField()


class NotificationOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    event = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    link = serializers.CharField()
    actions = ActionOutput(many=True)
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class InboxOutput(serializers.Serializer[Any]):
    unread = serializers.IntegerField()
    results = NotificationOutput(many=True)


class MarkReadInput(StrictSerializer):
    ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=500)


class UnreadOutput(serializers.Serializer[Any]):
    unread = serializers.IntegerField()


# ------------------------------------------------------------------ preferences


class KindPreferenceOutput(serializers.Serializer[Any]):
    kind = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    email = serializers.BooleanField()
    sms = serializers.BooleanField()
    in_app = serializers.BooleanField()


class QuietHoursSerializer(StrictSerializer):
    start = serializers.TimeField(format="%H:%M", input_formats=["%H:%M"])
    end = serializers.TimeField(format="%H:%M", input_formats=["%H:%M"])

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["start"] == attrs["end"]:
            raise serializers.ValidationError("Quiet hours must start and end at different times.")
        return attrs


class SmsNumberOutput(serializers.Serializer[Any]):
    number_last4 = serializers.CharField()
    verified = serializers.BooleanField()


class PreferencesOutput(serializers.Serializer[Any]):
    kinds = KindPreferenceOutput(many=True)
    timezone = serializers.CharField()
    quiet_hours = QuietHoursSerializer(allow_null=True)
    sms = SmsNumberOutput()


class KindChannelsInput(StrictSerializer):
    email = serializers.BooleanField(required=False)
    sms = serializers.BooleanField(required=False)
    in_app = serializers.BooleanField(required=False)


class PreferencesInput(StrictSerializer):
    kinds = serializers.DictField(child=KindChannelsInput(), required=False)
    timezone = serializers.CharField(max_length=64, required=False)
    quiet_hours = QuietHoursSerializer(required=False, allow_null=True)

    def validate_kinds(self, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(Kind.values))
        if unknown:
            raise serializers.ValidationError(
                f"Unknown kind(s): {', '.join(k[:40] for k in unknown[:5])}."
            )
        return value


# ------------------------------------------------------------------ phone


class PhoneInput(StrictSerializer):
    phone = serializers.CharField(max_length=32)


class PhoneSentOutput(serializers.Serializer[Any]):
    sent = serializers.BooleanField()
    expires_at = serializers.DateTimeField()


class PhoneConfirmInput(StrictSerializer):
    code = serializers.RegexField(r"^[0-9]{6}$", max_length=6)


# ------------------------------------------------------------------ one-tap links


class LinkOutput(serializers.Serializer[Any]):
    purpose = serializers.CharField()
    expires_at = serializers.DateTimeField()


class LinkUsedOutput(serializers.Serializer[Any]):
    purpose = serializers.CharField()
    message = serializers.CharField()
    redirect = serializers.CharField(required=False)


# ------------------------------------------------------------------ delivery log


class LogInput(serializers.Serializer[Any]):
    center = serializers.UUIDField(required=False)
    channel = serializers.ChoiceField(choices=Channel.values, required=False)
    status = serializers.ChoiceField(choices=Notification.Status.values, required=False)


class LogEntryOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    recipient_name = serializers.CharField(source="recipient.full_name")
    kind = serializers.CharField()
    event = serializers.CharField()
    channel = serializers.CharField()
    status = serializers.CharField()
    error = serializers.CharField()
    provider_status = serializers.CharField()
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)


class LogOutput(serializers.Serializer[Any]):
    results = LogEntryOutput(many=True)
