"""The seam between the consult signaling consumer and the media (DESIGN §6): the consumer
talks to a `MediaBackend` and never to aiortc. Two implementations, chosen by
`CONSULT_MEDIA`:

- `inprocess` (the embedded default): the rooms live in this process (consult/media.py);
  an offer is answered while the consumer waits.
- `worker` (production, docker-compose): the rooms live in media worker processes
  (`manage.py run_media_worker`, consult/media_worker.py) reached through the channel layer.

Worker protocol (channel-layer messages; docs/consult-protocol.md §6):

- A room's first offer goes to the shared channel `consult-media`, which every worker with a
  free slot reads (a full worker stops reading it, so another one takes the room). The
  worker that takes it pins the room to its own reply channel in the cache
  (`consult-media.room.<id>`, set-if-absent, refreshed by its heartbeat while it holds the
  room) and answers `accepted` with that channel; every later message for the room goes
  straight there. A pin expires `PIN_SECONDS` after its worker stops refreshing it (the
  worker died), so the next offer goes to the shared channel again.
- Requests (`consult.media.request`, op offer / ice / leave / close / stats) carry the
  consumer's own channel (`reply_to`, also the peer's `owner`); events back
  (`consult.media.event`: accepted / answer / error / quality / failed / stats) arrive at
  the consumer as channel-layer messages and go to `MediaSession.deliver`.
- Timeouts (consumer side): nobody accepted an offer within `CONSULT_MEDIA_CLAIM_SECONDS`:
  through the shared channel that means no worker has a free slot (`no_capacity`); sent to
  a pinned worker it means that worker is gone or stuck, so the stale pin is dropped and the
  offer goes to the shared channel once more. Accepted but no answer within
  `CONSULT_MEDIA_TIMEOUT_SECONDS`: `media_failed`.

This module imports neither aiortc nor the ORM: daphne processes in worker mode never load
aiortc.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings
from django.core.cache import cache

from careconnect.errors import ApplicationError, ConflictError, InvalidInputError

logger = logging.getLogger(__name__)

SHARED_CHANNEL = "consult-media"  # a room's first offer: any worker with a free slot
REQUEST = "consult.media.request"  # consumer -> worker
EVENT = "consult.media.event"  # worker -> consumer (ConsultConsumer.consult_media_event)
PIN_SECONDS = 6  # a pin outlives its worker's last heartbeat by at most this
HEARTBEAT_SECONDS = 2.0


def pin_key(consult_id: object) -> str:
    """The cache key holding the reply channel of the worker that holds the room."""
    return f"consult-media.room.{consult_id}"


# ------------------------------------------------------------------ errors and samples


class NoCapacityError(ApplicationError):
    """No media process has a free room slot (DESIGN §6: a clear answer)."""

    code = "no_capacity"
    status = 503
    default_message = "No capacity for another call right now; try again shortly."


NoCapacity = NoCapacityError


class BadOfferError(InvalidInputError):
    code = "bad_sdp"
    default_message = "That offer could not be used; send a new one."


class BadCandidateError(InvalidInputError):
    code = "bad_candidate"
    default_message = "That ICE candidate is not valid."


class RoomClosedError(ConflictError):
    code = "consult_ended"
    default_message = "This call has ended."


class MediaFailedError(ApplicationError):
    """The server's peer failed, or its media process did not answer in time."""

    code = "media_failed"
    status = 503
    default_message = "The media connection failed; send a new offer."


ERRORS: dict[str, type[ApplicationError]] = {
    error.code: error
    for error in (NoCapacityError, BadOfferError, BadCandidateError, RoomClosedError)
} | {MediaFailedError.code: MediaFailedError}


def error_from(code: object, message: object = None) -> ApplicationError:
    """An error event from a worker as the error the in-process room would have raised."""
    kind = ERRORS.get(str(code), MediaFailedError)
    return kind(str(message) if message else None)


