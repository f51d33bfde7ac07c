"""API tokens for non-browser clients: issued by POST /api/auth/token/, stored only as
digests, checked by `Authorization: Token …`, revoked by a password reset or the admin."""

from __future__ import annotations

import hashlib
import importlib
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from careconnect.accounts.models import ApiToken, User
from careconnect.accounts.services import record_api_token_use
from careconnect.audit.models import AuditEvent
from tests.factories import PASSWORD, make_patient
from tests.utils import last_email_to, link_in, query_param, raw_database_text

pytestmark = pytest.mark.django_db

DATA_MIGRATION = "0005_hash_plaintext_api_tokens"


def _obtain(api: Any, user: User) -> str:
    response = api.post("/api/auth/token/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 200, response.content
    token: str = response.json()["token"]
    assert token.startswith("cc_")  # one of ours, not a DRF plaintext key
    return token


def _me(client: Client, token: str) -> Any:
    return client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Token {token}")


def _api_token_rows_as_text() -> str:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{ApiToken._meta.db_table}"')
        return "\n".join(str(value) for row in cursor.fetchall() for value in row)


def test_token_works_and_only_its_digest_is_stored(api: Any, patient: User, client: Client) -> None:
    # when: a client asks for a token
    response = api.post("/api/auth/token/", {"email": patient.email, "password": PASSWORD})
    # then: the answer carries it once, and it signs requests in as the patient
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = response.json()["token"]
    assert token.startswith("cc_")
    me = _me(client, token)
    assert me.status_code == 200
    assert me.json()["id"] == str(patient.id)
    # and the database holds its digest only: no column of any table has the token
    stored = ApiToken.objects.get(user=patient)
    assert stored.digest == hashlib.sha256(token.encode()).hexdigest()
    secret_part = token.removeprefix("cc_")
    assert secret_part not in _api_token_rows_as_text()
    assert secret_part not in raw_database_text()
    assert not Token.objects.exists()
    # and the issue is audited next to the sign-in
    actions = set(AuditEvent.objects.filter(actor=patient).values_list("action", flat=True))
    assert {"account.login", "account.issue_api_token"} <= actions
    issued = AuditEvent.objects.get(actor=patient, action="account.issue_api_token")
    assert issued.object_id == str(stored.id)


def test_each_call_issues_a_new_token_and_both_work(
    api: Any, patient: User, client: Client
) -> None:
    first, second = _obtain(api, patient), _obtain(api, patient)
    assert first != second
    assert ApiToken.objects.filter(user=patient).count() == 2
    assert _me(client, first).status_code == 200
    assert _me(client, second).status_code == 200


def test_wrong_password_issues_no_token(api: Any, patient: User) -> None:
    response = api.post("/api/auth/token/", {"email": patient.email, "password": "not-it-at-all"})
    assert response.status_code == 401
    assert "token" not in response.json()
    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.filter(action="account.issue_api_token").exists()


def test_password_reset_revokes_every_api_token(api: Any, patient: User, client: Client) -> None:
    # given: two tokens
    tokens = [_obtain(api, patient), _obtain(api, patient)]
    other = make_patient()
    kept = _obtain(api, other)
    # when: the password is reset
    api.post("/api/auth/password-reset/", {"email": patient.email})
    reset = query_param(link_in(last_email_to(str(patient.email))), "token")
    done = api.post(
        "/api/auth/password-reset/confirm/", {"token": reset, "password": "fresh-secret-99x"}
    )
    assert done.status_code == 200
    # then: both are dead and gone; someone else's token is untouched
    assert [_me(client, token).status_code for token in tokens] == [401, 401]
    assert not ApiToken.objects.filter(user=patient).exists()
    assert _me(client, kept).status_code == 200


@pytest.mark.parametrize(
    "token",
    ["nope", "cc_" + "A" * 43, "0123456789abcdef0123456789abcdef01234567"],
)
def test_unknown_token_is_401(api: Any, client: Client, patient: User, token: str) -> None:
    # given: the patient has a token that works
    assert _me(client, _obtain(api, patient)).status_code == 200
    # when: another one is sent
    response = _me(client, token)
    # then
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["error"]["code"] == "not_authenticated"


def test_digest_is_not_a_token(api: Any, patient: User, client: Client) -> None:
    token = _obtain(api, patient)
    digest = ApiToken.objects.get(user=patient).digest
    assert _me(client, token).status_code == 200
    assert _me(client, digest).status_code == 401


def test_deactivated_users_token_is_401(api: Any, patient: User, client: Client) -> None:
    token = _obtain(api, patient)
    assert _me(client, token).status_code == 200
    User.objects.filter(pk=patient.pk).update(is_active=False)
    response = _me(client, token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_last_use_is_written_at_most_once_a_minute(api: Any, patient: User, client: Client) -> None:
    token = _obtain(api, patient)
    table = ApiToken._meta.db_table
    start = timezone.now()

    def use_at(moment: Any) -> list[str]:
        with time_machine.travel(moment, tick=False), CaptureQueriesContext(connection) as seen:
            assert _me(client, token).status_code == 200
        return [q["sql"] for q in seen.captured_queries if q["sql"].startswith("UPDATE")]

    # when: first used, the time is written
    assert len([sql for sql in use_at(start) if table in sql]) == 1
    assert ApiToken.objects.get(user=patient).last_used_at == start
    # then: requests within the minute write nothing
    assert [sql for sql in use_at(start + timedelta(seconds=59)) if table in sql] == []
    assert ApiToken.objects.get(user=patient).last_used_at == start
    # and the first one after it writes again
    later = start + timedelta(seconds=61)
    assert len([sql for sql in use_at(later) if table in sql]) == 1
    assert ApiToken.objects.get(user=patient).last_used_at == later


def test_requests_racing_on_a_stale_copy_record_the_last_use_once(api: Any, patient: User) -> None:
    # given: two requests that loaded the token before either recorded its use
    _obtain(api, patient)
    first, second = ApiToken.objects.get(user=patient), ApiToken.objects.get(user=patient)
    start = timezone.now()
    # when: both record it within the minute
    with time_machine.travel(start, tick=False):
        record_api_token_use(api_token=first)
    with time_machine.travel(start + timedelta(seconds=5), tick=False):
        record_api_token_use(api_token=second)
    # then: the first write stands
    assert ApiToken.objects.get(user=patient).last_used_at == start


def test_data_migration_hashes_existing_plaintext_tokens(client: Client) -> None:
    # given: DRF plaintext tokens, as issued before this migration
    old_users = [make_patient(), make_patient()]
    keys = [Token.generate_key() for _ in old_users]
    for user, key in zip(old_users, keys, strict=True):
        Token.objects.create(user=user, key=key)
    issued = timezone.now() - timedelta(days=30)
    Token.objects.update(created=issued)
    migration = importlib.import_module(f"careconnect.accounts.migrations.{DATA_MIGRATION}")
    # the models as they are when the migration runs
    state = MigrationLoader(connection).project_state(("accounts", DATA_MIGRATION), at_end=False)
    # when
    migration.hash_plaintext_tokens(state.apps, connection.schema_editor())
    # then: no plaintext is left, the digests are in its place, and the old keys still work
    assert not Token.objects.exists()
    for user, key in zip(old_users, keys, strict=True):
        stored = ApiToken.objects.get(user=user)
        assert stored.digest == hashlib.sha256(key.encode()).hexdigest()
        assert stored.created_at == issued
        assert key not in _api_token_rows_as_text()
        assert _me(client, key).json()["id"] == str(user.id)


def _superuser_client() -> tuple[Client, User]:
    staff = User.objects.create_user(
        email="root@example.test",
        password="x" * 12,
        first_name="Sam",
        last_name="Admin",
        is_staff=True,
        is_superuser=True,
    )
    admin_client = Client()
    admin_client.force_login(staff)
    return admin_client, staff


def test_admin_lists_tokens_without_digest_and_revokes_by_deleting(
    api: Any, patient: User, client: Client
) -> None:
    # given: a token, and a platform admin
    token = _obtain(api, patient)
    stored = ApiToken.objects.get(user=patient)
    admin_client, staff = _superuser_client()
    # when: the admin looks
    listing = admin_client.get("/admin/accounts/apitoken/")
    detail = admin_client.get(f"/admin/accounts/apitoken/{stored.id}/change/")
    # then: who and when, never the digest; and it cannot be made or edited there
    assert listing.status_code == 200
    assert detail.status_code == 200
    assert str(patient.email) in listing.content.decode()
    for page in (listing, detail):
        assert stored.digest not in page.content.decode()
    assert admin_client.get("/admin/accounts/apitoken/add/").status_code == 403
    # and DRF's plaintext token admin is gone
    assert admin_client.get("/admin/authtoken/tokenproxy/").status_code == 404
    # when: the admin deletes it
    deleted = admin_client.post(f"/admin/accounts/apitoken/{stored.id}/delete/", {"post": "yes"})
    # then: it is revoked, and the revocation is audited
    assert deleted.status_code == 302
    assert not ApiToken.objects.exists()
    assert _me(client, token).status_code == 401
    revoked = AuditEvent.objects.get(action="account.revoke_api_token")
    assert (revoked.actor_id, revoked.object_id) == (staff.id, str(stored.id))
    assert revoked.detail == {"user": str(patient.id)}


def test_admin_bulk_delete_revokes_tokens(api: Any, patient: User, client: Client) -> None:
    tokens = [_obtain(api, patient), _obtain(api, patient)]
    admin_client, _ = _superuser_client()
    ids = [str(pk) for pk in ApiToken.objects.values_list("id", flat=True)]
    response = admin_client.post(
        "/admin/accounts/apitoken/",
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert response.status_code == 302
    assert [_me(client, token).status_code for token in tokens] == [401, 401]
    assert AuditEvent.objects.filter(action="account.revoke_api_token").count() == 2
