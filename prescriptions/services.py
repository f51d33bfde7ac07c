"""Prescription writes (issue 7): prescribe after a consult with safety checks and re-auth,
cancel, refills, pharmacy sends, medication reminders, expiry. Every state change is one
transaction; every PHI read and write is audited; cards and notifications follow on commit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from booking.models import Appointment
from careconnect.accounts.access import resolve_patient_access, user_roles
from careconnect.accounts.keys import ensure_data_key
from careconnect.accounts.models import CareRelationship, DoctorProfile, Role, User
from careconnect.accounts.services import read_birth_date, verify_second_factor
from careconnect.audit.services import record
from careconnect.crypto.services import open_json, seal_json
from careconnect.errors import (
    ApplicationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
)
from careconnect.notifications.models import Kind
from careconnect.notifications.services import app_link, notify
from chat.models import CardState, Conversation
from chat.registry import ActionResult
from chat.services import display_name, ensure_conversation, post_card, update_cards
from consult.models import Consult
from prescriptions import checks, selectors, vocab
from prescriptions.documents import (
    DocItem,
    DocPatient,
    DocPrescriber,
    PrescriptionDocument,
)
from prescriptions.models import (
    Medication,
    Pharmacy,
    PharmacySend,
    PreferredPharmacy,
    Prescription,
    RefillRequest,
)

ISSUE = "prescriptions.issue_prescription"
REFILL = "prescriptions.request_refill"
SEND = "prescriptions.send_to_pharmacy"
INBOX_SALT = "prescriptions.pharmacy-inbox"
INBOX_DAYS = 14


# ------------------------------------------------------------------ errors


class DoctorsOnlyError(PermissionDeniedError):
    code = "doctors_only"
    default_message = "Only doctors prescribe."


class NoRecentConsultError(PermissionDeniedError):
    code = "no_recent_consult"
    default_message = (
        "You can prescribe for this patient while a consult with them is live and up to "
        f"{vocab.PRESCRIBE_WINDOW_DAYS} days after a completed appointment with them."
    )


class ReauthRequiredError(PermissionDeniedError):
    code = "reauth_required"
    default_message = "Confirm it's you: enter your password or an authentication code."


class ReauthFailedError(PermissionDeniedError):
    code = "reauth_failed"
    default_message = "That password or code is not right."


class OverrideRequiredError(ApplicationError):
    code = "override_required"
    status = 400
    default_message = "Contraindicated and major findings need a reason to override before signing."


class NotActiveError(ConflictError):
    code = "prescription_not_active"
    default_message = "This prescription is no longer active."


class RefillNeedsReviewError(ConflictError):
    code = "refill_needs_review"
    default_message = (
        "The patient's record has changed since this was prescribed, and the safety check now "
        "finds something that needs your review: write a new prescription instead."
    )


class NoRefillsLeftError(ConflictError):
    code = "no_refills_left"
    default_message = "This prescription has no refills left. Ask your doctor for a new one."


class RefillPendingError(ConflictError):
    code = "refill_pending"
    default_message = "A refill request for this prescription is already waiting for the doctor."


class RefillDecidedError(ConflictError):
    code = "refill_already_decided"
    default_message = "This refill request has already been decided."


class NoPharmacyError(InvalidInputError):
    code = "no_pharmacy"
    default_message = "Choose a pharmacy (or set a preferred one) first."


# ------------------------------------------------------------------ helpers


def _aad(prescription_id: UUID, field: str) -> str:
    return f"prescriptions.prescription:{prescription_id}:{field}"


def _seal(prescription: Prescription, field: str, value: Any) -> bytes:
    return seal_json(ensure_data_key(prescription.patient), value, aad=_aad(prescription.id, field))


def _open(prescription: Prescription, field: str, sealed: Any) -> Any:
    if not sealed:
        return None
    return open_json(
        ensure_data_key(prescription.patient), sealed, aad=_aad(prescription.id, field)
    )


def _tell_patient(
    prescription: Prescription, *, event: str, key: str, title: str, body: str
) -> None:
    """A notification about a prescription: who did what, never what was prescribed."""
    notify(
        recipient=prescription.patient,
        kind=Kind.PRESCRIPTION,
        event=event,
        key=key,
        title=title,
        body=body,
        link=app_link(f"/prescriptions/{prescription.id}"),
        center_id=prescription.doctor.center_id,
        subject=("prescriptions.prescription", prescription.id),
    )


def _doctor_profile(actor: User) -> DoctorProfile:
    if Role.DOCTOR not in user_roles(actor):
        raise DoctorsOnlyError()
    profile = DoctorProfile.objects.select_related("user", "center").filter(user=actor).first()
    if profile is None:
        raise DoctorsOnlyError("You need a doctor profile to prescribe.")
    return profile


def reauthenticate(*, user: User, password: str = "", otp: str = "") -> None:
    """Signing asks again for the password or a current second factor (TOTP or backup code).
    Wrong answers are counted per user (in the cache, so a rolled-back signing still counts):
    after REAUTH_MAX_FAILURES of them, re-authentication is refused until the lockout ends,
    so a session left open cannot be used to guess the password."""
    if not otp and not password:
        raise ReauthRequiredError()
    count_key, until_key = _reauth_keys(user)
    now = timezone.now().timestamp()
    if int(cache.get(count_key) or 0) >= settings.REAUTH_MAX_FAILURES:
        until = float(cache.get(until_key) or now + settings.REAUTH_LOCKOUT_SECONDS)
        minutes = max(1, round((until - now) / 60))
        raise ThrottledError(
            f"Too many wrong passwords or codes. Try again in {minutes} minute"
            f"{'' if minutes == 1 else 's'}.",
            retry_after=int(until - now),
        )
    try:
        if otp:
            if not user.mfa_enabled:
                raise ReauthFailedError("Two-factor authentication is not on: use your password.")
            try:
                verify_second_factor(user=user, otp=otp)
            except ApplicationError as exc:
                raise ReauthFailedError() from exc
        elif not user.check_password(password):
            raise ReauthFailedError()
    except ReauthFailedError as failed:
        _count_reauth_failure(count_key, until_key, now)
        # Written when the error is answered, after the signing's transaction rolled back.
        failed.audit = {
            "actor": user,
            "action": "account.reauth_failed",
            "object_type": "accounts.user",
            "object_id": user.id,
        }
        raise
    cache.delete_many([count_key, until_key])
    record(
        actor=user,
        action="account.reauth",
        object_type="accounts.user",
        object_id=user.id,
        detail={"method": "otp" if otp else "password"},
    )


def _reauth_keys(user: User) -> tuple[str, str]:
    return f"reauth-failures:{user.id}", f"reauth-window:{user.id}"


def _count_reauth_failure(count_key: str, until_key: str, now: float) -> None:
    """One more wrong answer; the window starts at the first one (atomic on Redis)."""
    window = settings.REAUTH_LOCKOUT_SECONDS
    cache.add(until_key, now + window, timeout=window)
    cache.add(count_key, 0, timeout=window)
    try:
        cache.incr(count_key)
    except ValueError:  # expired between add and incr: this failure opens a new window
        cache.set(count_key, 1, timeout=window)


def prescribing_appointment(
    *, doctor: DoctorProfile, patient_id: UUID | str, appointment_id: UUID | str | None = None
) -> Appointment:
    try:
        patient_id = UUID(str(patient_id))
    except ValueError as exc:
        raise NotFoundError() from exc
    """The appointment a prescription follows: a live consult with the patient, or an
    appointment with them completed in the last 7 days. A patient the doctor never saw is a
    404 (their existence is not revealed); one seen too long ago is a clear refusal."""
    mine = Appointment.objects.filter(doctor=doctor, patient_id=patient_id).select_related(
        "patient"
    )
    if (
        not CareRelationship.objects.filter(patient_id=patient_id, clinician=doctor.user).exists()
        and not mine.exists()
    ):
        raise NotFoundError()
    if appointment_id:
        mine = mine.filter(id=appointment_id)
    now = timezone.now()
    since = now - timedelta(days=vocab.PRESCRIBE_WINDOW_DAYS)
    # A consult that took place (the patient's side was admitted): live now, or ended within the window
    # (a consult held ahead of its booked time is done when the doctor ends it).
    consulted = Consult.objects.filter(
        participants__admitted=True, participants__role__in=("patient", "proxy")
    ).filter(Q(status=Consult.Status.OPEN) | Q(ended_at__gte=since))
    qualifying = mine.filter(
        Q(id__in=consulted.values("appointment_id"))
        | Q(status=Appointment.Status.COMPLETED, start__lte=now, end__gte=since)
    ).order_by("-start")
    found = qualifying.first()
    if found is None:
        raise NoRecentConsultError()
    return found


# ------------------------------------------------------------------ safety checks


@dataclass(frozen=True, slots=True)
class CheckedDrug:
    medication: Medication | None
    name: str


def _resolve_names(medications: list[str]) -> list[CheckedDrug]:
    out = []
    for raw in medications:
        text = str(raw).strip()[:200]
        if not text:
            continue
        found = selectors.find_medication(text)
        out.append(CheckedDrug(found, found.name if found else text))
    return out


def _run_checks(
    *, patient: User, new: list[CheckedDrug], exclude: UUID | None = None
) -> checks.CheckResult:
    return checks.check(
        new=[selectors.drug_of(d.medication, name=d.name, new=True) for d in new],
        active=selectors.active_drugs(patient, exclude=exclude),
        allergies=selectors.allergies_of(patient),
        rules=selectors.rule_index(),
        class_aliases=selectors.class_aliases(),
    )


@transaction.atomic
def check_prescription(
    *, actor: User, patient_id: UUID | str, medications: list[str]
) -> checks.CheckResult:
    """The inline check while a doctor writes: reads the patient's allergies and active
    medications (an audited read)."""
    doctor = _doctor_profile(actor)
    access = resolve_patient_access(actor=actor, patient_id=patient_id, scope="view_records")
    if not access.clinician and access.patient.id != actor.id:
        raise NotFoundError()
    del doctor
    result = _run_checks(patient=access.patient, new=_resolve_names(medications))
    record(
        actor=actor,
        action="prescription.check",
        object_type="accounts.user",
        object_id=access.patient.id,
        patient=access.patient,
        detail={"findings": len(result.findings), "no_data": len(result.no_data)},
    )
    return result


# ------------------------------------------------------------------ issuing


def _text(value: Any, field: str, *, limit: int, required: bool = True) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise InvalidInputError(f"{field}: this field is required.", **{field: ["Required."]})
    if len(text) > limit:
        raise InvalidInputError(
            f"{field}: at most {limit} characters.", **{field: [f"At most {limit} characters."]}
        )
    return text


def _int(value: Any, field: str, low: int, high: int, message: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{field}: a whole number is required.", **{field: ["A whole number is required."]}
        ) from exc
    if isinstance(value, float) and value != number:
        raise InvalidInputError(
            f"{field}: a whole number is required.", **{field: ["A whole number is required."]}
        )
    if not low <= number <= high:
        raise InvalidInputError(message, **{field: [message]})
    return number


def clean_items(raw_items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[CheckedDrug]]:
    """Validate the items of a prescription (bad input gets a clear 400 naming the item)."""
    if not raw_items:
        raise InvalidInputError("Add at least one medication.", items=["Add at least one."])
    if len(raw_items) > vocab.MAX_ITEMS:
        raise InvalidInputError(
            f"At most {vocab.MAX_ITEMS} medications per prescription.",
            items=[f"At most {vocab.MAX_ITEMS}."],
        )
    ids = [UUID(str(i["medication"])) for i in raw_items if i.get("medication")]
    catalog = selectors.get_medications(ids)
    cleaned, drugs = [], []
    for n, raw in enumerate(raw_items):
        try:
            item, drug = _clean_item(raw, catalog)
        except InvalidInputError as exc:
            raise InvalidInputError(
                f"Medication {n + 1}: {exc.message}", items={str(n): exc.fields}
            ) from exc
        cleaned.append(item)
        drugs.append(drug)
    return cleaned, drugs


def _clean_item(
    raw: dict[str, Any], catalog: dict[UUID, Medication]
) -> tuple[dict[str, Any], CheckedDrug]:
    medication: Medication | None = None
    if raw.get("medication"):
        medication = catalog.get(UUID(str(raw["medication"])))
        if medication is None:
            raise InvalidInputError(
                "That medication is not in the catalog.", medication=["Not in the catalog."]
            )
        name = medication.name
    elif raw.get("free_text"):
        name = _text(raw.get("name"), "name", limit=120)
    else:
        raise InvalidInputError(
            "Choose a medication from the catalog, or mark it as free text.",
            medication=["Choose from the catalog or mark as free text."],
        )
    frequency = str(raw.get("frequency", ""))
    if frequency not in vocab.FREQUENCIES:
        raise InvalidInputError("Unknown frequency.", frequency=["Unknown frequency."])
    route = str(raw.get("route", ""))
    if route not in vocab.ROUTES:
        raise InvalidInputError("Unknown route.", route=["Unknown route."])
    schedule = medication.controlled if medication else ""
    max_refills = (
        0 if schedule == "II" else vocab.MAX_REFILLS_CONTROLLED if schedule else vocab.MAX_REFILLS
    )
    refills = _int(
        raw.get("refills", 0),
        "refills",
        0,
        max_refills,
        f"At most {max_refills} refills for {name}"
        + (f" (schedule {schedule})." if schedule else "."),
    )
    item = {
        "medication": str(medication.id) if medication else None,
        "name": name,
        "rxnorm": medication.rxnorm if medication else "",
        "free_text": medication is None,
        "strength": _text(
            raw.get("strength"), "strength", limit=60, required=medication is not None
        ),
        "form": _text(raw.get("form"), "form", limit=60, required=False),
        "dose": _text(raw.get("dose"), "dose", limit=60),
        "route": route,
        "frequency": frequency,
        "duration_days": _int(
            raw.get("duration_days"),
            "duration_days",
            1,
            vocab.MAX_DURATION_DAYS,
            f"Duration must be 1 to {vocab.MAX_DURATION_DAYS} days.",
        ),
        "quantity": _int(
            raw.get("quantity"),
            "quantity",
            1,
            vocab.MAX_QUANTITY,
            f"Quantity must be 1 to {vocab.MAX_QUANTITY}.",
        ),
        "refills": refills,
        "instructions": _text(raw.get("instructions"), "instructions", limit=1000, required=False),
        "substitution_allowed": bool(raw.get("substitution_allowed", True)),
    }
    return item, CheckedDrug(medication, name)


def _verification_code() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a counter
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def medicines_line(items: list[dict[str, Any]]) -> str:
    return "; ".join(
        " ".join(p for p in (i["name"], i.get("strength", ""), i.get("form", "")) if p)
        for i in items
    )


def _create(
    *,
    doctor: DoctorProfile,
    patient: User,
    appointment: Appointment | None,
    items: list[dict[str, Any]],
    overrides: list[dict[str, Any]],
    signer: User,
    refill_of: Prescription | None = None,
) -> Prescription:
    now = timezone.now()
    for _attempt in range(5):
        prescription = Prescription(
            patient=patient,
            doctor=doctor,
            appointment=appointment,
            refill_of=refill_of,
            item_count=len(items),
            verification_code=_verification_code(),
            issued_at=now,
            expires_at=now + timedelta(days=vocab.VALID_DAYS),
            signed_by=signer,
        )
        prescription.items_sealed = seal_json(
            ensure_data_key(patient), items, aad=selectors.items_aad(prescription.id)
        )
        if overrides:
            prescription.overrides_sealed = _seal(prescription, "overrides", overrides)
        try:
            with transaction.atomic():
                prescription.save(force_insert=True)
            break
        except IntegrityError:
            if Prescription.objects.filter(
                verification_code=prescription.verification_code
            ).exists():
                continue  # a code collision (1 in 10^18): draw again
            raise
    else:  # pragma: no cover - five collisions in a row
        raise ConflictError("Could not issue a verification code; try again.")
    CareRelationship.objects.get_or_create(
        patient=patient, clinician=doctor.user, defaults={"source": "prescription"}
    )
    conversation, _ = ensure_conversation(patient=patient, doctor=doctor)
    post_card(
        conversation=conversation,
        name=ISSUE,
        result=ActionResult(
            issue_card(prescription), prescription, CardState.COMPLETED, medicines_line(items)
        ),
        sender=signer,
    )
    _tell_patient(
        prescription,
        event="prescription_issued",
        key=f"prescription.issued:{prescription.id}",
        title=f"{doctor} sent you a prescription",
        body=f"{doctor} sent you a prescription. Open the app to see it and send it to a pharmacy.",
    )
    return prescription


def issue_card(prescription: Prescription) -> dict[str, Any]:
    return {
        "prescription": str(prescription.id),
        "doctor_name": str(prescription.doctor),
        "item_count": prescription.item_count,
        "status": prescription.status,
        "issued_at": prescription.issued_at.isoformat(),
        "refill_of": str(prescription.refill_of_id) if prescription.refill_of_id else None,
    }


@transaction.atomic
def issue_prescription(
    *,
    actor: User,
    patient_id: UUID | str,
    items: list[dict[str, Any]],
    appointment_id: UUID | str | None = None,
    overrides: list[dict[str, Any]] | None = None,
    password: str = "",
    otp: str = "",
) -> Prescription:
    """A doctor signs a prescription: window, items, safety findings with overrides, then the
    doctor's password or code again. Nothing is written unless all of it holds."""
    doctor = _doctor_profile(actor)
    appointment = prescribing_appointment(
        doctor=doctor, patient_id=patient_id, appointment_id=appointment_id
    )
    patient = appointment.patient
    cleaned, drugs = clean_items(items)
    result = _run_checks(patient=patient, new=drugs)
    reasons: dict[str, str] = {}
    for override in overrides or []:
        reason = " ".join(str(override.get("reason", "")).split())[:500]
        if reason:
            reasons[str(override.get("finding", ""))] = reason
    missing = [f.id for f in result.findings if f.requires_override and f.id not in reasons]
    if missing:
        raise OverrideRequiredError(findings=missing)
    reauthenticate(user=actor, password=password, otp=otp)
    stored_overrides = [
        {
            "finding": f.id,
            "kind": f.kind,
            "severity": f.severity,
            "message": f.message,
            "medications": list(f.medications),
            "source": f.source,
            "reason": reasons[f.id],
        }
        for f in result.findings
        if f.id in reasons
    ]
    prescription = _create(
        doctor=doctor,
        patient=patient,
        appointment=appointment,
        items=cleaned,
        overrides=stored_overrides,
        signer=actor,
    )
    record(
        actor=actor,
        action="prescription.issue",
        object_type="prescriptions.prescription",
        object_id=prescription.id,
        patient=patient,
        detail={
            "items": len(cleaned),
            "findings": [f.id for f in result.findings],
            "no_data": len(result.no_data),
            "overrides": [o["finding"] for o in stored_overrides],
        },
    )
    for override in stored_overrides:
        record(
            actor=actor,
            action="prescription.override",
            object_type="prescriptions.prescription",
            object_id=prescription.id,
            patient=patient,
            detail={"finding": override["finding"], "severity": override["severity"]},
        )
    return prescription


