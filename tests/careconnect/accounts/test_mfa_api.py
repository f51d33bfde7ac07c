"""TOTP two-factor: setup with QR and backup codes, login asks for the code, no replay."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from careconnect.accounts.models import User
from tests.conftest import signed_in
from tests.factories import PASSWORD, make_staff

pytestmark = pytest.mark.django_db


def _enable(api: Any) -> tuple[pyotp.TOTP, list[str]]:
    setup = api.post("/api/auth/mfa/setup/")
    assert setup.status_code == 200
    body = setup.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert body["qr_svg"].startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    totp = pyotp.TOTP(body["secret"])
    enabled = api.post("/api/auth/mfa/enable/", {"otp": totp.now()})
    assert enabled.status_code == 200, enabled.content
    return totp, enabled.json()["backup_codes"]


def test_login_asks_for_totp_once_enabled(api: Any, make_api: Any, patient: Any) -> None:
    totp, codes = _enable(signed_in(api, patient))
    assert len(codes) == 10
    assert len(set(codes)) == 10
    fresh = make_api()
    asked = fresh.login(patient.email)
    assert asked.status_code == 401
    assert asked.json()["error"]["code"] == "otp_required"
    assert fresh.get("/api/auth/me/").status_code == 401
    wrong = fresh.login(patient.email, otp="000000" if totp.now() != "000000" else "111111")
    assert wrong.json()["error"]["code"] == "invalid_otp"
    # the code used to enable is spent: a fresh step is needed (no replay)
    replay = fresh.login(patient.email, otp=totp.now())
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "invalid_otp"


def test_next_time_step_code_logs_in(api: Any, make_api: Any, patient: Any) -> None:
    totp, _ = _enable(signed_in(api, patient))
    user = User.objects.get(pk=patient.pk)
    next_code = totp.at((user.mfa_last_step + 1) * 30)
    ok = make_api().login(patient.email, otp=next_code)
    assert ok.status_code == 200
    assert ok.json()["mfa_enabled"] is True


def test_backup_code_works_once(api: Any, make_api: Any, patient: Any) -> None:
    _, codes = _enable(signed_in(api, patient))
    assert make_api().login(patient.email, otp=codes[0]).status_code == 200
    again = make_api().login(patient.email, otp=codes[0])
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "invalid_otp"


def test_wrong_code_does_not_enable(api: Any, patient: Any) -> None:
    signed_in(api, patient)
    secret = api.post("/api/auth/mfa/setup/").json()["secret"]
    bad = "123456" if pyotp.TOTP(secret).now() != "123456" else "654321"
    response = api.post("/api/auth/mfa/enable/", {"otp": bad})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_otp"
    assert User.objects.get(pk=patient.pk).mfa_enabled_at is None


def test_disable_needs_password(api: Any, make_api: Any, patient: Any) -> None:
    _enable(signed_in(api, patient))
    assert api.post("/api/auth/mfa/disable/", {"password": "nope-nope-nope"}).status_code == 401
    assert api.post("/api/auth/mfa/disable/", {"password": PASSWORD}).status_code == 204
    assert make_api().login(patient.email).status_code == 200


def test_staff_mfa_enforcement(api: Any, settings: Any) -> None:
    # given: the production setting on, and a nurse without two-factor
    settings.MFA_REQUIRED_FOR_STAFF = True
    nurse = make_staff(role="nurse")
    me = signed_in(api, nurse).get("/api/auth/me/").json()
    assert me["mfa_setup_required"] is True
    # then: everything but the setup is refused until two-factor is on
    blocked = api.get("/api/profile/")
    assert blocked.status_code == 403
    assert blocked.json()["error"]["code"] == "mfa_setup_required"
    _enable(api)
    assert api.get("/api/profile/").status_code == 200
    refused = api.post("/api/auth/mfa/disable/", {"password": PASSWORD})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "mfa_enforced"


def test_staff_mfa_off_on_embedded_default(api: Any) -> None:
    nurse = make_staff(role="nurse")
    assert signed_in(api, nurse).get("/api/profile/").status_code == 200
