"""Chat journeys (issue 4) in real Chromium against the real server (embedded default): a
patient and their doctor chat live in two browser contexts (typing, read marks, a link, an
image), the doctor offers times and the patient books one from the card, and one side loses
the network, writes while offline and comes back: nothing lost, nothing doubled."""

from __future__ import annotations

import re
import struct
import uuid
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.conftest import log_in as _log_in

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "demo-pass-2026"
PATIENT_NAME = "Maria Santos"
DOCTOR_NAME = "Dr Ana Ferreira"


def _png(width: int = 24, height: int = 16) -> bytes:
    """A small valid PNG (solid colour), built by hand so the test needs no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + b"\xd0\x60\x50" * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def _open_conversation(page: Page, with_name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Messages").click()
    expect(page.get_by_role("heading", level=1, name="Messages")).to_be_visible()
    page.get_by_role("link", name=re.compile("^" + re.escape(with_name))).first.click()
    expect(page.get_by_role("heading", level=1, name=with_name)).to_be_visible()
    expect(page.get_by_role("log")).to_be_visible()


def _composer(page: Page) -> Locator:
    return page.get_by_label("Message", exact=True)


def _send(page: Page, text: str) -> None:
    box = _composer(page)
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")


def _message(page: Page, text: str) -> Locator:
    """The timeline entries (sent or still waiting) that show `text`."""
    return page.get_by_role("log").get_by_role("listitem").filter(has_text=text)


def _card(page: Page, heading: str | re.Pattern[str]) -> Locator:
    return (
        page.get_by_role("log")
        .get_by_role("article")
        .filter(has=page.get_by_role("heading", name=heading))
    )


def _appointments(page: Page) -> list[dict[str, Any]]:
    response = page.request.get("/api/appointments/?when=upcoming")
    assert response.ok, response.text()
    found: list[dict[str, Any]] = response.json()
    return found


def test_patient_and_doctor_chat_book_from_an_offer_and_lose_nothing_offline(
    new_page: Callable[..., Page], server: Server
) -> None:
    run = uuid.uuid4().hex[:6]
    patient, doctor = new_page(), new_page()
    _log_in(patient, "patient@demo.test")
    _log_in(doctor, "doctor@demo.test")
    _open_conversation(patient, DOCTOR_NAME)
    _open_conversation(doctor, PATIENT_NAME)
    # the demo booking posted its card into this conversation
    expect(_card(doctor, "Appointment booked").first).to_be_visible()

    # --- real time: typing, a message, its read mark, a reply with a link
    _composer(patient).fill(f"Hello doctor {run}")
    expect(doctor.get_by_text(f"{PATIENT_NAME} is typing…")).to_be_visible()
    _composer(patient).press("Enter")
    hello = f"Hello doctor {run}"
    expect(_message(doctor, hello)).to_have_count(1)
    # the doctor has the conversation open, so it is read at once
    expect(_message(patient, hello).get_by_title(f"Read by {DOCTOR_NAME}")).to_be_visible()

    # edit within the window, delete: both sides follow at once
    _message(patient, hello).get_by_role("button", name=re.compile("^Edit")).click()
    edit_box = patient.get_by_label("Edit message")
    edit_box.fill(f"{hello}, edited")
    edit_box.press("Enter")
    expect(_message(doctor, f"{hello}, edited")).to_have_count(1)
    expect(_message(doctor, hello).get_by_text("Edited", exact=True)).to_be_visible()
    mistake = f"Sent by mistake {run}"
    _send(patient, mistake)
    expect(_message(doctor, mistake)).to_have_count(1)
    _message(patient, mistake).get_by_role("button", name=re.compile("^Delete")).click()
    patient.get_by_role("dialog", name="Delete this message?").get_by_role(
        "button", name="Delete message"
    ).click()
    for page in (patient, doctor):
        expect(_message(page, mistake)).to_have_count(0)
        expect(page.get_by_text("This message was deleted.")).to_be_visible()

    _composer(doctor).fill("Typing a reply")
    expect(patient.get_by_text(f"{DOCTOR_NAME} is typing…")).to_be_visible()
    reply = f"Good morning {run}"
    _send(doctor, f"{reply}, see https://example.org/asthma-plan.")
    expect(_message(patient, reply)).to_have_count(1)
    link = _message(patient, reply).get_by_role("link", name=re.compile("asthma-plan"))
    expect(link).to_have_attribute("href", "https://example.org/asthma-plan")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(patient.get_by_text(f"{DOCTOR_NAME} is typing…")).to_have_count(0)

    # --- an image, previewed on the other side
    patient.get_by_label("Attach a file").set_input_files(
        {"name": f"rash-{run}.png", "mimeType": "image/png", "buffer": _png()}
    )
    expect(patient.get_by_text(f"Attaching rash-{run}.png")).to_be_visible()
    _composer(patient).fill(f"Photo of the rash {run}")
    patient.get_by_role("button", name="Send", exact=True).click()
    image = doctor.get_by_role("img", name=f"rash-{run}.png")
    expect(image).to_be_visible()
    expect(_message(doctor, f"Photo of the rash {run}")).to_have_count(1)
    # the preview really loads: the decrypted file, served to a participant
    doctor.wait_for_function(
        "img => img.complete && img.naturalWidth === 24", arg=image.element_handle()
    )
    expect(
        _message(doctor, f"Photo of the rash {run}").get_by_role(
            "link", name=f"Download rash-{run}.png"
        )
    ).to_be_visible()

    # --- the doctor offers two times; the patient books one from the card
    before = {a["id"] for a in _appointments(patient)}
    doctor.get_by_role("button", name="Offer times", exact=True).click()
    dialog = doctor.get_by_role("dialog", name="Offer times")
    boxes = dialog.get_by_role("checkbox")
    expect(boxes.first).to_be_visible()
    boxes.nth(0).check()
    boxes.nth(1).check()
    dialog.get_by_role("button", name="Offer 2 times").click()
    expect(dialog).to_be_hidden()

    offer = _card(patient, "Offered times (2)").last
    choices = offer.get_by_role("button", name=re.compile("^Choose "))
    expect(choices).to_have_count(2)
    # "Choose Mon 23 Nov, 09:00 until 09:30 · Online or in person"
    chosen = re.match(r"Choose (.+?, \d\d:\d\d)", choices.first.inner_text())
    assert chosen, choices.first.inner_text()
    chosen_time = chosen.group(1)
    choices.first.click()

    for page in (patient, doctor):
        done = _card(page, "Offered times (2)").last
        expect(done.get_by_text("Completed", exact=True)).to_be_visible()
        expect(done.get_by_text("Chosen", exact=True)).to_be_visible()
        booked = _card(page, "Appointment booked").last
        expect(booked).to_contain_text(chosen_time)
    new = [a for a in _appointments(patient) if a["id"] not in before]
    assert len(new) == 1, new
    assert new[0]["status"] in {"requested", "awaiting_payment", "confirmed"}
    assert new[0]["doctor"]["name"] == DOCTOR_NAME

    # --- the patient loses the network, both keep writing
    patient.context.set_offline(True)
    expect(patient.get_by_text("You're offline")).to_be_visible()
    offline_notes = [f"Offline note one {run}", f"Offline note two {run}"]
    for note in offline_notes:
        _send(patient, note)
        expect(_message(patient, note).get_by_text("Waiting for connection")).to_be_visible()
    while_away = f"Written while you were away {run}"
    _send(doctor, while_away)
    expect(_message(doctor, while_away)).to_have_count(1)
    # nothing of the patient's reached the doctor
    for note in offline_notes:
        expect(_message(doctor, note)).to_have_count(0)

    patient.context.set_offline(False)
    expect(patient.get_by_text("You're offline")).to_have_count(0)
    for page in (patient, doctor):
        for text in [*offline_notes, while_away]:
            expect(_message(page, text)).to_have_count(1)
        expect(page.get_by_text("Waiting for connection")).to_have_count(0)
    # in the order they were written
    texts = patient.get_by_role("log").get_by_role("listitem").all_inner_texts()
    first = next(i for i, t in enumerate(texts) if offline_notes[0] in t)
    second = next(i for i, t in enumerate(texts) if offline_notes[1] in t)
    assert first < second

    # the record: every message stored once (history from the server after a reload)
    for page in (patient, doctor):
        page.reload()
        expect(page.get_by_role("log")).to_be_visible()
        for text in [hello, reply, f"Photo of the rash {run}", *offline_notes, while_away]:
            expect(_message(page, text)).to_have_count(1)