# ------------------------------------------------------------------ reading


@dataclass(frozen=True, slots=True)
class PrescriptionAccess:
    prescription: Prescription
    patient_side: bool  # the patient or a proxy acting for them
    acting_for: bool
    prescriber: bool  # the doctor who signed it


def access_prescription(*, actor: User, prescription_id: UUID | str) -> PrescriptionAccess:
    """The patient, a proxy with `view_records`, the prescribing doctor, or a doctor caring
    for the patient; everyone else gets 404."""
    prescription = selectors.get_prescription(prescription_id=prescription_id)
    if prescription.doctor.user_id == actor.id:
        return PrescriptionAccess(prescription, False, False, True)
    try:
        access = resolve_patient_access(
            actor=actor, patient_id=prescription.patient_id, scope="view_records"
        )
    except PermissionDeniedError as exc:
        raise NotFoundError() from exc
    if access.clinician:
        if Role.DOCTOR not in user_roles(actor):
            raise NotFoundError()
        return PrescriptionAccess(prescription, False, False, False)
    return PrescriptionAccess(prescription, True, access.acting_for, False)


def _audit_read(actor: User, access: PrescriptionAccess, action: str) -> None:
    p = access.prescription
    record(
        actor=actor,
        action=action,
        object_type="prescriptions.prescription",
        object_id=p.id,
        patient=p.patient,
        acting_for=p.patient if access.acting_for else None,
    )


