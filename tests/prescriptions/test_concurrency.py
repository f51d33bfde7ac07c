"""Refills under real concurrency (PostgreSQL, threads with their own connections): racing
approvals issue one new prescription; racing requests leave one pending request."""

from __future__ import annotations

import pytest
from django.db import transaction

from prescriptions import services
from prescriptions.models import Prescription, RefillRequest
from tests.booking.test_concurrency import _race, postgres_only
from tests.factories import PASSWORD
from tests.prescriptions.conftest import Visit, item, make_visit

pytestmark = [pytest.mark.django_db(transaction=True), postgres_only]


def _issued() -> tuple[Prescription, Visit]:
    visit = make_visit()
    with transaction.atomic():
        prescription = services.issue_prescription(
            actor=visit.doctor,
            patient_id=visit.patient.id,
            items=[item("amoxicillin", refills=5)],
            password=PASSWORD,
        )
    return prescription, visit


def test_racing_approvals_of_one_refill_issue_one_prescription() -> None:
    prescription, visit = _issued()
    refill = services.request_refill(actor=visit.patient, prescription_id=prescription.id)
    results = _race(
        [
            lambda: services.approve_refill(
                actor=visit.doctor, refill_id=refill.id, password=PASSWORD
            )
            for _ in range(6)
        ]
    )
    issued = [r for r in results if isinstance(r, Prescription)]
    refused = [r for r in results if isinstance(r, services.RefillDecidedError)]
    assert (len(issued), len(refused)) == (1, 5), results
    assert Prescription.objects.filter(refill_of=prescription).count() == 1
    assert RefillRequest.objects.get(id=refill.id).status == "approved"


def test_racing_refill_requests_leave_one_pending() -> None:
    prescription, visit = _issued()
    results = _race(
        [
            lambda: services.request_refill(actor=visit.patient, prescription_id=prescription.id)
            for _ in range(6)
        ]
    )
    made = [r for r in results if isinstance(r, RefillRequest)]
    refused = [r for r in results if isinstance(r, services.RefillPendingError)]
    assert (len(made), len(refused)) == (1, 5), results
    assert RefillRequest.objects.filter(prescription=prescription).count() == 1
