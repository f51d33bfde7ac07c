"""consult.media without the database: forwarding tracks (filler, switching, scaling,
audio normalising), the room cap, ICE configuration, stats → quality, bad input."""

from __future__ import annotations

import asyncio
import fractions
from types import SimpleNamespace
from typing import Any

import pytest
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame

from consult import media
from tests.consult.conftest import BLACK, GREEN, MEDIA_TESTS, RED, ColourTrack, close_to, mean_yuv

pytestmark = MEDIA_TESTS


class Frames(MediaStreamTrack):
    """A source that yields the given frames, then ends (as a peer leaving does)."""

    def __init__(self, kind: str, frames: list[Any], pace: float = 0.005) -> None:
        super().__init__()
        self.kind, self._frames, self._pace = kind, list(frames), pace

    async def recv(self) -> Any:
        await asyncio.sleep(self._pace)
        if not self._frames or self.readyState != "live":
            self.stop()
            raise MediaStreamError
        return self._frames.pop(0)


def video(yuv: tuple[int, int, int], width: int = 64, height: int = 48, pts: int = 0) -> VideoFrame:
    frame = VideoFrame(width=width, height=height, format="yuv420p")
    for plane, value in zip(frame.planes, yuv, strict=True):
        plane.update(bytes([value]) * plane.buffer_size)
    frame.pts, frame.time_base = pts, fractions.Fraction(1, 90_000)
    return frame


def tone_8k(pts: int) -> AudioFrame:
    frame = AudioFrame(format="s16", layout="mono", samples=160)
    frame.planes[0].update(b"\x10\x00" * 160)
    frame.sample_rate, frame.pts, frame.time_base = 8000, pts, fractions.Fraction(1, 8000)
    return frame


def forwarder(kind: str, relay: MediaRelay, width: int = 640, height: int = 360) -> Any:
    return media.ForwardingTrack(kind, relay, max_width=width, max_height=height)


async def test_video_forwarder_blanks_then_relays_then_blanks_when_the_source_ends() -> None:
    relay = MediaRelay()
    track = forwarder("video", relay)
    # no source yet: a black frame at once, not the next one for about a second
    first = await track.recv()
    assert close_to(mean_yuv(first), BLACK)
    # a source arrives while recv() waits: its frames come through, re-stamped
    waiting = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0.05)
    assert not waiting.done()
    track.set_source(Frames("video", [video(RED, pts=p) for p in (9_000_000, 10, 20)]))
    frames = [await waiting, await track.recv(), await track.recv()]
    assert all(close_to(mean_yuv(f), RED) for f in frames)
    stamps = [first.pts, *(f.pts for f in frames)]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 4  # strictly increasing despite the source's jumps
    # the source ends (its peer left): black again, and the track is still live
    assert close_to(mean_yuv(await asyncio.wait_for(track.recv(), 2)), BLACK)
    assert track.readyState == "live"
    assert track.source is None
    track.stop()
    with pytest.raises(MediaStreamError):
        await track.recv()
    assert media.counts().tracks == 0


async def test_a_stopped_forwarder_wakes_its_waiting_reader() -> None:
    track = forwarder("video", MediaRelay())
    await track.recv()  # the first black frame
    waiting = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0.02)
    track.stop()
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(waiting, 1)


async def test_switching_source_drops_the_old_one() -> None:
    relay = MediaRelay()
    track = forwarder("video", relay)
    red = Frames("video", [video(RED)] * 1000)
    green = Frames("video", [video(GREEN)] * 1000)
    track.set_source(red)
    assert close_to(mean_yuv(await track.recv()), RED)
    track.set_source(green)
    for _ in range(3):
        assert close_to(mean_yuv(await track.recv()), GREEN)
    track.stop()
    red.stop()
    green.stop()
    await asyncio.sleep(0.02)
    assert media.counts() == (0, 0, 0, 0)


async def test_large_video_is_scaled_into_the_cap_keeping_its_aspect() -> None:
    track = forwarder("video", MediaRelay(), width=640, height=360)
    track.set_source(Frames("video", [video(GREEN, 1280, 720), video(GREEN, 480, 480)]))
    assert [(f.width, f.height) for f in (await track.recv(), await track.recv())] == [
        (640, 360),
        (360, 360),
    ]
    small = forwarder("video", MediaRelay())
    small.set_source(Frames("video", [video(GREEN, 160, 120)]))
    assert ((frame := await small.recv()).width, frame.height) == (160, 120)  # never up
    track.stop()
    small.stop()