def _expire_if_lapsed(prescription: Prescription, now: datetime | None = None) -> None:
    """A read never shows a lapsed prescription as active, even before the sweep ran."""
    now = now or timezone.now()
    if prescription.status == Prescription.Status.ACTIVE and prescription.expires_at <= now:
        prescription.status = Prescription.Status.EXPIRED


@dataclass(frozen=True, slots=True)
class PrescriptionView:
    prescription: Prescription
    items: list[dict[str, Any]]
    overrides: list[dict[str, Any]]
    cancel_reason: str
    refill: RefillRequest | None
    decline_reason: str
    access: PrescriptionAccess


def _view(access: PrescriptionAccess) -> PrescriptionView:
    p = access.prescription
    _expire_if_lapsed(p)
    refill = selectors.latest_refill(p)
    decline = ""
    if refill is not None and refill.decline_reason_sealed:
        decline = str(_open(p, f"refill:{refill.id}", refill.decline_reason_sealed) or "")
    return PrescriptionView(
        prescription=p,
        items=selectors.open_items(p),
        overrides=_open(p, "overrides", p.overrides_sealed) or [],
        cancel_reason=str(_open(p, "cancel_reason", p.cancel_reason_sealed) or ""),
        refill=refill,
        decline_reason=decline,
        access=access,
    )


