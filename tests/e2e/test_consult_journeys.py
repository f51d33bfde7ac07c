"""Consult journeys (issue 6) in real Chromium with the fake camera, against the real server
(embedded default: the aiortc relay in the daphne process): the demo patient passes the device
check and waits; the doctor sees her waiting on the week view, opens the consult and admits
her; both see the other's video; the patient reloads and is straight back in the call; the
doctor ends it and the summary card lands in the conversation. A stranger gets "Consult not
found".

The demo patient's paid online appointment with doctor@demo.test is about two days ahead, so
this module runs its own server with the consult window opening ten days early
(`CONSULT_OPEN_MINUTES_BEFORE`); the session's server (and its demo data) stays untouched.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Server, serve
from tests.e2e.conftest import log_in as _log_in

pytestmark = pytest.mark.e2e
logger = logging.getLogger(__name__)

DEMO_PASSWORD = "demo-pass-2026"
PASSWORD = "journey-pass-2026"
PATIENT_NAME = "Maria Santos"
DOCTOR_NAME = "Dr Ana Ferreira"
REASON = "Follow-up on seasonal asthma"  # the demo patient's online appointment (seed_demo)
CENTER_ZONE = ZoneInfo("Europe/Lisbon")  # the demo doctor's center
OPEN_MINUTES_BEFORE = 10 * 24 * 60

# The remote <video> must render this many new frames within a window of this long. The fake
# camera sends 30 fps (relayed and re-encoded by the server: fewer arrive); with nobody to
# forward, the server sends one black frame per second, which this must not mistake for video.
FRAME_WINDOW_MS = 2_000
MIN_FRAMES_IN_WINDOW = 10
VIDEO_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """This module's own server: the consult window opens ten days before the start."""
    extra = {"CONSULT_OPEN_MINUTES_BEFORE": str(OPEN_MINUTES_BEFORE)}
    with serve(tmp_path_factory.mktemp("var-consult"), extra_env=extra) as running:
        yield running


def _register(page: Page, server: Server, email: str, first: str, last: str) -> None:
    page.goto("/register")
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill(last)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    body = server.wait_for_email(email, "/confirm-email?token=")
    match = re.search(r"https?://[^/\s]+(/confirm-email\?token=\S+)", body)
    assert match, body
    page.goto(match.group(1))
    expect(page.get_by_role("heading", name="Email confirmed")).to_be_visible()


def _demo_appointment(page: Page) -> dict[str, str]:
    response = page.request.get("/api/appointments/?when=upcoming")
    assert response.ok, response.text()
    found = [a for a in response.json() if a["reason"] == REASON]
    assert len(found) == 1, found
    appointment = found[0]
    assert appointment["mode"] == "online", appointment
    assert appointment["status"] == "confirmed", appointment  # its fee is paid
    assert appointment["consult"] == appointment["id"], appointment
    return dict(appointment)


def _week_of(start: str) -> str:
    """The Monday (center's time) of the week that holds `start`, as /week?start= takes it."""
    local = datetime.fromisoformat(start.replace("Z", "+00:00")).astimezone(CENTER_ZONE)
    return (local.date() - timedelta(days=local.weekday())).isoformat()


# Keeps every camera/microphone stream the page was given, to tell whether they are released.
RECORD_MEDIA = """(() => {
    const media = navigator.mediaDevices;
    const getUserMedia = media.getUserMedia.bind(media);
    window.__localStreams = [];
    media.getUserMedia = async (constraints) => {
        const stream = await getUserMedia(constraints);
        window.__localStreams.push(stream);
        return stream;
    };
})();"""
CAMERA_AND_MIC_RELEASED = """() => window.__localStreams.length > 0 &&
    window.__localStreams.every((s) => s.getTracks().every((t) => t.readyState === 'ended'))"""


