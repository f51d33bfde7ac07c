from __future__ import annotations

from typing import Any

from rest_framework import serializers

from careconnect.api import StrictSerializer


class WaitingPersonOutput(serializers.Serializer[Any]):
    user = serializers.UUIDField()
    name = serializers.CharField()
    role = serializers.CharField()


class ConsultOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    appointment = serializers.UUIDField()
    role = serializers.ChoiceField(choices=["doctor", "patient", "proxy"])
    status = serializers.ChoiceField(choices=["not_started", "open", "ended"])
    joinable = serializers.BooleanField()
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    doctor_name = serializers.CharField()
    patient_name = serializers.CharField()
    conversation = serializers.UUIDField(allow_null=True)
    waiting = WaitingPersonOutput(many=True)
    ice_servers = serializers.ListField(child=serializers.DictField())
    video = serializers.DictField(child=serializers.IntegerField())
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)


class NoteInput(StrictSerializer):
    text = serializers.CharField(max_length=20_000, allow_blank=True, trim_whitespace=False)


class NoteOutput(serializers.Serializer[Any]):
    text = serializers.CharField(allow_blank=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class WaitingOutput(serializers.Serializer[Any]):
    consult = serializers.UUIDField()
    appointment = serializers.UUIDField()
    user = serializers.UUIDField()
    name = serializers.CharField()
    since = serializers.DateTimeField()
