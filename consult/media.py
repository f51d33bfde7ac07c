"""The media side of video consults (DESIGN §6): the only module that imports aiortc.

A `Room` per consult holds one server-side `RTCPeerConnection` per participant (browser ↔
server; participants never see each other's addresses). Media is forwarded without
renegotiation: when a participant's offer is answered, their connection gets one outbound
`ForwardingTrack` per kind (audio, video), and that track relays the frames of the *other*
participant's inbound track through the room's `MediaRelay`, switching source when the
other joins, leaves or rejoins. aiortc cannot forward packets, so every relayed frame is
decoded once and re-encoded for the receiver (hence the modest resolution cap and the
per-process room cap, DESIGN §6).

No Django ORM here: the consumer (consult/consumers.py) does the database work and hands
this module ids, SDP and callbacks, through consult/media_backend.py. Everything runs on the
event loop of the process that holds the room: daphne on the embedded default
(`CONSULT_MEDIA=inprocess`), a media worker (consult/media_worker.py) in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceCandidate,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp
from av import AudioFrame, AudioResampler, VideoFrame
from django.conf import settings

# Re-exported (`media.NoCapacityError`, `media.LinkQuality`): defined beside the backend seam,
# which daphne imports without aiortc.
from consult.media_backend import BadCandidateError as BadCandidateError
from consult.media_backend import BadOfferError as BadOfferError
from consult.media_backend import LinkQuality as LinkQuality
from consult.media_backend import NoCapacity as NoCapacity
from consult.media_backend import NoCapacityError as NoCapacityError
from consult.media_backend import RoomClosedError as RoomClosedError

logger = logging.getLogger(__name__)

AUDIO_RATE = 48_000  # what aiortc's Opus decoder yields; the encoders resample from it
AUDIO_SAMPLES = 960  # 20 ms
AUDIO_TIME_BASE = fractions.Fraction(1, AUDIO_RATE)
VIDEO_CLOCK_RATE = 90_000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)
FILLER_AUDIO_SECONDS = AUDIO_SAMPLES / AUDIO_RATE  # silence at the real audio pace
FILLER_VIDEO_SECONDS = 1.0  # black at 1 fps: enough to blank the picture, nearly free
QUEUE_LIMIT = {"audio": 10, "video": 2}  # frames held per forwarder before the oldest drops
KINDS = ("audio", "video")
_EPOCH = time.monotonic()  # one clock for every forwarder's video timestamps


QualityCallback = Callable[[LinkQuality], Awaitable[None]]
FailedCallback = Callable[[], Awaitable[None]]


# ------------------------------------------------------------------ the registry

_rooms: dict[str, Room] = {}
_peer_connections: set[RTCPeerConnection] = set()  # created here and not yet closed
_tracks: set[ForwardingTrack] = set()  # forwarding tracks not yet stopped
_tasks: set[asyncio.Task[Any]] = set()  # meters, pumps and quality loops still running


class MediaCounts(NamedTuple):
    rooms: int
    peer_connections: int
    tracks: int
    tasks: int


def counts() -> MediaCounts:
    """What this process holds (tests assert it drops to zero; benches report it)."""
    return MediaCounts(len(_rooms), len(_peer_connections), len(_tracks), len(_tasks))


def rooms() -> dict[str, Room]:
    return dict(_rooms)


def get_room(consult_id: object) -> Room | None:
    return _rooms.get(str(consult_id))


def open_room(consult_id: object) -> Room:
    """The consult's room, created on first use; `NoCapacity` past CONSULT_MAX_ROOMS.
    Synchronous on purpose: the check and the insert cannot interleave with another task."""
    key = str(consult_id)
    room = _rooms.get(key)
    if room is not None:
        return room
    if len(_rooms) >= settings.CONSULT_MAX_ROOMS:
        logger.warning("consult %s refused: no media capacity (%d rooms)", key, len(_rooms))
        raise NoCapacityError()
    room = _rooms[key] = Room(key)
    return room


async def answer_offer(
    consult_id: object,
    user_id: object,
    sdp: str,
    *,
    owner: str | None = None,
    featured: bool = False,
    on_quality: QualityCallback | None = None,
    on_failed: FailedCallback | None = None,
) -> str:
    """The consult's room (opened if need be, `NoCapacityError` past the cap) answers the
    offer. A room that emptied (or was ended) while the offer waited for it is replaced by
    a fresh one, once."""
    for attempt in range(2):
        room = open_room(consult_id)
        try:
            return await room.offer(
                user_id,
                sdp,
                owner=owner,
                featured=featured,
                on_quality=on_quality,
                on_failed=on_failed,
            )
        except RoomClosedError:
            if attempt:
                raise
    raise RoomClosedError()  # not reached: the loop returns or raises


async def close_all(*, notify: bool = False) -> None:
    for room in list(_rooms.values()):
        await room.close(notify=notify)


def ice_configuration() -> RTCConfiguration:
    """Always an explicit list (maybe empty): aiortc falls back to a public STUN server
    when `iceServers` is None, which must never happen here (DESIGN §6)."""
    servers = [RTCIceServer(**server) for server in settings.CONSULT_ICE_SERVERS]
    return RTCConfiguration(iceServers=servers)


def _spawn(coroutine: Awaitable[Any], name: str) -> asyncio.Task[Any]:
    task = asyncio.ensure_future(coroutine)
    task.set_name(name)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return task


# ------------------------------------------------------------------ forwarding


class ForwardingTrack(MediaStreamTrack):
    """An outbound track whose source can be switched under a running RTCRtpSender.

    A pump task reads the current source (a `MediaRelay` proxy of another participant's
    inbound track) into a short queue; `recv()` hands frames to the sender, re-stamped on
    this track's own clock so timestamps stay monotonic across source switches (each
    source's timestamps start wherever that peer's did). While there is no source, video
    yields a black frame per second and audio 20 ms of silence at the real pace:
    the sender keeps running, the receiver's picture blanks instead of freezing on the last
    person, and audio playout does not underrun. Never raises `MediaStreamError` while live
    (the sender would stop for good); a source ending just means "no source".
    """

    def __init__(self, kind: str, relay: MediaRelay, *, max_width: int, max_height: int) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        self.kind = kind
        self._relay = relay
        self._max_size = (max(2, max_width), max(2, max_height))
        self._source: MediaStreamTrack | None = None
        self._pump: asyncio.Task[None] | None = None
        self._queue: deque[Any] = deque()
        self._ready = asyncio.Event()
        self._next_filler = 0.0
        self._last_video_pts = -1
        self._audio_pts: int | None = None
        self._audio_high = 0  # never stamp audio behind what was already sent
        self._resampler: AudioResampler | None = None
        self._filler_frame: Any = None
        self._filler_size = (min(320, self._max_size[0]), min(180, self._max_size[1]))
        self.frames_forwarded = 0
        self.fillers_sent = 0
        _tracks.add(self)

    @property
    def source(self) -> MediaStreamTrack | None:
        return self._source

    def set_source(self, track: MediaStreamTrack | None) -> None:
        """Forward `track` from now on (None: filler). Call from the event loop."""
        if track is self._source or self.readyState != "live":
            return
        self._drop_source()
        if track is not None:
            self._source = track
            proxy = self._relay.subscribe(track, buffered=True)
            self._pump = _spawn(self._run_pump(proxy), f"consult-pump-{self.kind}")
        self._ready.set()

    def stop(self) -> None:
        if self.readyState == "live":
            super().stop()
        self._drop_source()
        self._ready.set()  # wake a waiting recv(): it raises MediaStreamError now
        _tracks.discard(self)

    def _drop_source(self) -> None:
        pump, self._pump, self._source = self._pump, None, None
        if pump is not None and not pump.done():
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                pump.cancel()
        self._queue.clear()  # stale frames of the old source
        self._resampler = None
        self._audio_pts = None  # resynchronised to the clock on the next frame
        self._next_filler = time.monotonic()  # blank / silence right away

    async def _run_pump(self, proxy: MediaStreamTrack) -> None:
        limit = QUEUE_LIMIT[self.kind]
        try:
            while True:
                try:
                    frame = await proxy.recv()
                except MediaStreamError:  # the source ended (its peer left or failed)
                    break
                if len(self._queue) >= limit:
                    self._queue.popleft()  # live media: late frames are worth nothing
                self._queue.append(frame)
                self._ready.set()
        finally:
            proxy.stop()
            if self._pump is asyncio.current_task():  # ended by itself, not switched away
                self._pump = self._source = self._resampler = None
                self._audio_pts = None
                self._next_filler = time.monotonic()
                self._ready.set()

    async def recv(self) -> Any:
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            if self._queue:
                frame = self._forward(self._queue.popleft())
                if frame is not None:
                    return frame
                continue
            timeout: float | None = None
            if self._source is None:
                timeout = self._next_filler - time.monotonic()
                if timeout <= 0:
                    return self._filler()
            self._ready.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._ready.wait()

    # -- frames out

    def _forward(self, frame: Any) -> Any:
        self.frames_forwarded += 1
        if self.kind == "video":
            return self._stamp_video(self._fit(frame))
        return self._forward_audio(frame)

    def _fit(self, frame: VideoFrame) -> VideoFrame:
        """Scale down (never up) into CONSULT_VIDEO_WIDTH x HEIGHT, keeping the aspect."""
        max_width, max_height = self._max_size
        if frame.width <= max_width and frame.height <= max_height:
            return frame
        scale = min(max_width / frame.width, max_height / frame.height)
        width = max(2, int(frame.width * scale) // 2 * 2)
        height = max(2, int(frame.height * scale) // 2 * 2)
        return frame.reformat(width=width, height=height, format="yuv420p")

    def _stamp_video(self, frame: VideoFrame) -> VideoFrame:
        # One wall clock for every forwarder: a source shared by several forwarders (a third
        # participant) gets near-identical stamps whichever of them writes last.
        pts = max(int((time.monotonic() - _EPOCH) * VIDEO_CLOCK_RATE), self._last_video_pts + 1)
        self._last_video_pts = pts
        frame.pts, frame.time_base = pts, VIDEO_TIME_BASE
        self._filler_size = (frame.width, frame.height)
        return frame

    def _forward_audio(self, frame: AudioFrame) -> AudioFrame | None:
        """Normalise to s16 stereo 48 kHz (the encoder's resampler is fixed by its first
        frame) and copy, so the stamp is ours alone even if the source frame is shared."""
        if (frame.format.name, frame.layout.name, frame.sample_rate) != (
            "s16",
            "stereo",
            AUDIO_RATE,
        ):
            if self._resampler is None:
                self._resampler = AudioResampler(format="s16", layout="stereo", rate=AUDIO_RATE)
            frames = self._resampler.resample(frame)
            if not frames:
                return None
            self._queue.extendleft(reversed(frames[1:]))  # already normalised
            frame = frames[0]
        copy = AudioFrame(format="s16", layout="stereo", samples=frame.samples)
        copy.planes[0].update(bytes(frame.planes[0])[: copy.planes[0].buffer_size])
        copy.sample_rate = AUDIO_RATE
        return self._stamp_audio(copy)

    def _stamp_audio(self, frame: AudioFrame) -> AudioFrame:
        if self._audio_pts is None:  # a new source or silence after one: rejoin the clock
            clock = int((time.monotonic() - _EPOCH) * AUDIO_RATE)
            self._audio_pts = max(clock, self._audio_high)
        frame.pts, frame.time_base = self._audio_pts, AUDIO_TIME_BASE
        self._audio_pts += frame.samples
        self._audio_high = self._audio_pts
        return frame

    def _filler(self) -> Any:
        self.fillers_sent += 1
        if self.kind == "audio":
            self._next_filler = max(self._next_filler, time.monotonic() - FILLER_AUDIO_SECONDS)
            self._next_filler += FILLER_AUDIO_SECONDS
            silence = AudioFrame(format="s16", layout="stereo", samples=AUDIO_SAMPLES)
            silence.planes[0].update(bytes(silence.planes[0].buffer_size))
            silence.sample_rate = AUDIO_RATE
            return self._stamp_audio(silence)
        self._next_filler = time.monotonic() + FILLER_VIDEO_SECONDS
        width, height = self._filler_size
        frame = self._filler_frame
        if frame is None or (frame.width, frame.height) != (width, height):
            frame = self._filler_frame = black_frame(width, height)
        # The sender encodes one frame at a time, so reusing this one object is safe.
        return self._stamp_video(frame)


def black_frame(width: int, height: int) -> VideoFrame:
    frame = VideoFrame(width=width, height=height, format="yuv420p")
    for plane, value in zip(frame.planes, (16, 128, 128), strict=True):
        plane.update(bytes([value]) * plane.buffer_size)
    return frame


def _end_remote_track(track: MediaStreamTrack) -> None:
    """End an inbound track for whoever reads it. aiortc ends it (a None in its frame
    queue) only when its receiver was started; a connection closed before ICE completed
    would leave the room's MediaRelay reading it forever."""
    queue = getattr(track, "_queue", None)
    if isinstance(queue, asyncio.Queue):
        queue.put_nowait(None)
    track.stop()


