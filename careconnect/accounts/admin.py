"""Admin for platform staff. Personal and health data is shown decrypted only to users with
the `records.view_health_data` permission (superusers have it), and each such view is audited."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from rest_framework.authtoken.models import TokenProxy

from careconnect.accounts.access import PatientAccess
from careconnect.accounts.models import (
    ApiToken,
    CareGrant,
    CareRelationship,
    DoctorProfile,
    MedicalCenter,
    RoleAssignment,
    Specialty,
    StaffInvitation,
    User,
)

HEALTH_PERMISSION = "records.view_health_data"

# DRF's plaintext tokens are unused (the app stays installed for a migration): no empty page.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)


class RoleInline(admin.TabularInline[RoleAssignment, User]):
    model = RoleAssignment
    extra = 0
    fk_name = "user"


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_dependent", "is_active", "mfa_on")
    search_fields = ("email", "first_name", "last_name")
    list_filter = ("is_active", "is_staff", "is_dependent", "role_assignments__role")
    inlines = [RoleInline]
    readonly_fields = (
        "date_joined",
        "last_login",
        "email_confirmed_at",
        "mfa_enabled_at",
        "health_data",
    )
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "is_dependent", "health_data")}),
        (
            "Access",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (
            "Dates",
            {"fields": ("date_joined", "last_login", "email_confirmed_at", "mfa_enabled_at")},
        ),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "first_name", "last_name", "password1", "password2"),
            },
        ),
    )

    def get_form(
        self, request: HttpRequest, obj: Any | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        self._request = request  # read by health_data(); admin views are sync, one at a time
        return super().get_form(request, obj, change=change, **kwargs)

    @admin.display(boolean=True, description="2FA")
    def mfa_on(self, obj: User) -> bool:
        return obj.mfa_enabled

    @admin.display(description="Personal and health data")
    def health_data(self, obj: User) -> str:
        request: HttpRequest | None = getattr(self, "_request", None)
        if request is None:
            return "-"
        viewer = request.user
        if not (isinstance(viewer, User) and viewer.has_perm(HEALTH_PERMISSION)):
            return "Encrypted. You do not have permission to view health data."
        from careconnect.accounts.services import read_profile

        profile = read_profile(actor=viewer, access=PatientAccess(patient=obj, acting_for=False))
        shown = {
            key: profile[key]
            for key in (
                "date_of_birth",
                "phone",
                "address",
                "emergency_contact",
                "allergies",
                "conditions",
                "medications",
            )
        }
        return format_html("<pre>{}</pre>", json.dumps(shown, indent=2, default=str))


@admin.register(MedicalCenter)
class MedicalCenterAdmin(admin.ModelAdmin[MedicalCenter]):
    list_display = ("name", "city", "timezone", "phone")
    search_fields = ("name", "city")


@admin.register(DoctorProfile)
class DoctorProfileAdmin(admin.ModelAdmin[DoctorProfile]):
    list_display = ("__str__", "center", "fee_online", "fee_in_person", "currency")
    list_filter = ("center", "specialties")
    search_fields = ("user__email", "user__last_name", "license_number")
    autocomplete_fields = ("user",)


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin[Specialty]):
    list_display = ("name", "slug")
    search_fields = ("name",)


@admin.register(CareGrant)
class CareGrantAdmin(admin.ModelAdmin[CareGrant]):
    list_display = ("id", "patient", "grantee", "relationship", "status", "expires_at")
    list_filter = ("status", "relationship")
    readonly_fields = ("created_at", "accepted_at", "revoked_at")


@admin.register(CareRelationship)
class CareRelationshipAdmin(admin.ModelAdmin[CareRelationship]):
    list_display = ("patient", "clinician", "source", "created_at")


@admin.register(StaffInvitation)
class StaffInvitationAdmin(admin.ModelAdmin[StaffInvitation]):
    list_display = ("email", "center", "role", "status", "created_at")
    list_filter = ("status", "role")
    exclude = ("token_hash",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """API tokens, read-only and without their digest; deleting one revokes it (audited).
    Tokens are only issued by POST /api/auth/token/, the one place that shows them."""

    list_display = ("id", "user", "user_email", "created_at", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("user__email",)
    ordering = ("-created_at",)
    fields = ("user", "created_at", "last_used_at")
    readonly_fields = ("user", "created_at", "last_used_at")

    @admin.display(description="Email", ordering="user__email")
    def user_email(self, obj: ApiToken) -> str:
        return obj.user.email or ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: ApiToken) -> None:
        self._revoke(request, [obj.id])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        self._revoke(request, list(queryset.values_list("id", flat=True)))

    def _revoke(self, request: HttpRequest, token_ids: list[UUID]) -> None:
        from careconnect.accounts.services import revoke_api_tokens

        actor = request.user
        if not isinstance(actor, User):  # the admin only lets signed-in staff this far
            raise PermissionError("not signed in")
        revoke_api_tokens(actor=actor, token_ids=token_ids)
