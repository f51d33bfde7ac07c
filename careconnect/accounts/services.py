"""Account, profile, family-access, center and doctor-profile writes (the only place that
changes their state). Every read or write of personal or health data is audited."""

from __future__ import annotations

import hashlib
import io
import secrets
import uuid
from collections.abc import Collection
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pyotp
import segno
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from careconnect.accounts.access import (
    PatientAccess,
    has_role_pairs,
    remember_role_pairs,
    user_roles,
)
from careconnect.accounts.keys import ensure_data_key
from careconnect.accounts.models import (
    ALL_SCOPES,
    STAFF_ROLES,
    ApiToken,
    BackupCode,
    CareGrant,
    DoctorProfile,
    MedicalCenter,
    Profile,
    Role,
    RoleAssignment,
    Specialty,
    StaffInvitation,
    User,
    normalize_email,
)
from careconnect.accounts.tokens import (
    hash_token,
    make_confirmation_token,
    make_password_reset_token,
    new_api_token,
    new_secret_token,
    read_confirmation_token,
    read_password_reset_token,
)
from careconnect.audit.services import record
from careconnect.crypto.services import open_json, open_sealed, seal, seal_json
from careconnect.errors import (
    ApplicationError,
    ConflictError,
    InvalidInputError,
    InvalidTokenError,
    NotFoundError,
    PermissionDeniedError,
    TooLargeError,
)
from careconnect.notifications.models import Kind
from careconnect.notifications.services import app_link, notify, queue_email, zone_of
from careconnect.records.services import open_sealed_summary, write_health_summary


class InvalidCredentialsError(ApplicationError):
    code = "invalid_credentials"
    status = 401
    default_message = "The email or password is not right."


class OtpRequiredError(ApplicationError):
    code = "otp_required"
    status = 401
    default_message = "Enter the code from your authenticator app."


class InvalidOtpError(ApplicationError):
    code = "invalid_otp"
    status = 401
    default_message = "That code is not right or has already been used."


class InvalidSetupCodeError(InvalidInputError):
    code = "invalid_otp"
    default_message = "That code is not right. Check the time on your phone and try again."


class EmailNotConfirmedError(ApplicationError):
    code = "email_not_confirmed"
    status = 403
    default_message = "Confirm your email address first: we sent you a link."


class MfaEnforcedError(ConflictError):
    code = "mfa_enforced"
    default_message = "Two-factor authentication is required for staff accounts."


class AlreadyInvitedError(ConflictError):
    code = "already_invited"
    default_message = "This person already has an open invitation or access."


class WrongAccountError(PermissionDeniedError):
    code = "wrong_account"
    default_message = "This invitation was sent to a different email address."


class GrantExpiredError(ConflictError):
    code = "grant_expired"
    default_message = "This invitation has expired. Ask for a new one."


class GrantNotPendingError(ConflictError):
    code = "grant_not_pending"
    default_message = "This invitation was already used or withdrawn."


class AlreadyRevokedError(ConflictError):
    code = "already_revoked"
    default_message = "This access was already revoked."


class AccountExistsError(ConflictError):
    code = "account_exists"
    default_message = "An account with this email already exists."


class NotCenterAdminError(PermissionDeniedError):
    code = "not_center_admin"
    default_message = "Only this center's administrators can do that."


# ---------------------------------------------------------------- keys and personal data


PERSONAL_FIELDS = ("date_of_birth", "phone", "address", "emergency_contact")
EMPTY_ADDRESS = {
    "line1": "",
    "line2": "",
    "city": "",
    "region": "",
    "postal_code": "",
    "country": "",
}


def _profile_aad(user: User) -> str:
    return f"accounts.profile:{user.id}"


def _read_personal(user: User) -> dict[str, Any]:
    profile = Profile.objects.filter(user=user).first()
    return _open_personal(user, profile.sealed if profile is not None else None)


def _open_personal(user: User, sealed: bytes | memoryview | None) -> dict[str, Any]:
    stored: dict[str, Any] = {}
    if sealed:
        stored = open_json(ensure_data_key(user), sealed, aad=_profile_aad(user)) or {}
    return {
        "date_of_birth": stored.get("date_of_birth"),
        "phone": stored.get("phone", ""),
        "address": {**EMPTY_ADDRESS, **(stored.get("address") or {})},
        "emergency_contact": stored.get("emergency_contact"),
    }