# ------------------------------------------------------------------ rooms


class _StatsMark(NamedTuple):
    at: float
    bytes_received: int
    packets_received: int
    packets_lost: int
    video_frames: int


@dataclass(eq=False)
class _Peer:
    user_id: str
    pc: RTCPeerConnection
    owner: str | None
    featured: bool
    order: int
    on_quality: QualityCallback | None
    on_failed: FailedCallback | None
    inbound: dict[str, MediaStreamTrack] = field(default_factory=dict)
    outbound: dict[str, ForwardingTrack] = field(default_factory=dict)
    meters: list[asyncio.Task[None]] = field(default_factory=list)
    video_frames: int = 0
    mark: _StatsMark = field(default_factory=lambda: _StatsMark(time.monotonic(), 0, 0, 0, 0))
    closed: bool = False


class Room:
    """The media of one consult in this process. Use `open_room()` / `get_room()`; the
    room removes itself from the registry when its last participant leaves."""

    def __init__(self, consult_id: str) -> None:
        self.consult_id = consult_id
        self.relay = MediaRelay()
        self._peers: dict[str, _Peer] = {}
        self._lock = asyncio.Lock()
        self._order = 0
        self._quality: asyncio.Task[None] | None = None
        self.closed = False

    @property
    def participants(self) -> list[str]:
        return list(self._peers)

    def peer_connection(self, user_id: object) -> RTCPeerConnection | None:
        peer = self._peers.get(str(user_id))
        return peer.pc if peer else None

    def forwarders(self, user_id: object) -> dict[str, ForwardingTrack]:
        peer = self._peers.get(str(user_id))
        return dict(peer.outbound) if peer else {}

    async def offer(
        self,
        user_id: object,
        sdp: str,
        *,
        owner: str | None = None,
        featured: bool = False,
        on_quality: QualityCallback | None = None,
        on_failed: FailedCallback | None = None,
    ) -> str:
        """Answer the participant's offer (an SDP with its candidates) with a new peer
        connection, replacing (and closing) any they had. `featured` participants (the
        doctor) are preferred as the source for everyone else; `owner` (the socket) guards
        `leave` against another tab of the same user."""
        async with self._lock:
            return await self._answer(str(user_id), sdp, owner, featured, on_quality, on_failed)

    async def _answer(
        self,
        key: str,
        sdp: str,
        owner: str | None,
        featured: bool,
        on_quality: QualityCallback | None,
        on_failed: FailedCallback | None,
    ) -> str:
        """`offer` under the room's lock."""
        if self.closed:
            raise RoomClosedError()
        old = self._peers.pop(key, None)
        if old is not None:
            await self._close_peer(old)
            self._rewire()
        pc = RTCPeerConnection(ice_configuration())
        _peer_connections.add(pc)
        self._order += 1
        peer = _Peer(key, pc, owner, featured, self._order, on_quality, on_failed)
        self._peers[key] = peer
        pc.on("track", lambda track: self._on_track(peer, track))
        pc.on("connectionstatechange", lambda: self._on_state(peer))
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            if not any(t.kind in KINDS for t in pc.getTransceivers()):
                raise ValueError("an offer without audio or video")
            width, height = settings.CONSULT_VIDEO_WIDTH, settings.CONSULT_VIDEO_HEIGHT
            for transceiver in pc.getTransceivers():
                kind = transceiver.kind
                if kind in KINDS and kind not in peer.outbound:
                    track = ForwardingTrack(kind, self.relay, max_width=width, max_height=height)
                    peer.outbound[kind] = track
                    pc.addTrack(track)
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:
            logger.info("consult %s: offer of %s refused: %r", self.consult_id, key, exc)
            del self._peers[key]
            await self._close_peer(peer)
            if not self._peers:  # a room nobody is in must not hold a slot of the cap
                self._retire()
            raise BadOfferError() from exc
        self._rewire()
        if self._quality is None:
            self._quality = _spawn(self._run_quality(), f"consult-quality-{self.consult_id}")
        return pc.localDescription.sdp

    async def add_ice(self, user_id: object, candidate: Mapping[str, Any] | None) -> bool:
        """A trickled remote candidate (browser shape: candidate, sdpMid, sdpMLineIndex);
        None or an empty candidate marks the end. False when the user has no connection."""
        peer = self._peers.get(str(user_id))
        if peer is None or peer.closed:
            return False
        text = str((candidate or {}).get("candidate") or "")
        if not text:
            await peer.pc.addIceCandidate(None)
            return True
        try:
            parsed: RTCIceCandidate = candidate_from_sdp(text.removeprefix("candidate:"))
        except (AssertionError, ValueError, IndexError) as exc:
            raise BadCandidateError() from exc
        mid, index = (candidate or {}).get("sdpMid"), (candidate or {}).get("sdpMLineIndex")
        parsed.sdpMid = mid if isinstance(mid, str) else None
        parsed.sdpMLineIndex = index if isinstance(index, int) else None
        if parsed.sdpMid is None and parsed.sdpMLineIndex is None:
            parsed.sdpMLineIndex = 0  # bundled: the first m-line's transport
        await peer.pc.addIceCandidate(parsed)
        return True

    async def leave(self, user_id: object, *, owner: str | None = None) -> bool:
        """Close the participant's connection and tracks and detach them from the others'
        forwarders. With `owner`, only that socket's connection is closed (another tab may
        have replaced it). Closes the room when it empties."""
        key = str(user_id)
        async with self._lock:
            peer = self._peers.get(key)
            if peer is None or (owner is not None and peer.owner != owner):
                return False
            del self._peers[key]
            await self._close_peer(peer)
            self._rewire()
            if not self._peers:
                self._retire()
        return True

    async def close(self, *, notify: bool = False) -> None:
        """Close every connection and forget the room (the doctor ended the call). With
        `notify`, each participant's `on_failed` is called afterwards (a media worker going
        away or losing the room: their browsers send a new offer, to another worker)."""
        if _rooms.get(self.consult_id) is self:
            del _rooms[self.consult_id]  # at once: nobody finds it from here on
        async with self._lock:
            self._retire()
            peers, self._peers = list(self._peers.values()), {}
            for peer in peers:
                await self._close_peer(peer)
        for peer in peers if notify else ():
            if peer.on_failed is not None:
                try:
                    await peer.on_failed()
                except Exception:
                    logger.warning("consult %s: failed callback failed", self.consult_id)

    def _retire(self) -> None:
        """Under the lock: the room takes no more offers (a waiting one gets
        RoomClosedError and opens a fresh room) and leaves the registry."""
        self.closed = True
        if _rooms.get(self.consult_id) is self:
            del _rooms[self.consult_id]
        quality, self._quality = self._quality, None
        if quality is not None and quality is not asyncio.current_task():
            quality.cancel()

    # -- wiring

    def _on_track(self, peer: _Peer, track: MediaStreamTrack) -> None:
        if track.kind not in KINDS or peer.closed:
            return
        peer.inbound[track.kind] = track
        # Always read every inbound track, whoever watches it: aiortc queues decoded frames
        # without bound until someone does (a doctor alone for ten minutes would pile up
        # gigabytes). The meter is that reader, and counts frames for the fps figure.
        meter = self.relay.subscribe(track, buffered=False)
        peer.meters.append(_spawn(self._run_meter(peer, meter), "consult-meter"))
        track.on("ended", self._rewire)
        self._rewire()

    async def _run_meter(self, peer: _Peer, meter: MediaStreamTrack) -> None:
        try:
            while True:
                await meter.recv()
                if meter.kind == "video":
                    peer.video_frames += 1
        except MediaStreamError:
            pass
        finally:
            meter.stop()

    def _source_for(self, peer: _Peer, kind: str) -> MediaStreamTrack | None:
        """The other participant's track: featured ones (the doctor) first, then the most
        recent to join. 1:1 is the design; a third person sees and hears the doctor."""
        candidates = [
            other
            for other in self._peers.values()
            if other is not peer
            and not other.closed
            and kind in other.inbound
            and other.inbound[kind].readyState == "live"
        ]
        if not candidates:
            return None
        best = max(candidates, key=lambda other: (other.featured, other.order))
        return best.inbound[kind]

    def _rewire(self) -> None:
        for peer in list(self._peers.values()):
            for kind, track in peer.outbound.items():
                track.set_source(self._source_for(peer, kind))

    def _on_state(self, peer: _Peer) -> None:
        if peer.pc.connectionState == "failed" and not peer.closed:
            _ = _spawn(self._fail(peer), "consult-failed")

    async def _fail(self, peer: _Peer) -> None:
        logger.info("consult %s: media of %s failed", self.consult_id, peer.user_id)
        if await self.leave(peer.user_id, owner=peer.owner) and peer.on_failed is not None:
            await peer.on_failed()

    async def _close_peer(self, peer: _Peer) -> None:
        """Idempotent. Stops our tracks first (aiortc only stops a sender's track when its
        RTP loop ran), then closes the connection, which ends the inbound tracks."""
        if peer.closed:
            return
        peer.closed = True
        for forwarder in peer.outbound.values():
            forwarder.stop()
        try:
            await peer.pc.close()
        except Exception:  # closing must not fail a leave
            logger.warning("consult %s: closing a peer failed", self.consult_id, exc_info=True)
        finally:
            _peer_connections.discard(peer.pc)
        for track in peer.inbound.values():
            _end_remote_track(track)
        for meter in peer.meters:
            meter.cancel()

    # -- quality

    async def _run_quality(self) -> None:
        interval = max(0.1, float(settings.CONSULT_QUALITY_INTERVAL_SECONDS))
        while not self.closed:
            await asyncio.sleep(interval)
            try:
                samples = await self.sample_quality()
            except Exception:  # one bad sample must not end the room's sampling
                logger.warning("consult %s: sampling failed", self.consult_id, exc_info=True)
                continue
            for user_id, quality in samples.items():
                peer = self._peers.get(user_id)
                if peer is None or peer.on_quality is None:
                    continue
                try:
                    await peer.on_quality(quality)
                except Exception:
                    logger.warning("consult %s: quality callback failed", self.consult_id)

    async def sample_quality(self) -> dict[str, LinkQuality]:
        """One sample per connected participant, over the time since their last sample."""
        samples: dict[str, LinkQuality] = {}
        for peer in list(self._peers.values()):
            if peer.closed or peer.pc.connectionState != "connected":
                continue
            try:
                report = await peer.pc.getStats()
            except Exception:  # closing under us: no sample this time
                logger.debug("consult %s: no stats", self.consult_id, exc_info=True)
                continue
            quality, peer.mark = link_quality(
                peer.mark, report, video_frames=peer.video_frames, now=time.monotonic()
            )
            samples[peer.user_id] = quality
        return samples


