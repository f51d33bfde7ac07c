"""Booking serializers: nested Input (strict: unknown fields refused) and Output shapes of
docs/api-booking.md."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from booking.models import Appointment, Mode, ScheduleException, SlotMode, WaitlistEntry
from careconnect.accounts.api.serializers import (
    CenterOutput,
    MoneyOutput,
    SpecialtyOutput,
    money,
)
from careconnect.accounts.models import DoctorProfile, User
from careconnect.accounts.selectors import LANGUAGES
from careconnect.api import NameField, PlainTextField, StrictSerializer

MODE_CHOICES = [m.value for m in Mode]
SLOT_MODE_CHOICES = [m.value for m in SlotMode]
SORTS = ["next_available", "fee", "rating", "distance"]


def short_name(user: User) -> str:
    """How a reviewer appears publicly: first name and last initial."""
    initial = f" {user.last_name[:1]}." if user.last_name else ""
    return f"{user.first_name}{initial}"


# ------------------------------------------------------------------ directory


class DoctorSearchInput(serializers.Serializer[Any]):
    specialty = serializers.SlugField(required=False)
    city = serializers.CharField(required=False, max_length=100)
    near = serializers.CharField(required=False, help_text="lat,lng")
    radius_km = serializers.FloatField(required=False, min_value=0.1, max_value=500, default=25)
    max_fee = serializers.DecimalField(
        required=False, max_digits=10, decimal_places=2, min_value=Decimal(0)
    )
    mode = serializers.ChoiceField(choices=MODE_CHOICES, required=False)
    language = serializers.ChoiceField(choices=sorted(LANGUAGES), required=False)
    available_before = serializers.CharField(required=False, help_text="date or datetime")
    q = serializers.CharField(required=False, max_length=100)
    sort = serializers.ChoiceField(choices=SORTS, required=False, default="next_available")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)
    offset = serializers.IntegerField(required=False, min_value=0, max_value=100_000, default=0)

    def validate_near(self, value: str) -> tuple[float, float]:
        try:
            lat_text, lng_text = value.split(",")
            lat, lng = float(lat_text), float(lng_text)
        except ValueError as exc:
            raise serializers.ValidationError("Use near=latitude,longitude.") from exc
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise serializers.ValidationError("That is not a place on Earth.")
        return lat, lng

    def validate_available_before(self, value: str) -> datetime:
        parsed = serializers.DateTimeField().to_internal_value(value) if "T" in value else None
        if parsed is None:
            day = serializers.DateField().to_internal_value(value)
            parsed = timezone.make_aware(datetime.combine(day, datetime.min.time()))
        return parsed

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("sort") == "distance" and "near" not in attrs:
            raise serializers.ValidationError({"sort": ["Sorting by distance needs near=lat,lng."]})
        return attrs


class FeesOutput(serializers.Serializer[Any]):
    online = MoneyOutput(allow_null=True)
    in_person = MoneyOutput(allow_null=True)


class RatingOutput(serializers.Serializer[Any]):
    average = serializers.DecimalField(max_digits=3, decimal_places=2, allow_null=True)
    count = serializers.IntegerField()


class NextSlotOutput(serializers.Serializer[Any]):
    slot = serializers.UUIDField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    mode = serializers.ChoiceField(choices=SLOT_MODE_CHOICES)


class DoctorLiteOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    user = serializers.UUIDField(source="user_id")
    name = serializers.SerializerMethodField()
    photo_url = serializers.SerializerMethodField()
    specialties = serializers.SerializerMethodField()
    center = CenterOutput()
    languages = serializers.ListField(child=serializers.CharField())
    fees = serializers.SerializerMethodField()
    modes = serializers.SerializerMethodField()

    def get_name(self, doctor: DoctorProfile) -> str:
        return f"Dr {doctor.user.full_name}"

    def get_photo_url(self, doctor: DoctorProfile) -> str | None:
        return f"{settings.MEDIA_URL}{doctor.photo}" if doctor.photo else None

    @extend_schema_field(SpecialtyOutput(many=True))
    def get_specialties(self, doctor: DoctorProfile) -> list[dict[str, str]]:
        return [{"slug": s.slug, "name": s.name} for s in doctor.specialties.all()]

    @extend_schema_field(FeesOutput)
    def get_fees(self, doctor: DoctorProfile) -> dict[str, Any]:
        return {
            "online": money(doctor.fee_online, doctor.currency),
            "in_person": money(doctor.fee_in_person, doctor.currency),
        }

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(MODE_CHOICES)))
    def get_modes(self, doctor: DoctorProfile) -> list[str]:
        modes = []
        if doctor.fee_online is not None:
            modes.append(Mode.ONLINE.value)
        if doctor.fee_in_person is not None:
            modes.append(Mode.IN_PERSON.value)
        return modes


class DoctorCardOutput(DoctorLiteOutput):
    rating = serializers.SerializerMethodField()
    next_available = serializers.SerializerMethodField()
    distance_km = serializers.SerializerMethodField()

    @extend_schema_field(RatingOutput)
    def get_rating(self, doctor: DoctorProfile) -> dict[str, Any]:
        average = getattr(doctor, "rating_average", None)
        return {
            "average": f"{average:.2f}" if average is not None else None,
            "count": getattr(doctor, "rating_count", 0) or 0,
        }

    @extend_schema_field(NextSlotOutput(allow_null=True))
    def get_next_available(self, doctor: DoctorProfile) -> dict[str, Any] | None:
        slot = getattr(doctor, "next_slot", None)
        if slot is None:
            return None
        return {"slot": slot.id, "start": slot.start, "end": slot.end, "mode": slot.mode}

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_distance_km(self, doctor: DoctorProfile) -> float | None:
        distance = getattr(doctor, "distance_km", None)
        return round(float(distance), 2) if distance is not None else None


class DoctorPageOutput(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    results = DoctorCardOutput(many=True)


class ReviewOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    rating = serializers.IntegerField()
    text = serializers.CharField()
    author = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_author(self, review: Any) -> str:
        return short_name(review.patient)


class DoctorDetailOutput(DoctorCardOutput):
    bio = serializers.CharField()
    license_number = serializers.CharField()
    reviews = serializers.SerializerMethodField()

    @extend_schema_field(ReviewOutput(many=True))
    def get_reviews(self, doctor: DoctorProfile) -> Any:
        return ReviewOutput(self.context.get("reviews", []), many=True).data


class SlotQueryInput(serializers.Serializer[Any]):
    # `from` is a Python keyword: the view maps it to `start`.
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)
    mode = serializers.ChoiceField(choices=MODE_CHOICES, required=False)


class SlotOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    mode = serializers.ChoiceField(choices=SLOT_MODE_CHOICES)
    held_for_you = serializers.BooleanField()


# ------------------------------------------------------------------ appointments


class NewPatientInput(StrictSerializer):
    first_name = NameField()
    last_name = NameField()
    phone = serializers.RegexField(r"^\+?[0-9 ()-]{6,20}$", required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)


class BookInput(StrictSerializer):
    slot = serializers.UUIDField()
    mode = serializers.ChoiceField(choices=MODE_CHOICES)
    patient = serializers.UUIDField(required=False)
    new_patient = NewPatientInput(required=False)
    reason = PlainTextField(required=False, allow_blank=True, max_length=500)
    doctor = serializers.UUIDField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "patient" in attrs and "new_patient" in attrs:
            raise serializers.ValidationError(
                {"new_patient": ["Book for an existing patient or a new one, not both."]}
            )
        return attrs


class RescheduleInput(StrictSerializer):
    slot = serializers.UUIDField()
    mode = serializers.ChoiceField(choices=MODE_CHOICES, required=False)


class EmptyInput(StrictSerializer):
    pass


class AppointmentListInput(serializers.Serializer[Any]):
    when = serializers.ChoiceField(choices=["upcoming", "past", "all"], default="upcoming")
    patient = serializers.UUIDField(required=False)


class WaitlistListInput(serializers.Serializer[Any]):
    patient = serializers.UUIDField(
        required=False, help_text="Only this patient's entries (yourself, or someone you book for)."
    )


class AppointmentPersonOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField(source="full_name")


class AppointmentOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    doctor = DoctorLiteOutput()
    patient = AppointmentPersonOutput()
    booked_by = AppointmentPersonOutput()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    mode = serializers.ChoiceField(choices=MODE_CHOICES)
    status = serializers.ChoiceField(choices=Appointment.Status.choices)
    reason = serializers.SerializerMethodField()
    late_cancellation = serializers.BooleanField()
    cancelled_at = serializers.DateTimeField(allow_null=True)
    consult = serializers.UUIDField(allow_null=True)
    consult_opens_at = serializers.SerializerMethodField(
        help_text="When the consult's waiting room opens (online appointments)."
    )
    timezone = serializers.CharField(source="doctor.center.timezone")
    cancellation_deadline = serializers.SerializerMethodField()
    can_cancel = serializers.SerializerMethodField()
    can_reschedule = serializers.SerializerMethodField()
    can_review = serializers.SerializerMethodField()
    attendance_confirmed_at = serializers.DateTimeField(allow_null=True)
    attendance_confirmed_via = serializers.CharField()
    escalated_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    def get_reason(self, appointment: Appointment) -> str:
        reasons: dict[Any, str] = self.context.get("reasons", {})
        return reasons.get(appointment.id, "")

    def get_consult_opens_at(self, appointment: Appointment) -> datetime | None:
        if appointment.consult is None:
            return None
        return appointment.start - timedelta(minutes=settings.CONSULT_OPEN_MINUTES_BEFORE)

    def get_cancellation_deadline(self, appointment: Appointment) -> datetime:
        hours = self.context.get("notice_hours", {}).get(appointment.doctor.center_id, 24)
        deadline: datetime = appointment.start - timedelta(hours=hours)
        return deadline

    def _upcoming(self, appointment: Appointment) -> bool:
        return appointment.status in ("requested", "awaiting_payment", "confirmed") and (
            appointment.start > timezone.now()
        )

    def get_can_cancel(self, appointment: Appointment) -> bool:
        return self._upcoming(appointment)

    def get_can_reschedule(self, appointment: Appointment) -> bool:
        return self._upcoming(appointment)

    def get_can_review(self, appointment: Appointment) -> bool:
        reviewed: set[Any] = self.context.get("reviewed_doctors", set())
        return appointment.status == "completed" and (
            (appointment.patient_id, appointment.doctor_id) not in reviewed
        )


class ReviewInput(StrictSerializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    text = PlainTextField(required=False, allow_blank=True, max_length=2000)


# ------------------------------------------------------------------ schedules


class RuleFields(StrictSerializer):
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=7), min_length=1, max_length=7
    )
    start_time = serializers.TimeField()
    end_time = serializers.TimeField()
    slot_minutes = serializers.IntegerField(min_value=5, max_value=480, default=30)
    buffer_minutes = serializers.IntegerField(min_value=0, max_value=240, default=0)
    mode = serializers.ChoiceField(choices=SLOT_MODE_CHOICES, default=SlotMode.BOTH)
    effective_from = serializers.DateField()
    effective_until = serializers.DateField(required=False, allow_null=True)
    min_notice_minutes = serializers.IntegerField(min_value=0, max_value=60 * 24 * 30, default=120)
    booking_horizon_days = serializers.IntegerField(min_value=1, max_value=365, default=56)


class RuleInput(RuleFields):
    doctor = serializers.UUIDField()


class RulePatchInput(RuleFields):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, partial=True, **kwargs)


class PreviewInput(RuleInput):
    replaces = serializers.UUIDField(required=False)


class RuleOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    doctor = serializers.UUIDField(source="doctor_id")
    weekdays = serializers.ListField(child=serializers.IntegerField())
    start_time = serializers.TimeField(format="%H:%M")
    end_time = serializers.TimeField(format="%H:%M")
    slot_minutes = serializers.IntegerField()
    buffer_minutes = serializers.IntegerField()
    mode = serializers.ChoiceField(choices=SLOT_MODE_CHOICES)
    effective_from = serializers.DateField()
    effective_until = serializers.DateField(allow_null=True)
    min_notice_minutes = serializers.IntegerField()
    booking_horizon_days = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ExceptionInput(StrictSerializer):
    doctor = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=ScheduleException.Kind.choices)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    mode = serializers.ChoiceField(choices=SLOT_MODE_CHOICES, default=SlotMode.BOTH)
    slot_minutes = serializers.IntegerField(min_value=5, max_value=480, default=30)
    label = PlainTextField(  # type: ignore[assignment]  # a field, not Field.label
        required=False, allow_blank=True, max_length=100, default=""
    )


class ExceptionOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    doctor = serializers.UUIDField(source="doctor_id")
    kind = serializers.ChoiceField(choices=ScheduleException.Kind.choices)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    mode = serializers.ChoiceField(choices=SLOT_MODE_CHOICES)
    slot_minutes = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label


class ScheduleChangeOutput(serializers.Serializer[Any]):
    rule = RuleOutput(required=False, allow_null=True)
    exception = ExceptionOutput(required=False, allow_null=True)
    added = serializers.IntegerField()
    removed = serializers.IntegerField()
    conflicts = AppointmentOutput(many=True)


class PlannedSlotOutput(serializers.Serializer[Any]):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    mode = serializers.ChoiceField(choices=SLOT_MODE_CHOICES)


class PreviewOutput(serializers.Serializer[Any]):
    slots = PlannedSlotOutput(many=True)
    count = serializers.IntegerField()
    conflicts = AppointmentOutput(many=True)


class DoctorQueryInput(serializers.Serializer[Any]):
    doctor = serializers.UUIDField(required=False)


class PolicyInput(StrictSerializer):
    cancellation_notice_hours = serializers.IntegerField(
        min_value=0, max_value=24 * 14, required=False
    )
    waitlist_hold_minutes = serializers.IntegerField(min_value=1, max_value=24 * 60, required=False)
    requires_confirmation = serializers.BooleanField(required=False)
    payment_hold_minutes = serializers.IntegerField(min_value=1, max_value=24 * 60, required=False)
    full_refund_hours = serializers.IntegerField(min_value=0, max_value=24 * 30, required=False)
    late_refund_percent = serializers.IntegerField(min_value=0, max_value=100, required=False)
    reminder_offsets_minutes = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=20160),
        max_length=5,
        required=False,
    )
    escalate_minutes_before = serializers.IntegerField(
        min_value=1, max_value=20160, allow_null=True, required=False
    )
    release_unconfirmed = serializers.BooleanField(required=False)

    def validate_reminder_offsets_minutes(self, value: list[int]) -> list[int]:
        return sorted(set(value), reverse=True)


class PolicyOutput(serializers.Serializer[Any]):
    cancellation_notice_hours = serializers.IntegerField()
    waitlist_hold_minutes = serializers.IntegerField()
    requires_confirmation = serializers.BooleanField()
    payment_hold_minutes = serializers.IntegerField()
    full_refund_hours = serializers.IntegerField()
    late_refund_percent = serializers.IntegerField()
    reminder_offsets_minutes = serializers.ListField(child=serializers.IntegerField())
    escalate_minutes_before = serializers.IntegerField(allow_null=True)
    release_unconfirmed = serializers.BooleanField()


class WeekInput(DoctorQueryInput):
    start = serializers.DateField(required=False)


class WeekOutput(serializers.Serializer[Any]):
    doctor = DoctorLiteOutput()
    timezone = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    appointments = AppointmentOutput(many=True)
    free_slots = SlotOutput(many=True)
    exceptions = ExceptionOutput(many=True)


class PatientQueryInput(DoctorQueryInput):
    q = serializers.CharField(required=False, max_length=100, default="")


# ------------------------------------------------------------------ waitlist


class WaitlistInput(StrictSerializer):
    doctor = serializers.UUIDField()
    earliest = serializers.DateField()
    latest = serializers.DateField()
    mode = serializers.ChoiceField(choices=SLOT_MODE_CHOICES, default=SlotMode.BOTH)
    patient = serializers.UUIDField(required=False)


class OfferOutput(serializers.Serializer[Any]):
    slot = serializers.UUIDField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    mode = serializers.ChoiceField(choices=SLOT_MODE_CHOICES)
    expires_at = serializers.DateTimeField()


class WaitlistDoctorOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.SerializerMethodField()

    def get_name(self, doctor: DoctorProfile) -> str:
        return f"Dr {doctor.user.full_name}"


class WaitlistOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    doctor = WaitlistDoctorOutput()
    patient = AppointmentPersonOutput()
    earliest = serializers.DateField()
    latest = serializers.DateField()
    mode = serializers.ChoiceField(choices=SLOT_MODE_CHOICES)
    status = serializers.ChoiceField(choices=WaitlistEntry.Status.choices)
    offer = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(OfferOutput(allow_null=True))
    def get_offer(self, entry: WaitlistEntry) -> dict[str, Any] | None:
        hold = entry.hold
        if (
            entry.status != WaitlistEntry.Status.OFFERED
            or hold is None
            or hold.released_at is not None
            or hold.expires_at <= timezone.now()
        ):
            return None
        slot = hold.slot
        return {
            "slot": slot.id,
            "start": slot.start,
            "end": slot.end,
            "mode": slot.mode,
            "expires_at": hold.expires_at,
        }