def read_prescription(*, actor: User, prescription_id: UUID | str) -> PrescriptionView:
    access = access_prescription(actor=actor, prescription_id=prescription_id)
    _audit_read(actor, access, "prescription.read")
    return _view(access)


def list_prescriptions(
    *, actor: User, patient_id: UUID | str | None = None, status: str | None = None
) -> list[PrescriptionView]:
    """A patient's prescriptions (theirs, a proxy's with `view_records`, or a doctor caring
    for them); without `patient`, a doctor's own prescriptions, else the actor's own."""
    if patient_id:
        access = resolve_patient_access(actor=actor, patient_id=patient_id, scope="view_records")
        if access.clinician and Role.DOCTOR not in user_roles(actor):
            raise NotFoundError()
        found = selectors.list_for_patient(access.patient, status=status)
        patient_side, acting_for = not access.clinician, access.acting_for
        record(
            actor=actor,
            action="prescription.list",
            object_type="accounts.user",
            object_id=access.patient.id,
            patient=access.patient,
            acting_for=access.patient if acting_for else None,
        )
    elif Role.DOCTOR in user_roles(actor):
        found = selectors.list_for_doctor(actor, status=status)
        patient_side, acting_for = False, False
        record(
            actor=actor,
            action="prescription.list",
            object_type="accounts.user",
            object_id=actor.id,
            detail={"prescriber": True},
        )
    else:
        found = selectors.list_for_patient(actor, status=status)
        patient_side, acting_for = True, False
        record(
            actor=actor,
            action="prescription.list",
            object_type="accounts.user",
            object_id=actor.id,
            patient=actor,
        )
    return [
        _view(PrescriptionAccess(p, patient_side, acting_for, p.doctor.user_id == actor.id))
        for p in found
    ]