def link_quality(
    previous: _StatsMark, report: Mapping[str, Any], *, video_frames: int, now: float
) -> tuple[LinkQuality, _StatsMark]:
    """Rates over the interval since `previous` from aiortc's stats: transport bytes in →
    bitrate; inbound-rtp packetsLost/packetsReceived → uplink loss; remote-inbound-rtp
    (their receiver reports) → RTT and downlink loss; decoded video frames → fps."""
    bytes_received = packets_received = packets_lost = 0
    rtts: list[float] = []
    downlink_loss: list[float] = []
    for stats in report.values():
        kind = getattr(stats, "type", None)
        if kind == "transport":
            bytes_received = max(bytes_received, int(stats.bytesReceived))
        elif kind == "inbound-rtp":
            packets_received += int(stats.packetsReceived)
            packets_lost += max(0, int(stats.packetsLost))
        elif kind == "remote-inbound-rtp":
            # aiortc reports the first receiver report before it has a round-trip time
            if getattr(stats, "roundTripTime", None) is not None:
                rtts.append(float(stats.roundTripTime) * 1000)
            if getattr(stats, "fractionLost", None) is not None:
                downlink_loss.append(float(stats.fractionLost))
    mark = _StatsMark(now, bytes_received, packets_received, packets_lost, video_frames)
    elapsed = now - previous.at
    if elapsed <= 0:
        return LinkQuality(None, None, None, None), mark
    received = packets_received - previous.packets_received
    lost = max(0, packets_lost - previous.packets_lost)
    uplink = lost / (received + lost) if received + lost > 0 else None
    losses = [loss for loss in (uplink, *downlink_loss) if loss is not None]
    quality = LinkQuality(
        bitrate_kbps=round(
            max(0, bytes_received - previous.bytes_received) * 8 / elapsed / 1000, 1
        ),
        packet_loss=round(max(losses), 4) if losses else None,
        rtt_ms=round(max(rtts), 1) if rtts else None,
        fps=round((video_frames - previous.video_frames) / elapsed, 1),
    )
    return quality, mark