def read_birth_date(user: User) -> date | None:
    """The date of birth alone (a printed prescription names it); the caller audits."""
    value = _read_personal(user)["date_of_birth"]
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _write_personal(user: User, changes: dict[str, Any]) -> None:
    key = ensure_data_key(user)
    profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
    current = (
        open_json(key, profile.sealed, aad=_profile_aad(user)) if profile.sealed else {}
    ) or {}
    current.update(changes)
    profile.sealed = seal_json(key, current, aad=_profile_aad(user))
    profile.save(update_fields=["sealed", "updated_at"])


_PROFILE_COLUMNS = ["profile__sealed", "health_record__sealed"]
_ROLE_COLUMNS = ["role_assignments__role", "role_assignments__center_id"]


def _load_profile_rows(patient: User) -> tuple[Any, Any]:
    """The sealed personal details and sealed health summary of `patient` (each None when the
    row is missing), in one query; the patient's roles come along in the same query when they
    are not known yet (one row per role assignment, at least one row)."""
    with_roles = not has_role_pairs(patient)
    columns = _PROFILE_COLUMNS + (_ROLE_COLUMNS if with_roles else [])
    rows = list(User.objects.filter(pk=patient.pk).values_list(*columns))
    if with_roles:
        pairs = [(row[2], row[3]) for row in rows if row[2] is not None]
        remember_role_pairs(patient, pairs)
    if not rows:
        return None, None
    return rows[0][0], rows[0][1]


def read_profile(*, actor: User, access: PatientAccess) -> dict[str, Any]:
    """The patient's profile with personal and health data; audited as one read."""
    patient = access.patient
    sealed_personal, sealed_health = _load_profile_rows(patient)
    personal = _open_personal(patient, sealed_personal)
    is_patient = Role.PATIENT in user_roles(patient)
    result: dict[str, Any] = {
        "id": patient.id,
        "email": patient.email,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "roles": sorted(user_roles(patient)),
        "is_dependent": patient.is_dependent,
        **personal,
        "allergies": [],
        "conditions": [],
        "medications": [],
    }
    if is_patient:
        result.update(open_sealed_summary(patient=patient, sealed=sealed_health))
    # One audit event for the whole read (personal details and health summary): reads run in
    # autocommit, so the only write of a read is this single short insert.
    record(
        actor=actor,
        action="profile.read",
        object_type="accounts.profile",
        object_id=patient.id,
        patient=patient,
        acting_for=patient if access.acting_for else None,
        detail={"sections": ["personal", "health_summary"] if is_patient else ["personal"]},
    )
    return result


@transaction.atomic
def update_profile(*, actor: User, access: PatientAccess, data: dict[str, Any]) -> dict[str, Any]:
    patient = User.objects.select_for_update().get(pk=access.patient.pk)
    name_fields = [name for name in ("first_name", "last_name") if name in data]
    for name in name_fields:
        setattr(patient, name, data[name])
    if name_fields:
        patient.save(update_fields=name_fields)
    personal = {name: data[name] for name in PERSONAL_FIELDS if name in data}
    if "date_of_birth" in personal and personal["date_of_birth"] is not None:
        personal["date_of_birth"] = personal["date_of_birth"].isoformat()
    if personal:
        _write_personal(patient, personal)
        record(
            actor=actor,
            action="profile.update",
            object_type="accounts.profile",
            object_id=patient.id,
            patient=patient,
            acting_for=patient if access.acting_for else None,
            detail={"fields": sorted(personal)},
        )
    health: dict[str, Any] = {
        name: data[name] for name in ("allergies", "conditions", "medications") if name in data
    }
    if health:
        if Role.PATIENT not in user_roles(patient):
            raise InvalidInputError("Only patients keep a health summary.")
        write_health_summary(
            patient=patient, actor=actor, acting_for=access.acting_for, changes=health
        )
    return read_profile(actor=actor, access=PatientAccess(patient, access.acting_for))


# ---------------------------------------------------------------- registration and login


def _validate_new_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise InvalidInputError("Choose a stronger password.", password=list(exc.messages)) from exc