@dataclass(frozen=True, slots=True)
class LinkQuality:
    """The server's view of one participant's link over the last sampling interval."""

    bitrate_kbps: float | None  # bytes the server received from them
    packet_loss: float | None  # fraction 0..1: the worse of uplink (measured) and downlink (RR)
    rtt_ms: float | None  # from their receiver reports on our outbound streams
    fps: float | None  # video frames the server decoded from them

    def as_dict(self) -> dict[str, float | None]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinkQuality:
        def number(name: str) -> float | None:
            value = data.get(name)
            return float(value) if isinstance(value, int | float) else None

        return cls(number("bitrate_kbps"), number("packet_loss"), number("rtt_ms"), number("fps"))


# ------------------------------------------------------------------ the interface


@dataclass(frozen=True, slots=True)
class MediaEvents:
    """What a session tells its socket: the answer to its offer, quality samples, a failed
    peer (send a new offer), an error that arrived later than the frame that caused it."""

    answer: Callable[[str], Awaitable[None]]
    quality: Callable[[LinkQuality], Awaitable[None]]
    failed: Callable[[], Awaitable[None]]
    error: Callable[[ApplicationError], Awaitable[None]]


class MediaSession(Protocol):
    """One socket's media: at most one server peer, owned by that socket."""

    async def offer(self, sdp: str) -> None:
        """Answer (through `events.answer`) with a new peer replacing any the user had.
        May raise ApplicationError at once, or report it later through `events.error`."""

    async def add_ice(self, candidate: Mapping[str, Any] | None) -> None:
        """A trickled candidate for this socket's peer (ignored when there is none)."""

    async def leave(self) -> None:
        """Close this socket's peer (not another tab's). Idempotent."""

    async def deliver(self, event: Mapping[str, Any]) -> None:
        """A `consult.media.event` channel-layer message that reached the socket."""


class MediaBackend(Protocol):
    def session(
        self, *, consult_id: str, user_id: str, owner: str, featured: bool, events: MediaEvents
    ) -> MediaSession:
        """`owner`: the socket's channel name; `featured`: the doctor (DESIGN §6)."""

    async def close_room(self, consult_id: str) -> None:
        """Close every peer of the consult (the doctor ended it)."""


def get_backend() -> MediaBackend:
    """The backend `CONSULT_MEDIA` selects (read on each call: tests switch it)."""
    if settings.CONSULT_MEDIA == "worker":
        return WorkerBackend()
    return InProcessBackend()


# ------------------------------------------------------------------ in process


@dataclass
class InProcessSession:
    consult_id: str
    user_id: str
    owner: str
    featured: bool
    events: MediaEvents

    async def offer(self, sdp: str) -> None:
        from consult import media

        answer = await media.answer_offer(
            self.consult_id,
            self.user_id,
            sdp,
            owner=self.owner,
            featured=self.featured,
            on_quality=self.events.quality,
            on_failed=self.events.failed,
        )
        await self.events.answer(answer)

    async def add_ice(self, candidate: Mapping[str, Any] | None) -> None:
        from consult import media

        room = media.get_room(self.consult_id)
        if room is not None:  # none yet: the offer carried its candidates
            await room.add_ice(self.user_id, candidate)

    async def leave(self) -> None:
        from consult import media

        room = media.get_room(self.consult_id)
        if room is not None:
            await room.leave(self.user_id, owner=self.owner)

    async def deliver(self, event: Mapping[str, Any]) -> None:
        logger.debug("consult %s: media event without a worker: %s", self.consult_id, event)


class InProcessBackend:
    """The rooms of this process (consult/media.py): the embedded default."""

    def session(
        self, *, consult_id: str, user_id: str, owner: str, featured: bool, events: MediaEvents
    ) -> MediaSession:
        return InProcessSession(consult_id, user_id, owner, featured, events)

    async def close_room(self, consult_id: str) -> None:
        from consult import media

        room = media.get_room(consult_id)
        if room is not None:
            await room.close()


# ------------------------------------------------------------------ through a media worker


def _layer() -> BaseChannelLayer:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("CONSULT_MEDIA=worker needs a channel layer")
    return layer


async def pinned_worker(consult_id: str) -> str | None:
    owner = await cache.aget(pin_key(consult_id))
    return owner if isinstance(owner, str) else None


