"""Pharmacies (directory, preferred, sends through email link or a FHIR endpoint), the chat
cards (refill and send from the conversation), medication reminders and expiry."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from careconnect.audit.models import AuditEvent
from careconnect.notifications.models import Notification
from chat.models import CardState, Conversation, Message
from chat.registry import registered_actions
from chat.services import ActionNotAllowedError, submit_action
from prescriptions import services
from prescriptions.models import Pharmacy, PharmacySend, Prescription
from tests.chat.conftest import make_grant
from tests.conftest import Api, signed_in
from tests.factories import make_patient
from tests.prescriptions.conftest import Visit, item
from tests.utils import link_in

pytestmark = pytest.mark.django_db


def _pharmacy(**fields: Any) -> Pharmacy:
    values: dict[str, Any] = {
        "name": "Farmácia Teste",
        "address": "Rua 1",
        "city": "Lisbon",
        "phone": "+351 21 000 0000",
        "email": "orders@pharmacy.example.test",
    }
    values.update(fields)
    return Pharmacy.objects.create(**values)


def _issue(api: Api, visit: Visit, **fields: Any) -> dict[str, Any]:
    signed_in(api, visit.doctor)
    response = api.post(
        "/api/prescriptions/",
        {
            "patient": str(visit.patient.id),
            "items": [item("amoxicillin", **fields)],
            "password": "correct-horse-battery",
        },
    )
    assert response.status_code == 201, response.content
    data: dict[str, Any] = response.json()
    return data


class _FhirInbox:
    """A pharmacy's FHIR endpoint on a local port: keeps what it is sent, answers `status`."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 201
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                inbox.received.append(
                    {
                        "type": self.headers["Content-Type"],
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                self.send_response(inbox.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/fhir/MedicationRequest"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def fhir_inbox() -> Iterator[_FhirInbox]:
    inbox = _FhirInbox()
    yield inbox
    inbox.server.shutdown()


def test_directory_and_preferred_pharmacy(api: Api, visit: Visit) -> None:
    lisbon, _porto = _pharmacy(), _pharmacy(name="Farmácia Norte", city="Porto")
    signed_in(api, visit.patient)
    found = api.get("/api/pharmacies/?city=lisbon").json()["results"]
    assert [p["name"] for p in found] == ["Farmácia Teste"]
    assert api.get("/api/pharmacies/preferred/").json() == {"pharmacy": None}
    chosen = api.put("/api/pharmacies/preferred/", {"pharmacy": str(lisbon.id)})
    assert chosen.status_code == 200
    assert api.get("/api/pharmacies/preferred/").json()["pharmacy"]["id"] == str(lisbon.id)
    # a family member without view_records cannot choose for the patient
    outsider = make_patient()
    make_grant(visit.patient, outsider, ["book"])
    signed_in(api, outsider)
    refused = api.put(
        "/api/pharmacies/preferred/", {"pharmacy": str(lisbon.id), "patient": str(visit.patient.id)}
    )
    assert refused.status_code == 403


def test_send_by_email_names_no_patient_or_medicine_and_the_link_downloads(
    api: Api, visit: Visit
) -> None:
    pharmacy = _pharmacy()
    rx = _issue(api, visit)
    signed_in(api, visit.patient)
    assert (
        api.post(f"/api/prescriptions/{rx['id']}/send/", {}).json()["error"]["code"]
        == "no_pharmacy"
    )
    sent = api.post(f"/api/prescriptions/{rx['id']}/send/", {"pharmacy": str(pharmacy.id)})
    assert sent.status_code == 201, sent.content
    assert sent.json()["sends"][0]["status"] == "queued"  # delivered after commit, by a task
    assert api.get(f"/api/prescriptions/{rx['id']}/").json()["sends"][0]["status"] == "sent"
    email = next(m for m in mail.outbox if pharmacy.email in m.to)
    text = f"{email.subject} {email.body}"
    assert rx["verification_code"] in text
    for secret in (visit.patient.last_name, visit.patient.first_name, "Amoxicillin", "500 mg"):
        assert secret not in text
    link = link_in(email)
    token = link.rstrip("/").rsplit("/", 1)[1]
    anonymous = Api(api._capture)
    summary = anonymous.get(f"/api/pharmacy-inbox/{token}/")
    assert summary.status_code == 200
    assert summary.json()["verification_code"] == rx["verification_code"]
    pdf = anonymous.get(f"/api/pharmacy-inbox/{token}/pdf/")
    assert pdf.content.startswith(b"%PDF")
    fhir = anonymous.get(f"/api/pharmacy-inbox/{token}/fhir/")
    assert fhir.json()["resourceType"] == "Bundle"
    assert anonymous.get(f"/api/pharmacy-inbox/{token}x/pdf/").status_code == 404
    send = PharmacySend.objects.get()
    assert send.fetched_at is not None
    assert AuditEvent.objects.filter(
        action="prescription.pharmacy_fetch_pdf", object_id=str(send.id)
    ).exists()
    card = Message.objects.get(action="prescriptions.send_to_pharmacy", target_id=str(send.id))
    assert card.payload["status"] == "sent"


def test_send_to_a_fhir_endpoint_posts_a_valid_bundle_with_the_pdf(
    api: Api, visit: Visit, fhir_inbox: _FhirInbox
) -> None:
    from fhir.resources.R4B.bundle import Bundle

    pharmacy = _pharmacy(channel="fhir", email="", fhir_endpoint=fhir_inbox.url)
    rx = _issue(api, visit)
    signed_in(api, visit.patient)
    api.put("/api/pharmacies/preferred/", {"pharmacy": str(pharmacy.id)})
    sent = api.post(f"/api/prescriptions/{rx['id']}/send/", {})
    assert sent.status_code == 201
    assert api.get(f"/api/prescriptions/{rx['id']}/").json()["sends"][0]["status"] == "sent"
    [received] = fhir_inbox.received
    assert received["type"] == "application/fhir+json"
    bundle = Bundle.model_validate(received["body"])
    types = sorted(type(e.resource).__name__ for e in bundle.entry or [])
    assert "Binary" in types
    assert "MedicationRequest" in types


def test_an_unreachable_pharmacy_marks_the_send_and_its_card_failed(
    api: Api, visit: Visit, fhir_inbox: _FhirInbox
) -> None:
    fhir_inbox.status = 503
    pharmacy = _pharmacy(channel="fhir", email="", fhir_endpoint=fhir_inbox.url)
    rx = _issue(api, visit)
    conversation = Conversation.objects.get(patient=visit.patient)
    message = submit_action(
        conversation_id=conversation.id,
        actor=visit.patient,
        name="prescriptions.send_to_pharmacy",
        payload={"prescription": rx["id"], "pharmacy": str(pharmacy.id)},
    )
    send = PharmacySend.objects.get()
    # the task retried (eager) and gave up: the final attempt records the failure
    if send.status != PharmacySend.Status.FAILED:
        assert services.deliver_pharmacy_send(send.id, final_attempt=True) == "failed"
    send.refresh_from_db()
    assert send.status == PharmacySend.Status.FAILED
    assert "503" in send.error
    message.refresh_from_db()
    assert message.state == CardState.FAILED


def test_refill_and_send_from_the_conversation(api: Api, visit: Visit) -> None:
    pharmacy = _pharmacy()
    rx = _issue(api, visit, refills=1)
    conversation = Conversation.objects.get(patient=visit.patient)
    refill = submit_action(
        conversation_id=conversation.id,
        actor=visit.patient,
        name="prescriptions.request_refill",
        payload={"prescription": rx["id"]},
    )
    assert (refill.state, refill.payload["status"]) == (CardState.OPEN, "pending")
    sent = submit_action(
        conversation_id=conversation.id,
        actor=visit.patient,
        name="prescriptions.send_to_pharmacy",
        payload={"prescription": rx["id"], "pharmacy": str(pharmacy.id)},
    )
    assert sent.state == CardState.COMPLETED
    assert sent.payload["pharmacy"]["name"] == "Farmácia Teste"
    # the doctor side cannot submit them, and nobody issues a prescription from chat
    with pytest.raises(ActionNotAllowedError):
        submit_action(
            conversation_id=conversation.id,
            actor=visit.doctor,
            name="prescriptions.request_refill",
            payload={"prescription": rx["id"]},
        )
    assert registered_actions()["prescriptions.issue_prescription"].allowed_roles == frozenset()


def test_medication_reminders_at_the_frequencys_times_once_each(api: Api, visit: Visit) -> None:
    rx = _issue(api, visit, frequency="twice_daily")
    signed_in(api, visit.patient)
    on = api.post(
        f"/api/prescriptions/{rx['id']}/reminders/", {"enabled": True, "timezone": "Europe/Lisbon"}
    )
    assert on.status_code == 200
    assert on.json()["reminder_times"] == ["08:00", "20:00"]
    assert (
        api.post(
            f"/api/prescriptions/{rx['id']}/reminders/", {"enabled": True, "timezone": "Mars/Base"}
        ).status_code
        == 400
    )
    lisbon = ZoneInfo("Europe/Lisbon")
    tomorrow = timezone.localtime(timezone.now(), lisbon).date() + timedelta(days=1)
    dose = datetime.combine(tomorrow, datetime.min.time(), lisbon).replace(hour=20, minute=3)
    assert services.send_medication_reminders(now=dose) == 1
    assert services.send_medication_reminders(now=dose + timedelta(minutes=5)) == 0
    assert services.send_medication_reminders(now=dose + timedelta(hours=2)) == 0
    row = Notification.objects.get(event="medication_reminder", channel="in_app")
    assert "20:00" in row.title
    assert "Amoxicillin" not in f"{row.title} {row.body}"


def test_expiry_sweep_expires_and_updates_the_card(api: Api, visit: Visit) -> None:
    rx = _issue(api, visit)
    Prescription.objects.filter(id=rx["id"]).update(
        issued_at=timezone.now() - timedelta(days=400),
        expires_at=timezone.now() - timedelta(days=35),
    )
    assert services.expire_prescriptions() == 1
    assert Prescription.objects.get(id=rx["id"]).status == "expired"
    card = Message.objects.get(action="prescriptions.issue_prescription", target_id=rx["id"])
    assert card.state == CardState.EXPIRED