def document_of(view: PrescriptionView) -> PrescriptionDocument:
    p = view.prescription
    center = p.doctor.center
    birth = read_birth_date(p.patient)
    return PrescriptionDocument(
        id=str(p.id),
        status=p.status,
        issued_at=p.issued_at,
        expires_at=p.expires_at,
        verification_code=p.verification_code,
        verify_url=app_link(f"/verify?code={p.verification_code}"),
        patient=DocPatient(id=str(p.patient_id), name=p.patient.full_name, birth_date=birth),
        prescriber=DocPrescriber(
            id=str(p.doctor.id),
            name=str(p.doctor),
            license_number=p.doctor.license_number,
            center_name=center.name,
            center_address=", ".join(x for x in (center.address, center.city) if x),
            center_phone=center.phone,
        ),
        items=tuple(
            DocItem(
                name=i["name"],
                rxnorm=i.get("rxnorm", ""),
                free_text=bool(i.get("free_text")),
                strength=i.get("strength", ""),
                form=i.get("form", ""),
                dose=i["dose"],
                route=i["route"],
                frequency=i["frequency"],
                duration_days=i["duration_days"],
                quantity=i["quantity"],
                refills=i["refills"],
                instructions=i.get("instructions", ""),
                substitution_allowed=bool(i.get("substitution_allowed", True)),
            )
            for i in view.items
        ),
        refill_of=str(p.refill_of_id) if p.refill_of_id else None,
    )


def export_document(*, actor: User, prescription_id: UUID | str, kind: str) -> PrescriptionDocument:
    """The printable / FHIR form of a prescription for someone allowed to see it (audited as
    an export: the PDF or FHIR leaves the system)."""
    access = access_prescription(actor=actor, prescription_id=prescription_id)
    _audit_read(actor, access, f"prescription.export_{kind}")
    return document_of(_view(access))


def verify_code(*, code: str) -> dict[str, Any]:
    """What a pharmacist may learn from a verification code: that it is genuine and its state;
    no patient data, no medicines."""
    normalised = "".join(c for c in code.upper() if c.isalnum())
    if len(normalised) != 12:
        return {"valid": False}
    formatted = f"{normalised[:4]}-{normalised[4:8]}-{normalised[8:]}"
    p = (
        Prescription.objects.select_related("doctor__user", "doctor__center")
        .filter(verification_code=formatted)
        .first()
    )
    if p is None:
        return {"valid": False}
    _expire_if_lapsed(p)
    record(
        actor=None,
        action="prescription.verify",
        object_type="prescriptions.prescription",
        object_id=p.id,
    )
    return {
        "valid": True,
        "status": p.status,
        "issued_at": p.issued_at,
        "expires_at": p.expires_at,
        "doctor_name": str(p.doctor),
        "center_name": p.doctor.center.name,
        "item_count": p.item_count,
    }


# ------------------------------------------------------------------ cancel, expire


def _ensure_active(prescription: Prescription) -> None:
    _expire_if_lapsed(prescription)
    if prescription.status != Prescription.Status.ACTIVE:
        raise NotActiveError(status=[prescription.status])


@transaction.atomic
def cancel_prescription(*, actor: User, prescription_id: UUID | str, reason: str) -> Prescription:
    access = access_prescription(actor=actor, prescription_id=prescription_id)
    if not access.prescriber:
        raise PermissionDeniedError("Only the prescribing doctor cancels a prescription.")
    reason = _text(reason, "reason", limit=500)
    prescription = selectors.lock_prescription(prescription_id=prescription_id)
    _ensure_active(prescription)
    now = timezone.now()
    prescription.status = Prescription.Status.CANCELLED
    prescription.cancelled_at, prescription.cancelled_by = now, actor
    prescription.cancel_reason_sealed = _seal(prescription, "cancel_reason", reason)
    prescription.save(
        update_fields=[
            "status",
            "cancelled_at",
            "cancelled_by",
            "cancel_reason_sealed",
            "updated_at",
        ]
    )
    for refill in prescription.refill_requests.select_for_update().filter(
        status=RefillRequest.Status.PENDING
    ):
        _decide(refill, actor, RefillRequest.Status.DECLINED, "The prescription was cancelled.")
    update_cards(
        target=prescription,
        state=CardState.CANCELLED,
        payload={"status": "cancelled"},
        actions=[ISSUE],
    )
    record(
        actor=actor,
        action="prescription.cancel",
        object_type="prescriptions.prescription",
        object_id=prescription.id,
        patient=prescription.patient,
    )
    _tell_patient(
        prescription,
        event="prescription_cancelled",
        key=f"prescription.cancelled:{prescription.id}",
        title=f"{prescription.doctor} cancelled a prescription",
        body=f"{prescription.doctor} cancelled one of your prescriptions. The reason is in the app.",
    )
    return prescription


def expire_prescriptions(now: datetime | None = None) -> int:
    """The sweep (beat): active prescriptions past their expiry become expired, one each in
    its own transaction."""
    now = now or timezone.now()
    ids = list(
        Prescription.objects.filter(
            status=Prescription.Status.ACTIVE, expires_at__lte=now
        ).values_list("id", flat=True)[:500]
    )
    done = 0
    for prescription_id in ids:
        with transaction.atomic():
            p = selectors.lock_prescription(prescription_id=prescription_id)
            if p.status != Prescription.Status.ACTIVE or p.expires_at > now:
                continue
            p.status = Prescription.Status.EXPIRED
            p.save(update_fields=["status", "updated_at"])
            update_cards(
                target=p, state=CardState.EXPIRED, payload={"status": "expired"}, actions=[ISSUE]
            )
            record(
                actor=None,
                action="prescription.expire",
                object_type="prescriptions.prescription",
                object_id=p.id,
                patient=p.patient,
            )
            done += 1
    return done