@transaction.atomic
def register_patient(
    *, email: str, password: str, first_name: str, last_name: str, phone: str = ""
) -> None:
    """Create an unconfirmed patient account and email a confirmation link. For an email that
    already has an account nothing is created; that address is told instead (no enumeration)."""
    email = normalize_email(email)
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        queue_email(
            to=email,
            kind="account_exists",
            subject="Your CareConnect account",
            body=(
                "Someone (maybe you) tried to create a CareConnect account with this address, "
                "but you already have one.\n\nSign in: "
                + app_link("/login")
                + "\nForgot your password? "
                + app_link("/forgot-password")
                + "\n"
            ),
        )
        return
    probe = User(email=email, first_name=first_name, last_name=last_name)
    _validate_new_password(password, probe)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, first_name=first_name, last_name=last_name
            )
    except IntegrityError:  # a concurrent registration of the same email won
        return
    RoleAssignment.objects.create(user=user, role=Role.PATIENT)
    if phone:
        _write_personal(user, {"phone": phone})
    record(actor=user, action="account.register", object_type="accounts.user", object_id=user.id)
    _send_confirmation(user)


@transaction.atomic
def register_patient_by_staff(
    *, actor: User, first_name: str, last_name: str, phone: str = "", email: str = ""
) -> User:
    """A patient who phoned a center: an account without a password (they can claim it later
    with a password reset when an email is given). An email that already has an account is
    refused rather than linked: staff pick that patient from their own list instead."""
    if not user_roles(actor) & {Role.DOCTOR, Role.NURSE, Role.CENTER_ADMIN}:
        raise PermissionDeniedError("Only center staff can register patients.")
    normalized = normalize_email(email) if email else None
    if normalized and User.objects.filter(email__iexact=normalized).exists():
        raise AccountExistsError(
            "An account with this email already exists: ask the patient to book, or pick them "
            "from your patients."
        )
    user = User(
        first_name=first_name, last_name=last_name, email=normalized, registered_by_staff=True
    )
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # the same email registered concurrently
        raise AccountExistsError() from exc
    RoleAssignment.objects.create(user=user, role=Role.PATIENT)
    if phone:
        _write_personal(user, {"phone": phone})
    record(
        actor=actor,
        action="account.register_by_staff",
        object_type="accounts.user",
        object_id=user.id,
        patient=user,
    )
    return user


def _send_confirmation(user: User) -> None:
    if not user.email:  # dependents have no email and never confirm one
        return
    link = app_link(f"/confirm-email?token={make_confirmation_token(user)}")
    queue_email(
        to=user.email,
        kind="confirm_email",
        subject="Confirm your CareConnect email",
        body=(
            f"Hello {user.first_name},\n\nConfirm your email address to finish setting up your "
            f"CareConnect account:\n\n{link}\n\nThe link works for 3 days.\n"
        ),
    )


@transaction.atomic
def confirm_email(*, token: str) -> User:
    user = read_confirmation_token(token)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = timezone.now()
        user.save(update_fields=["email_confirmed_at"])
        record(
            actor=user,
            action="account.confirm_email",
            object_type="accounts.user",
            object_id=user.id,
        )
    return user


@transaction.atomic
def resend_confirmation(*, email: str) -> None:
    user = User.objects.filter(email__iexact=normalize_email(email), is_active=True).first()
    if user is not None and user.email_confirmed_at is None:
        _send_confirmation(user)


def authenticate_user(
    *, request: HttpRequest | None, email: str, password: str, otp: str | None
) -> User:
    """Check password, then email confirmation, then the second factor."""
    found = authenticate(request, username=normalize_email(email), password=password)
    if not isinstance(found, User):
        raise InvalidCredentialsError()
    user = found
    if user.email_confirmed_at is None:
        raise EmailNotConfirmedError()
    if user.mfa_enabled:
        if not otp:
            raise OtpRequiredError()
        verify_second_factor(user=user, otp=otp)
    record(actor=user, action="account.login", object_type="accounts.user", object_id=user.id)
    _security_alert(
        user,
        event="security_login",
        title="New sign-in to your CareConnect account",
        body=(
            "Your CareConnect account was signed in to on "
            f"{_local_now(user)}. If this was not you, reset your password now and turn on "
            "two-factor authentication."
        ),
    )
    return user


