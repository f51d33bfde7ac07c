from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from careconnect.accounts.access import PatientAccess
from careconnect.accounts.models import User
from careconnect.accounts.services import update_profile
from careconnect.audit.models import AuditEvent
from tests.factories import make_patient

pytestmark = pytest.mark.django_db


def test_openapi_schema_is_valid_and_warning_free(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(target),
    )
    paths = json.loads(target.read_text())["paths"]
    for path in [
        "/api/auth/login/",
        "/api/profile/",
        "/api/family/grants/",
        "/api/patients/{patient_id}/profile/",
        "/api/auth/mfa/setup/",
    ]:
        assert path in paths


def test_api_docs_page(client: Client) -> None:
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/schema/").status_code == 200


def _admin(**flags: Any) -> Client:
    staff = User.objects.create_user(
        email=f"staff{len(flags)}@example.test",
        password="x" * 12,
        first_name="Sam",
        last_name="Admin",
        is_staff=True,
        **flags,
    )
    client = Client()
    client.force_login(staff)
    return client


def test_admin_shows_health_data_only_to_permitted_staff() -> None:
    patient = make_patient()
    update_profile(
        actor=patient,
        access=PatientAccess(patient, False),
        data={"allergies": [{"substance": "Quinine", "reaction": "", "severity": "mild"}]},
    )
    page = f"/admin/accounts/user/{patient.id}/change/"
    superuser = _admin(is_superuser=True)
    shown = superuser.get(page)
    assert shown.status_code == 200
    assert "Quinine" in shown.content.decode()
    assert AuditEvent.objects.filter(action="profile.read", patient=patient).exists()
    # a staff member allowed to manage users but without the health-data permission
    from django.contrib.auth.models import Permission

    limited = User.objects.create_user(
        email="limited@example.test",
        password="x" * 12,
        first_name="Lee",
        last_name="Staff",
        is_staff=True,
    )
    limited.user_permissions.add(Permission.objects.get(codename="change_user"))
    client = Client()
    client.force_login(limited)
    hidden = client.get(page)
    assert hidden.status_code == 200
    assert "Quinine" not in hidden.content.decode()
    assert "Encrypted" in hidden.content.decode()
