"""Writing the audit trail. Services call `record` in the same transaction as the read or
write they describe; `detail` holds ids and field names only, never values (no PHI)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from careconnect.audit.models import AuditEvent
from careconnect.context import current_request

if TYPE_CHECKING:
    from careconnect.accounts.models import User


def record(
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: object = "",
    patient: User | None = None,
    acting_for: User | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    context = current_request()
    event = AuditEvent(
        actor=actor,
        acting_for=acting_for,
        patient=patient,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        request_id=context.request_id if context.request_id != "-" else "",
        ip=context.ip,
        detail=detail or {},
    )
    event.save(force_insert=True)
    return event
