from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models.signals import post_save, pre_save

from careconnect.audit.models import AuditEvent
from careconnect.audit.services import record
from careconnect.context import RequestContext, reset_request, set_request
from tests.factories import make_patient

pytestmark = pytest.mark.django_db


def test_audit_events_are_append_only(db: None) -> None:
    patient = make_patient()
    event = record(
        actor=patient,
        action="profile.read",
        object_type="accounts.profile",
        object_id=patient.id,
        patient=patient,
    )
    event.action = "tampered"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(id=event.id).update(action="tampered")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(id=event.id).action == "profile.read"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="database trigger is PostgreSQL's")
def test_database_refuses_audit_updates_on_postgresql(db: None) -> None:
    patient = make_patient()
    event = record(actor=patient, action="profile.read", object_type="accounts.profile")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [event.id])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.id])


def test_recorded_event_is_the_row_the_orm_would_write(db: None) -> None:
    patient = make_patient()
    token = set_request(RequestContext(request_id="req-1", ip="10.0.0.7"))
    try:
        event = record(
            actor=patient,
            action="profile.read",
            object_type="accounts.profile",
            object_id=patient.id,
            patient=patient,
            detail={"sections": ["personal"]},
        )
    finally:
        reset_request(token)
    stored = AuditEvent.objects.get(id=event.id)
    assert not event._state.adding
    assert event.at is not None
    for field in AuditEvent._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(event, field.attname), field.name
    assert (stored.actor_id, stored.patient_id, stored.acting_for_id) == (
        patient.id,
        patient.id,
        None,
    )
    assert (stored.request_id, stored.ip, stored.detail) == (
        "req-1",
        "10.0.0.7",
        {"sections": ["personal"]},
    )
    assert stored.object_id == str(patient.id)


def test_audit_event_is_written_in_the_callers_transaction(db: None) -> None:
    patient = make_patient()

    @transaction.atomic
    def read_that_fails() -> None:
        record(actor=patient, action="profile.read", object_type="accounts.profile")
        raise RuntimeError("the read failed after the audit insert")

    with pytest.raises(RuntimeError):
        read_that_fails()
    assert not AuditEvent.objects.exists()


def test_save_signals_still_reach_receivers(db: None) -> None:
    seen: list[tuple[str, bool]] = []

    def pre(sender: Any, instance: AuditEvent, **kwargs: Any) -> None:
        seen.append(("pre", instance._state.adding))

    def post(sender: Any, instance: AuditEvent, created: bool, **kwargs: Any) -> None:
        seen.append(("post", created))

    pre_save.connect(pre, sender=AuditEvent)
    post_save.connect(post, sender=AuditEvent)
    try:
        event = record(actor=None, action="profile.read", object_type="accounts.profile")
    finally:
        pre_save.disconnect(pre, sender=AuditEvent)
        post_save.disconnect(post, sender=AuditEvent)
    assert seen == [("pre", True), ("post", True)]
    assert AuditEvent.objects.filter(id=event.id).exists()
