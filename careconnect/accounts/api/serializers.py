from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from careconnect.accounts.models import ALL_SCOPES, DoctorProfile, Role, Scope
from careconnect.accounts.selectors import LANGUAGES
from careconnect.api import MoneySerializer, NameField, PlainTextField, StrictSerializer

# ------------------------------------------------------------------ inputs


class RegisterInput(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    first_name = NameField()
    last_name = NameField()
    phone = serializers.RegexField(
        r"^\+?[0-9 ()-]{6,20}$", max_length=20, required=False, allow_blank=True
    )


class TokenInput(StrictSerializer):
    token = serializers.CharField(max_length=500)


class EmailInput(StrictSerializer):
    email = serializers.EmailField(max_length=254)


class LoginInput(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    otp = serializers.CharField(max_length=20, required=False, allow_blank=True)


class PasswordResetConfirmInput(StrictSerializer):
    token = serializers.CharField(max_length=500)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class OtpInput(StrictSerializer):
    otp = serializers.CharField(max_length=20)


class PasswordInput(StrictSerializer):
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class AddressSerializer(StrictSerializer):
    line1 = PlainTextField(max_length=200, allow_blank=True, required=False, default="")
    line2 = PlainTextField(max_length=200, allow_blank=True, required=False, default="")
    city = PlainTextField(max_length=100, allow_blank=True, required=False, default="")
    region = PlainTextField(max_length=100, allow_blank=True, required=False, default="")
    postal_code = PlainTextField(max_length=20, allow_blank=True, required=False, default="")
    country = PlainTextField(max_length=100, allow_blank=True, required=False, default="")


class EmergencyContactSerializer(StrictSerializer):
    name = NameField()
    relationship = PlainTextField(max_length=50, allow_blank=True, required=False, default="")
    phone = serializers.RegexField(r"^\+?[0-9 ()-]{6,20}$", max_length=20)


class AllergySerializer(StrictSerializer):
    substance = PlainTextField(max_length=100)
    reaction = PlainTextField(max_length=200, allow_blank=True, required=False, default="")
    severity = serializers.ChoiceField(choices=["mild", "moderate", "severe"])


class ConditionSerializer(StrictSerializer):
    name = PlainTextField(max_length=150)
    notes = PlainTextField(max_length=500, allow_blank=True, required=False, default="")


class MedicationSerializer(StrictSerializer):
    name = PlainTextField(max_length=150)
    dose = PlainTextField(max_length=100, allow_blank=True, required=False, default="")
    frequency = PlainTextField(max_length=100, allow_blank=True, required=False, default="")


class ProfileInput(StrictSerializer):
    first_name = NameField(required=False)
    last_name = NameField(required=False)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    phone = serializers.RegexField(
        r"^(\+?[0-9 ()-]{6,20})?$", max_length=20, required=False, allow_blank=True
    )
    address = AddressSerializer(required=False)
    emergency_contact = EmergencyContactSerializer(required=False, allow_null=True)
    allergies = serializers.ListField(child=AllergySerializer(), required=False, max_length=100)
    conditions = serializers.ListField(child=ConditionSerializer(), required=False, max_length=100)
    medications = serializers.ListField(
        child=MedicationSerializer(), required=False, max_length=100
    )

    def validate_date_of_birth(self, value: Any) -> Any:
        from django.utils import timezone

        if value is not None and (value > timezone.localdate() or value.year < 1900):
            raise serializers.ValidationError("Enter a real date of birth.")
        return value


class GrantInput(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=ALL_SCOPES), min_length=1, max_length=4
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class DependentInput(StrictSerializer):
    first_name = NameField()
    last_name = NameField()
    date_of_birth = serializers.DateField()

    def validate_date_of_birth(self, value: Any) -> Any:
        from django.utils import timezone

        if value > timezone.localdate() or value.year < 1900:
            raise serializers.ValidationError("Enter a real date of birth.")
        return value


def _validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise serializers.ValidationError("Choose a time zone such as Europe/Lisbon.")


class CenterInput(StrictSerializer):
    name = PlainTextField(max_length=200, required=False)
    address = PlainTextField(max_length=300, required=False, allow_blank=True)
    city = PlainTextField(max_length=100, required=False)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=-180,
        max_value=180,
        required=False,
        allow_null=True,
    )
    phone = serializers.RegexField(
        r"^(\+?[0-9 ()-]{6,20})?$", max_length=20, required=False, allow_blank=True
    )
    timezone = serializers.CharField(max_length=64, required=False, validators=[_validate_timezone])


class StaffInvitationInput(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=["doctor", "nurse"])


class StaffAcceptInput(StrictSerializer):
    token = serializers.CharField(max_length=200)
    first_name = NameField()
    last_name = NameField()
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class DoctorProfileInput(StrictSerializer):
    specialties = serializers.ListField(
        child=serializers.SlugField(max_length=60), max_length=10, required=False
    )
    bio = PlainTextField(max_length=4000, required=False, allow_blank=True)
    languages = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(LANGUAGES)), max_length=20, required=False
    )
    fee_online = MoneySerializer(required=False, allow_null=True)
    fee_in_person = MoneySerializer(required=False, allow_null=True)
    license_number = serializers.RegexField(
        r"^[A-Za-z0-9./ -]{0,64}$", max_length=64, required=False, allow_blank=True
    )