# ------------------------------------------------------------------ refills


def refills_left(items: list[dict[str, Any]]) -> int:
    return max((int(i.get("refills", 0)) for i in items), default=0)


def _patient_side(actor: User, prescription_id: UUID | str) -> PrescriptionAccess:
    access = access_prescription(actor=actor, prescription_id=prescription_id)
    if not access.patient_side:
        raise PermissionDeniedError("Only the patient or their family member can do this.")
    return access


def refill_card(refill: RefillRequest) -> dict[str, Any]:
    return {
        "prescription": str(refill.prescription_id),
        "refill": str(refill.id),
        "status": refill.status,
        "doctor_name": str(refill.prescription.doctor),
        "new_prescription": str(refill.new_prescription_id) if refill.new_prescription_id else None,
    }


def request_refill(
    *, actor: User, prescription_id: UUID | str, via_chat: bool = False
) -> RefillRequest:
    """The patient asks for a refill. Over REST the card is posted here; from the chat the
    action handler posts it (call inside its transaction)."""
    with transaction.atomic():
        access = _patient_side(actor, prescription_id)
        prescription = selectors.lock_prescription(prescription_id=prescription_id)
        _ensure_active(prescription)
        if refills_left(selectors.open_items(prescription)) < 1:
            raise NoRefillsLeftError()
        if prescription.refill_requests.filter(status=RefillRequest.Status.PENDING).exists():
            raise RefillPendingError()
        try:
            with transaction.atomic():
                refill = RefillRequest.objects.create(prescription=prescription, requested_by=actor)
        except IntegrityError as exc:
            raise RefillPendingError() from exc
        record(
            actor=actor,
            action="prescription.refill_request",
            object_type="prescriptions.refillrequest",
            object_id=refill.id,
            patient=prescription.patient,
            acting_for=prescription.patient if access.acting_for else None,
        )
        doctor = prescription.doctor
        if not via_chat:
            conversation, _ = ensure_conversation(patient=prescription.patient, doctor=doctor)
            post_card(
                conversation=conversation,
                name=REFILL,
                result=ActionResult(refill_card(refill), refill, CardState.OPEN),
                sender=actor,
            )
        notify(
            recipient=doctor.user,
            kind=Kind.PRESCRIPTION,
            event="refill_requested",
            key=f"prescription.refill:{refill.id}",
            title="Refill requested",
            body=f"{display_name(actor)} asked for a refill of a prescription you wrote.",
            link=app_link(f"/prescriptions/{prescription.id}"),
            center_id=doctor.center_id,
            subject=("prescriptions.prescription", prescription.id),
        )
        return refill


def _decide(refill: RefillRequest, actor: User, status: str, reason: str = "") -> None:
    refill.status, refill.decided_by, refill.decided_at = status, actor, timezone.now()
    fields = ["status", "decided_by", "decided_at"]
    if reason:
        refill.decline_reason_sealed = _seal(refill.prescription, f"refill:{refill.id}", reason)
        fields.append("decline_reason_sealed")
    refill.save(update_fields=fields)
    update_cards(
        target=refill,
        state=CardState.COMPLETED
        if status == RefillRequest.Status.APPROVED
        else CardState.CANCELLED,
        payload={
            "status": status,
            "new_prescription": str(refill.new_prescription_id)
            if refill.new_prescription_id
            else None,
        },
        actions=[REFILL],
    )


def _own_refill(actor: User, refill_id: UUID | str) -> RefillRequest:
    refill = selectors.lock_refill(refill_id=refill_id)
    if refill.prescription.doctor.user_id != actor.id:
        raise NotFoundError()
    if refill.status != RefillRequest.Status.PENDING:
        raise RefillDecidedError(status=[refill.status])
    return refill


@transaction.atomic
def approve_refill(
    *, actor: User, refill_id: UUID | str, password: str = "", otp: str = ""
) -> Prescription:
    """The prescribing doctor approves: a new prescription linked to the old, each item with
    one refill fewer (items with none left are not renewed); the old one is completed."""
    doctor = _doctor_profile(actor)
    refill = _own_refill(actor, refill_id)
    old = selectors.lock_prescription(prescription_id=refill.prescription_id)
    _ensure_active(old)
    items = [
        {**i, "refills": int(i["refills"]) - 1}
        for i in selectors.open_items(old)
        if int(i.get("refills", 0)) >= 1
    ]
    if not items:
        raise NoRefillsLeftError()
    overrides = _open(old, "overrides", old.overrides_sealed) or []
    _recheck_for_refill(old, items, overrides)
    reauthenticate(user=actor, password=password, otp=otp)
    new = _create(
        doctor=doctor,
        patient=old.patient,
        appointment=old.appointment,
        items=items,
        overrides=overrides,
        signer=actor,
        refill_of=old,
    )
    old.status = Prescription.Status.COMPLETED
    old.save(update_fields=["status", "updated_at"])
    update_cards(
        target=old, state=CardState.COMPLETED, payload={"status": "completed"}, actions=[ISSUE]
    )
    refill.new_prescription = new
    refill.save(update_fields=["new_prescription"])
    _decide(refill, actor, RefillRequest.Status.APPROVED)
    record(
        actor=actor,
        action="prescription.refill_approve",
        object_type="prescriptions.refillrequest",
        object_id=refill.id,
        patient=old.patient,
        detail={"new_prescription": str(new.id)},
    )
    return new


def _recheck_for_refill(
    old: Prescription, items: list[dict[str, Any]], overrides: list[dict[str, Any]]
) -> None:
    """A refill renews what was signed, so the safety check runs again against the patient's
    record as it is now (allergies and medicines added since, other prescriptions). What the
    prescriber already overrode, with a reason, stays overridden; anything new that needs an
    override refuses the approval: that needs a new prescription and a fresh decision."""
    _, drugs = clean_items(items)
    result = _run_checks(patient=old.patient, new=drugs, exclude=old.id)
    overridden = {str(o.get("finding", "")) for o in overrides}
    new_findings = [f.id for f in result.findings if f.requires_override and f.id not in overridden]
    if new_findings:
        raise RefillNeedsReviewError(findings=new_findings)


