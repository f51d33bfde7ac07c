"""Prescription API shapes (docs/api-prescriptions.md). Inputs are strict: unknown fields
are refused. Item fields are validated again by the service (the one place for the rules)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from careconnect.api import PlainTextField, StrictSerializer
from prescriptions import vocab


class MedicationSearchInput(StrictSerializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=50, default=20)


class MedicationOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    slug = serializers.CharField()
    name = serializers.CharField()
    ingredients = serializers.ListField(child=serializers.CharField())
    classes = serializers.ListField(child=serializers.CharField())
    forms = serializers.ListField(child=serializers.CharField())
    strengths = serializers.ListField(child=serializers.CharField())
    routes = serializers.ListField(child=serializers.CharField())
    brand_names = serializers.ListField(child=serializers.CharField())
    rxnorm = serializers.CharField()
    controlled = serializers.CharField()
    has_interaction_data = serializers.BooleanField()


class MedicationListOutput(serializers.Serializer[Any]):
    results = MedicationOutput(many=True)


class FrequencyOutput(serializers.Serializer[Any]):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, popped by the metaclass
    times = serializers.ListField(child=serializers.CharField())
    as_needed = serializers.BooleanField()


class RouteOutput(serializers.Serializer[Any]):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, popped by the metaclass


class LimitsOutput(serializers.Serializer[Any]):
    max_items = serializers.IntegerField()
    max_quantity = serializers.IntegerField()
    max_duration_days = serializers.IntegerField()
    max_refills = serializers.IntegerField()
    max_refills_controlled = serializers.IntegerField()
    prescribe_window_days = serializers.IntegerField()


class VocabularyOutput(serializers.Serializer[Any]):
    frequencies = FrequencyOutput(many=True)
    routes = RouteOutput(many=True)
    limits = LimitsOutput()


class CheckInput(StrictSerializer):
    patient = serializers.UUIDField()
    medications = serializers.ListField(
        child=serializers.CharField(max_length=200), max_length=vocab.MAX_ITEMS
    )


class FindingOutput(serializers.Serializer[Any]):
    id = serializers.CharField()
    kind = serializers.ChoiceField(choices=["allergy", "duplicate", "interaction"])
    severity = serializers.ChoiceField(choices=list(vocab.SEVERITIES))
    medications = serializers.ListField(child=serializers.CharField())
    message = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # a field, popped by the metaclass
    requires_override = serializers.BooleanField()


class CheckOutput(serializers.Serializer[Any]):
    findings = FindingOutput(many=True)
    no_data = serializers.ListField(child=serializers.CharField())


class ItemInput(StrictSerializer):
    medication = serializers.UUIDField(required=False, allow_null=True, default=None)
    free_text = serializers.BooleanField(required=False, default=False)
    name = PlainTextField(required=False, allow_blank=True, max_length=120, default="")
    strength = PlainTextField(required=False, allow_blank=True, max_length=60, default="")
    form = PlainTextField(required=False, allow_blank=True, max_length=60, default="")
    dose = PlainTextField(max_length=60)
    route = serializers.CharField(max_length=20)
    frequency = serializers.CharField(max_length=30)
    duration_days = serializers.IntegerField()
    quantity = serializers.IntegerField()
    refills = serializers.IntegerField(required=False, default=0)
    instructions = PlainTextField(required=False, allow_blank=True, max_length=1000, default="")
    substitution_allowed = serializers.BooleanField(required=False, default=True)


class OverrideInput(StrictSerializer):
    finding = serializers.CharField(max_length=300)
    reason = PlainTextField(max_length=500)


class ReauthInput(StrictSerializer):
    password = serializers.CharField(
        required=False, allow_blank=True, max_length=200, default="", trim_whitespace=False
    )
    otp = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")


class CreateInput(ReauthInput):
    patient = serializers.UUIDField()
    appointment = serializers.UUIDField(required=False, allow_null=True, default=None)
    items = ItemInput(many=True)
    overrides = OverrideInput(many=True, required=False, default=list)


class ListInput(StrictSerializer):
    patient = serializers.UUIDField(required=False)
    status = serializers.ChoiceField(
        choices=["active", "completed", "cancelled", "expired"], required=False
    )


class DoctorOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField()
    center = serializers.CharField()
    license_number = serializers.CharField()


class PrescriptionItemOutput(serializers.Serializer[Any]):
    medication = serializers.UUIDField(allow_null=True)
    name = serializers.CharField()
    free_text = serializers.BooleanField()
    strength = serializers.CharField()
    form = serializers.CharField()
    dose = serializers.CharField()
    route = serializers.CharField()
    route_label = serializers.CharField()
    frequency = serializers.CharField()
    frequency_label = serializers.CharField()
    duration_days = serializers.IntegerField()
    quantity = serializers.IntegerField()
    refills = serializers.IntegerField()
    instructions = serializers.CharField()
    substitution_allowed = serializers.BooleanField()


class OverrideOutput(serializers.Serializer[Any]):
    finding = serializers.CharField()
    reason = serializers.CharField()
    severity = serializers.CharField()
    kind = serializers.CharField()
    message = serializers.CharField()


class RefillOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    status = serializers.CharField()
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decline_reason = serializers.CharField()
    new_prescription = serializers.UUIDField(allow_null=True)


class PharmacyRefOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField()


class SendOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    pharmacy = PharmacyRefOutput()
    channel = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)


class PrescriptionOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    patient = serializers.UUIDField()
    patient_name = serializers.CharField()
    doctor = DoctorOutput()
    appointment = serializers.UUIDField(allow_null=True)
    status = serializers.CharField()
    issued_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    verification_code = serializers.CharField()
    refill_of = serializers.UUIDField(allow_null=True)
    renewal = serializers.UUIDField(allow_null=True)
    items = PrescriptionItemOutput(many=True)
    overrides = OverrideOutput(many=True)
    refills_left = serializers.IntegerField()
    refill_request = RefillOutput(allow_null=True)
    cancel_reason = serializers.CharField()
    reminders_enabled = serializers.BooleanField()
    reminder_times = serializers.ListField(child=serializers.CharField())
    reminder_timezone = serializers.CharField()
    sends = SendOutput(many=True)
    conversation = serializers.UUIDField(allow_null=True)
    can_cancel = serializers.BooleanField()
    can_request_refill = serializers.BooleanField()
    can_decide_refill = serializers.BooleanField()
    can_send = serializers.BooleanField()
    pdf_url = serializers.CharField()
    fhir_url = serializers.CharField()


class PrescriptionListOutput(serializers.Serializer[Any]):
    results = PrescriptionOutput(many=True)


class ReasonInput(StrictSerializer):
    """Cancelling a prescription, declining a refill: the reason the patient reads."""

    reason = PlainTextField(max_length=500)


class RefillCreatedOutput(serializers.Serializer[Any]):
    refill = RefillOutput()
    prescription = PrescriptionOutput()


class PharmacySendInput(StrictSerializer):
    pharmacy = serializers.UUIDField(required=False, allow_null=True, default=None)


class RemindersInput(StrictSerializer):
    enabled = serializers.BooleanField()
    timezone = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")


class VerifyInput(StrictSerializer):
    code = serializers.CharField(max_length=40)


class VerifyOutput(serializers.Serializer[Any]):
    valid = serializers.BooleanField()
    status = serializers.CharField(required=False)
    issued_at = serializers.DateTimeField(required=False)
    expires_at = serializers.DateTimeField(required=False)
    doctor_name = serializers.CharField(required=False)
    center_name = serializers.CharField(required=False)
    item_count = serializers.IntegerField(required=False)


class PharmacySearchInput(StrictSerializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    city = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")


class PharmacyOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField()
    address = serializers.CharField()
    city = serializers.CharField()
    postal_code = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    opening_hours = serializers.CharField()
    channel = serializers.CharField()


class PharmacyListOutput(serializers.Serializer[Any]):
    results = PharmacyOutput(many=True)


class PreferredInput(StrictSerializer):
    pharmacy = serializers.UUIDField()
    patient = serializers.UUIDField(required=False)


class PreferredQuery(StrictSerializer):
    patient = serializers.UUIDField(required=False)


class PreferredOutput(serializers.Serializer[Any]):
    pharmacy = PharmacyOutput(allow_null=True)


class PharmacyInboxOutput(serializers.Serializer[Any]):
    pharmacy = serializers.CharField()
    verification_code = serializers.CharField()
    status = serializers.CharField()
    issued_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    doctor_name = serializers.CharField()
    pdf_url = serializers.CharField()
    fhir_url = serializers.CharField()
