"""Notification journeys (issue: reminders and notifications) in real Chromium against the real
server (embedded default: each SMS a file under var/sms/, each email under var/mail/, Celery
beat scanning for due reminders every minute): the patient turns on SMS, verifying the code
from var/sms/; their appointment's reminder falls due the way a real center's would (the
center admin sets the reminder offsets); the reminder arrives in the app with its one-tap
links and by SMS, the patient confirms with one tap, and the doctor's week shows it
confirmed. The same link used twice says so."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Server, serve
from tests.e2e.conftest import csrf_token as _csrf
from tests.e2e.conftest import log_in as _log_in

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "demo-pass-2026"
DOCTOR_NAME = "Dr Ana Ferreira"
SEEDED_REASON = "Follow-up on seasonal asthma"  # the demo patient's booking (seed_demo)
HEALTH_WORD = "asthma"  # texts never carry the reason for the visit
PHONE = "+351 912 345 678"
PHONE_E164 = "+351912345678"
REMINDER_TIMEOUT_MS = 150_000  # beat scans every 60 s, then the worker delivers


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """This module's own server: it changes the demo center's reminder offsets, and reads
    every SMS and email the server wrote."""
    with serve(tmp_path_factory.mktemp("var-notify")) as running:
        yield running


def _get(page: Page, path: str) -> Any:
    response = page.request.get(path)
    assert response.ok, f"{path}: {response.status} {response.text()}"
    return response.json()


def _wait_for(what: str, check: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"{what}: not within {timeout}s")


def _sms_files(server: Server) -> list[Path]:
    return sorted(
        (server.var_dir / "sms").glob("*.txt"), key=lambda p: (p.stat().st_mtime_ns, p.name)
    )


def _verification_code(server: Server, seen: set[Path]) -> str:
    """The code in the newest verify-*.txt that was not there before "Send code"."""

    def newest() -> Path | None:
        fresh = [p for p in _sms_files(server) if p.name.startswith("verify-") and p not in seen]
        return fresh[-1] if fresh else None

    path: Path = _wait_for("a verification SMS", newest)
    text = path.read_text()
    assert f"To: {PHONE_E164}\n" in text, text
    match = re.search(r"Your CareConnect code is (\d{6})\b", text)
    assert match, text
    return match.group(1)


def _reminder_sms(server: Server) -> str | None:
    for path in reversed(_sms_files(server)):
        if path.name.startswith("verify-"):
            continue
        text = path.read_text()
        if "Reply C to confirm" in text:
            return text
    return None


def _email_texts(server: Server) -> list[str]:
    """Every email's decoded text parts (plain and HTML) with its headers."""
    texts = []
    for path in sorted((server.var_dir / "mail").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        parts = [str(message["Subject"])]
        for part in message.walk():
            if part.get_content_maintype() == "text":
                parts.append(str(part.get_content()))
        texts.append("\n".join(parts))
    return texts


def _seeded_appointment(patient: Page) -> dict[str, Any]:
    found = [a for a in _get(patient, "/api/appointments/") if a["reason"] == SEEDED_REASON]
    assert len(found) == 1, found
    return dict(found[0])


def _start(appointment: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(appointment["start"].replace("Z", "+00:00"))


def _bell(page: Page) -> Locator:
    return page.get_by_role("button", name=re.compile(r"^Notifications(, \d+ unread)?$"))


def _unread_in_inbox(patient: Page) -> int:
    return int(_get(patient, "/api/notifications/")["unread"])


def _turn_on_sms_reminders(patient: Page, server: Server) -> None:
    patient.goto("/settings/notifications")
    expect(patient.get_by_role("heading", level=1, name="Notifications")).to_be_visible()
    sms_reminders = patient.get_by_role("checkbox", name="SMS for Appointment reminders")
    in_app_reminders = patient.get_by_role("checkbox", name="In the app for Appointment reminders")
    expect(sms_reminders).to_be_disabled()  # no verified number yet
    expect(in_app_reminders).to_be_checked()

    seen = set(_sms_files(server))
    patient.get_by_label("Phone for SMS").fill(PHONE)
    patient.get_by_role("button", name="Send code").click()
    expect(patient.get_by_role("status").filter(has_text="We sent a code to")).to_be_visible()
    code = _verification_code(server, seen)
    patient.get_by_label("Code", exact=True).fill(code)
    patient.get_by_role("button", name="Verify").click()
    expect(patient.get_by_text("Verified number ending")).to_contain_text(PHONE_E164[-4:])
    expect(patient.get_by_text("Number verified")).to_be_visible()

    expect(sms_reminders).to_be_enabled()
    # click, not check(): the box is controlled by the saved preferences, which the page
    # updates a tick after the click (optimistically), so check()'s immediate re-read fails
    sms_reminders.click()
    expect(patient.get_by_role("status").filter(has_text="Saved")).to_contain_text(
        "SMS for Appointment reminders is on."
    )
    expect(sms_reminders).to_be_checked()
    expect(in_app_reminders).to_be_checked()
    # what the server keeps (the page shows what it answered)
    patient.reload()
    expect(sms_reminders).to_be_checked()
    expect(in_app_reminders).to_be_checked()
    expect(patient.get_by_text("Verified number ending")).to_contain_text(PHONE_E164[-4:])


def _assert_says_when(text: str, start: datetime) -> None:
    """A reminder's "on Tue 24 Nov at 13:00 (Europe/Lisbon time)" is the start, in the
    zone it names (the person's, else the center's)."""
    match = re.search(r"on (\w{3} \d{2} \w{3} at \d{2}:\d{2}) \(([^)]+) time\)", text)
    assert match, text
    local = start.astimezone(ZoneInfo(match.group(2).replace(" ", "_")))
    assert match.group(1) == f"{local:%a %d %b at %H:%M}", text


def _remind_now(admin: Page, center_id: str, start: datetime) -> int:
    """As the center admin: one reminder, this many minutes before the start, so the
    appointment's reminder came due in the last minute (the next beat scan owes it)."""
    minutes = int((start - datetime.now(UTC)).total_seconds() // 60)
    assert 1 <= minutes <= 20160, minutes
    response = admin.request.patch(
        f"/api/centers/{center_id}/booking-policy/",
        data={"reminder_offsets_minutes": [minutes]},
        headers={"X-CSRFToken": _csrf(admin)},
    )
    assert response.ok, response.text()
    assert response.json()["reminder_offsets_minutes"] == [minutes]
    return minutes


def test_patient_turns_on_sms_gets_a_reminder_and_confirms_it_with_one_tap(
    new_page: Callable[..., Page], server: Server
) -> None:
    patient = new_page()
    _log_in(patient, "patient@demo.test")
    appointment = _seeded_appointment(patient)
    assert appointment["status"] == "confirmed", appointment  # paid at seed time
    assert appointment["attendance_confirmed_at"] is None, appointment
    start = _start(appointment)
    assert start > datetime.now(UTC) + timedelta(hours=1), start
    doctor_id = str(appointment["doctor"]["id"])
    center_id = str(_get(patient, f"/api/doctors/{doctor_id}/")["center"]["id"])
    assert center_id == str(appointment["doctor"]["center"]["id"])

    # the patient verifies a number (the code from var/sms/) and turns on SMS reminders
    _turn_on_sms_reminders(patient, server)

    # the sign-in alert lands first (in-app, from the worker): count from there
    _wait_for(
        "the sign-in alert in the inbox",
        lambda: any(
            n["title"].startswith("New sign-in")
            for n in _get(patient, "/api/notifications/")["results"]
        ),
    )
    patient.goto("/")
    unread_before = _unread_in_inbox(patient)
    bell = _bell(patient)
    expect(bell).to_have_accessible_name(
        f"Notifications, {unread_before} unread" if unread_before else "Notifications"
    )

    # the center admin sets the reminder so that this appointment's falls due now
    admin = new_page()
    _log_in(admin, "admin@demo.test")
    offset = _remind_now(admin, center_id, start)
    assert timedelta(minutes=offset) <= start - datetime.now(UTC)

    # the beat's scan owes it; it arrives in the open app without a reload
    expect(bell).to_have_accessible_name(
        f"Notifications, {unread_before + 1} unread", timeout=REMINDER_TIMEOUT_MS
    )
    # ... and by SMS to the verified number: date, time, doctor; never the reason
    sms = _wait_for("the reminder SMS", lambda: _reminder_sms(server), timeout=30)
    assert sms.startswith(f"To: {PHONE_E164}\n"), sms
    assert f"with {DOCTOR_NAME} (online consult)" in sms, sms
    assert "Reply C to confirm, R to reschedule, X to cancel." in sms, sms
    _assert_says_when(sms, start)
    for path in _sms_files(server):
        assert HEALTH_WORD not in path.read_text().lower(), path.read_text()
    # (and by email: email and in-app are on by default)
    server.wait_for_email("patient@demo.test", "Reply C to confirm", timeout=30)
    for text in _email_texts(server):
        assert HEALTH_WORD not in text.lower(), text

    # the bell: the reminder, unread, with its one-tap links
    bell.click()
    panel = patient.get_by_role("region", name="Notifications")
    reminder = panel.get_by_role("listitem").filter(
        has_text=re.compile(r"Reminder: " + re.escape(DOCTOR_NAME))
    )
    expect(reminder).to_have_count(1)
    expect(reminder).to_contain_text("Unread")
    expect(reminder).to_contain_text("Reply C to confirm")
    expect(reminder).not_to_contain_text(HEALTH_WORD)
    for label in ("Confirm", "Reschedule", "Cancel"):
        expect(reminder.get_by_role("button", name=label, exact=True)).to_be_visible()

    # one tap: Confirm → the landing page → Confirm → done
    reminder.get_by_role("button", name="Confirm", exact=True).click()
    expect(patient).to_have_url(re.compile(r"/r/[^/]+/?$"))
    confirm_url = patient.url
    expect(patient.get_by_role("heading", level=1)).to_have_text("Confirm your appointment?")
    patient.get_by_role("button", name="Confirm", exact=True).click()
    done = patient.get_by_role("status").filter(has_text="Done")
    expect(done).to_contain_text("Thank you: your appointment on")
    expect(done).to_contain_text("is confirmed.")
    _assert_says_when(done.inner_text(), start)
    # tapping the reminder's action read it
    patient.get_by_role("link", name="Open CareConnect").click()
    expect(patient.get_by_role("heading", level=1)).to_contain_text("Welcome")
    expect(bell).to_have_accessible_name(
        f"Notifications, {unread_before} unread" if unread_before else "Notifications"
    )
    confirmed = _seeded_appointment(patient)
    assert confirmed["attendance_confirmed_via"] == "link", confirmed

    # the same link again: it says so on opening, with nothing to press
    patient.goto(confirm_url)
    expect(patient.get_by_role("alert")).to_contain_text("This link was already used")
    expect(patient.get_by_role("heading", level=1)).to_have_text("This link was already used")
    expect(patient.get_by_role("button", name="Confirm", exact=True)).to_have_count(0)

    # the doctor's week shows the appointment confirmed by the patient
    doctor = new_page()
    _log_in(doctor, "doctor@demo.test")
    zone = ZoneInfo(str(appointment["timezone"]))
    day = start.astimezone(zone).date()
    monday = day - timedelta(days=day.weekday())
    doctor.get_by_role("navigation", name="Main").get_by_role("link", name="My week").click()
    expect(doctor.get_by_role("heading", level=1, name="My week")).to_be_visible()
    doctor.goto(f"/week?start={monday.isoformat()}")
    week = doctor.get_by_role("region", name="Week")
    booking = week.get_by_role("article").filter(has_text=SEEDED_REASON)
    expect(booking).to_have_count(1)
    expect(booking).to_contain_text("Maria Santos")
    expect(booking).to_contain_text("Confirmed by patient (by link)")
