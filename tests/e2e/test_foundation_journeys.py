"""Foundation journeys in real Chromium against the real server (embedded default)."""

from __future__ import annotations

import re
import sqlite3
import time
import uuid
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

PASSWORD = "journey-pass-2026"
DEMO_PASSWORD = "demo-pass-2026"
# Health details typed into the browser: none of them may be found at rest afterwards.
SECRET_ALLERGY = "Zanthoxylum"
SECRET_REACTION = "Laryngospasm"
SECRET_CONDITION = "Pheochromocytoma"


def _path(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def _link(body: str, marker: str) -> str:
    match = re.search(r"https?://\S*" + re.escape(marker) + r"\S*", body)
    assert match, body
    return _path(match.group(0))


def _log_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def _log_out(page: Page) -> None:
    page.get_by_role("button", name="Account").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()


def _register(page: Page, server: Server, email: str, first: str, last: str) -> None:
    page.goto("/register")
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill(last)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    body = server.wait_for_email(email, "/confirm-email?token=")
    page.goto(_link(body, "/confirm-email?token="))
    expect(page.get_by_role("heading", name="Email confirmed")).to_be_visible()


def _scan_at_rest(server: Server, secrets: list[str]) -> None:
    """Raw rows of every table, and every file under the server's var dir."""
    database = server.var_dir / "careconnect.sqlite3"
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        assert "accounts_user" in tables
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                text = " ".join(
                    bytes(v).decode("utf-8", "replace")
                    if isinstance(v, bytes | memoryview)
                    else str(v)
                    for v in row
                )
                for secret in secrets:
                    assert secret not in text, f"{secret!r} in plaintext in table {table}"
    finally:
        connection.close()
    for path in server.var_dir.rglob("*"):
        if path.is_file() and path.name != "server.log":
            data = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, f"{secret!r} in plaintext in {path}"


def test_register_confirm_login_totp_and_health_data_encrypted(
    new_page: Callable[..., Page], server: Server
) -> None:
    page = new_page()
    email = f"nia.{uuid.uuid4().hex[:8]}@example.test"
    # register → confirm from the mail file → log in
    _register(page, server, email, "Nia", "Okafor")
    page.get_by_role("link", name="Log in").click()
    _log_in(page, email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Nia")
    # keep a health summary
    page.goto("/profile")
    page.get_by_label("Date of birth").fill("1990-02-03")
    page.get_by_role("button", name="Add allergy").click()
    page.get_by_label("Substance").last.fill(SECRET_ALLERGY)
    page.get_by_label("Reaction").last.fill(SECRET_REACTION)
    page.get_by_label("Severity").last.select_option(label="Severe")
    page.get_by_role("button", name="Add condition").click()
    page.get_by_label(re.compile(r"^Condition")).last.fill(SECRET_CONDITION)
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Your profile has been saved.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Substance").last).to_have_value(SECRET_ALLERGY)
    # turn on two-factor with the QR code's secret
    page.goto("/security")
    page.get_by_role("button", name="Set up two-factor authentication").click()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    secret = re.search(r"\b[A-Z2-7]{32}\b", page.content())
    assert secret, "the setup key is shown for manual entry"
    totp = pyotp.TOTP(secret.group(0))
    page.get_by_label("Verification code").fill(totp.now())
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    codes = page.get_by_role("list", name="Backup codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    page.get_by_role("button", name="I've saved my codes").click()
    # log out, and log in again: the code is asked for
    _log_out(page)
    _log_in(page, email, PASSWORD)
    expect(page.get_by_label("Verification code")).to_be_visible()
    page.get_by_label("Verification code").fill(totp.at(time.time() + 30))  # a fresh time step
    page.get_by_role("button", name="Verify and log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Nia")
    # at rest: nothing of what was typed is readable in the database or var/
    _scan_at_rest(server, [SECRET_ALLERGY, SECRET_REACTION, SECRET_CONDITION])


def test_family_member_acts_for_patient_until_revoked(
    new_page: Callable[..., Page], server: Server
) -> None:
    patient, member = new_page(), new_page(width=375, height=812)
    member_email = f"kin.{uuid.uuid4().hex[:8]}@example.test"
    _register(member, server, member_email, "Teo", "Santos")
    # the patient invites them with the right to view records
    _log_in(patient, "patient@demo.test", DEMO_PASSWORD)
    expect(patient.get_by_role("heading", level=1)).to_contain_text("Maria")
    patient.goto("/family")
    invite = patient.get_by_role("region", name="Invite a family member")
    invite.get_by_label("Email").fill(member_email)
    invite.get_by_label("View health records").check()
    invite.get_by_role("button", name="Send invitation").click()
    expect(patient.get_by_text(f"Invitation sent to {member_email}")).to_be_visible()
    # the member follows the emailed link, signs in, accepts
    body = server.wait_for_email(member_email, "/family/accept?grant=")
    member.goto(_link(body, "/family/accept?grant="))
    member.get_by_label("Email").fill(member_email)
    member.get_by_label("Password").fill(PASSWORD)
    member.get_by_role("button", name="Log in").click()
    member.get_by_role("button", name="Accept invitation").click()
    member.get_by_role("button", name=re.compile("Start acting for Maria")).click()
    # acting for the patient they see her health summary
    member.goto("/profile")
    expect(member.get_by_text("Penicillin").first).to_be_visible()
    # the patient revokes; the member's very next request is refused
    patient.goto("/family")
    patient.get_by_role("button", name="Revoke access for Teo Santos").click()
    patient.get_by_role("button", name="Yes, end access").click()
    expect(patient.get_by_text("has been revoked")).to_be_visible()
    member.reload()
    expect(member.get_by_text("Your access to Maria Santos has ended.")).to_be_visible()
    expect(member.get_by_text("Penicillin")).to_have_count(0)
    response = member.request.get("/api/family/patients/")
    assert response.ok
    assert response.json() == []


def test_pages_fit_a_phone_screen(new_page: Callable[..., Page], server: Server) -> None:
    page = new_page(width=375, height=812)
    _log_in(page, "patient@demo.test", DEMO_PASSWORD)
    for path in ["/", "/profile", "/family", "/security"]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        overflow: Any = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 375, f"{path} is {overflow}px wide on a 375px screen"
