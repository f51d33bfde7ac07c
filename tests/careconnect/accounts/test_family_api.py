"""Family (proxy) access: invite, accept, act for, scopes, revoke, expiry, dependents."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from careconnect.accounts.models import CareGrant, User
from careconnect.audit.models import AuditEvent
from tests.conftest import signed_in
from tests.factories import make_patient
from tests.utils import last_email_to, link_in, query_param

pytestmark = pytest.mark.django_db


def _invite(api: Any, email: str | None, scopes: list[str], **extra: Any) -> Any:
    return api.post("/api/family/grants/", {"email": email, "scopes": scopes, **extra})


@pytest.fixture
def family(db: None) -> Any:
    return make_patient()


@pytest.fixture
def member_api(make_api: Any, family: Any) -> Any:
    return signed_in(make_api(), family)


def test_invite_accept_act_for_and_revoke(
    api: Any, member_api: Any, patient: Any, family: Any
) -> None:
    # given: the patient has a health summary and invites a family member
    signed_in(api, patient).patch(
        "/api/profile/",
        {"allergies": [{"substance": "Latex", "reaction": "Rash", "severity": "mild"}]},
    )
    invite = _invite(api, family.email, ["book", "view_records"])
    assert invite.status_code == 201
    grant_id = invite.json()["id"]
    assert invite.json()["status"] == "pending"
    link = link_in(last_email_to(family.email))
    assert query_param(link, "grant") == grant_id
    assert "Latex" not in last_email_to(family.email).body
    # when: the invitee sees and accepts it
    pending = member_api.get("/api/family/invitations/").json()
    assert [g["id"] for g in pending] == [grant_id]
    accepted = member_api.post(f"/api/family/grants/{grant_id}/accept/", {})
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "active"
    # then: they may act for the patient and read their health summary, audited as acting-for
    actable = member_api.get("/api/family/patients/").json()
    assert actable[0]["patient"]["id"] == str(patient.id)
    assert actable[0]["scopes"] == ["book", "view_records"]
    assert actable[0]["relationship"] == "family"
    profile = member_api.get(f"/api/patients/{patient.id}/profile/")
    assert profile.status_code == 200
    assert profile.json()["allergies"][0]["substance"] == "Latex"
    event = AuditEvent.objects.filter(actor=family, action="profile.read").get()
    assert event.acting_for_id == patient.id
    assert event.patient_id == patient.id
    # a proxy cannot edit the patient's record
    edit = member_api.patch(f"/api/patients/{patient.id}/profile/", {"phone": "+1 555 1234"})
    assert edit.status_code == 403
    # when: the patient revokes; then: the very next request is refused
    revoked = api.post(f"/api/family/grants/{grant_id}/revoke/")
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    after = member_api.get(f"/api/patients/{patient.id}/profile/")
    assert after.status_code == 403
    assert after.json()["error"]["code"] == "grant_inactive"
    assert member_api.get("/api/family/patients/").json() == []
    again = api.post(f"/api/family/grants/{grant_id}/revoke/")
    assert again.status_code == 409


def test_grant_without_view_records_gets_403_on_health_summary(
    api: Any, member_api: Any, patient: Any, family: Any
) -> None:
    grant_id = _invite(signed_in(api, patient), family.email, ["book", "message"]).json()["id"]
    member_api.post(f"/api/family/grants/{grant_id}/accept/", {})
    response = member_api.get(f"/api/patients/{patient.id}/profile/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "scope_missing"


def test_expired_grant_gets_403(api: Any, member_api: Any, patient: Any, family: Any) -> None:
    soon = (timezone.now() + timedelta(hours=1)).isoformat()
    grant_id = _invite(
        signed_in(api, patient), family.email, ["view_records"], expires_at=soon
    ).json()["id"]
    member_api.post(f"/api/family/grants/{grant_id}/accept/", {})
    assert member_api.get(f"/api/patients/{patient.id}/profile/").status_code == 200
    CareGrant.objects.filter(id=grant_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = member_api.get(f"/api/patients/{patient.id}/profile/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "grant_inactive"
    assert api.get("/api/family/grants/").json()[0]["status"] == "expired"


def test_invite_accepted_by_the_wrong_person(
    api: Any, make_api: Any, patient: Any, family: Any
) -> None:
    grant_id = _invite(signed_in(api, patient), family.email, ["book"]).json()["id"]
    stranger = signed_in(make_api(), make_patient())
    response = stranger.post(f"/api/family/grants/{grant_id}/accept/", {})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "wrong_account"
    assert stranger.get(f"/api/family/grants/{grant_id}/").status_code == 403
    assert CareGrant.objects.get(id=grant_id).status == "pending"
    assert stranger.get(f"/api/patients/{patient.id}/profile/").status_code == 404


def test_accepting_twice_or_after_expiry(
    api: Any, member_api: Any, patient: Any, family: Any
) -> None:
    grant_id = _invite(signed_in(api, patient), family.email, ["book"]).json()["id"]
    assert member_api.post(f"/api/family/grants/{grant_id}/accept/", {}).status_code == 200
    twice = member_api.post(f"/api/family/grants/{grant_id}/accept/", {})
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "grant_not_pending"
    other = make_patient()
    late = _invite(
        api, other.email, ["book"], expires_at=(timezone.now() + timedelta(minutes=5)).isoformat()
    ).json()["id"]
    CareGrant.objects.filter(id=late).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = signed_in(api.__class__(api._capture), other).post(
        f"/api/family/grants/{late}/accept/", {}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "grant_expired"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"email": "x@example.test", "scopes": ["everything"]}, 400, "invalid"),
        ({"email": "x@example.test", "scopes": []}, 400, "invalid"),
        (
            {"email": "x@example.test", "scopes": ["book"], "expires_at": "2001-01-01T00:00:00Z"},
            400,
            "invalid",
        ),
        ({"email": "x@example.test", "scopes": ["book"], "admin": True}, 400, "invalid"),
    ],
)
def test_invite_bad_input(
    api: Any, patient: Any, body: dict[str, Any], status: int, code: str
) -> None:
    response = signed_in(api, patient).post("/api/family/grants/", body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert not CareGrant.objects.exists()


def test_invite_self_and_duplicate(api: Any, patient: Any, family: Any) -> None:
    signed_in(api, patient)
    self_invite = _invite(api, patient.email.upper(), ["book"])
    assert self_invite.status_code == 400
    assert _invite(api, family.email, ["book"]).status_code == 201
    duplicate = _invite(api, family.email.upper(), ["pay"])
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "already_invited"
    assert CareGrant.objects.count() == 1


def test_invite_person_without_account_then_they_register(
    api: Any, make_api: Any, patient: Any
) -> None:
    grant_id = _invite(signed_in(api, patient), "newcomer@example.test", ["message"]).json()["id"]
    assert "Create an account" in last_email_to("newcomer@example.test").body
    newcomer = make_api()
    newcomer.post(
        "/api/auth/register/",
        {
            "email": "newcomer@example.test",
            "password": "a-long-pass-phrase",
            "first_name": "Ada",
            "last_name": "Byron",
        },
    )
    token = query_param(link_in(last_email_to("newcomer@example.test")), "token")
    newcomer.post("/api/auth/confirm-email/", {"token": token})
    newcomer.login("newcomer@example.test", "a-long-pass-phrase")
    assert newcomer.post(f"/api/family/grants/{grant_id}/accept/", {}).status_code == 200


def test_dependent_managed_by_guardian(api: Any, make_api: Any, patient: Any) -> None:
    signed_in(api, patient)
    created = api.post(
        "/api/family/dependents/",
        {"first_name": "Leo", "last_name": "Santos", "date_of_birth": "2019-06-01"},
    )
    assert created.status_code == 201
    child_id = created.json()["id"]
    child = User.objects.get(id=child_id)
    assert child.is_dependent
    assert child.email is None
    assert not child.has_usable_password()
    assert api.get("/api/family/dependents/").json()[0]["date_of_birth"] == "2019-06-01"
    actable = api.get("/api/family/patients/").json()
    assert actable[0]["relationship"] == "guardian"
    assert sorted(actable[0]["scopes"]) == ["book", "message", "pay", "view_records"]
    # the guardian edits the child's health summary, audited as acting for the child
    edit = api.patch(
        f"/api/patients/{child_id}/profile/",
        {"allergies": [{"substance": "Peanut", "reaction": "Swelling", "severity": "severe"}]},
    )
    assert edit.status_code == 200, edit.content
    assert edit.json()["allergies"][0]["substance"] == "Peanut"
    event = AuditEvent.objects.filter(action="health_record.update", patient=child).get()
    assert event.actor_id == patient.id
    assert event.acting_for_id == child.id
    # a dependent cannot be revoked away from the guardian, and strangers see nothing
    guardian_grant = CareGrant.objects.get(patient=child)
    assert api.post(f"/api/family/grants/{guardian_grant.id}/revoke/").status_code == 404
    assert (
        signed_in(make_api(), make_patient()).get(f"/api/patients/{child_id}/profile/").status_code
        == 404
    )


def test_patient_withdraws_a_pending_invitation(
    api: Any, member_api: Any, patient: Any, family: Any
) -> None:
    grant_id = _invite(signed_in(api, patient), family.email, ["book"]).json()["id"]
    withdrawn = api.post(f"/api/family/grants/{grant_id}/revoke/")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "revoked"
    assert member_api.get("/api/family/invitations/").json() == []
    late = member_api.post(f"/api/family/grants/{grant_id}/accept/", {})
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "grant_not_pending"
    # and a new invitation to the same person is possible again
    assert _invite(api, family.email, ["book"]).status_code == 201