def _remote_video_plays(page: Page) -> int:
    """Wait (bounded) until the "Remote video" element renders at least MIN_FRAMES_IN_WINDOW
    new frames (getVideoPlaybackQuality) within FRAME_WINDOW_MS; returns how many it did.
    Samples start afresh on every call (a token), so frames from before do not count."""
    expect(page.get_by_label("Remote video")).to_be_attached()
    handle = page.wait_for_function(
        """([token, windowMs, minFrames]) => {
            const video = document.querySelector('video[aria-label="Remote video"]');
            if (!video || video.paused || video.readyState < 2) return false;
            const frames = video.getVideoPlaybackQuality().totalVideoFrames;
            const now = performance.now();
            if (window.__frames?.token !== token || window.__frames.video !== video) {
                window.__frames = { token, video, samples: [] };
            }
            const samples = window.__frames.samples;
            samples.push([now, frames]);
            // keep one sample at or just before the start of the window
            while (samples.length > 1 && now - samples[1][0] >= windowMs) samples.shift();
            const [since, first] = samples[0];
            const rendered = frames - first;
            return now - since >= windowMs && rendered >= minFrames ? rendered : false;
        }""",
        arg=[uuid.uuid4().hex, FRAME_WINDOW_MS, MIN_FRAMES_IN_WINDOW],
        polling=200,
        timeout=VIDEO_TIMEOUT_MS,
    )
    return int(handle.json_value())


def _card(scope: Page | Locator, heading: str | re.Pattern[str]) -> Locator:
    """A chat card in the conversation's timeline, by its title."""
    page = scope.page if isinstance(scope, Locator) else scope
    return (
        scope.get_by_role("log")
        .get_by_role("article")
        .filter(has=page.get_by_role("heading", name=heading))
    )


