"""Prescription fixtures: a doctor and a patient after a real (service-booked) visit, moved
into the past and completed, as the prescribing window needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from booking.models import Appointment
from careconnect.accounts.models import User
from careconnect.records.services import write_health_summary
from prescriptions.catalog import load_catalog, medication_id
from prescriptions.models import Interaction, Medication
from tests.consult.conftest import make_call


@dataclass
class Visit:
    doctor: User
    patient: User
    appointment: Appointment


def make_visit(*, days_ago: float = 1, status: str = Appointment.Status.COMPLETED) -> Visit:
    """Given: a doctor and a patient whose online appointment was `days_ago` days ago."""
    call = make_call()
    start = timezone.now() - timedelta(days=days_ago, minutes=30)
    Appointment.objects.filter(id=call.appointment.id).update(
        start=start, end=start + timedelta(minutes=30), status=status
    )
    call.appointment.refresh_from_db()
    return Visit(call.doctor, call.patient, call.appointment)


@pytest.fixture(autouse=True)
def _catalog(request: pytest.FixtureRequest) -> None:
    """The catalog comes from a data migration; a transactional test's flush empties it for
    whatever runs after, so load it again when it is gone."""
    if "django_db" not in {m.name for m in request.node.iter_markers()}:
        return
    request.getfixturevalue("_django_db_helper")
    if not Medication.objects.exists():
        load_catalog(Medication, Interaction)


@pytest.fixture
def visit(db: None) -> Visit:
    return make_visit()


def med(slug: str) -> str:
    return str(medication_id(slug))


def item(slug: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "medication": med(slug),
        "strength": "500 mg",
        "form": "tablet",
        "dose": "1 tablet",
        "route": "oral",
        "frequency": "twice_daily",
        "duration_days": 10,
        "quantity": 20,
        "refills": 1,
        "instructions": "Take with food.",
        "substitution_allowed": True,
    }
    values.update(overrides)
    return values


def record_health(patient: User, **lists: list[dict[str, str]]) -> None:
    with transaction.atomic():
        write_health_summary(patient=patient, actor=patient, acting_for=False, changes=lists)
