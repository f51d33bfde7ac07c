"""Registration, email confirmation, login, logout, tokens and password reset over REST."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from careconnect.accounts.models import User
from careconnect.audit.models import AuditEvent
from tests.factories import PASSWORD, make_patient
from tests.utils import last_email_to, link_in, query_param

pytestmark = pytest.mark.django_db

NEW = {
    "email": "New.Person@Example.test",
    "password": PASSWORD,
    "first_name": "Nia",
    "last_name": "Okafor",
}


def test_register_confirm_and_login(api: Any) -> None:
    # when: a person registers
    response = api.post("/api/auth/register/", NEW)
    # then: an unconfirmed patient account and a confirmation email with a token link
    assert response.status_code == 201
    assert response.json() == {
        "email": "new.person@example.test",
        "email_confirmation_required": True,
    }
    user = User.objects.get(email="new.person@example.test")
    assert user.email_confirmed_at is None
    assert api.login(NEW["email"]).json()["error"]["code"] == "email_not_confirmed"
    link = link_in(last_email_to("new.person@example.test"))
    assert "/confirm-email?token=" in link
    confirmed = api.post("/api/auth/confirm-email/", {"token": query_param(link, "token")})
    assert confirmed.status_code == 200
    # and then login works, me answers, logout ends the session
    me = api.login(NEW["email"])
    assert me.status_code == 200
    assert me.json()["roles"] == ["patient"]
    assert api.get("/api/auth/me/").json()["email"] == "new.person@example.test"
    assert api.post("/api/auth/logout/").status_code == 204
    assert api.get("/api/auth/me/").status_code == 401


def test_register_existing_email_reveals_nothing_and_creates_nothing(
    api: Any, patient: Any
) -> None:
    before = User.objects.count()
    response = api.post("/api/auth/register/", {**NEW, "email": patient.email.upper()})
    assert response.status_code == 201
    assert User.objects.count() == before
    assert "already have one" in last_email_to(patient.email).body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"first_name": "<script>alert(1)</script>"}, "first_name"),
        ({"last_name": "x" * 101}, "last_name"),
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "password1234"}, "password"),
        ({"first_name": 42}, "first_name"),
        ({"role": "doctor"}, "role"),
    ],
)
def test_register_rejects_bad_input_and_writes_nothing(
    api: Any, change: dict[str, Any], field: str
) -> None:
    before = User.objects.count()
    response = api.post("/api/auth/register/", {**NEW, **change})
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert field in body["fields"]
    assert User.objects.count() == before
    assert mail.outbox == []


def test_malformed_json_and_wrong_shape(api: Any) -> None:
    response = api.post("/api/auth/register/", "{not json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    response = api.post("/api/auth/register/", [1, 2])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_body_over_one_megabyte_is_413(api: Any) -> None:
    response = api.post("/api/auth/register/", {**NEW, "first_name": "a" * (1024 * 1024 + 1)})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert not User.objects.filter(email="new.person@example.test").exists()


def test_confirm_email_with_bad_token(api: Any) -> None:
    response = api.post("/api/auth/confirm-email/", {"token": "nonsense"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_token"


def test_wrong_password_is_401(api: Any, patient: Any) -> None:
    response = api.login(patient.email, "wrong-password-here")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert api.get("/api/auth/me/").status_code == 401


def test_login_is_throttled_with_retry_after(api: Any, patient: Any, settings: Any) -> None:
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login": "3/min"}
    codes = [api.login(patient.email, "wrong-password-here").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    last = api.login(patient.email)
    assert last.status_code == 429
    assert int(last["Retry-After"]) > 0
    assert last.json()["error"]["code"] == "throttled"
    assert api.get("/api/auth/me/").status_code == 401


def test_login_is_throttled_per_email_across_addresses(
    make_api: Any, patient: Any, settings: Any
) -> None:
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login_email": "2/min"}
    codes = [
        make_api().login(patient.email, "wrong-password-here", ip=f"10.0.0.{n}").status_code
        for n in range(3)
    ]
    assert codes == [401, 401, 429]
    other = make_patient()
    assert make_api().login(other.email, ip="10.0.0.9").status_code == 200


def test_password_reset_ends_api_tokens(api: Any, patient: Any, client: Any) -> None:
    token = api.post("/api/auth/token/", {"email": patient.email, "password": PASSWORD})
    header = f"Token {token.json()['token']}"
    assert client.get("/api/auth/me/", HTTP_AUTHORIZATION=header).status_code == 200
    api.post("/api/auth/password-reset/", {"email": patient.email})
    reset = query_param(link_in(last_email_to(patient.email)), "token")
    api.post("/api/auth/password-reset/confirm/", {"token": reset, "password": "fresh-secret-99x"})
    assert client.get("/api/auth/me/", HTTP_AUTHORIZATION=header).status_code == 401


def test_token_auth_for_other_clients(api: Any, patient: Any, client: Any) -> None:
    token = api.post("/api/auth/token/", {"email": patient.email, "password": PASSWORD})
    assert token.status_code == 200
    me = client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    assert me.status_code == 200
    assert me.json()["id"] == str(patient.id)
    assert client.get("/api/auth/me/", HTTP_AUTHORIZATION="Token nope").status_code == 401


def test_session_write_without_csrf_is_refused(api: Any, patient: Any) -> None:
    api.login(patient.email)
    response = api.client.patch(
        "/api/profile/", '{"phone": "+351 900 000 000"}', content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"


def test_password_reset_once(api: Any, patient: Any) -> None:
    # given: a reset requested
    assert api.post("/api/auth/password-reset/", {"email": patient.email}).status_code == 202
    token = query_param(link_in(last_email_to(patient.email)), "token")
    # when: the link is used
    done = api.post(
        "/api/auth/password-reset/confirm/", {"token": token, "password": "a-new-long-secret-2"}
    )
    assert done.status_code == 200
    # then: the new password works, the old one does not, and the link is dead
    assert api.login(patient.email, PASSWORD).status_code == 401
    assert api.login(patient.email, "a-new-long-secret-2").status_code == 200
    again = api.post(
        "/api/auth/password-reset/confirm/", {"token": token, "password": "another-secret-3x"}
    )
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_token"
    assert AuditEvent.objects.filter(actor=patient, action="account.password_reset").count() == 1


def test_password_reset_for_unknown_email_looks_the_same(api: Any) -> None:
    response = api.post("/api/auth/password-reset/", {"email": "nobody@example.test"})
    assert response.status_code == 202
    assert mail.outbox == []


def test_expired_password_reset_link(api: Any, patient: Any, settings: Any) -> None:
    api.post("/api/auth/password-reset/", {"email": patient.email})
    token = query_param(link_in(last_email_to(patient.email)), "token")
    settings.PASSWORD_RESET_TIMEOUT = -1
    response = api.post(
        "/api/auth/password-reset/confirm/", {"token": token, "password": "a-new-long-secret-2"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_token"
    patient.refresh_from_db()
    assert patient.check_password(PASSWORD)


def test_unknown_api_path_is_404_in_error_shape(api: Any) -> None:
    response = api.get("/api/does-not-exist/")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "Not found.", "fields": {}}
    }