def _local_now(user: User) -> str:
    zone = zone_of(user)
    return f"{timezone.localtime(timezone.now(), zone):%a %d %b %Y at %H:%M} ({zone.key} time)"


def _security_alert(user: User, *, event: str, title: str, body: str) -> None:
    """A security alert (always by email too, whatever the person's choices; never waits
    for quiet hours). Each alert is its own event."""
    with transaction.atomic():
        notify(
            recipient=user,
            kind=Kind.SECURITY,
            event=event,
            key=f"security:{event}:{uuid.uuid4().hex}",
            title=title,
            body=body,
            link=app_link("/settings"),
            subject=("accounts.user", user.id),
        )


# ---------------------------------------------------------------- API tokens

API_TOKEN_USE_RESOLUTION = timedelta(minutes=1)


@transaction.atomic
def obtain_api_token(
    *, request: HttpRequest | None, email: str, password: str, otp: str | None
) -> str:
    """POST /api/auth/token/: sign in as the login does (audited, with the security alert),
    then issue a new token. The token is returned once and never stored."""
    user = authenticate_user(request=request, email=email, password=password, otp=otp)
    return issue_api_token(user=user)


@transaction.atomic
def issue_api_token(*, user: User) -> str:
    """A new API token for `user` (each call makes another; the others keep working)."""
    token, digest = new_api_token()
    api_token = ApiToken.objects.create(user=user, digest=digest)
    record(
        actor=user,
        action="account.issue_api_token",
        object_type="accounts.apitoken",
        object_id=api_token.id,
    )
    return token


def record_api_token_use(*, api_token: ApiToken) -> None:
    """Note that a request came with `api_token`, at most once per API_TOKEN_USE_RESOLUTION:
    token requests do not each pay a write. The guard is in the UPDATE itself, so concurrent
    requests write once between them (one statement: its own transaction)."""
    now = timezone.now()
    last = api_token.last_used_at
    if last is not None and now - last < API_TOKEN_USE_RESOLUTION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - API_TOKEN_USE_RESOLUTION)
    ApiToken.objects.filter(stale, pk=api_token.pk).update(last_used_at=now)
    api_token.last_used_at = now


@transaction.atomic
def revoke_api_tokens(*, actor: User, token_ids: Collection[UUID]) -> int:
    """Delete API tokens (from the admin); each revocation is audited. Returns how many."""
    revoked = list(ApiToken.objects.filter(id__in=token_ids).values_list("id", "user_id"))
    for token_id, user_id in revoked:
        record(
            actor=actor,
            action="account.revoke_api_token",
            object_type="accounts.apitoken",
            object_id=token_id,
            detail={"user": str(user_id)},
        )
    ApiToken.objects.filter(id__in=[token_id for token_id, _ in revoked]).delete()
    return len(revoked)


# ---------------------------------------------------------------- two-factor (TOTP)


def _mfa_aad(user: User, kind: str) -> str:
    return f"accounts.user.{kind}:{user.id}"


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=6, interval=30)


@transaction.atomic
def start_mfa_setup(*, user: User) -> dict[str, str]:
    secret = pyotp.random_base32()
    locked = User.objects.select_for_update().get(pk=user.pk)
    locked.mfa_pending_sealed = seal(
        ensure_data_key(locked), secret.encode(), aad=_mfa_aad(locked, "mfa_pending")
    )
    locked.save(update_fields=["mfa_pending_sealed"])
    uri = _totp(secret).provisioning_uri(name=locked.email or "", issuer_name=settings.MFA_ISSUER)
    buffer = io.BytesIO()  # a standalone SVG document (with xmlns), usable as an <img> source
    segno.make(uri, error="m").save(
        buffer, kind="svg", xmldecl=False, scale=5, dark="#102a43", light="#ffffff"
    )
    qr_svg = buffer.getvalue().decode()
    return {"secret": secret, "otpauth_uri": uri, "qr_svg": qr_svg}