async def unpin(consult_id: str, worker: str) -> None:
    """Forget the pin if it still names `worker` (a worker that did not answer)."""
    if await pinned_worker(consult_id) == worker:
        await cache.adelete(pin_key(consult_id))


@dataclass(eq=False)
class _Pending:
    seq: int
    sdp: str
    target: str | None = None  # where the offer went: a pinned worker, or None (shared)
    worker: str | None = None  # the worker that accepted it
    accepted: asyncio.Event = field(default_factory=asyncio.Event)
    ice: list[Mapping[str, Any] | None] = field(default_factory=list)  # until accepted
    watch: asyncio.Task[None] | None = None


class WorkerSession:
    """One socket's media on a media worker. Offers are answered asynchronously (the
    consumer keeps reading frames and channel-layer events meanwhile): `offer` sends the
    request and returns; the answer arrives as an event."""

    def __init__(
        self, consult_id: str, user_id: str, owner: str, featured: bool, events: MediaEvents
    ) -> None:
        self.consult_id, self.user_id, self.owner = consult_id, user_id, owner
        self.featured, self.events = featured, events
        self.layer = _layer()
        self._seq = 0  # per socket, increasing: the worker ignores an older offer
        self._pending: _Pending | None = None
        self._worker: str | None = None  # holds this socket's answered peer
        self._peer_seq = 0  # the offer that peer answered
        self._active = False  # an offer was sent since the last leave
        self._stale: set[str] = set()  # workers that took an offer superseded since

    @property
    def worker(self) -> str | None:
        return self._worker

    async def offer(self, sdp: str) -> None:
        self._drop_pending()
        self._seq += 1
        self._active = True
        pending = self._pending = _Pending(self._seq, sdp)
        await self._send_offer(pending, await pinned_worker(self.consult_id))
        pending.watch = asyncio.ensure_future(self._watch(pending))

    async def add_ice(self, candidate: Mapping[str, Any] | None) -> None:
        pending = self._pending
        if pending is not None and pending.worker is None:
            pending.ice.append(candidate)  # sent to whichever worker accepts the offer
            return
        worker = pending.worker if pending is not None else self._worker
        if worker is not None:
            await self._send(worker, "ice", candidate=candidate)

    async def leave(self) -> None:
        pending, worker = self._pending, self._worker
        self._drop_pending()
        self._worker, self._active = None, False
        targets = {w for w in (worker, pending.worker if pending else None) if w} | self._stale
        self._stale = set()
        for target in targets:
            await self._send(target, "leave")
        # An offer nobody accepted yet: its `accepted` (if it comes) is answered with leave.

    async def deliver(self, event: Mapping[str, Any]) -> None:
        kind, worker, seq = event.get("event"), event.get("worker"), event.get("seq")
        if not isinstance(worker, str):
            return
        pending = self._pending
        if kind in {"accepted", "answer", "error"} and pending is not None and seq == pending.seq:
            await self._on_reply(pending, str(kind), worker, event)
        elif kind in {"accepted", "answer"}:
            # An offer this socket no longer waits for reached a worker. Its peer there is
            # not this socket's peer: close it, unless a newer offer may be on that worker
            # too (it replaces the old peer; decided once the newer offer is answered).
            if not self._active:
                await self._send(worker, "leave")
            elif pending is not None:
                self._stale.add(worker)
            elif worker != self._worker:
                await self._send(worker, "leave")
        elif worker != self._worker or seq != self._peer_seq:
            return  # about a peer this socket replaced
        elif kind == "quality":
            quality = event.get("quality")
            sample = LinkQuality.from_dict(quality if isinstance(quality, dict) else {})
            await self.events.quality(sample)
        elif kind == "failed":
            self._worker = None
            await self.events.failed()
        elif kind == "error":  # a refused candidate
            await self.events.error(error_from(event.get("code"), event.get("message")))

    async def _on_reply(
        self, pending: _Pending, kind: str, worker: str, event: Mapping[str, Any]
    ) -> None:
        if pending.worker is None:  # the first worker to accept (or answer) it is the one
            pending.worker = worker
            pending.accepted.set()
            ice, pending.ice = pending.ice, []
            for candidate in ice if kind != "error" else ():
                await self._send(worker, "ice", candidate=candidate)
        elif worker != pending.worker:  # a second taker (a worker that was only slow)
            if kind != "error":
                await self._send(worker, "leave")
            return
        if kind == "accepted":
            return
        self._drop_pending()
        if kind == "answer":
            self._worker, self._peer_seq = worker, pending.seq
        await self._leave_stale()
        if kind == "answer":
            await self.events.answer(str(event.get("sdp") or ""))
        else:
            await self.events.error(error_from(event.get("code"), event.get("message")))

    async def _leave_stale(self) -> None:
        """Close the peers of superseded offers on workers other than the current one."""
        stale, self._stale = self._stale - {self._worker}, set()
        for worker in stale:
            await self._send(worker, "leave")

    # -- sending

    async def _send(self, channel: str, op: str, **fields: Any) -> None:
        message = {
            "type": REQUEST,
            "op": op,
            "room": self.consult_id,
            "user": self.user_id,
            "owner": self.owner,
            "reply_to": self.owner,
            **fields,
        }
        try:
            await self.layer.send(channel, message)
        except Exception:  # a full or unreachable channel: the timeouts answer for it
            logger.warning("consult %s: media %s to %s not sent", self.consult_id, op, channel)

    async def _send_offer(self, pending: _Pending, target: str | None) -> None:
        pending.target = target
        claim = float(settings.CONSULT_MEDIA_CLAIM_SECONDS)
        await self._send(
            target or SHARED_CHANNEL,
            "offer",
            sdp=pending.sdp,
            seq=pending.seq,
            featured=self.featured,
            deadline=time.time() + claim,  # a worker drops it after this (hosts run NTP)
        )

    async def _watch(self, pending: _Pending) -> None:
        try:
            await self._time_out(pending)
        except Exception:  # the socket went away meanwhile, say
            logger.warning("consult %s: offer timeout handling failed", self.consult_id)

    async def _time_out(self, pending: _Pending) -> None:
        """The offer's timeouts (see the module docstring)."""
        claim = float(settings.CONSULT_MEDIA_CLAIM_SECONDS)
        if not await _wait(pending.accepted, claim) and pending.target is not None:
            logger.warning(
                "consult %s: media worker %s did not take an offer; rerouting",
                self.consult_id,
                pending.target,
            )
            await unpin(self.consult_id, pending.target)
            await self._send_offer(pending, None)
            await _wait(pending.accepted, claim)
        if not pending.accepted.is_set():
            if self._pending is pending:
                self._pending = None
                logger.warning("consult %s: no media worker took the room", self.consult_id)
                await self._leave_stale()
                await self.events.error(NoCapacityError())
            return
        await asyncio.sleep(float(settings.CONSULT_MEDIA_TIMEOUT_SECONDS))
        if self._pending is pending:
            self._pending = None
            logger.warning(
                "consult %s: media worker %s did not answer", self.consult_id, pending.worker
            )
            if pending.worker is not None:
                await self._send(pending.worker, "leave")
            await self._leave_stale()
            await self.events.error(MediaFailedError())

    def _drop_pending(self) -> None:
        pending, self._pending = self._pending, None
        watch = pending.watch if pending is not None else None
        if watch is not None and watch is not asyncio.current_task():
            watch.cancel()


async def _wait(event: asyncio.Event, seconds: float) -> bool:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()


class WorkerBackend:
    """Rooms held by media worker processes, reached through the channel layer."""

    def session(
        self, *, consult_id: str, user_id: str, owner: str, featured: bool, events: MediaEvents
    ) -> MediaSession:
        return WorkerSession(consult_id, user_id, owner, featured, events)

    async def close_room(self, consult_id: str) -> None:
        worker = await pinned_worker(consult_id)
        if worker is not None:
            with contextlib.suppress(Exception):
                await _layer().send(worker, {"type": REQUEST, "op": "close", "room": consult_id})
