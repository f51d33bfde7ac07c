"""Who may act on which patient (DESIGN §5): the patient, a family member within a live
grant holding the needed scope, a guardian of a dependent, or a clinician caring for them.
Everyone else gets 404, so the existence of a patient is never revealed."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.utils import timezone

from careconnect.accounts.models import CareGrant, CareRelationship, Role, User
from careconnect.errors import NotFoundError, PermissionDeniedError


class ScopeMissingError(PermissionDeniedError):
    code = "scope_missing"
    default_message = "Your access to this patient does not include that."


class GrantInactiveError(PermissionDeniedError):
    code = "grant_inactive"
    default_message = "Your access to this patient has ended (revoked or expired)."


@dataclass(frozen=True, slots=True)
class PatientAccess:
    patient: User
    acting_for: bool  # a proxy (family member or guardian) acting for the patient
    clinician: bool = False


def _patient_or_404(patient_id: UUID | str) -> User:
    try:
        return User.objects.get(id=patient_id, is_active=True)
    except (User.DoesNotExist, ValueError) as exc:
        raise NotFoundError() from exc


def role_pairs(user: User) -> list[tuple[str, UUID | None]]:
    """(role, center id) pairs of a user, fetched once per request-bound user object."""
    cached: list[tuple[str, UUID | None]] | None = getattr(user, "_role_pairs", None)
    if cached is None:
        cached = list(user.role_assignments.values_list("role", "center_id"))
        user._role_pairs = cached  # type: ignore[attr-defined]
    return cached


def has_role_pairs(user: User) -> bool:
    return getattr(user, "_role_pairs", None) is not None


def remember_role_pairs(user: User, pairs: list[tuple[str, UUID | None]]) -> None:
    """Keep (role, center id) pairs a caller fetched along with other data (one query less);
    pairs already fetched for this user object win."""
    if not has_role_pairs(user):
        user._role_pairs = pairs  # type: ignore[attr-defined]


def user_roles(user: User) -> set[str]:
    roles = {role for role, _ in role_pairs(user)}
    if user.is_superuser:
        roles.add(Role.PLATFORM_ADMIN)
    return roles


def staff_center_id(user: User) -> UUID | None:
    """The center a staff member works at (the admin's center first)."""
    pairs = sorted(role_pairs(user), key=lambda pair: pair[0] != Role.CENTER_ADMIN)
    return next((center for _, center in pairs if center is not None), None)


def resolve_patient_access(*, actor: User, patient_id: UUID | str, scope: str) -> PatientAccess:
    """Decide access of `actor` to `patient_id` for `scope` (a grant scope). Call per request:
    revocation and expiry take effect on the very next call."""
    if str(actor.id) == str(patient_id):
        return PatientAccess(patient=actor, acting_for=False)
    patient = _patient_or_404(patient_id)
    grants = list(CareGrant.objects.filter(patient=patient, grantee=actor).order_by("-created_at"))
    now = timezone.now()
    live = [
        g
        for g in grants
        if g.status == CareGrant.Status.ACTIVE and g.effective_status(now) == "active"
    ]
    if live:
        if any(scope in g.scopes for g in live):
            return PatientAccess(patient=patient, acting_for=True)
        raise ScopeMissingError()
    is_clinician = bool(user_roles(actor) & {Role.DOCTOR, Role.NURSE})
    if (
        scope == "view_records"
        and is_clinician
        and CareRelationship.objects.filter(patient=patient, clinician=actor).exists()
    ):
        return PatientAccess(patient=patient, acting_for=False, clinician=True)
    if any(g.status != CareGrant.Status.PENDING for g in grants):
        raise GrantInactiveError()
    raise NotFoundError()