def test_patient_waits_doctor_admits_from_the_week_reload_rejoins_and_the_end_is_summarised(
    new_page: Callable[..., Page], server: Server
) -> None:
    patient, doctor = new_page(), new_page()
    for page in (patient, doctor):
        page.add_init_script(RECORD_MEDIA)
    _log_in(patient, "patient@demo.test")
    _log_in(doctor, "doctor@demo.test")
    appointment = _demo_appointment(patient)
    consult_path = f"/consult/{appointment['consult']}"

    # the doctor keeps the week of the appointment open: nobody is waiting yet
    doctor.goto(f"/week?start={_week_of(appointment['start'])}")
    expect(doctor.get_by_role("heading", level=1, name="My week")).to_be_visible()
    cell = doctor.get_by_role("article", name=re.compile(re.escape(PATIENT_NAME)))
    expect(cell).to_have_count(1)
    expect(doctor.get_by_text("Waiting now")).to_have_count(0)
    # and has the consult itself open in another tab, not joined yet (no socket: it asks)
    lobby = doctor.context.new_page()
    lobby.goto(consult_path)
    expect(lobby.get_by_role("heading", level=1)).to_have_text(f"Video consult with {PATIENT_NAME}")
    expect(lobby.get_by_role("button", name="Join consult")).to_be_enabled()
    expect(lobby.get_by_role("button", name=f"Admit {PATIENT_NAME}")).to_have_count(0)

    # the patient opens the consult from her appointments and passes the device check
    patient.get_by_role("navigation", name="Main").get_by_role("link", name="Appointments").click()
    booked = patient.get_by_role("listitem").filter(has_text=REASON)
    booked.get_by_role("link", name=re.compile("^Join consult")).click()
    expect(patient).to_have_url(re.compile(re.escape(consult_path) + "$"))
    expect(patient.get_by_role("heading", level=1)).to_have_text(
        f"Video consult with {DOCTOR_NAME}"
    )
    check = patient.get_by_role("region", name="Check your camera and sound")
    expect(check.get_by_label("Camera preview")).to_be_visible()
    expect(check.get_by_role("meter", name="Microphone level")).to_be_visible()
    expect(check.get_by_role("status").filter(has_text=re.compile("^Connected$"))).to_be_visible()
    check.get_by_role("button", name="Join consult").click()
    expect(patient.get_by_text("The doctor will let you in shortly.")).to_be_visible()

    # the doctor's consult tab and week notice within their 10 s poll
    expect(lobby.get_by_role("button", name=f"Admit {PATIENT_NAME}")).to_be_visible(timeout=15_000)
    lobby.close()
    notice = doctor.get_by_role("alert").filter(has_text="Waiting now")
    expect(notice).to_contain_text(f"{PATIENT_NAME} is waiting", timeout=15_000)
    waiting_cell = doctor.get_by_role("article", name=re.compile(", waiting now$"))
    expect(waiting_cell).to_contain_text(PATIENT_NAME)
    expect(waiting_cell.get_by_text("Waiting", exact=True)).to_be_visible()
    notice.get_by_role("link", name=re.compile("^Open consult")).click()
    expect(doctor).to_have_url(re.compile(re.escape(consult_path) + "$"))
    expect(doctor.get_by_role("heading", level=1)).to_have_text(
        f"Video consult with {PATIENT_NAME}"
    )
    doctor.get_by_role("button", name=f"Admit {PATIENT_NAME}").click()

    # both are in the call and see the other's video
    expect(patient.get_by_role("button", name="Leave")).to_be_visible()
    expect(patient.get_by_text(f"In the call with {DOCTOR_NAME}")).to_be_visible()
    expect(doctor.get_by_text(f"In the call with {PATIENT_NAME}")).to_be_visible()
    for page in (patient, doctor):
        expect(page.get_by_role("button", name="Mute")).to_be_visible()
        expect(page.get_by_role("button", name="Turn camera off")).to_be_visible()
        expect(page.get_by_role("button", name="Switch to audio only")).to_be_visible()
        expect(page.get_by_label("Your video")).to_be_visible()
    frames = {"patient": _remote_video_plays(patient), "doctor": _remote_video_plays(doctor)}

    # the patient reloads: straight back in the call, with no button to press and nothing
    # for the doctor to do (no second admission)
    patient.reload()
    expect(patient.get_by_text(f"In the call with {DOCTOR_NAME}")).to_be_visible()
    expect(patient.get_by_text("The doctor will let you in shortly.")).to_have_count(0)
    frames["patient after reload"] = _remote_video_plays(patient)
    expect(doctor.get_by_text(f"In the call with {PATIENT_NAME}")).to_be_visible()
    frames["doctor after reload"] = _remote_video_plays(doctor)
    logger.info("remote video frames per %d ms: %s", FRAME_WINDOW_MS, frames)

    # the doctor ends the consult for both
    doctor.get_by_role("button", name="End consult").click()
    for page in (doctor, patient):
        expect(page.get_by_role("heading", name="The consult has ended")).to_be_visible()
        expect(page.get_by_label("Remote video")).to_have_count(0)
        # the camera and microphone are released at once, not when the page is left
        page.wait_for_function(CAMERA_AND_MIC_RELEASED, timeout=5_000)

    # the summary card lands in the conversation (beside the call, and the conversation itself)
    summary = re.compile(r"^Consult ended · .+ · with " + re.escape(DOCTOR_NAME) + "$")
    chat = doctor.get_by_role("complementary", name="Chat")
    expect(_card(chat, summary)).to_have_count(1)
    invite = _card(chat, re.compile("^Video consult with " + re.escape(DOCTOR_NAME)))
    expect(invite.get_by_text("This consult has ended.")).to_be_visible()
    patient.get_by_role("link", name="Back to the conversation").click()
    expect(patient.get_by_role("heading", level=1, name=DOCTOR_NAME)).to_be_visible()
    card = _card(patient, summary)
    expect(card).to_have_count(1)
    expect(card).to_contain_text(PATIENT_NAME)

    # the consult stays ended: the week no longer says anyone is waiting
    doctor.goto(f"/week?start={_week_of(appointment['start'])}")
    expect(cell).to_have_count(1)
    expect(doctor.get_by_text("Waiting now")).to_have_count(0)


def test_a_stranger_cannot_open_the_consult(new_page: Callable[..., Page], server: Server) -> None:
    patient, stranger = new_page(), new_page()
    _log_in(patient, "patient@demo.test")
    consult_path = f"/consult/{_demo_appointment(patient)['consult']}"
    email = f"zoe.{uuid.uuid4().hex[:8]}@example.test"
    _register(stranger, server, email, "Zoe", "Marsh")
    _log_in(stranger, email, PASSWORD)
    stranger.goto(consult_path)
    expect(stranger.get_by_role("heading", level=1)).to_have_text("Consult not found")
    expect(
        stranger.get_by_text("This consult does not exist, or you are not part of it.")
    ).to_be_visible()
    expect(stranger.get_by_label("Camera preview")).to_have_count(0)
    expect(stranger.get_by_role("button", name="Join consult")).to_have_count(0)