@transaction.atomic
def decline_refill(*, actor: User, refill_id: UUID | str, reason: str) -> RefillRequest:
    _doctor_profile(actor)
    reason = _text(reason, "reason", limit=500)
    refill = _own_refill(actor, refill_id)
    _decide(refill, actor, RefillRequest.Status.DECLINED, reason)
    prescription = refill.prescription
    record(
        actor=actor,
        action="prescription.refill_decline",
        object_type="prescriptions.refillrequest",
        object_id=refill.id,
        patient=prescription.patient,
    )
    _tell_patient(
        prescription,
        event="refill_declined",
        key=f"prescription.refill_declined:{refill.id}",
        title=f"{prescription.doctor} declined a refill",
        body=f"{prescription.doctor} declined your refill request. The reason is in the app.",
    )
    return refill


# ------------------------------------------------------------------ pharmacies


def _patient_for(actor: User, patient_id: UUID | str | None) -> tuple[User, bool]:
    access = resolve_patient_access(
        actor=actor, patient_id=patient_id or actor.id, scope="view_records"
    )
    if access.clinician:
        raise NotFoundError()
    return access.patient, access.acting_for


@transaction.atomic
def set_preferred_pharmacy(
    *, actor: User, pharmacy_id: UUID | str, patient_id: UUID | str | None = None
) -> Pharmacy:
    patient, acting_for = _patient_for(actor, patient_id)
    pharmacy = selectors.get_pharmacy(pharmacy_id=pharmacy_id)
    PreferredPharmacy.objects.update_or_create(patient=patient, defaults={"pharmacy": pharmacy})
    record(
        actor=actor,
        action="pharmacy.prefer",
        object_type="prescriptions.pharmacy",
        object_id=pharmacy.id,
        patient=patient,
        acting_for=patient if acting_for else None,
    )
    return pharmacy


def read_preferred_pharmacy(
    *, actor: User, patient_id: UUID | str | None = None
) -> Pharmacy | None:
    patient, _ = _patient_for(actor, patient_id)
    return selectors.preferred_pharmacy(patient)


def send_card(send: PharmacySend) -> dict[str, Any]:
    return {
        "prescription": str(send.prescription_id),
        "send": str(send.id),
        "pharmacy": {"id": str(send.pharmacy_id), "name": send.pharmacy.name},
        "status": send.status,
    }


def send_to_pharmacy(
    *,
    actor: User,
    prescription_id: UUID | str,
    pharmacy_id: UUID | str | None = None,
    via_chat: bool = False,
) -> PharmacySend:
    """Queue the prescription for its pharmacy; delivery runs after commit (a task), and the
    send's card follows its outcome."""
    from prescriptions.tasks import deliver_pharmacy_send_task

    with transaction.atomic():
        access = _patient_side(actor, prescription_id)
        prescription = selectors.lock_prescription(prescription_id=prescription_id)
        _ensure_active(prescription)
        if pharmacy_id:
            pharmacy = selectors.get_pharmacy(pharmacy_id=pharmacy_id)
        else:
            preferred = selectors.preferred_pharmacy(prescription.patient)
            if preferred is None:
                raise NoPharmacyError()
            pharmacy = preferred
        send = PharmacySend.objects.create(
            prescription=prescription, pharmacy=pharmacy, sent_by=actor, channel=pharmacy.channel
        )
        record(
            actor=actor,
            action="prescription.send_to_pharmacy",
            object_type="prescriptions.pharmacysend",
            object_id=send.id,
            patient=prescription.patient,
            acting_for=prescription.patient if access.acting_for else None,
            detail={"pharmacy": str(pharmacy.id), "channel": pharmacy.channel},
        )
        if not via_chat:
            conversation, _ = ensure_conversation(
                patient=prescription.patient, doctor=prescription.doctor
            )
            post_card(
                conversation=conversation,
                name=SEND,
                result=ActionResult(send_card(send), send, CardState.COMPLETED),
                sender=actor,
            )
        transaction.on_commit(partial(deliver_pharmacy_send_task.delay, str(send.id)))
        return send


def inbox_token(send: PharmacySend) -> str:
    return signing.dumps({"send": str(send.id)}, salt=INBOX_SALT)


def _inbox_send(token: str) -> PharmacySend:
    try:
        data = signing.loads(token, salt=INBOX_SALT, max_age=timedelta(days=INBOX_DAYS))
        return PharmacySend.objects.select_related(
            "prescription__patient",
            "prescription__doctor__user",
            "prescription__doctor__center",
            "pharmacy",
        ).get(id=data["send"])
    except (signing.BadSignature, PharmacySend.DoesNotExist, KeyError, ValueError) as exc:
        raise NotFoundError("This link is invalid or has expired.") from exc


@transaction.atomic
def open_pharmacy_inbox(*, token: str, kind: str) -> tuple[PharmacySend, PrescriptionDocument]:
    """A pharmacy follows the emailed link (bearer: the signed token, 14 days); every fetch is
    audited and the first one marks the send as opened."""
    send = _inbox_send(token)
    p = send.prescription
    record(
        actor=None,
        action=f"prescription.pharmacy_fetch_{kind}",
        object_type="prescriptions.pharmacysend",
        object_id=send.id,
        patient=p.patient,
        detail={"pharmacy": str(send.pharmacy_id)},
    )
    if send.fetched_at is None:
        send.fetched_at = timezone.now()
        send.save(update_fields=["fetched_at"])
    access = PrescriptionAccess(p, False, False, False)
    return send, document_of(_view(access))


