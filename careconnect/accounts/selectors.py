"""Reads for accounts: what the API shows about users, grants, centers and doctors."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.utils import timezone

from careconnect.accounts.access import role_pairs, staff_center_id, user_roles
from careconnect.accounts.models import (
    ApiToken,
    CareGrant,
    DoctorProfile,
    MedicalCenter,
    Role,
    RoleAssignment,
    Specialty,
    StaffInvitation,
    User,
)
from careconnect.accounts.tokens import hash_token
from careconnect.errors import NotFoundError


def me_payload(user: User) -> dict[str, Any]:
    from careconnect.accounts.services import mfa_setup_required

    roles = user_roles(user)
    doctor_id = (
        DoctorProfile.objects.filter(user=user).values_list("id", flat=True).first()
        if Role.DOCTOR in roles
        else None
    )
    role_pairs(user)
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "roles": sorted(roles),
        "email_confirmed": user.email_confirmed,
        "mfa_enabled": user.mfa_enabled,
        "mfa_setup_required": mfa_setup_required(user),
        "center": staff_center_id(user),
        "doctor": doctor_id,
    }


def find_api_token(*, token: str) -> ApiToken | None:
    """The API token a client presented, looked up by its digest (with its user), or None."""
    try:
        return ApiToken.objects.select_related("user").get(digest=hash_token(token))
    except ApiToken.DoesNotExist:
        return None


def list_grants_given(*, patient: User) -> QuerySet[CareGrant]:
    return (
        CareGrant.objects.filter(patient=patient, relationship=CareGrant.Relationship.FAMILY)
        .select_related("grantee", "patient")
        .order_by("-created_at")
    )


def list_invitations_for(*, user: User) -> QuerySet[CareGrant]:
    now = timezone.now()
    return (
        CareGrant.objects.filter(email__iexact=user.email or "", status=CareGrant.Status.PENDING)
        .exclude(expires_at__lte=now)
        .exclude(patient=user)
        .select_related("patient", "grantee")
        .order_by("-created_at")
    )


def get_grant_for_invitee(*, grant_id: UUID) -> CareGrant:
    grant = CareGrant.objects.select_related("patient", "grantee").filter(id=grant_id).first()
    if grant is None:
        raise NotFoundError()
    return grant


def list_actable_patients(*, user: User) -> list[CareGrant]:
    now = timezone.now()
    grants = (
        CareGrant.objects.filter(grantee=user, status=CareGrant.Status.ACTIVE)
        .select_related("patient")
        .order_by("patient__first_name")
    )
    return [g for g in grants if g.effective_status(now) == "active"]


def list_dependents(*, guardian: User) -> QuerySet[User]:
    return User.objects.filter(
        grants_given__grantee=guardian,
        grants_given__relationship=CareGrant.Relationship.GUARDIAN,
        grants_given__status=CareGrant.Status.ACTIVE,
        is_dependent=True,
    ).order_by("first_name")


def list_centers() -> QuerySet[MedicalCenter]:
    return MedicalCenter.objects.order_by("name")


def get_center(*, center_id: UUID) -> MedicalCenter:
    center = MedicalCenter.objects.filter(id=center_id).first()
    if center is None:
        raise NotFoundError()
    return center


def list_center_staff(*, center: MedicalCenter) -> QuerySet[RoleAssignment]:
    return (
        RoleAssignment.objects.filter(center=center)
        .select_related("user")
        .order_by("role", "user__last_name")
    )


def list_staff_invitations(*, center: MedicalCenter) -> QuerySet[StaffInvitation]:
    return StaffInvitation.objects.filter(center=center).order_by("-created_at")


def get_doctor_profile(*, user: User) -> DoctorProfile:
    doctor = (
        DoctorProfile.objects.select_related("user", "center")
        .prefetch_related("specialties")
        .filter(user=user)
        .first()
    )
    if doctor is None:
        raise NotFoundError("You do not have a doctor profile.")
    return doctor


def list_specialties() -> QuerySet[Specialty]:
    return Specialty.objects.order_by("name")


LANGUAGES: dict[str, str] = {
    "ar": "Arabic",
    "bn": "Bengali",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fr": "French",
    "he": "Hebrew",
    "hi": "Hindi",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sv": "Swedish",
    "sw": "Swahili",
    "tl": "Tagalog",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "zh": "Chinese",
}

LANGUAGE_CHOICES = sorted(LANGUAGES)
