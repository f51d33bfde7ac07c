"""Profile and health summary: editing, encryption at rest, audit, ownership."""

from __future__ import annotations

from typing import Any

import pytest

from careconnect.audit.models import AuditEvent
from tests.conftest import signed_in
from tests.factories import make_patient
from tests.utils import raw_database_text

pytestmark = pytest.mark.django_db

HEALTH = {
    "date_of_birth": "1990-02-03",
    "phone": "+351 911 222 333",
    "address": {
        "line1": "Rua Secreta 77",
        "city": "Coimbra",
        "postal_code": "3000-100",
        "country": "Portugal",
    },
    "emergency_contact": {
        "name": "Tomasz Quill",
        "relationship": "Brother",
        "phone": "+351 933 444 555",
    },
    "allergies": [{"substance": "Zanthoxylum", "reaction": "Anaphylaxis", "severity": "severe"}],
    "conditions": [{"name": "Pheochromocytoma", "notes": "diagnosed 2019"}],
    "medications": [{"name": "Phenoxybenzamine", "dose": "10 mg", "frequency": "twice daily"}],
}
SECRETS = [
    "Rua Secreta",
    "Tomasz Quill",
    "Zanthoxylum",
    "Anaphylaxis",
    "Pheochromocytoma",
    "Phenoxybenzamine",
    "911 222 333",
    "1990-02-03",
]


def test_patient_edits_profile_and_health_summary(api: Any, patient: Any) -> None:
    signed_in(api, patient)
    response = api.patch("/api/profile/", HEALTH)
    assert response.status_code == 200, response.content
    body = api.get("/api/profile/").json()
    assert body["allergies"] == HEALTH["allergies"]
    assert body["medications"] == HEALTH["medications"]
    assert body["address"]["line1"] == "Rua Secreta 77"
    assert body["address"]["region"] == ""
    assert body["emergency_contact"]["name"] == "Tomasz Quill"
    assert body["date_of_birth"] == "1990-02-03"
    # lists are replaced whole
    api.patch("/api/profile/", {"allergies": []})
    assert api.get("/api/profile/").json()["allergies"] == []
    assert api.get("/api/profile/").json()["conditions"] == HEALTH["conditions"]


def test_health_data_is_not_stored_in_plaintext(api: Any, patient: Any) -> None:
    signed_in(api, patient).patch("/api/profile/", HEALTH)
    raw = raw_database_text()
    for secret in SECRETS:
        assert secret not in raw


def test_profile_reads_and_writes_are_audited(api: Any, patient: Any) -> None:
    signed_in(api, patient)
    api.patch("/api/profile/", HEALTH)
    api.get("/api/profile/")
    actions = list(AuditEvent.objects.filter(patient=patient).values_list("action", flat=True))
    assert "profile.update" in actions
    assert "health_record.update" in actions
    assert "profile.read" in actions
    read = AuditEvent.objects.filter(action="profile.read", patient=patient).first()
    assert read is not None
    assert read.detail == {"sections": ["personal", "health_summary"]}
    event = AuditEvent.objects.filter(action="health_record.update").get()
    assert event.actor_id == patient.id
    assert event.acting_for_id is None
    assert event.request_id
    assert event.ip == "127.0.0.1"
    assert "Zanthoxylum" not in str(event.detail)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"allergies": [{"substance": "Peanut", "severity": "deadly"}]}, "allergies"),
        (
            {"allergies": [{"substance": "<img src=x onerror=alert(1)>", "severity": "mild"}]},
            "allergies",
        ),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"first_name": "<b>x</b>"}, "first_name"),
        ({"email": "me@else.test"}, "email"),
        ({"conditions": "asthma"}, "conditions"),
        ({"phone": "call me maybe"}, "phone"),
    ],
)
def test_profile_bad_input_changes_nothing(
    api: Any, patient: Any, body: dict[str, Any], field: str
) -> None:
    signed_in(api, patient).patch("/api/profile/", {"allergies": HEALTH["allergies"]})
    response = api.patch("/api/profile/", body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert api.get("/api/profile/").json()["allergies"] == HEALTH["allergies"]


def test_nobody_reads_or_changes_another_patients_profile(api: Any, patient: Any) -> None:
    other = make_patient()
    signed_in(api, patient)
    assert api.get(f"/api/patients/{other.id}/profile/").status_code == 404
    assert (
        api.patch(f"/api/patients/{other.id}/profile/", {"phone": "+1 555 0000"}).status_code == 404
    )
    assert api.get("/api/patients/00000000-0000-0000-0000-000000000000/profile/").status_code == 404
    assert not AuditEvent.objects.filter(patient=other).exists()


def test_own_profile_by_id(api: Any, patient: Any) -> None:
    signed_in(api, patient)
    response = api.get(f"/api/patients/{patient.id}/profile/")
    assert response.status_code == 200
    assert response.json()["id"] == str(patient.id)


def test_anonymous_gets_401(api: Any, patient: Any) -> None:
    response = api.get("/api/profile/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