class PhotoInput(serializers.Serializer[Any]):
    photo = serializers.FileField()


# ------------------------------------------------------------------ outputs


ROLE_CHOICES = [role.value for role in Role]


class MeOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    email = serializers.EmailField()  # only dependents lack one, and they never sign in
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    roles = serializers.ListField(child=serializers.ChoiceField(choices=ROLE_CHOICES))
    email_confirmed = serializers.BooleanField()
    mfa_enabled = serializers.BooleanField()
    mfa_setup_required = serializers.BooleanField()
    center = serializers.UUIDField(allow_null=True)
    doctor = serializers.UUIDField(allow_null=True)


class RegisterOutput(serializers.Serializer[Any]):
    email = serializers.EmailField()
    email_confirmation_required = serializers.BooleanField()


class TokenOutput(serializers.Serializer[Any]):
    token = serializers.CharField()


class MfaSetupOutput(serializers.Serializer[Any]):
    secret = serializers.CharField()
    otpauth_uri = serializers.CharField()
    qr_svg = serializers.CharField()


class BackupCodesOutput(serializers.Serializer[Any]):
    backup_codes = serializers.ListField(child=serializers.CharField())


class ProfileOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    email = serializers.EmailField(allow_null=True)
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    roles = serializers.ListField(child=serializers.ChoiceField(choices=ROLE_CHOICES))
    is_dependent = serializers.BooleanField()
    date_of_birth = serializers.DateField(allow_null=True)
    phone = serializers.CharField(allow_blank=True)
    address = AddressSerializer()
    emergency_contact = EmergencyContactSerializer(allow_null=True)
    allergies = AllergySerializer(many=True)
    conditions = ConditionSerializer(many=True)
    medications = MedicationSerializer(many=True)


class PersonOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()


class GrantOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    grantee = PersonOutput(allow_null=True)
    patient = PersonOutput()
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ALL_SCOPES))
    status = serializers.ChoiceField(
        choices=["pending", "active", "revoked", "expired"], source="effective_status"
    )
    expires_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class ActablePatientOutput(serializers.Serializer[Any]):
    patient = PersonOutput()
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ALL_SCOPES))
    relationship = serializers.ChoiceField(choices=["family", "guardian"])
    grant = serializers.UUIDField(source="id")
    expires_at = serializers.DateTimeField(allow_null=True)


class DependentOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)


class CenterOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField()
    address = serializers.CharField()
    city = serializers.CharField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    phone = serializers.CharField()
    timezone = serializers.CharField()


class StaffOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    user = serializers.UUIDField(source="user.id")
    first_name = serializers.CharField(source="user.first_name")
    last_name = serializers.CharField(source="user.last_name")
    email = serializers.EmailField(source="user.email")
    role = serializers.ChoiceField(choices=ROLE_CHOICES)


class StaffInvitationOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=["doctor", "nurse"])
    status = serializers.ChoiceField(choices=["pending", "accepted", "revoked"])
    created_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)


class MoneyOutput(serializers.Serializer[Any]):
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    currency = serializers.CharField()


class ConfirmedOutput(serializers.Serializer[Any]):
    email_confirmed = serializers.BooleanField()


class PasswordResetOutput(serializers.Serializer[Any]):
    password_reset = serializers.BooleanField()


def money(amount: Any, currency: str) -> dict[str, str] | None:
    return None if amount is None else {"amount": f"{amount:.2f}", "currency": currency}


class DoctorProfileOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    user = serializers.UUIDField(source="user.id")
    name = serializers.CharField(source="user.full_name")
    center = serializers.UUIDField(source="center.id")
    specialties = serializers.SerializerMethodField()
    bio = serializers.CharField()
    languages = serializers.ListField(child=serializers.ChoiceField(choices=sorted(LANGUAGES)))
    fee_online = serializers.SerializerMethodField()
    fee_in_person = serializers.SerializerMethodField()
    license_number = serializers.CharField()
    photo_url = serializers.SerializerMethodField()

    def get_specialties(self, doctor: DoctorProfile) -> list[str]:
        return sorted(s.slug for s in doctor.specialties.all())

    @extend_schema_field(MoneyOutput(allow_null=True))
    def get_fee_online(self, doctor: DoctorProfile) -> dict[str, str] | None:
        return money(doctor.fee_online, doctor.currency)

    @extend_schema_field(MoneyOutput(allow_null=True))
    def get_fee_in_person(self, doctor: DoctorProfile) -> dict[str, str] | None:
        return money(doctor.fee_in_person, doctor.currency)

    def get_photo_url(self, doctor: DoctorProfile) -> str | None:
        return f"{settings.MEDIA_URL}{doctor.photo}" if doctor.photo else None


class SpecialtyOutput(serializers.Serializer[Any]):
    slug = serializers.CharField()
    name = serializers.CharField()


class LanguageOutput(serializers.Serializer[Any]):
    code = serializers.ChoiceField(choices=sorted(LANGUAGES))
    name = serializers.CharField()


SCOPE_CHOICES = [scope.value for scope in Scope]
