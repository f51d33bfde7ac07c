from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from careconnect.audit.models import AuditEvent
from careconnect.audit.services import record
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