def _hash_backup_code(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


@transaction.atomic
def enable_mfa(*, user: User, otp: str) -> list[str]:
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.mfa_pending_sealed:
        raise ConflictError("Start the two-factor setup first.")
    secret = open_sealed(
        ensure_data_key(locked),
        bytes(locked.mfa_pending_sealed),
        aad=_mfa_aad(locked, "mfa_pending"),
    ).decode()
    step = _matching_step(secret, otp)
    if step is None:
        raise InvalidSetupCodeError(otp=["That code is not right."])
    locked.mfa_secret_sealed = seal(
        ensure_data_key(locked), secret.encode(), aad=_mfa_aad(locked, "mfa")
    )
    locked.mfa_pending_sealed = None
    locked.mfa_enabled_at = timezone.now()
    locked.mfa_last_step = step
    locked.save(
        update_fields=["mfa_secret_sealed", "mfa_pending_sealed", "mfa_enabled_at", "mfa_last_step"]
    )
    BackupCode.objects.filter(user=locked).delete()
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(10)]
    BackupCode.objects.bulk_create(
        [BackupCode(user=locked, code_hash=_hash_backup_code(code)) for code in codes]
    )
    record(
        actor=locked, action="account.mfa_enable", object_type="accounts.user", object_id=locked.id
    )
    _security_alert(
        locked,
        event="security_mfa_on",
        title="Two-factor authentication turned on",
        body="Two-factor authentication was turned on for your CareConnect account. If this was "
        "not you, contact your center now.",
    )
    user.mfa_enabled_at = locked.mfa_enabled_at
    return codes


def _matching_step(secret: str, otp: str) -> int | None:
    code = otp.strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = _totp(secret)
    now_step = int(timezone.now().timestamp()) // 30
    for step in (now_step, now_step - 1, now_step + 1):
        if secrets.compare_digest(totp.at(step * 30), code):
            return step
    return None