def deliver_pharmacy_send(send_id: UUID | str, *, final_attempt: bool = True) -> str:
    """Deliver one send through its pharmacy's channel. Returns the new status; raises
    `DeliveryError` for a retryable failure when this is not the final attempt."""
    from prescriptions import delivery

    with transaction.atomic():
        send = (
            PharmacySend.objects.select_for_update(of=("self",))
            .select_related(
                "pharmacy",
                "prescription__patient",
                "prescription__doctor__user",
                "prescription__doctor__center",
            )
            .get(id=send_id)
        )
        if send.status == PharmacySend.Status.SENT:
            return send.status
        send.attempts += 1
        send.save(update_fields=["attempts"])
    try:
        if send.channel == Pharmacy.Channel.EMAIL:
            delivery.send_email(send, inbox_url=app_link(f"/pharmacy/rx/{inbox_token(send)}"))
        else:
            view = _view(PrescriptionAccess(send.prescription, False, False, False))
            delivery.post_fhir(send, document_of(view))
    except delivery.DeliveryError as exc:
        if not final_attempt:
            raise
        _finish_send(send.id, PharmacySend.Status.FAILED, str(exc)[:300])
        return PharmacySend.Status.FAILED
    _finish_send(send.id, PharmacySend.Status.SENT, "")
    return PharmacySend.Status.SENT


@transaction.atomic
def _finish_send(send_id: UUID, status: str, error: str) -> None:
    send = (
        PharmacySend.objects.select_for_update(of=("self",))
        .select_related("prescription__patient", "pharmacy")
        .get(id=send_id)
    )
    send.status, send.error = status, error
    send.sent_at = timezone.now() if status == PharmacySend.Status.SENT else None
    send.save(update_fields=["status", "error", "sent_at"])
    update_cards(
        target=send,
        state=CardState.FAILED if status == PharmacySend.Status.FAILED else None,
        payload={"status": status},
        actions=[SEND],
    )
    record(
        actor=None,
        action=f"prescription.pharmacy_{status}",
        object_type="prescriptions.pharmacysend",
        object_id=send.id,
        patient=send.prescription.patient,
        detail={"pharmacy": str(send.pharmacy_id)},
    )


# ------------------------------------------------------------------ medication reminders


def reminder_times(items: list[dict[str, Any]]) -> list[str]:
    times: set[str] = set()
    for item in items:
        frequency = vocab.FREQUENCIES.get(item.get("frequency", ""))
        if frequency is not None:
            times.update(frequency.times)
    return sorted(times)


@transaction.atomic
def set_reminders(
    *, actor: User, prescription_id: UUID | str, enabled: bool, timezone_name: str = ""
) -> Prescription:
    access = _patient_side(actor, prescription_id)
    prescription = selectors.lock_prescription(prescription_id=prescription_id)
    if enabled:
        _ensure_active(prescription)
        zone = timezone_name or prescription.reminder_timezone or "UTC"
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidInputError("Unknown time zone.", timezone=["Unknown time zone."]) from exc
        prescription.reminder_timezone = zone
    prescription.reminders_enabled = enabled
    prescription.save(update_fields=["reminders_enabled", "reminder_timezone", "updated_at"])
    record(
        actor=actor,
        action="prescription.reminders",
        object_type="prescriptions.prescription",
        object_id=prescription.id,
        patient=prescription.patient,
        acting_for=prescription.patient if access.acting_for else None,
        detail={"enabled": enabled},
    )
    return prescription


def send_medication_reminders(now: datetime | None = None, window_minutes: int = 10) -> int:
    """Run every minute (beat): a reminder for each dose time that fell within the last
    `window_minutes` in the prescription's time zone, at most once per dose (dedupe key)."""
    now = now or timezone.now()
    sent = 0
    due = Prescription.objects.filter(
        status=Prescription.Status.ACTIVE, reminders_enabled=True, expires_at__gt=now
    ).select_related("patient", "doctor__user")
    for p in due:
        zone = ZoneInfo(p.reminder_timezone or "UTC")
        local = timezone.localtime(now, zone)
        items = selectors.open_items(p)
        for hhmm in reminder_times(items):
            hour, minute = (int(x) for x in hhmm.split(":"))
            dose = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if dose > local:
                dose -= timedelta(days=1)
            if local - dose > timedelta(minutes=window_minutes) or dose < timezone.localtime(
                p.issued_at, zone
            ):
                continue
            with transaction.atomic():
                rows = notify(
                    recipient=p.patient,
                    kind=Kind.MEDICATION_REMINDER,
                    event="medication_reminder",
                    key=f"medication.reminder:{p.id}:{dose:%Y-%m-%dT%H:%M}",
                    title=f"Time for your {hhmm} medicine",
                    body=(
                        f"It's {hhmm}: time for the medicine {p.doctor} prescribed. Details are "
                        "in the app."
                    ),
                    link=app_link(f"/prescriptions/{p.id}"),
                    center_id=p.doctor.center_id,
                    subject=("prescriptions.prescription", p.id),
                )
            sent += bool(rows)
    return sent


# ------------------------------------------------------------------ chat actions


def chat_request_refill(
    *, conversation: Conversation, actor: User, prescription_id: UUID
) -> ActionResult:
    prescription = selectors.get_prescription(prescription_id=prescription_id)
    if prescription.patient_id != conversation.patient_id:
        raise NotFoundError()
    refill = request_refill(actor=actor, prescription_id=prescription_id, via_chat=True)
    return ActionResult(refill_card(refill), refill, CardState.OPEN)


def chat_send_to_pharmacy(
    *,
    conversation: Conversation,
    actor: User,
    prescription_id: UUID,
    pharmacy_id: UUID | None,
) -> ActionResult:
    prescription = selectors.get_prescription(prescription_id=prescription_id)
    if prescription.patient_id != conversation.patient_id:
        raise NotFoundError()
    send = send_to_pharmacy(
        actor=actor, prescription_id=prescription_id, pharmacy_id=pharmacy_id, via_chat=True
    )
    return ActionResult(send_card(send), send, CardState.COMPLETED)
