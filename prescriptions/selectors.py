"""Prescription reads: the catalog, the interaction rules, what a patient takes now, and
locks. Decrypting a patient's items is the caller's audited read (services record it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from careconnect.accounts.keys import ensure_data_key
from careconnect.accounts.models import User
from careconnect.crypto.services import open_json
from careconnect.errors import NotFoundError
from careconnect.records.services import open_health_summary
from prescriptions import checks
from prescriptions.catalog import load_class_aliases
from prescriptions.models import (
    Interaction,
    Medication,
    Pharmacy,
    PreferredPharmacy,
    Prescription,
    RefillRequest,
)

_class_aliases: dict[str, list[str]] | None = None


def class_aliases() -> dict[str, list[str]]:
    global _class_aliases
    if _class_aliases is None:
        _class_aliases = load_class_aliases()
    return _class_aliases


def search_medications(*, q: str, limit: int = 20) -> list[Medication]:
    term = " ".join(q.lower().split())[:100]
    found = Medication.objects.filter(is_active=True)
    if term:
        found = found.filter(search__contains=term).annotate(
            rank=Case(
                When(slug__startswith=term.replace(" ", "-"), then=Value(0)),
                When(search__startswith=term, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        return list(found.order_by("rank", "name")[:limit])
    return list(found.order_by("name")[:limit])


def get_medications(ids: list[UUID]) -> dict[UUID, Medication]:
    return {m.id: m for m in Medication.objects.filter(id__in=ids, is_active=True)}


def find_medication(name_or_id: str) -> Medication | None:
    """A catalog entry by id, slug, name or brand name (case-insensitive)."""
    text = name_or_id.strip()
    try:
        return Medication.objects.filter(id=UUID(text), is_active=True).first()
    except ValueError:
        pass
    lowered = text.lower()
    direct = Medication.objects.filter(
        Q(slug=lowered) | Q(name__iexact=text), is_active=True
    ).first()
    if direct is not None:
        return direct
    for medication in Medication.objects.filter(search__contains=lowered, is_active=True)[:20]:
        if lowered in {b.lower() for b in medication.brand_names} | set(medication.ingredients):
            return medication
    return None


def rule_index() -> checks.RuleIndex:
    return checks.RuleIndex(
        checks.Rule(a=r.a, b=r.b, severity=r.severity, effect=r.effect, source=r.source)
        for r in Interaction.objects.all()
    )


def drug_of(medication: Medication | None, *, name: str, new: bool) -> checks.Drug:
    if medication is None:
        return checks.Drug(
            name=name, ingredients=frozenset(), classes=frozenset(), in_catalog=False, new=new
        )
    return checks.Drug(
        name=name or medication.name,
        ingredients=frozenset(medication.ingredients),
        classes=frozenset(medication.classes),
        in_catalog=True,
        new=new,
    )


def items_aad(prescription_id: UUID) -> str:
    return f"prescriptions.prescription:{prescription_id}:items"


def open_items(prescription: Prescription) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = open_json(
        ensure_data_key(prescription.patient),
        prescription.items_sealed,
        aad=items_aad(prescription.id),
    )
    return items


def live_prescriptions(patient: User, now: datetime | None = None) -> QuerySet[Prescription]:
    now = now or timezone.now()
    return Prescription.objects.filter(
        patient=patient, status=Prescription.Status.ACTIVE, expires_at__gt=now
    ).select_related("patient")


def active_drugs(patient: User, *, exclude: UUID | None = None) -> list[checks.Drug]:
    """What the patient takes now: items of their live prescriptions, then the medications on
    their profile (matched to the catalog by name; unmatched ones are checked as free text)."""
    drugs: list[checks.Drug] = []
    prescriptions = live_prescriptions(patient)
    if exclude is not None:
        prescriptions = prescriptions.exclude(id=exclude)
    wanted: list[tuple[UUID | None, str]] = []
    for prescription in prescriptions:
        for item in open_items(prescription):
            medication = item.get("medication")
            wanted.append((UUID(medication) if medication else None, item["name"]))
    catalog = get_medications([m for m, _ in wanted if m is not None])
    for medication_id, name in wanted:
        found = catalog.get(medication_id) if medication_id else None
        drugs.append(drug_of(found, name=_label(found, name), new=False))
    for recorded in open_health_summary(patient=patient)["medications"]:
        name = str(recorded.get("name") or recorded.get("substance") or "").strip()
        if name:
            found = find_medication(name.split()[0]) or find_medication(name)
            drugs.append(drug_of(found, name=name, new=False))
    return drugs


def _label(medication: Medication | None, name: str) -> str:
    return medication.name if medication is not None else name


def allergies_of(patient: User) -> list[checks.Allergy]:
    """The recorded allergies, each also read through the catalog: an allergy written as a
    brand or an international name ("Bactrim", "Paracetamol") stands for its ingredients."""
    allergies = []
    for recorded in open_health_summary(patient=patient)["allergies"]:
        substance = str(recorded.get("substance", "")).strip()
        if not substance:
            continue
        reaction = str(recorded.get("reaction", ""))
        severity = str(recorded.get("severity", "")).lower()
        allergies.append(checks.Allergy(substance, reaction, severity))
        found = find_medication(substance)
        if found is not None:
            allergies.extend(
                checks.Allergy(ingredient, reaction, severity)
                for ingredient in found.ingredients
                if ingredient != substance.lower()
            )
    return allergies


def get_prescription(*, prescription_id: UUID | str) -> Prescription:
    try:
        return Prescription.objects.select_related(
            "patient", "doctor__user", "doctor__center", "refill_of"
        ).get(id=prescription_id)
    except (Prescription.DoesNotExist, ValueError) as exc:
        raise NotFoundError() from exc


def lock_prescription(*, prescription_id: UUID | str) -> Prescription:
    try:
        return (
            Prescription.objects.select_for_update(of=("self",))
            .select_related("patient", "doctor__user", "doctor__center")
            .get(id=prescription_id)
        )
    except (Prescription.DoesNotExist, ValueError) as exc:
        raise NotFoundError() from exc


def lock_refill(*, refill_id: UUID | str) -> RefillRequest:
    try:
        return (
            RefillRequest.objects.select_for_update(of=("self",))
            .select_related("prescription__doctor__user", "prescription__patient")
            .get(id=refill_id)
        )
    except (RefillRequest.DoesNotExist, ValueError) as exc:
        raise NotFoundError() from exc


def list_for_patient(patient: User, *, status: str | None = None) -> list[Prescription]:
    found = Prescription.objects.filter(patient=patient)
    return _ordered(found, status)


def list_for_doctor(doctor_user: User, *, status: str | None = None) -> list[Prescription]:
    return _ordered(Prescription.objects.filter(doctor__user=doctor_user), status)


def _ordered(found: QuerySet[Prescription], status: str | None) -> list[Prescription]:
    if status:
        found = found.filter(status=status)
    return list(
        found.select_related("patient", "doctor__user", "doctor__center")
        .annotate(
            active_first=Case(
                When(status=Prescription.Status.ACTIVE, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("active_first", "-issued_at")[:200]
    )


def latest_refill(prescription: Prescription) -> RefillRequest | None:
    return prescription.refill_requests.order_by("-requested_at").first()


def search_pharmacies(*, q: str = "", city: str = "", limit: int = 50) -> list[Pharmacy]:
    found = Pharmacy.objects.filter(is_active=True)
    if q.strip():
        found = found.filter(Q(name__icontains=q.strip()) | Q(address__icontains=q.strip()))
    if city.strip():
        found = found.filter(city__iexact=city.strip())
    return list(found[:limit])


def preferred_pharmacy(patient: User) -> Pharmacy | None:
    row = PreferredPharmacy.objects.select_related("pharmacy").filter(patient=patient).first()
    return row.pharmacy if row is not None and row.pharmacy.is_active else None


def get_pharmacy(*, pharmacy_id: UUID | str) -> Pharmacy:
    try:
        return Pharmacy.objects.get(id=pharmacy_id, is_active=True)
    except (Pharmacy.DoesNotExist, ValueError) as exc:
        raise NotFoundError("That pharmacy is not in the directory.") from exc


def card_conversations(prescription_ids: list[UUID]) -> dict[str, str]:
    from chat.models import Message

    rows = Message.objects.filter(
        target_type="prescriptions.prescription",
        target_id__in=[str(i) for i in prescription_ids],
        action="prescriptions.issue_prescription",
    ).values_list("target_id", "conversation_id")
    return {target: str(conversation) for target, conversation in rows}
