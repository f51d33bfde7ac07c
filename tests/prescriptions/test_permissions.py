"""Who may call each prescription endpoint and chat action: the patient, a family member with
and without `view_records`, the prescribing doctor, another doctor, a nurse and a center
admin of the same center. Refusals write nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from careconnect.accounts.models import Role, User
from chat.models import Conversation, Message
from chat.services import submit_action
from prescriptions.models import Pharmacy, PharmacySend, Prescription, RefillRequest
from tests.chat.conftest import make_grant
from tests.conftest import Api, signed_in
from tests.factories import PASSWORD, make_doctor, make_patient, make_staff
from tests.prescriptions.conftest import item, make_visit

pytestmark = pytest.mark.django_db

ACTORS = ("patient", "family", "family_no_scope", "prescriber", "other_doctor", "nurse", "admin")


@dataclass
class World:
    users: dict[str, User]
    prescription: dict[str, Any]
    refill: str
    pharmacy: Pharmacy


def _world(api: Api) -> World:
    visit = make_visit()
    center = visit.appointment.doctor.center
    family, limited = make_patient(), make_patient()
    make_grant(visit.patient, family, ["view_records", "message"])
    make_grant(visit.patient, limited, ["book", "message", "pay"])
    users = {
        "patient": visit.patient,
        "family": family,
        "family_no_scope": limited,
        "prescriber": visit.doctor,
        "other_doctor": make_doctor(center=center),
        "nurse": make_staff(role=Role.NURSE, center=center),
        "admin": make_staff(role=Role.CENTER_ADMIN, center=center),
    }
    signed_in(api, visit.doctor)
    body = {
        "patient": str(visit.patient.id),
        "items": [item("amoxicillin", refills=3)],
        "password": PASSWORD,
    }
    issued = api.post("/api/prescriptions/", body).json()
    second = api.post(
        "/api/prescriptions/", {**body, "items": [item("lisinopril", refills=3)]}
    ).json()
    signed_in(api, visit.patient)
    refill = api.post(f"/api/prescriptions/{second['id']}/refill/").json()["refill_request"]["id"]
    pharmacy = Pharmacy.objects.create(
        name="P", address="A", city="Lisbon", phone="1", email="p@example.test"
    )
    return World(users, issued, refill, pharmacy)


def _counts() -> tuple[int, ...]:
    return (
        Prescription.objects.count(),
        RefillRequest.objects.count(),
        PharmacySend.objects.count(),
        Message.objects.filter(action__startswith="prescriptions.").count(),
    )


READ = {
    "patient": 200,
    "family": 200,
    "family_no_scope": 404,
    "prescriber": 200,
    "other_doctor": 404,
    "nurse": 404,
    "admin": 404,
}
PATIENT_ACTION = {
    "patient": 201,
    "family": 201,
    "family_no_scope": 404,
    "prescriber": 403,
    "other_doctor": 404,
    "nurse": 404,
    "admin": 404,
}
PRESCRIBER_ONLY = {
    "patient": 403,
    "family": 403,
    "family_no_scope": 403,
    "prescriber": 200,
    "other_doctor": 404,
    "nurse": 403,
    "admin": 403,
}
CANCEL = {
    "patient": 403,
    "family": 403,
    "family_no_scope": 404,
    "prescriber": 200,
    "other_doctor": 404,
    "nurse": 404,
    "admin": 404,
}


def _call(api: Api, world: World, endpoint: str, actor: str) -> Any:
    rx, patient = world.prescription["id"], world.users["patient"].id
    match endpoint:
        case "detail" | "pdf" | "fhir":
            suffix = "" if endpoint == "detail" else f"{endpoint}/"
            return api.get(f"/api/prescriptions/{rx}/{suffix}")
        case "list_for_patient":
            return api.get(f"/api/prescriptions/?patient={patient}")
        case "check":
            return api.post(
                "/api/prescriptions/check/", {"patient": str(patient), "medications": ["warfarin"]}
            )
        case "cancel":
            return api.post(f"/api/prescriptions/{rx}/cancel/", {"reason": "Not needed"})
        case "refill":
            return api.post(f"/api/prescriptions/{rx}/refill/")
        case "send":
            return api.post(f"/api/prescriptions/{rx}/send/", {"pharmacy": str(world.pharmacy.id)})
        case "reminders":
            return api.post(f"/api/prescriptions/{rx}/reminders/", {"enabled": True})
        case "approve":
            return api.post(f"/api/refills/{world.refill}/approve/", {"password": PASSWORD})
        case "decline":
            return api.post(f"/api/refills/{world.refill}/decline/", {"reason": "Review first"})
    raise AssertionError(endpoint)


EXPECTED: dict[str, dict[str, int]] = {
    "detail": READ,
    "pdf": READ,
    "fhir": READ,
    "list_for_patient": {
        "patient": 200,
        "family": 200,
        "family_no_scope": 403,
        "prescriber": 200,
        "other_doctor": 404,
        "nurse": 404,
        "admin": 404,
    },
    "check": {
        "patient": 403,
        "family": 403,
        "family_no_scope": 403,
        "prescriber": 200,
        "other_doctor": 404,
        "nurse": 403,
        "admin": 403,
    },
    "cancel": CANCEL,
    "refill": PATIENT_ACTION,
    "send": PATIENT_ACTION,
    "reminders": {**PATIENT_ACTION, "patient": 200, "family": 200},
    "approve": {**PRESCRIBER_ONLY, "prescriber": 201},
    "decline": PRESCRIBER_ONLY,
}
CASES = [(endpoint, actor) for endpoint in EXPECTED for actor in ACTORS]


@pytest.mark.parametrize(("endpoint", "actor"), CASES, ids=[f"{e}-{a}" for e, a in CASES])
def test_endpoint_permissions(api: Api, endpoint: str, actor: str) -> None:
    world = _world(api)
    before = _counts()
    signed_in(api, world.users[actor])
    response = _call(api, world, endpoint, actor)
    expected = EXPECTED[endpoint][actor]
    assert response.status_code == expected, (endpoint, actor, response.content)
    if expected >= 400:
        assert "error" in response.json()
        assert _counts() == before  # a refusal writes nothing


@pytest.mark.parametrize(
    ("actor", "allowed"), [("patient", True), ("family", True), ("family_no_scope", False)]
)
@pytest.mark.parametrize(
    "action", ["prescriptions.request_refill", "prescriptions.send_to_pharmacy"]
)
def test_chat_actions_need_view_records(api: Api, actor: str, allowed: bool, action: str) -> None:
    world = _world(api)
    conversation = Conversation.objects.get(patient=world.users["patient"])
    payload: dict[str, Any] = {"prescription": world.prescription["id"]}
    if action.endswith("pharmacy"):
        payload["pharmacy"] = str(world.pharmacy.id)
    before = _counts()
    if allowed:
        message = submit_action(
            conversation_id=conversation.id, actor=world.users[actor], name=action, payload=payload
        )
        assert message.action == action
    else:
        with pytest.raises(Exception) as refused:  # noqa: PT011 - any refusal, checked below
            submit_action(
                conversation_id=conversation.id,
                actor=world.users[actor],
                name=action,
                payload=payload,
            )
        assert getattr(refused.value, "status", None) in {403, 404}
        assert _counts() == before