@transaction.atomic
def verify_second_factor(*, user: User, otp: str) -> None:
    """A TOTP code (each time step accepted once: no replay) or an unused backup code."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.mfa_secret_sealed:
        return
    secret = open_sealed(
        ensure_data_key(locked), bytes(locked.mfa_secret_sealed), aad=_mfa_aad(locked, "mfa")
    ).decode()
    step = _matching_step(secret, otp)
    if step is not None and step > locked.mfa_last_step:
        locked.mfa_last_step = step
        locked.save(update_fields=["mfa_last_step"])
        return
    if step is None:
        used = BackupCode.objects.filter(
            user=locked, code_hash=_hash_backup_code(otp), used_at__isnull=True
        ).update(used_at=timezone.now())
        if used == 1:
            record(
                actor=locked,
                action="account.backup_code_used",
                object_type="accounts.user",
                object_id=locked.id,
            )
            return
    raise InvalidOtpError()


@transaction.atomic
def disable_mfa(*, user: User, password: str) -> None:
    if settings.MFA_REQUIRED_FOR_STAFF and user_roles(user) & STAFF_ROLES:
        raise MfaEnforcedError()
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.check_password(password):
        raise InvalidCredentialsError("The password is not right.")
    locked.mfa_secret_sealed = None
    locked.mfa_pending_sealed = None
    locked.mfa_enabled_at = None
    locked.save(update_fields=["mfa_secret_sealed", "mfa_pending_sealed", "mfa_enabled_at"])
    BackupCode.objects.filter(user=locked).delete()
    record(
        actor=locked, action="account.mfa_disable", object_type="accounts.user", object_id=locked.id
    )
    _security_alert(
        locked,
        event="security_mfa_off",
        title="Two-factor authentication turned off",
        body="Two-factor authentication was turned off for your CareConnect account. If this "
        "was not you, reset your password now.",
    )


def mfa_setup_required(user: User) -> bool:
    return bool(
        settings.MFA_REQUIRED_FOR_STAFF and not user.mfa_enabled and user_roles(user) & STAFF_ROLES
    )


# ---------------------------------------------------------------- password reset


@transaction.atomic
def request_password_reset(*, email: str) -> None:
    user = User.objects.filter(email__iexact=normalize_email(email), is_active=True).first()
    if user is None or not user.has_usable_password() or not user.email:
        return
    link = app_link(f"/reset-password?token={make_password_reset_token(user)}")
    queue_email(
        to=user.email,
        kind="password_reset",
        subject="Reset your CareConnect password",
        body=(
            f"Hello {user.first_name},\n\nSomeone asked to reset the password of your CareConnect "
            f"account. If it was you, choose a new password here (the link works once, for 1 "
            f"hour):\n\n{link}\n\nIf it was not you, ignore this email.\n"
        ),
    )


@transaction.atomic
def reset_password(*, token: str, password: str) -> User:
    user = read_password_reset_token(token)
    _validate_new_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])  # changes the session hash: other sessions end
    ApiToken.objects.filter(user=user).delete()  # and API tokens issued before the reset die too
    record(
        actor=user, action="account.password_reset", object_type="accounts.user", object_id=user.id
    )
    _security_alert(
        user,
        event="security_password_changed",
        title="Your CareConnect password was changed",
        body="The password of your CareConnect account was changed with a reset link. If this "
        "was not you, reset it again now and contact your center.",
    )
    return user


# ---------------------------------------------------------------- family access


@transaction.atomic
def invite_family_member(
    *, patient: User, email: str, scopes: list[str], expires_at: datetime | None
) -> CareGrant:
    email = normalize_email(email)
    if Role.PATIENT not in user_roles(patient):
        raise PermissionDeniedError("Only patients can invite family members.")
    if patient.email and email == patient.email.lower():
        raise InvalidInputError("You cannot invite yourself.", email=["This is your own email."])
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInputError(
            "The expiry must be in the future.", expires_at=["Must be in the future."]
        )
    grantee = User.objects.filter(email__iexact=email).first()
    try:
        with transaction.atomic():
            grant = CareGrant.objects.create(
                patient=patient,
                email=email,
                scopes=sorted(set(scopes)),
                expires_at=expires_at,
                grantee=None,
            )
    except IntegrityError as exc:
        raise AlreadyInvitedError() from exc
    record(
        actor=patient,
        action="family.invite",
        object_type="accounts.caregrant",
        object_id=grant.id,
        patient=patient,
        detail={"scopes": grant.scopes},
    )
    who = f"{patient.first_name} {patient.last_name[:1]}.".strip()
    action = "Sign in" if grantee is not None else "Create an account with this email address"
    queue_email(
        to=email,
        kind="family_invite",
        subject="You have been invited to CareConnect",
        body=(
            f"{who} invited you to help with their care on CareConnect.\n\n{action}, then open "
            f"this link to see the invitation and accept it:\n\n"
            f"{app_link(f'/family/accept?grant={grant.id}')}\n"
        ),
    )
    return grant


@transaction.atomic
def accept_grant(*, user: User, grant_id: UUID) -> CareGrant:
    grant = CareGrant.objects.select_for_update().filter(id=grant_id).first()
    if grant is None:
        raise NotFoundError()
    if not user.email or grant.email.lower() != user.email.lower():
        raise WrongAccountError()
    if grant.status != CareGrant.Status.PENDING:
        raise GrantNotPendingError()
    if grant.effective_status() == "expired":
        raise GrantExpiredError()
    if grant.patient_id == user.id:
        raise InvalidInputError("You cannot accept your own invitation.")
    grant.grantee = user
    grant.status = CareGrant.Status.ACTIVE
    grant.accepted_at = timezone.now()
    grant.save(update_fields=["grantee", "status", "accepted_at"])
    if Role.PATIENT not in user_roles(user):
        RoleAssignment.objects.get_or_create(user=user, role=Role.PATIENT, center=None)
    record(
        actor=user,
        action="family.accept",
        object_type="accounts.caregrant",
        object_id=grant.id,
        patient=grant.patient,
        acting_for=grant.patient,
    )
    return grant


@transaction.atomic
def revoke_grant(*, patient: User, grant_id: UUID) -> CareGrant:
    grant = CareGrant.objects.select_for_update().filter(id=grant_id, patient=patient).first()
    if grant is None or grant.relationship == CareGrant.Relationship.GUARDIAN:
        raise NotFoundError()
    if grant.status == CareGrant.Status.REVOKED:
        raise AlreadyRevokedError()
    grant.status = CareGrant.Status.REVOKED
    grant.revoked_at = timezone.now()
    grant.save(update_fields=["status", "revoked_at"])
    record(
        actor=patient,
        action="family.revoke",
        object_type="accounts.caregrant",
        object_id=grant.id,
        patient=patient,
    )
    return grant


@transaction.atomic
def add_dependent(*, guardian: User, first_name: str, last_name: str, date_of_birth: Any) -> User:
    if Role.PATIENT not in user_roles(guardian):
        raise PermissionDeniedError("Only patient accounts can add dependents.")
    child = User(
        first_name=first_name,
        last_name=last_name,
        email=None,
        is_dependent=True,
        email_confirmed_at=None,
    )
    child.set_unusable_password()
    child.save()
    RoleAssignment.objects.create(user=child, role=Role.PATIENT)
    _write_personal(child, {"date_of_birth": date_of_birth.isoformat()})
    CareGrant.objects.create(
        patient=child,
        grantee=guardian,
        email=guardian.email or "",
        scopes=ALL_SCOPES,
        relationship=CareGrant.Relationship.GUARDIAN,
        status=CareGrant.Status.ACTIVE,
        accepted_at=timezone.now(),
    )
    record(
        actor=guardian,
        action="family.add_dependent",
        object_type="accounts.user",
        object_id=child.id,
        patient=child,
        acting_for=child,
    )
    return child


def read_dependent(*, guardian: User, child: User) -> dict[str, Any]:
    personal = _read_personal(child)
    record(
        actor=guardian,
        action="profile.read",
        object_type="accounts.profile",
        object_id=child.id,
        patient=child,
        acting_for=child,
        detail={"fields": ["date_of_birth"]},
    )
    return {
        "id": child.id,
        "first_name": child.first_name,
        "last_name": child.last_name,
        "date_of_birth": personal["date_of_birth"],
    }


def is_guardian(user: User, patient: User) -> bool:
    return CareGrant.objects.filter(
        patient=patient,
        grantee=user,
        relationship=CareGrant.Relationship.GUARDIAN,
        status=CareGrant.Status.ACTIVE,
    ).exists()


# ---------------------------------------------------------------- centers and staff


def require_center_admin(actor: User, center_id: UUID) -> MedicalCenter:
    center = MedicalCenter.objects.filter(id=center_id).first()
    if center is None:
        raise NotFoundError()
    is_admin = RoleAssignment.objects.filter(
        user=actor, role=Role.CENTER_ADMIN, center=center
    ).exists()
    if not (is_admin or actor.is_superuser):
        raise NotCenterAdminError()
    return center


@transaction.atomic
def update_center(*, actor: User, center_id: UUID, data: dict[str, Any]) -> MedicalCenter:
    require_center_admin(actor, center_id)
    center = MedicalCenter.objects.select_for_update().get(id=center_id)
    for name, value in data.items():
        setattr(center, name, value)
    if data:
        center.save(update_fields=list(data))
    record(
        actor=actor,
        action="center.update",
        object_type="accounts.medicalcenter",
        object_id=center.id,
        detail={"fields": sorted(data)},
    )
    return center


@transaction.atomic
def invite_staff(*, actor: User, center_id: UUID, email: str, role: str) -> StaffInvitation:
    center = require_center_admin(actor, center_id)
    email = normalize_email(email)
    if User.objects.filter(email__iexact=email).exists():
        raise AccountExistsError()
    token, token_hash = new_secret_token()
    try:
        with transaction.atomic():
            invitation = StaffInvitation.objects.create(
                center=center, email=email, role=role, token_hash=token_hash, invited_by=actor
            )
    except IntegrityError as exc:
        raise AlreadyInvitedError("This email already has a pending invitation.") from exc
    record(
        actor=actor,
        action="center.invite_staff",
        object_type="accounts.staffinvitation",
        object_id=invitation.id,
        detail={"role": role},
    )
    queue_email(
        to=email,
        kind="staff_invite",
        subject=f"Join {center.name} on CareConnect",
        body=(
            f"{actor.full_name} invited you to join {center.name} on CareConnect as a {role}.\n\n"
            f"Create your account here (the link works for 7 days):\n\n"
            f"{app_link(f'/staff/accept?token={token}')}\n"
        ),
    )
    return invitation


@transaction.atomic
def accept_staff_invitation(*, token: str, first_name: str, last_name: str, password: str) -> User:
    invitation = (
        StaffInvitation.objects.select_for_update()
        .filter(token_hash=hash_token(token), status=StaffInvitation.Status.PENDING)
        .select_related("center")
        .first()
    )
    max_age = settings.STAFF_INVITATION_MAX_AGE
    if invitation is None or (timezone.now() - invitation.created_at).total_seconds() > max_age:
        raise InvalidTokenError("This invitation link is invalid, used or expired.")
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise AccountExistsError()
    probe = User(email=invitation.email, first_name=first_name, last_name=last_name)
    _validate_new_password(password, probe)
    user = User.objects.create_user(
        email=invitation.email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        email_confirmed_at=timezone.now(),
    )
    RoleAssignment.objects.create(user=user, role=invitation.role, center=invitation.center)
    if invitation.role == Role.DOCTOR:
        DoctorProfile.objects.create(user=user, center=invitation.center)
    invitation.status = StaffInvitation.Status.ACCEPTED
    invitation.accepted_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["status", "accepted_at", "user"])
    record(
        actor=user,
        action="center.join",
        object_type="accounts.staffinvitation",
        object_id=invitation.id,
    )
    return user


# ---------------------------------------------------------------- doctor profile


@transaction.atomic
def update_doctor_profile(*, actor: User, data: dict[str, Any]) -> DoctorProfile:
    doctor = DoctorProfile.objects.select_for_update().filter(user=actor).first()
    if doctor is None:
        raise NotFoundError("You do not have a doctor profile.")
    fields: list[str] = []
    for name in ("bio", "languages", "license_number"):
        if name in data:
            setattr(doctor, name, data[name])
            fields.append(name)
    currencies = set()
    for name in ("fee_online", "fee_in_person"):
        if name in data:
            money = data[name]
            setattr(doctor, name, None if money is None else Decimal(money["amount"]))
            if money is not None:
                currencies.add(money["currency"])
            fields.append(name)
    if len(currencies) > 1:
        raise InvalidInputError(
            "Both fees must use the same currency.",
            fee_in_person=["Use the same currency as the online fee."],
        )
    if currencies:
        doctor.currency = currencies.pop()
        fields.append("currency")
    if fields:
        doctor.save(update_fields=[*fields, "updated_at"])
    if "specialties" in data:
        slugs = list(dict.fromkeys(data["specialties"]))
        found = list(Specialty.objects.filter(slug__in=slugs))
        if len(found) != len(slugs):
            missing = sorted(set(slugs) - {s.slug for s in found})
            raise InvalidInputError(
                "Unknown specialty.", specialties=[f"Unknown: {', '.join(missing)}"]
            )
        doctor.specialties.set(found)
    record(
        actor=actor,
        action="doctor.update_profile",
        object_type="accounts.doctorprofile",
        object_id=doctor.id,
        detail={"fields": sorted(data)},
    )
    return doctor


_IMAGE_SIGNATURES = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png"}


@transaction.atomic
def set_doctor_photo(*, actor: User, upload: UploadedFile[Any]) -> DoctorProfile:
    doctor = DoctorProfile.objects.select_for_update().filter(user=actor).first()
    if doctor is None:
        raise NotFoundError("You do not have a doctor profile.")
    if upload.size is None or upload.size > settings.DOCTOR_PHOTO_MAX_BYTES:
        raise TooLargeError("The photo must be at most 2 MB.")
    head = upload.read(16)
    upload.seek(0)
    extension = next((ext for sig, ext in _IMAGE_SIGNATURES.items() if head.startswith(sig)), None)
    if extension is None:
        raise InvalidInputError(
            "The photo must be a JPEG or PNG image.", photo=["Not a JPEG or PNG image."]
        )
    relative = f"doctors/{doctor.id}-{secrets.token_hex(6)}.{extension}"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    old = doctor.photo
    doctor.photo = relative
    doctor.save(update_fields=["photo", "updated_at"])
    if old:
        transaction.on_commit(lambda: (Path(settings.MEDIA_ROOT) / old).unlink(missing_ok=True))
    record(
        actor=actor,
        action="doctor.update_photo",
        object_type="accounts.doctorprofile",
        object_id=doctor.id,
    )
    return doctor
