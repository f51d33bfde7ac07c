"""Health summary reads and writes. Callers decide access first (accounts.access); these
functions seal, open and audit."""

from __future__ import annotations

from typing import Any, TypedDict

from careconnect.accounts.keys import ensure_data_key
from careconnect.accounts.models import User
from careconnect.audit.services import record
from careconnect.crypto.services import open_json, seal_json
from careconnect.records.models import HealthRecord


class HealthSummary(TypedDict):
    allergies: list[dict[str, str]]
    conditions: list[dict[str, str]]
    medications: list[dict[str, str]]


HEALTH_FIELDS = ("allergies", "conditions", "medications")


def _aad(patient: User) -> str:
    return f"records.healthrecord:{patient.id}"


def empty_summary() -> HealthSummary:
    return {"allergies": [], "conditions": [], "medications": []}


def open_health_summary(*, patient: User) -> HealthSummary:
    """Decrypt the summary without auditing: the caller records the read (read_profile does,
    as one event for the whole profile)."""
    health = HealthRecord.objects.filter(patient=patient).first()
    return open_sealed_summary(patient=patient, sealed=health.sealed if health else None)


def open_sealed_summary(*, patient: User, sealed: bytes | memoryview | None) -> HealthSummary:
    """Decrypt a health record's `sealed` value the caller already fetched (None or empty when
    the patient has none); not audited either."""
    summary = empty_summary()
    if sealed:
        stored: dict[str, Any] = open_json(ensure_data_key(patient), sealed, aad=_aad(patient))
        for field in HEALTH_FIELDS:
            summary[field] = stored.get(field, [])  # type: ignore[literal-required]
    return summary


def read_health_summary(*, patient: User, actor: User | None, acting_for: bool) -> HealthSummary:
    summary = open_health_summary(patient=patient)
    record(
        actor=actor,
        action="health_record.read",
        object_type="records.healthrecord",
        object_id=patient.id,
        patient=patient,
        acting_for=patient if acting_for else None,
    )
    return summary


def write_health_summary(
    *, patient: User, actor: User | None, acting_for: bool, changes: dict[str, Any]
) -> HealthSummary:
    """Replace the given lists (each list is replaced whole). Call inside a transaction."""
    key = ensure_data_key(patient)
    health, _ = HealthRecord.objects.select_for_update().get_or_create(patient=patient)
    current: dict[str, Any] = (
        open_json(key, health.sealed, aad=_aad(patient)) if health.sealed else {}
    ) or {}
    merged = empty_summary()
    for field in HEALTH_FIELDS:
        merged[field] = changes.get(field, current.get(field, []))  # type: ignore[literal-required]
    health.sealed = seal_json(key, merged, aad=_aad(patient))
    health.save(update_fields=["sealed", "updated_at"])
    record(
        actor=actor,
        action="health_record.update",
        object_type="records.healthrecord",
        object_id=patient.id,
        patient=patient,
        acting_for=patient if acting_for else None,
        detail={"fields": sorted(changes)},
    )
    return merged
