from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from careconnect.crypto.models import DataKey


class Role(models.TextChoices):
    PATIENT = "patient"
    DOCTOR = "doctor"
    NURSE = "nurse"
    CENTER_ADMIN = "center_admin"
    PLATFORM_ADMIN = "platform_admin"


STAFF_ROLES = frozenset({Role.DOCTOR, Role.NURSE, Role.CENTER_ADMIN, Role.PLATFORM_ADMIN})
CENTER_ROLES = frozenset({Role.DOCTOR, Role.NURSE, Role.CENTER_ADMIN})


class Scope(models.TextChoices):
    BOOK = "book"
    MESSAGE = "message"
    PAY = "pay"
    VIEW_RECORDS = "view_records"


ALL_SCOPES = [scope.value for scope in Scope]


def normalize_email(email: str) -> str:
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalize_email(username or ""))

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("email_confirmed_at", timezone.now())
        user = self.create_user(email, password, **extra)
        RoleAssignment.objects.get_or_create(user=user, role=Role.PLATFORM_ADMIN, center=None)
        return user


class User(AbstractBaseUser, PermissionsMixin):
    """An account. Dependents (children without a login) are users with no email and no
    usable password, managed by a guardian through a guardian CareGrant."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True, null=True, blank=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May use the Django admin.")
    is_dependent = models.BooleanField(default=False)
    registered_by_staff = models.BooleanField(
        default=False,
        help_text="Registered by center staff for a phoned-in patient (may lack an email).",
    )
    date_joined = models.DateTimeField(default=timezone.now)
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    data_key = models.ForeignKey(DataKey, null=True, blank=True, on_delete=models.SET_NULL)
    mfa_secret_sealed = models.BinaryField(null=True, blank=True, editable=False)
    mfa_pending_sealed = models.BinaryField(null=True, blank=True, editable=False)
    mfa_enabled_at = models.DateTimeField(null=True, blank=True)
    mfa_last_step = models.BigIntegerField(default=0)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(
                condition=Q(is_dependent=True)
                | Q(registered_by_staff=True)
                | Q(email__isnull=False),
                name="user_has_email_unless_dependent_or_staff_registered",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def mfa_enabled(self) -> bool:
        return self.mfa_enabled_at is not None

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None


class MedicalCenter(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, db_index=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="center_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="center_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RoleAssignment(models.Model):
    """A role a user holds; staff roles are held at a center."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=20, choices=Role.choices)
    center = models.ForeignKey(
        MedicalCenter, null=True, blank=True, on_delete=models.CASCADE, related_name="staff"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role"], condition=Q(center__isnull=True), name="role_once"
            ),
            models.UniqueConstraint(
                fields=["user", "role", "center"],
                condition=Q(center__isnull=False),
                name="role_once_per_center",
            ),
            models.CheckConstraint(
                condition=~Q(role__in=["doctor", "nurse", "center_admin"])
                | Q(center__isnull=False),
                name="center_roles_have_center",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role}"


class Specialty(models.Model):
    slug = models.SlugField(primary_key=True, max_length=60)
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "specialties"

    def __str__(self) -> str:
        return self.name


class DoctorProfile(models.Model):
    """A doctor's public profile. Its id is the doctor id of API.md."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="doctor_profile")
    center = models.ForeignKey(MedicalCenter, on_delete=models.PROTECT, related_name="doctors")
    specialties = models.ManyToManyField(Specialty, blank=True, related_name="doctors")
    bio = models.TextField(max_length=4000, blank=True)
    languages = models.JSONField(default=list, blank=True)
    fee_online = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    fee_in_person = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    license_number = models.CharField(max_length=64, blank=True)
    photo = models.CharField(max_length=200, blank=True, help_text="Path under MEDIA_ROOT.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(fee_online__isnull=True) | Q(fee_online__gte=0),
                name="doctor_fee_online_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(fee_in_person__isnull=True) | Q(fee_in_person__gte=0),
                name="doctor_fee_in_person_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"Dr {self.user.full_name}"


class Profile(models.Model):
    """Personal details that identify a person (date of birth, phone, address, emergency
    contact), sealed with the person's data key; nothing here is stored in plaintext."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True)
    sealed = models.BinaryField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Profile of {self.user_id}"


class CareGrant(models.Model):
    """Proxy access a patient gave to another account (family) or that a guardian holds
    over a dependent. Status `expired` is derived from expires_at, never written by a job."""

    class Status(models.TextChoices):
        PENDING = "pending"
        ACTIVE = "active"
        REVOKED = "revoked"

    class Relationship(models.TextChoices):
        FAMILY = "family"
        GUARDIAN = "guardian"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants_given")
    grantee = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="grants_held"
    )
    email = models.EmailField(max_length=254)
    scopes = models.JSONField(default=list)
    relationship = models.CharField(
        max_length=10, choices=Relationship.choices, default=Relationship.FAMILY
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "patient",
                Lower("email"),
                condition=Q(status__in=["pending", "active"]),
                name="one_open_grant_per_email",
            ),
            models.CheckConstraint(
                condition=~Q(patient=models.F("grantee")), name="grant_not_to_self"
            ),
            models.CheckConstraint(
                condition=~Q(status="active") | Q(grantee__isnull=False),
                name="active_grant_has_grantee",
            ),
        ]
        indexes = [models.Index(fields=["grantee", "status"])]

    def __str__(self) -> str:
        return f"Grant {self.id} ({self.status})"

    def effective_status(self, now: Any = None) -> str:
        now = now or timezone.now()
        if self.status != self.Status.REVOKED and self.expires_at and self.expires_at <= now:
            return "expired"
        return str(self.status)


class CareRelationship(models.Model):
    """A clinician caring for a patient (written when they book or talk): the basis on which
    doctors and nurses see a patient's records."""

    patient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="care_team")
    clinician = models.ForeignKey(User, on_delete=models.CASCADE, related_name="patients_cared")
    source = models.CharField(max_length=30, default="appointment")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "clinician"], name="care_relationship_once")
        ]

    def __str__(self) -> str:
        return f"{self.clinician_id} cares for {self.patient_id}"


class StaffInvitation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        REVOKED = "revoked"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    center = models.ForeignKey(MedicalCenter, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=20, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "center",
                Lower("email"),
                condition=Q(status="pending"),
                name="one_pending_staff_invite_per_email",
            ),
            models.CheckConstraint(
                condition=Q(role__in=["doctor", "nurse"]), name="staff_invite_role"
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation {self.id} ({self.role})"


class BackupCode(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="backup_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="backup_code_once")
        ]

    def __str__(self) -> str:
        return f"Backup code of {self.user_id}"


class ApiToken(models.Model):
    """A bearer token for a non-browser client (`Authorization: Token …`). Only the SHA-256
    digest of the token is stored; the token itself is shown once, when it is issued. Deleting
    the row revokes it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # A default, not auto_now_add: the migration of the old plaintext tokens keeps their time.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Written at most once a minute per token (services.record_api_token_use).
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return f"API token {self.id} of {self.user_id}"
