"""Profile and health summary: editing, encryption at rest, audit, ownership."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID, uuid4

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careconnect.accounts.access import PatientAccess, role_pairs
from careconnect.accounts.api.serializers import ProfileOutput
from careconnect.accounts.models import Role, RoleAssignment, User
from careconnect.accounts.services import read_profile
from careconnect.api import rendered
from careconnect.audit.models import AuditEvent
from tests.conftest import signed_in
from tests.factories import make_center, make_doctor, make_patient, make_staff
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


def test_profile_read_is_one_query_plus_the_audit_insert(api: Any, patient: Any) -> None:
    signed_in(api, patient).patch("/api/profile/", HEALTH)
    api.get("/api/profile/")  # the data key is cached from here on, as in a running server
    with CaptureQueriesContext(connection) as queries:
        body = api.get("/api/profile/").json()
    assert body["allergies"] == HEALTH["allergies"]
    statements = [query["sql"] for query in queries.captured_queries]
    reads = [
        sql
        for sql in statements
        if any(t in sql for t in ("accounts_profile", "records_healthrecord", "roleassignment"))
    ]
    assert len(reads) == 1  # personal details, health summary and roles together
    assert sum(sql.startswith("INSERT INTO") for sql in statements) == 1  # the audit event
    assert len(statements) <= 4  # with the session and the signed-in user


def test_profile_of_a_user_without_profile_or_health_rows(api: Any) -> None:
    staff = make_staff(role=Role.NURSE)
    body = signed_in(api, staff).get("/api/profile/").json()
    assert body["roles"] == ["nurse"]
    assert body["date_of_birth"] is None
    assert body["phone"] == ""
    assert body["address"] == {
        "line1": "",
        "line2": "",
        "city": "",
        "region": "",
        "postal_code": "",
        "country": "",
    }
    assert body["emergency_contact"] is None
    assert body["allergies"] == body["conditions"] == body["medications"] == []
    read = AuditEvent.objects.get(action="profile.read", patient=staff)
    assert read.detail == {"sections": ["personal"]}


def test_profile_read_fetches_every_role_of_the_user(db: None) -> None:
    # a doctor at two centers who is also a patient: one row per role from the joined read
    doctor = make_doctor()
    RoleAssignment.objects.create(user=doctor, role=Role.PATIENT)
    RoleAssignment.objects.create(user=doctor, role=Role.NURSE, center=make_center())
    fresh = User.objects.get(pk=doctor.pk)  # no roles cached yet
    profile = read_profile(actor=fresh, access=PatientAccess(fresh, False))
    assert profile["roles"] == ["doctor", "nurse", "patient"]
    expected = sorted(doctor.role_assignments.values_list("role", "center_id"), key=str)
    assert sorted(role_pairs(fresh), key=str) == expected
    assert all(center is None or isinstance(center, UUID) for _, center in role_pairs(fresh))


def test_profile_output_renders_as_the_serializer_does() -> None:
    # the shared output serializer gives exactly what a new ProfileOutput(...).data gives,
    # down to dropped unknown keys, defaults and nulls
    profiles: list[dict[str, Any]] = [
        {
            "id": uuid4(),
            "email": "a@example.test",
            "first_name": "Ana",
            "last_name": "Lima",
            "roles": ["patient", "doctor"],
            "is_dependent": False,
            "date_of_birth": "1990-02-03",
            "phone": "+351 911 222 333",
            "address": {"line1": "Rua 1", "city": "Porto", "unknown": "dropped"},
            "emergency_contact": {"name": "Rui", "phone": "+351 933 444 555"},
            **{name: HEALTH[name] for name in ("allergies", "conditions", "medications")},
        },
        {
            "id": uuid4(),
            "email": None,
            "first_name": "Leo",
            "last_name": "",
            "roles": [],
            "is_dependent": True,
            "date_of_birth": None,
            "phone": "",
            "address": {},
            "emergency_contact": None,
            "allergies": [{"substance": "Latex", "severity": "mild", "extra": 1}],
            "conditions": [],
            "medications": [{"name": "Ibuprofen"}],
        },
    ]
    for profile in profiles:
        expected = ProfileOutput(profile).data
        assert rendered(ProfileOutput, profile) == expected
        assert json.dumps(rendered(ProfileOutput, profile)) == json.dumps(expected)
