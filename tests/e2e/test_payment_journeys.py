"""Payment journeys (issue 5) in real Chromium against the real server on the dev gateway (the
embedded default: test cards, nothing charged): a patient books a paid online consult, pays it
from the card in the conversation after a decline, downloads the receipt, cancels early and
gets the money back; a card that asks for the bank's extra step; a doctor bills from the
conversation, the patient pays it and the doctor refunds part of it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.conftest import csrf_token as _csrf
from tests.e2e.conftest import log_in as _log_in

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "demo-pass-2026"
PATIENT_NAME = "Maria Santos"
DOCTOR_NAME = "Dr Ana Ferreira"
CENTER_ZONE = ZoneInfo("Europe/Lisbon")  # the demo doctor's center
FEE_ONLINE = "$35.00"  # doctor@demo.test's online fee (seed_demo)
CARD_SUCCEEDS = "4242 4242 4242 4242"
CARD_DECLINED = "4000 0000 0000 0002"
CARD_NEEDS_AUTHENTICATION = "4000 0025 0000 3155"


def _doctor_id(page: Page) -> str:
    response = page.request.get("/api/doctors/?q=Ferreira")
    assert response.ok, response.text()
    return str(response.json()["results"][0]["id"])


def _free_online_slot(page: Page, doctor_id: str, *, days_ahead: int) -> dict[str, Any]:
    """The first free slot that can be online, at least `days_ahead` days from now (well
    outside the center's 24 h full-refund window)."""
    earliest = datetime.now(UTC) + timedelta(days=days_ahead)
    window: dict[str, str | float | bool] = {
        "from": earliest.isoformat(),
        "to": (earliest + timedelta(days=14)).isoformat(),
        "mode": "online",
    }
    response = page.request.get(f"/api/doctors/{doctor_id}/slots/", params=window)
    assert response.ok, response.text()
    slots = response.json()
    assert slots, f"no free online slot {days_ahead} days ahead"
    first = dict(slots[0])
    assert datetime.fromisoformat(first["start"].replace("Z", "+00:00")) >= earliest, first
    return first


def _viewer_zone(page: Page) -> ZoneInfo:
    return ZoneInfo(str(page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")))


def _local(start: str, zone: ZoneInfo) -> datetime:
    return datetime.fromisoformat(start.replace("Z", "+00:00")).astimezone(zone)


def _slot_name(start: str, zone: ZoneInfo) -> re.Pattern[str]:
    """The accessible name of a slot button: "09:30 on Tuesday 14 April, …"."""
    local = _local(start, zone)
    return re.compile("^" + re.escape(f"{local:%H:%M} on {local:%A} {local.day} {local:%B},"))


def _bill_line(start: str) -> str:
    """The booking fee's line on the bill: "Online consult with Dr …, 26 Nov 2026 09:30"
    (center time), which tells one booking's bill from another's."""
    return f"Online consult with {DOCTOR_NAME}, {_local(start, CENTER_ZONE):%d %b %Y %H:%M}"


def _book_in_the_ui(page: Page, doctor_id: str, slot: dict[str, Any], reason: str) -> None:
    zone = _viewer_zone(page)
    monday = _local(slot["start"], zone).date()
    monday -= timedelta(days=monday.weekday())
    page.goto(f"/doctors/{doctor_id}?week={monday.isoformat()}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ana Ferreira")
    calendar = page.get_by_role("region", name="Book a time")
    calendar.get_by_role("button", name=_slot_name(slot["start"], zone)).click()
    dialog = page.get_by_role("dialog", name="Book appointment")
    dialog.get_by_label("Consultation").select_option("online")
    dialog.get_by_label("Reason for visit").fill(reason)
    dialog.get_by_role("button", name="Book appointment").click()
    booked = page.get_by_role("status").filter(has_text="Appointment booked")
    # a fee: the booking says it is held until paid
    expect(booked).to_contain_text("pay the fee to confirm it")
    expect(booked.get_by_role("link", name="Pay now")).to_have_attribute("href", "/payments")


def _book_by_api(page: Page, slot: dict[str, Any], reason: str) -> str:
    response = page.request.post(
        "/api/appointments/",
        data={"slot": slot["id"], "mode": "online", "reason": reason},
        headers={"X-CSRFToken": _csrf(page)},
    )
    assert response.status == 201, response.text()
    return str(response.json()["id"])


def _booking_payment(page: Page, appointment_id: str) -> dict[str, Any]:
    response = page.request.get("/api/payments/")
    assert response.ok, response.text()
    found = [p for p in response.json()["payments"] if p["appointment"] == appointment_id]
    assert len(found) == 1, found
    return dict(found[0])


def _appointment_id(page: Page, reason: str) -> str:
    response = page.request.get("/api/appointments/?when=upcoming")
    assert response.ok, response.text()
    found = [a for a in response.json() if a["reason"] == reason]
    assert len(found) == 1, found
    return str(found[0]["id"])


def _open_conversation(page: Page, with_name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Messages").click()
    expect(page.get_by_role("heading", level=1, name="Messages")).to_be_visible()
    page.get_by_role("link", name=re.compile("^" + re.escape(with_name))).first.click()
    expect(page.get_by_role("heading", level=1, name=with_name)).to_be_visible()
    expect(page.get_by_role("log")).to_be_visible()


def _payment_cards(page: Page) -> Locator:
    return (
        page.get_by_role("log")
        .get_by_role("article")
        .filter(has=page.get_by_role("heading", name="Payment request"))
    )


def _badge(card: Locator, label: str) -> Locator:
    return card.get_by_text(label, exact=True)


def _fill_card(page: Page, number: str) -> None:
    form = page.get_by_role("form", name="Card details")
    form.get_by_label("Card number").fill(number)
    form.get_by_label("Expiry").fill("12/34")
    form.get_by_label("CVC").fill("123")
    form.get_by_label("Name on card").fill(PATIENT_NAME)
    form.get_by_role("button", name="Pay now").click()


def _bill(page: Page, line: str) -> Locator:
    return page.get_by_role("region", name="Bills").get_by_role("listitem").filter(has_text=line)


def _download_receipt(page: Page, scope: Locator) -> bytes:
    with page.expect_download() as download:
        scope.get_by_role("link", name="Download receipt").click()
    path = download.value.path()
    assert download.value.failure() is None
    return Path(path).read_bytes()


def test_patient_pays_a_booking_after_a_decline_and_cancelling_early_refunds_it(
    new_page: Callable[..., Page], server: Server
) -> None:
    reason = f"Paid consult {uuid.uuid4().hex[:6]}"
    patient = new_page()
    _log_in(patient, "patient@demo.test")
    doctor_id = _doctor_id(patient)
    slot = _free_online_slot(patient, doctor_id, days_ahead=3)

    # book a paid online consult: it waits for the money, the slot held meanwhile
    _book_in_the_ui(patient, doctor_id, slot, reason)
    appointment_id = _appointment_id(patient, reason)
    payment = _booking_payment(patient, appointment_id)
    assert payment["status"] == "pending"
    assert payment["amount"] == {"amount": "35.00", "currency": "USD"}
    patient.goto("/appointments")
    expect(patient.get_by_role("listitem").filter(has_text=reason)).to_contain_text(
        "Awaiting payment"
    )

    # the payment card is in the conversation with the doctor: due, with a Pay button
    _open_conversation(patient, DOCTOR_NAME)
    card = _payment_cards(patient).last
    expect(_badge(card, "Due")).to_be_visible()
    expect(card).to_contain_text(FEE_ONLINE)
    expect(card).to_contain_text(re.compile(r"Held for you until \d\d:\d\d"))
    conversation_path = re.sub(r"^https?://[^/]+", "", patient.url)
    card.get_by_role("button", name="Pay", exact=True).click()

    # the checkout of that very bill, coming back to the conversation
    expect(patient).to_have_url(re.compile(rf"/pay/{payment['id']}\?back=/messages/"))
    expect(patient.get_by_role("heading", level=1, name="Checkout")).to_be_visible()
    expect(patient.get_by_role("table")).to_contain_text(_bill_line(slot["start"]))

    # a declined card: said plainly, nothing paid, and the form is there to try again
    _fill_card(patient, CARD_DECLINED)
    failed = patient.get_by_role("alert").filter(has_text="Payment failed")
    expect(failed).to_contain_text("Your card was declined.")
    expect(patient.get_by_role("button", name="Pay now")).to_be_enabled()
    assert _booking_payment(patient, appointment_id)["status"] == "failed"

    # back in the conversation the card says so, and offers to try again
    patient.get_by_role("link", name="Back to the conversation").click()
    card = _payment_cards(patient).last
    expect(_badge(card, "Payment failed")).to_be_visible()
    expect(card).to_contain_text("Your card was declined.")
    card.get_by_role("button", name="Retry payment").click()
    expect(patient).to_have_url(re.compile(rf"/pay/{payment['id']}\?back=/messages/"))
    expect(patient.get_by_role("alert").filter(has_text="Payment failed")).to_contain_text(
        "Your card was declined."
    )

    # the good card: paid, with the good news and a receipt
    _fill_card(patient, CARD_SUCCEEDS)
    received = patient.get_by_role("heading", name="Payment received")
    expect(received).to_be_visible()
    expect(received).to_be_focused()
    expect(patient.get_by_role("alert").filter(has_text="Payment failed")).to_have_count(0)
    expect(patient.get_by_text("The appointment it was held for is confirmed.")).to_be_visible()
    receipt = _download_receipt(patient, patient.locator("section.card").filter(has=received))
    assert receipt.startswith(b"%PDF"), receipt[:20]

    # back in the conversation, the card says paid (and no longer offers to pay)
    patient.get_by_role("link", name="Back to the conversation").click()
    expect(patient).to_have_url(re.compile(re.escape(conversation_path) + "$"))
    card = _payment_cards(patient).last
    expect(_badge(card, "Paid")).to_be_visible()
    expect(card.get_by_role("button", name="Pay", exact=True)).to_have_count(0)

    # the appointment is confirmed
    patient.get_by_role("navigation", name="Main").get_by_role("link", name="Appointments").click()
    booked = patient.get_by_role("listitem").filter(has_text=reason)
    expect(booked).to_contain_text("Confirmed")

    # cancelled days ahead: free cancellation, so the whole fee comes back
    booked.get_by_role("button", name=re.compile("^Cancel appointment")).click()
    confirm = patient.get_by_role("dialog", name="Cancel appointment?")
    expect(confirm).to_contain_text("Free cancellation until")
    confirm.get_by_role("button", name="Yes, cancel").click()
    expect(patient.get_by_text("Appointment cancelled", exact=True)).to_be_visible()
    expect(booked).to_contain_text("Cancelled")

    patient.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Bills & payments"
    ).click()
    expect(patient.get_by_role("heading", level=1, name="Bills & payments")).to_be_visible()
    bill = _bill(patient, _bill_line(slot["start"]))
    expect(bill).to_have_count(1)
    expect(_badge(bill, "Refunded")).to_be_visible()
    expect(bill.get_by_role("list", name="Refunds")).to_contain_text(f"Refunded {FEE_ONLINE} on")
    expect(bill.get_by_role("button", name="Pay")).to_have_count(0)
    assert _download_receipt(patient, bill).startswith(b"%PDF")
    refunded = _booking_payment(patient, appointment_id)
    assert refunded["status"] == "refunded"
    assert refunded["amount_refunded"] == {"amount": "35.00", "currency": "USD"}

    _open_conversation(patient, DOCTOR_NAME)
    expect(_badge(_payment_cards(patient).last, "Refunded")).to_be_visible()


def test_a_card_that_needs_the_banks_extra_step(
    new_page: Callable[..., Page], server: Server
) -> None:
    reason = f"Paid consult, 3-D Secure {uuid.uuid4().hex[:6]}"
    patient = new_page()
    _log_in(patient, "patient@demo.test")
    slot = _free_online_slot(patient, _doctor_id(patient), days_ahead=2)
    appointment_id = _book_by_api(patient, slot, reason)
    payment = _booking_payment(patient, appointment_id)

    # the doctor sees the bill due, but paying it is the patient's to do
    doctor = new_page()
    _log_in(doctor, "doctor@demo.test")
    doctor.goto("/payments")
    theirs = _bill(doctor, _bill_line(slot["start"]))
    expect(_badge(theirs, "Due")).to_be_visible()
    expect(theirs).to_contain_text(f"for {PATIENT_NAME}")
    expect(theirs.get_by_role("button", name="Pay")).to_have_count(0)
    doctor.goto(f"/pay/{payment['id']}")
    expect(
        doctor.get_by_role("status").filter(has_text="You can't pay this bill here")
    ).to_contain_text(f"Only {PATIENT_NAME}")
    expect(doctor.get_by_role("button", name="Pay now")).to_have_count(0)

    # from the bills page
    patient.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Bills & payments"
    ).click()
    bill = _bill(patient, _bill_line(slot["start"]))
    expect(_badge(bill, "Due")).to_be_visible()
    expect(bill).to_contain_text(re.compile(r"Held for you until \d\d:\d\d"))
    bill.get_by_role("button", name="Pay").click()
    expect(patient).to_have_url(re.compile(rf"/pay/{payment['id']}\?back=/payments$"))

    # the bank's check refused: a failed payment that can be tried again
    _fill_card(patient, CARD_NEEDS_AUTHENTICATION)
    expect(patient.get_by_role("heading", name="Confirm this payment")).to_be_visible()
    patient.get_by_role("button", name="Fail authentication").click()
    expect(patient.get_by_role("alert").filter(has_text="Payment failed")).to_contain_text(
        "We could not confirm this payment with your bank."
    )

    # approved this time: paid, and the appointment confirmed
    _fill_card(patient, CARD_NEEDS_AUTHENTICATION)
    expect(patient.get_by_role("heading", name="Confirm this payment")).to_be_visible()
    patient.get_by_role("button", name="Approve").click()
    expect(patient.get_by_role("heading", name="Payment received")).to_be_visible()
    patient.get_by_role("link", name="Back to bills & payments").click()
    expect(_badge(_bill(patient, _bill_line(slot["start"])), "Paid")).to_be_visible()
    patient.get_by_role("navigation", name="Main").get_by_role("link", name="Appointments").click()
    expect(patient.get_by_role("listitem").filter(has_text=reason)).to_contain_text("Confirmed")


def test_doctor_bills_from_the_conversation_the_patient_pays_and_part_is_refunded(
    new_page: Callable[..., Page], server: Server
) -> None:
    run = uuid.uuid4().hex[:6]
    consult, test = f"Follow-up consult {run}", f"Spirometry {run}"
    patient, doctor = new_page(), new_page()
    _log_in(patient, "patient@demo.test")
    _log_in(doctor, "doctor@demo.test")
    _open_conversation(patient, DOCTOR_NAME)
    _open_conversation(doctor, PATIENT_NAME)

    # the doctor writes a bill of two lines
    doctor.get_by_role("button", name="Send a bill").click()
    dialog = doctor.get_by_role("dialog", name="Send a bill")
    dialog.get_by_label("Description (line 1)").fill(consult)
    dialog.get_by_label("Amount (line 1)").fill("40")
    dialog.get_by_role("button", name="Add a line").click()
    dialog.get_by_label("Description (line 2)").fill(test)
    dialog.get_by_label("Amount (line 2)").fill("25.50")
    expect(dialog).to_contain_text("Total: $65.50")
    dialog.get_by_role("button", name="Send bill").click()
    expect(dialog).to_be_hidden()

    # both see it at once; only the patient can pay
    for page in (doctor, patient):
        card = _payment_cards(page).filter(has_text=consult)
        expect(card).to_have_count(1)
        expect(_badge(card, "Due")).to_be_visible()
        expect(card).to_contain_text("$65.50")
        expect(card).to_contain_text(test)
    doctor_card = _payment_cards(doctor).filter(has_text=consult)
    expect(doctor_card).to_contain_text(f"Waiting for {PATIENT_NAME} to pay.")
    expect(doctor_card.get_by_role("button", name="Pay", exact=True)).to_have_count(0)

    card = _payment_cards(patient).filter(has_text=consult)
    card.get_by_role("button", name="Pay", exact=True).click()
    expect(patient.get_by_role("heading", level=1, name="Checkout")).to_be_visible()
    items = patient.get_by_role("table")
    expect(items).to_contain_text(consult)
    expect(items).to_contain_text("$40.00")
    expect(items).to_contain_text("$65.50")
    _fill_card(patient, CARD_SUCCEEDS)
    expect(patient.get_by_role("heading", name="Payment received")).to_be_visible()
    patient.get_by_role("link", name="Back to the conversation").click()
    # the doctor's card follows live
    for page in (patient, doctor):
        expect(_badge(_payment_cards(page).filter(has_text=consult), "Paid")).to_be_visible()

    # the doctor refunds the test from the center's bills
    doctor.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Bills & payments"
    ).click()
    bill = _bill(doctor, consult)
    expect(bill).to_have_count(1)
    expect(bill).to_contain_text(f"for {PATIENT_NAME}")
    expect(bill).to_contain_text("$65.50 can be refunded")
    bill.get_by_role("button", name="Refund").click()
    refund = doctor.get_by_role("dialog", name="Refund payment")
    refund.get_by_label("Amount to refund").fill("25.50")
    refund.get_by_label("Reason").fill("Spirometry not done")
    refund.get_by_role("button", name="Confirm refund").click()
    expect(refund).to_be_hidden()
    expect(doctor.get_by_role("status").filter(has_text="Refund issued")).to_contain_text(
        f"$25.50 of $65.50 has now been refunded to {PATIENT_NAME}."
    )
    expect(_badge(bill, "Partially refunded")).to_be_visible()
    expect(bill).to_contain_text("$40.00 can be refunded")

    # the patient sees it in the conversation and on the bills page
    expect(
        _badge(_payment_cards(patient).filter(has_text=consult), "Partially refunded")
    ).to_be_visible()
    patient.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Bills & payments"
    ).click()
    mine = _bill(patient, consult)
    expect(_badge(mine, "Partially refunded")).to_be_visible()
    expect(mine.get_by_role("list", name="Refunds")).to_contain_text("Refunded $25.50 on")
    expect(mine.get_by_role("list", name="Refunds")).to_contain_text("Spirometry not done")
    expect(mine.get_by_role("button", name="Refund")).to_have_count(0)


def test_payment_pages_fit_a_phone_screen(new_page: Callable[..., Page], server: Server) -> None:
    page = new_page(width=375, height=812)
    _log_in(page, "patient@demo.test")
    slot = _free_online_slot(page, _doctor_id(page), days_ahead=2)
    payment = _booking_payment(page, _book_by_api(page, slot, f"Phone {uuid.uuid4().hex[:6]}"))
    for path, ready in [
        ("/payments", page.get_by_role("heading", name="Bills", exact=True)),
        (f"/pay/{payment['id']}", page.get_by_role("button", name="Pay now")),
    ]:
        page.goto(path)
        expect(ready).to_be_visible()
        width: Any = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide on a 375px screen"
