"""Writing the audit trail. Services call `record` in the same transaction as the read or
write they describe; `detail` holds ids and field names only, never values (no PHI)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connections, router, transaction
from django.db.models import Field
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery

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
    if pre_save.has_listeners(AuditEvent) or post_save.has_listeners(AuditEvent):
        event.save(force_insert=True)
    else:
        _insert(event)
    return event


_insert_sql: dict[str, str] = {}


def _insert_fields() -> list[Field[Any, Any]]:
    return [field for field in AuditEvent._meta.local_concrete_fields if not field.generated]


def _insert(event: AuditEvent) -> None:
    """`event.save(force_insert=True)` (one INSERT of every field, in autocommit or the caller's
    transaction, marked for rollback on error as save does) with the INSERT statement compiled
    by the ORM once per process and database instead of on every audit event: every PHI read
    writes one, so it is on the hot path of reads. Used only while no pre_save/post_save
    receiver listens to AuditEvent (save would send them). Save's check for unsaved related
    objects cannot fire here: every related object is a User, whose UUID is set on creation."""
    using = router.db_for_write(AuditEvent, instance=event)
    connection = connections[using]
    fields = _insert_fields()
    sql = _insert_sql.get(using)
    if sql is None:
        query = InsertQuery(AuditEvent)
        query.insert_values(fields, [AuditEvent()])
        ((sql, _),) = query.get_compiler(using=using).as_sql()
        _insert_sql[using] = sql
    params = [field.get_db_prep_save(field.pre_save(event, True), connection) for field in fields]
    with transaction.mark_for_rollback_on_error(using=using), connection.cursor() as cursor:
        cursor.execute(sql, params)
    event._state.db = using
    event._state.adding = False