async def test_audio_forwarder_sends_paced_silence_and_normalises_its_source() -> None:
    track = forwarder("audio", MediaRelay())
    loop = asyncio.get_running_loop()
    started = loop.time()
    silence = [await track.recv() for _ in range(5)]
    assert loop.time() - started >= 0.06  # 20 ms each, at the real pace
    assert all(bytes(f.planes[0]) == bytes(f.planes[0].buffer_size) for f in silence)
    # an 8 kHz mono source (G.711) comes out as 48 kHz stereo s16, stamps continuing
    track.set_source(Frames("audio", [tone_8k(p) for p in range(0, 160 * 50, 160)]))
    heard = [await track.recv() for _ in range(10)]
    assert {(f.format.name, f.layout.name, f.sample_rate) for f in heard} == {
        ("s16", "stereo", 48_000)
    }
    stamps = [f.pts for f in (*silence, *heard)]
    assert stamps == sorted(stamps)
    assert any(bytes(f.planes[0]).strip(b"\x00") for f in heard)
    track.stop()


async def test_the_room_cap_answers_no_capacity_and_frees_when_rooms_close(settings: Any) -> None:
    settings.CONSULT_MAX_ROOMS = 2
    first, second = media.open_room("a"), media.open_room("b")
    assert media.open_room("a") is first  # the same consult: the same room
    with pytest.raises(media.NoCapacity) as refused:
        media.open_room("c")
    assert refused.value.code == "no_capacity"
    await second.close()
    assert media.open_room("c") is not None
    assert set(media.rooms()) == {"a", "c"}


def test_ice_servers_are_always_an_explicit_list(settings: Any) -> None:
    settings.CONSULT_ICE_SERVERS = []
    assert media.ice_configuration().iceServers == []  # never aiortc's public STUN default
    settings.CONSULT_ICE_SERVERS = [
        {"urls": "turn:turn.example:3478", "username": "u", "credential": "p"}
    ]
    (server,) = media.ice_configuration().iceServers or []
    assert (server.urls, server.username, server.credential) == ("turn:turn.example:3478", "u", "p")


async def test_a_bad_offer_leaves_no_room_or_connection_behind() -> None:
    room = media.open_room("bad")
    with pytest.raises(media.BadOfferError):
        await room.offer("someone", "v=0\r\nnothing useful\r\n")
    assert media.counts() == (0, 0, 0, 0)


async def test_candidates_reach_the_connection_and_bad_ones_are_refused() -> None:
    client = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    client.addTrack(ColourTrack(RED))
    await client.setLocalDescription(await client.createOffer())
    room = media.open_room("ice")
    await room.offer("u", client.localDescription.sdp)
    good = {
        "candidate": "candidate:1 1 udp 2130706431 192.0.2.9 50000 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
    }
    assert await room.add_ice("u", good) is True
    assert await room.add_ice("u", {"candidate": ""}) is True  # end of candidates
    assert await room.add_ice("nobody", good) is False
    with pytest.raises(media.BadCandidateError):
        await room.add_ice("u", {"candidate": "candidate:garbage"})
    assert await room.leave("u", owner="another tab") is False  # not theirs to close
    assert await room.leave("u") is True
    await client.close()
    assert media.counts() == (0, 0, 0, 0)


def _stats(**entries: dict[str, Any]) -> dict[str, Any]:
    return {key: SimpleNamespace(**value) for key, value in entries.items()}


def test_link_quality_is_computed_over_the_interval() -> None:
    start = media._StatsMark(
        at=10.0, bytes_received=0, packets_received=0, packets_lost=0, video_frames=0
    )
    report = _stats(
        t={"type": "transport", "bytesReceived": 125_000},
        a={"type": "inbound-rtp", "packetsReceived": 400, "packetsLost": 10},
        v={"type": "inbound-rtp", "packetsReceived": 500, "packetsLost": 90},
        r={"type": "remote-inbound-rtp", "roundTripTime": 0.25, "fractionLost": 0.01},
        o={"type": "outbound-rtp", "packetsSent": 5},
    )
    quality, mark = media.link_quality(start, report, video_frames=150, now=15.0)
    assert quality == media.LinkQuality(bitrate_kbps=200.0, packet_loss=0.1, rtt_ms=250.0, fps=30.0)
    # the next interval counts only what changed
    report["t"].bytesReceived, report["v"].packetsReceived = 125_000, 600
    later, _ = media.link_quality(mark, report, video_frames=150, now=20.0)
    assert later == media.LinkQuality(bitrate_kbps=0.0, packet_loss=0.01, rtt_ms=250.0, fps=0.0)


def test_a_receiver_report_without_a_round_trip_time_yet_is_no_rtt() -> None:
    # aiortc's first receiver report may come before it can compute a round-trip time
    start = media._StatsMark(
        at=10.0, bytes_received=0, packets_received=0, packets_lost=0, video_frames=0
    )
    report = _stats(
        t={"type": "transport", "bytesReceived": 0},
        r={"type": "remote-inbound-rtp", "roundTripTime": None, "fractionLost": 0.0},
    )
    quality, _ = media.link_quality(start, report, video_frames=0, now=11.0)
    assert quality.rtt_ms is None
    assert quality.packet_loss == 0.0
