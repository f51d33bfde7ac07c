"""Prescription journey (issue 7) in real Chromium against the real server: after a video
consult the doctor prescribes two medicines, sees the major interaction between them with its
source, overrides it with a reason and signs with their password; the patient sees the card in
the conversation, downloads the PDF (with its verification code), and asks for a refill from
the card; the doctor approves the refill in the conversation.

Like the consult journeys, this module runs its own server with the consult window opening
ten days early, so the demo appointment (two days ahead) can be held now."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, Server, serve
from tests.e2e.conftest import log_in as _log_in
from tests.e2e.test_consult_journeys import (
    DOCTOR_NAME,
    OPEN_MINUTES_BEFORE,
    PATIENT_NAME,
    _card,
    _demo_appointment,
)

pytestmark = pytest.mark.e2e

OVERRIDE_REASON = "Short course, INR checked on day 3"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    extra = {"CONSULT_OPEN_MINUTES_BEFORE": str(OPEN_MINUTES_BEFORE)}
    with serve(tmp_path_factory.mktemp("var-prescriptions"), extra_env=extra) as running:
        yield running


def _hold_consult(patient: Page, doctor: Page, consult_path: str) -> None:
    """The patient joins and waits, the doctor admits her, then ends the consult."""
    patient.goto(consult_path)
    check = patient.get_by_role("region", name="Check your camera and sound")
    check.get_by_role("button", name="Join consult").click()
    expect(patient.get_by_text("The doctor will let you in shortly.")).to_be_visible()
    doctor.goto(consult_path)
    doctor.get_by_role("button", name=f"Admit {PATIENT_NAME}").click(timeout=20_000)
    expect(doctor.get_by_text(f"In the call with {PATIENT_NAME}")).to_be_visible()
    expect(patient.get_by_text(f"In the call with {DOCTOR_NAME}")).to_be_visible()
    doctor.get_by_role("button", name="End consult").click()
    expect(doctor.get_by_role("heading", name="The consult has ended")).to_be_visible()


def _add_medication(
    page: Page, name: str, strength: str, frequency: str, quantity: str, refills: str
) -> None:
    page.get_by_label("Medication", exact=True).fill(name[:5])
    page.get_by_role("listbox", name="Medications").get_by_role(
        "option", name=name, exact=True
    ).click()
    page.get_by_label("Strength").select_option(label=strength)
    page.get_by_label("Form").select_option(label="tablet")
    page.get_by_label("Dose").fill("1 tablet")
    page.get_by_label("Route").select_option(label="By mouth")
    page.get_by_label("Frequency").select_option(label=frequency)
    page.get_by_label("Duration (days)").fill("10")
    page.get_by_label("Quantity").fill(quantity)
    page.get_by_label("Refills").fill(refills)
    page.get_by_label("Instructions").fill("Take with water after food.")
    page.get_by_role("button", name="Add medication").click()
    expect(page.get_by_role("button", name=f"Remove {name}")).to_be_visible()


def test_doctor_prescribes_after_a_consult_patient_downloads_and_gets_a_refill(
    new_page: Callable[..., Page], server: Server
) -> None:
    patient, doctor = new_page(), new_page()
    _log_in(patient, "patient@demo.test")
    _log_in(doctor, "doctor@demo.test")
    appointment = _demo_appointment(patient)
    consult_path = f"/consult/{appointment['consult']}"
    _hold_consult(patient, doctor, consult_path)

    # the doctor prescribes from the consult summary card beside the ended call
    chat = doctor.get_by_role("complementary", name="Chat")
    summary = _card(chat, re.compile(r"^Consult ended"))
    summary.get_by_role("link", name=re.compile("^Prescribe")).click()
    expect(doctor).to_have_url(re.compile(r"/prescribe\?"))
    expect(doctor.get_by_text(PATIENT_NAME).first).to_be_visible()
    _add_medication(doctor, "Warfarin", "5 mg", "once a day", "30", "2")
    _add_medication(doctor, "Ibuprofen", "400 mg", "three times a day", "30", "0")

    # the safety check shows the major interaction with its source before signing
    finding = (
        doctor.get_by_role("listitem")
        .filter(has_text=re.compile("Warfarin", re.I))
        .filter(has_text=re.compile("Ibuprofen", re.I))
        .filter(has_text=re.compile("Source:"))
    )
    expect(finding.first).to_be_visible(timeout=15_000)
    expect(finding.first).to_contain_text(re.compile("major|contraindicated", re.I))
    doctor.get_by_label(re.compile("^Override reason for")).first.fill(OVERRIDE_REASON)

    doctor.get_by_role("button", name="Sign prescription").click()
    dialog = doctor.get_by_role("dialog", name="Confirm it's you")
    dialog.get_by_label("Password").fill(DEMO_PASSWORD)
    dialog.get_by_role("button", name="Confirm and sign").click()
    expect(doctor).to_have_url(re.compile(r"/prescriptions/[0-9a-f-]{36}$"), timeout=15_000)
    code = doctor.get_by_text(re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$"))
    expect(code).to_be_visible()
    verification_code = code.inner_text()
    expect(doctor.get_by_text(OVERRIDE_REASON)).to_be_visible()

    # the patient sees the card in the conversation
    patient.get_by_role("navigation", name="Main").get_by_role("link", name="Messages").click()
    patient.get_by_role("link", name=re.compile(DOCTOR_NAME)).first.click()
    # (the demo patient also holds yesterday's lisinopril from seed_demo)
    card = _card(patient, re.compile("^Prescription$")).filter(has_text="Warfarin")
    expect(card).to_have_count(1, timeout=15_000)
    expect(card).to_contain_text("Warfarin")
    expect(card).to_contain_text("Ibuprofen")

    # opens it, downloads the PDF with the verification code on it
    card.get_by_role("link", name="View prescription").click()
    expect(patient.get_by_text(verification_code)).to_be_visible()
    with patient.expect_download() as download_info:
        patient.get_by_role("link", name="Download PDF").click()
    pdf = open(download_info.value.path(), "rb").read()  # noqa: SIM115
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 2_000

    # asks for a refill from the card in the conversation
    patient.go_back()
    card = _card(patient, re.compile("^Prescription$")).filter(has_text="Warfarin")
    card.get_by_role("button", name="Request refill").click()
    refill = _card(patient, "Refill request")
    expect(refill).to_have_count(1, timeout=15_000)
    expect(refill).to_contain_text(re.compile("waiting|pending", re.I))

    # the doctor approves it in the conversation, with their password again
    doctor.get_by_role("navigation", name="Main").get_by_role("link", name="Messages").click()
    doctor.get_by_role("link", name=re.compile(PATIENT_NAME)).first.click()
    doctor_refill = _card(doctor, "Refill request")
    doctor_refill.get_by_role("button", name="Approve refill").click()
    dialog = doctor.get_by_role("dialog", name="Confirm it's you")
    dialog.get_by_label("Password").fill(DEMO_PASSWORD)
    dialog.get_by_role("button", name=re.compile("^(Confirm|Approve)")).click()
    expect(doctor_refill).to_contain_text(re.compile("approved", re.I), timeout=15_000)
    # the patient's card follows, and a new prescription card (the refill) arrives
    expect(refill).to_contain_text(re.compile("approved", re.I), timeout=15_000)
    expect(_card(patient, re.compile(r"^Prescription \(refill\)$"))).to_have_count(
        1, timeout=15_000
    )
