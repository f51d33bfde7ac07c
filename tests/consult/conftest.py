"""Consult fixtures: an online appointment between a doctor and a patient (booked through the
service, confirmed at once: the doctor is free of charge), helpers to drive /ws/consult/
with the real consumer, and aiortc client peers sending synthetic media of a known colour.

Media tests use `MEDIA_TESTS` (pytest.mark.usefixtures): the window is open now, and every
test ends with the media registry emptied (rooms closed), so one test's peers never leak
into the next test's event loop. Other consult tests (services) are left alone."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import AUDIO_PTIME, MediaStreamError, VideoStreamTrack
from av import AudioFrame, VideoFrame
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from booking import services as booking_services
from booking.models import Appointment
from careconnect.accounts.models import User
from consult import consumers, media
from consult.routing import websocket_urlpatterns
from tests.booking.conftest import free_slots_of, publish_rule
from tests.chat.conftest import with_user
from tests.factories import make_doctor, make_patient

# Distinct colours as (Y, U, V): what each side's camera shows.
RED = (82, 90, 240)
GREEN = (145, 54, 34)
BLUE = (41, 240, 110)
BLACK = (16, 128, 128)
WIDTH, HEIGHT = 160, 120  # small: aiortc encodes in Python threads on 2 cores


@dataclass
class Call:
    doctor: User
    patient: User
    appointment: Appointment

    @property
    def path(self) -> str:
        return f"/ws/consult/{self.appointment.id}/"


def make_call(*, days_ahead: int = 0) -> Call:
    """Given: a free-of-charge doctor with every day 09:00-12:00 bookable and a patient who
    booked an online slot (confirmed at once), at least `days_ahead` days from now."""
    doctor = make_doctor()
    publish_rule(doctor)
    patient = make_patient()
    after = timezone.now() + timedelta(days=days_ahead)
    slot = next(s for s in free_slots_of(doctor) if s.start > after)
    appointment = booking_services.book_slot(actor=patient, slot_id=slot.id, mode="online")
    assert appointment.status == Appointment.Status.CONFIRMED
    return Call(doctor, patient, appointment)


async def amake_call(**kwargs: Any) -> Call:
    return await database_sync_to_async(make_call)(**kwargs)


def in_thread(function: Any) -> Any:
    """Run ORM code from an async test (the consumer's ORM runs in another thread)."""
    return database_sync_to_async(function)


@pytest.fixture
def consult_open_now(settings: Any) -> None:
    """The consult window opens a month early, so any upcoming appointment is open now
    (no time travel: DTLS certificates and RTP clocks want the real time)."""
    settings.CONSULT_OPEN_MINUTES_BEFORE = 60 * 24 * 30
    settings.CONSULT_ICE_SERVERS = []


@pytest.fixture
async def empty_media_registry() -> AsyncIterator[None]:
    yield
    await media.close_all()
    consumers._local_sockets.clear()


MEDIA_TESTS = pytest.mark.usefixtures("consult_open_now", "empty_media_registry")


# ------------------------------------------------------------------ websocket helpers


def consult_app(user: User | None) -> Any:
    return with_user(URLRouter(websocket_urlpatterns), user)


async def connect(call: Call, user: User | None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(consult_app(user), call.path)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def expect(
    communicator: WebsocketCommunicator, kind: str, *, wait: float = 5, **fields: Any
) -> dict[str, Any]:
    """The next frame of type `kind` (with `fields`), skipping others; an unexpected error
    frame fails at once."""
    while True:
        frame: dict[str, Any] = await communicator.receive_json_from(timeout=wait)
        if frame["type"] == kind and all(frame.get(k) == v for k, v in fields.items()):
            return frame
        if frame["type"] == "error" and kind != "error":
            raise AssertionError(f"expected {kind}, got {frame}")


async def join(communicator: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    await communicator.send_json_to({"type": "join"})
    return await expect(communicator, kind)


async def admitted_pair(call: Call) -> tuple[WebsocketCommunicator, WebsocketCommunicator]:
    """Given: the doctor in the call and the patient admitted from the waiting room."""
    doctor = await connect(call, call.doctor)
    await join(doctor, "admitted")
    patient = await connect(call, call.patient)
    await join(patient, "waiting")
    waiting = await expect(doctor, "participant.waiting")
    await doctor.send_json_to({"type": "admit", "user": waiting["user"]})
    await expect(patient, "admitted")
    return doctor, patient


async def disconnect(*communicators: WebsocketCommunicator) -> None:
    for communicator in communicators:
        await communicator.disconnect()


# ------------------------------------------------------------------ aiortc clients


async def wait_until(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f}s waiting for {what}")
        await asyncio.sleep(0.02)


class ColourTrack(VideoStreamTrack):
    """A camera showing one solid colour (yuv420p planes filled with Y, U, V)."""

    def __init__(self, yuv: tuple[int, int, int], width: int = WIDTH, height: int = HEIGHT):
        super().__init__()
        self.yuv, self.width, self.height = yuv, width, height

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=self.width, height=self.height, format="yuv420p")
        for plane, value in zip(frame.planes, self.yuv, strict=True):
            plane.update(bytes([value]) * plane.buffer_size)
        frame.pts, frame.time_base = pts, time_base
        return frame


class ToneTrack(MediaStreamTrack):
    """A microphone playing a 440 Hz tone (48 kHz mono s16, 20 ms frames)."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._samples = 0
        self._start: float | None = None
        rate, count = 48_000, int(AUDIO_PTIME * 48_000)
        wave = [int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(count)]
        self._payload = b"".join(v.to_bytes(2, "little", signed=True) for v in wave)
        self._count, self._rate = count, rate

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        else:
            await asyncio.sleep(self._start + self._samples / self._rate - loop.time())
        frame = AudioFrame(format="s16", layout="mono", samples=self._count)
        frame.planes[0].update(self._payload)
        frame.sample_rate = self._rate
        frame.pts, frame.time_base = self._samples, fractions.Fraction(1, self._rate)
        self._samples += self._count
        return frame


def mean_yuv(frame: VideoFrame) -> tuple[float, float, float]:
    """The average Y, U, V of a decoded frame's visible area (rows may be padded)."""
    frame = frame.reformat(format="yuv420p")
    means: list[float] = []
    for plane in frame.planes:
        data, width, height = bytes(plane), plane.width, plane.height
        total = sum(
            sum(data[row * plane.line_size : row * plane.line_size + width])
            for row in range(height)
        )
        means.append(total / (width * height))
    return means[0], means[1], means[2]


def close_to(actual: tuple[float, float, float], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - e) <= 16 for a, e in zip(actual, expected, strict=True))


def loudness(frame: AudioFrame) -> float:
    data = bytes(frame.planes[0])[: frame.samples * 2 * len(frame.layout.channels)]
    values = [
        int.from_bytes(data[i : i + 2], "little", signed=True) for i in range(0, len(data), 2)
    ]
    return math.sqrt(sum(v * v for v in values) / max(1, len(values)))


@dataclass
class Client:
    """A browser stand-in: one peer connection sending a colour (and a tone)."""

    colour: tuple[int, int, int]
    audio: bool = False
    pc: RTCPeerConnection = field(init=False)
    tracks: dict[str, MediaStreamTrack] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Explicitly no ICE servers: aiortc's default would reach out to a public STUN.
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc.addTrack(ColourTrack(self.colour))
        if self.audio:
            self.pc.addTrack(ToneTrack())
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        self.tracks[track.kind] = track

    async def offer(self, communicator: WebsocketCommunicator) -> None:
        """Offer through the signaling socket (SDP with every candidate) and apply the answer."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await communicator.send_json_to({"type": "offer", "sdp": self.pc.localDescription.sdp})
        answer = await expect(communicator, "answer", wait=10)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))

    async def connected(self, wait: float = 15) -> None:
        await wait_until(lambda: self.pc.connectionState == "connected", wait, "ICE + DTLS")

    async def sees(self, colour: tuple[int, int, int], wait: float = 20) -> VideoFrame:
        """Reads video until a frame of `colour` arrives (black filler comes first)."""
        seen: list[tuple[float, float, float]] = []
        await wait_until(lambda: "video" in self.tracks, wait, "a video track")
        async with asyncio.timeout(wait):
            while True:
                frame = await self.tracks["video"].recv()
                assert isinstance(frame, VideoFrame)
                means = mean_yuv(frame)
                seen.append(means)
                if close_to(means, colour):
                    return frame
                assert not close_to(means, self.colour), f"got our own colour back: {seen[-5:]}"

    async def hears_a_tone(self, wait: float = 20) -> float:
        await wait_until(lambda: "audio" in self.tracks, wait, "an audio track")
        async with asyncio.timeout(wait):
            while True:
                frame = await self.tracks["audio"].recv()
                assert isinstance(frame, AudioFrame)
                level = loudness(frame)
                if level > 1000:
                    return level

    async def close(self) -> None:
        await self.pc.close()


@pytest.fixture
async def clients() -> AsyncIterator[list[Client]]:
    """Client peers made in a test (append them), closed at its end whatever happens."""
    made: list[Client] = []
    yield made
    for client in made:
        with contextlib.suppress(Exception):
            await client.close()
