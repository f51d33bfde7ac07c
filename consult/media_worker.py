"""A media worker (DESIGN §6, production): holds consult rooms (consult/media.py) for
signaling consumers in other processes, reached through the channel layer.
`python manage.py run_media_worker` runs one; docker-compose's `media` service runs them.

- **Taking rooms.** While it holds fewer than `max_rooms` (CONSULT_MAX_ROOMS) rooms, the
  worker reads the shared channel `consult-media`, where a room's first offer goes; full, it
  stops reading it, so another worker takes the next room (none: the consumer answers
  `no_capacity`). It pins the room to its own reply channel in the cache (set-if-absent:
  two workers never both hold a room), answers `accepted` with that channel, and from then
  on the room's messages come straight to it. A worker that took an offer for a room pinned
  to another forwards the offer there; one that is asked to open a room while full hands the
  offer back to the shared channel.
- **Order.** Each room's messages run one after another (offer, then its trickled ICE...),
  rooms concurrently.
- **Heartbeat.** Every `HEARTBEAT_SECONDS` it refreshes the pins of its rooms (they expire
  `PIN_SECONDS` after a crash) and gives back the slots of rooms that emptied. A pin found
  taken by another worker (this one stalled past the expiry) means the room is no longer
  this worker's: it is closed and its participants told `failed` (they offer again).
- **Stopping** (SIGTERM): every room is closed and its participants told `failed`, so
  their browsers re-offer and another worker takes the room.

Debug: the `stats` request answers what the worker holds and how many messages of each room
it handled, and through which channel (tests use it to prove pinning): the rooms it holds and
the `DEBUG_ROOMS` most recent others, so a long-lived worker's counters stay bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings
from django.core.cache import cache

from careconnect.errors import ApplicationError
from consult import media
from consult.media_backend import (
    EVENT,
    HEARTBEAT_SECONDS,
    PIN_SECONDS,
    SHARED_CHANNEL,
    LinkQuality,
    MediaFailedError,
    pin_key,
)

logger = logging.getLogger(__name__)

MAX_HOPS = 4  # an offer forwarded more often than this is dropped (its consumer times out)
DEBUG_ROOMS = 256  # rooms not held here whose message counts `stats` still reports


@dataclass(eq=False)
class _Slot:
    """A room this worker holds (or is claiming): its message queue and runner."""

    room: str
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    runner: asyncio.Task[None] | None = None
    claimed: bool = False
    busy: bool = False  # the runner is handling a message
    seen: dict[str, int] = field(default_factory=dict)  # owner -> newest offer seq


def _claim(key: str, me: str) -> tuple[bool, str | None]:
    """Set-if-absent, or already ours: (ours, whoever holds it)."""
    if cache.add(key, me, PIN_SECONDS):
        return True, me
    owner = cache.get(key)
    if owner == me:
        cache.touch(key, PIN_SECONDS)
        return True, me
    return False, owner if isinstance(owner, str) else None


def _refresh(keys: list[str], me: str) -> list[str]:
    """Refresh our pins; the keys now pinned to another worker."""
    lost = []
    for key in keys:
        if cache.get(key) == me and cache.touch(key, PIN_SECONDS):
            continue
        if not (cache.add(key, me, PIN_SECONDS) or cache.get(key) == me):
            lost.append(key)
    return lost


def _unpin(key: str, me: str) -> None:
    if cache.get(key) == me:
        cache.delete(key)


class MediaWorker:
    def __init__(
        self,
        *,
        name: str | None = None,
        max_rooms: int | None = None,
        layer: BaseChannelLayer | None = None,
    ) -> None:
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.max_rooms = settings.CONSULT_MAX_ROOMS if max_rooms is None else max_rooms
        self._layer = layer
        self.channel = ""  # this worker's reply channel, once running
        self._slots: dict[str, _Slot] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = asyncio.Event()
        self._freed = asyncio.Event()  # a slot was given back
        self.ready = asyncio.Event()
        # Debug counters (the `stats` request): room -> op -> n, and room -> messages taken
        # from the shared channel; oldest first, the rooms no longer held forgotten past
        # DEBUG_ROOMS (a worker runs for weeks and sees every room's stray messages).
        self.handled: dict[str, Counter[str]] = {}
        self.from_shared: Counter[str] = Counter()

    @property
    def layer(self) -> BaseChannelLayer:
        if self._layer is None:
            self._layer = get_channel_layer()
            if self._layer is None:
                raise RuntimeError("a media worker needs a channel layer")
        return self._layer

    @property
    def rooms(self) -> list[str]:
        return list(self._slots)

    def has_capacity(self) -> bool:
        return len(self._slots) < self.max_rooms

    # ------------------------------------------------------------------ running

    async def run(self) -> None:
        """Serve until `stop()` (or cancellation); then close every room."""
        self.channel = await self.layer.new_channel()
        loops = [
            asyncio.ensure_future(self._read(self.channel, shared=False)),
            asyncio.ensure_future(self._read_shared()),
            asyncio.ensure_future(self._heartbeat()),
        ]
        logger.info(
            "media worker %s ready on %s (at most %d rooms)",
            self.name,
            self.channel,
            self.max_rooms,
        )
        self.ready.set()
        try:
            stopping = asyncio.ensure_future(self._stopping.wait())
            await asyncio.wait([stopping, *loops], return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            for loop in loops:
                if loop.done() and not loop.cancelled() and loop.exception() is not None:
                    raise RuntimeError("a media worker loop died") from loop.exception()
        finally:
            await _cancel(loops)
            await self._close_everything()
            logger.info("media worker %s stopped", self.name)

    def stop(self) -> None:
        self._stopping.set()

    async def _read_shared(self) -> None:
        while True:
            while not self.has_capacity():  # full: leave new rooms to the other workers
                self._freed.clear()
                await self._freed.wait()
            message = await self.layer.receive(SHARED_CHANNEL)
            self._take(message, shared=True)

    async def _read(self, channel: str, *, shared: bool) -> None:
        while True:
            message = await self.layer.receive(channel)
            self._take(message, shared=shared)

    def _take(self, message: dict[str, Any], *, shared: bool) -> None:
        """Route one request. Synchronous: a slot is taken before the next read."""
        op, room = str(message.get("op")), str(message.get("room"))
        if op == "stats":
            _ = self._spawn(self._stats(message))
            return
        self._count(room, op, shared=shared)
        if op == "offer" and time.time() > float(message.get("deadline") or 0):
            logger.info("media worker %s: dropped a stale offer for room %s", self.name, room)
            return
        slot = self._slots.get(room)
        if slot is None:
            if op == "close":
                _ = self._spawn(self._unpin(room))
            if op != "offer":
                return  # ice / leave for a room not here: nothing of it to touch
            if not self.has_capacity():
                _ = self._spawn(self._hand_back(message, pinned_here=not shared))
                return
            slot = self._slots[room] = _Slot(room)
            slot.runner = self._spawn(self._run_slot(slot))
        elif op == "offer" and slot.claimed:
            message["_accepted"] = True
            _ = self._spawn(self._event(message, "accepted"))
        slot.queue.put_nowait(message)

    def _count(self, room: str, op: str, *, shared: bool) -> None:
        counts = self.handled.pop(room, None) or Counter()
        counts[op] += 1
        self.handled[room] = counts  # the most recent last
        if shared:
            self.from_shared[room] += 1
        excess = len(self.handled) - len(self._slots) - DEBUG_ROOMS
        if excess > 0:
            for old in [r for r in self.handled if r not in self._slots][:excess]:
                del self.handled[old]
                self.from_shared.pop(old, None)

    # ------------------------------------------------------------------ one room

    async def _run_slot(self, slot: _Slot) -> None:
        while True:
            message = await slot.queue.get()
            slot.busy = True
            try:
                if not slot.claimed and not await self._claim_slot(slot, message):
                    return
                await self._handle(slot, message)
            except Exception:
                logger.exception("media worker %s: room %s message failed", self.name, slot.room)
            finally:
                slot.busy = False
            if slot.queue.empty() and self._room_gone(slot):
                await self._release(slot)
                return

    async def _claim_slot(self, slot: _Slot, message: dict[str, Any]) -> bool:
        ours, owner = await sync_to_async(_claim, thread_sensitive=False)(
            pin_key(slot.room), self.channel
        )
        if ours:
            slot.claimed = True
            logger.info("media worker %s took room %s", self.name, slot.room)
            return True
        # Pinned to another worker meanwhile: everything queued here goes there, in order.
        self._drop_slot(slot.room)
        waiting = [message]
        while not slot.queue.empty():
            waiting.append(slot.queue.get_nowait())
        for queued in waiting:
            await self._forward(queued, owner)
        return False

    async def _handle(self, slot: _Slot, message: dict[str, Any]) -> None:
        op, user, owner = message.get("op"), str(message.get("user")), message.get("owner")
        if not isinstance(owner, str):
            return
        if op == "offer":
            seq = int(message.get("seq") or 0)
            if seq <= slot.seen.get(owner, 0):
                return  # a duplicate, or older than an offer already answered
            slot.seen[owner] = seq
            if not message.get("_accepted"):
                await self._event(message, "accepted")
            await self._offer(slot, message, user, owner, seq)
        elif op == "ice":
            room = media.get_room(slot.room)
            candidate = message.get("candidate")
            try:
                if room is not None:
                    await room.add_ice(user, candidate if isinstance(candidate, dict) else None)
            except ApplicationError as exc:
                await self._event(message, "error", code=exc.code, message=exc.message)
        elif op == "leave":
            room = media.get_room(slot.room)
            if room is not None:
                await room.leave(user, owner=owner)
        elif op == "close":
            room = media.get_room(slot.room)
            if room is not None:
                await room.close()

    async def _offer(
        self, slot: _Slot, message: dict[str, Any], user: str, owner: str, seq: int
    ) -> None:
        async def on_quality(quality: LinkQuality) -> None:
            sample = quality.as_dict()
            await self._send(owner, self._event_body(slot.room, seq, "quality", quality=sample))

        async def on_failed() -> None:
            await self._send(owner, self._event_body(slot.room, seq, "failed"))

        try:
            answer = await media.answer_offer(
                slot.room,
                user,
                str(message.get("sdp") or ""),
                owner=owner,
                featured=bool(message.get("featured")),
                on_quality=on_quality,
                on_failed=on_failed,
            )
        except ApplicationError as exc:
            await self._event(message, "error", code=exc.code, message=exc.message)
        except Exception:
            logger.exception("media worker %s: offer in room %s failed", self.name, slot.room)
            failed = MediaFailedError()
            await self._event(message, "error", code=failed.code, message=failed.message)
        else:
            await self._event(message, "answer", sdp=answer)

    def _drop_slot(self, room: str) -> _Slot | None:
        slot = self._slots.pop(room, None)
        self._freed.set()
        return slot

    def _room_gone(self, slot: _Slot) -> bool:
        room = media.get_room(slot.room)
        return room is None or room.closed

    async def _release(self, slot: _Slot) -> None:
        if self._slots.get(slot.room) is slot:
            self._drop_slot(slot.room)
            await self._unpin(slot.room)
            logger.info("media worker %s released room %s", self.name, slot.room)

    # ------------------------------------------------------------------ heartbeat

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            for slot in list(self._slots.values()):
                idle = not slot.busy and slot.queue.empty()
                if slot.claimed and idle and self._room_gone(slot):
                    if slot.runner is not None:
                        slot.runner.cancel()
                    await self._release(slot)
            held = [slot.room for slot in self._slots.values() if slot.claimed]
            if not held:
                continue
            lost = await sync_to_async(_refresh, thread_sensitive=False)(
                [pin_key(room) for room in held], self.channel
            )
            for room_id in held:
                if pin_key(room_id) in lost:
                    await self._lose(room_id)

    async def _lose(self, room_id: str) -> None:
        logger.warning("media worker %s lost room %s to another worker", self.name, room_id)
        slot = self._drop_slot(room_id)
        if slot is not None and slot.runner is not None:
            slot.runner.cancel()
        room = media.get_room(room_id)
        if room is not None:
            await room.close(notify=True)

    async def _close_everything(self) -> None:
        for room_id in list(self._slots):
            slot = self._drop_slot(room_id)
            if slot is not None and slot.runner is not None:
                slot.runner.cancel()
            await self._unpin(room_id)  # first: the offers that follow go to the others
            room = media.get_room(room_id)
            if room is not None:
                await room.close(notify=True)  # their browsers re-offer: another worker
        await _cancel(list(self._tasks))

    # ------------------------------------------------------------------ sending

    def _spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _event_body(self, room: str, seq: int | None, kind: str, **fields: Any) -> dict[str, Any]:
        return {
            "type": EVENT,
            "event": kind,
            "room": room,
            "seq": seq,
            "worker": self.channel,
            "name": self.name,
            **fields,
        }

    async def _event(self, request: Mapping[str, Any], kind: str, **fields: Any) -> None:
        reply_to = request.get("reply_to")
        if isinstance(reply_to, str):
            seq = request.get("seq")
            body = self._event_body(
                str(request.get("room")), seq if isinstance(seq, int) else None, kind, **fields
            )
            await self._send(reply_to, body)

    async def _send(self, channel: str, message: dict[str, Any]) -> None:
        try:
            await self.layer.send(channel, message)
        except Exception:  # the socket's channel is full or gone: nothing to tell
            logger.warning("media worker %s: %s not delivered", self.name, message.get("event"))

    async def _forward(self, message: dict[str, Any], channel: str | None) -> None:
        hops = int(message.get("hops") or 0) + 1
        if hops > MAX_HOPS:
            logger.warning("media worker %s: dropped an offer after %d hops", self.name, hops)
            return
        forwarded = {k: v for k, v in message.items() if not k.startswith("_")}
        forwarded["hops"] = hops
        await self._send(channel or SHARED_CHANNEL, forwarded)

    async def _hand_back(self, message: dict[str, Any], *, pinned_here: bool) -> None:
        """Full: the offer goes back to the shared channel for a worker with a free slot."""
        room = str(message.get("room"))
        logger.info("media worker %s is full: room %s goes to another worker", self.name, room)
        if pinned_here:
            await self._unpin(room)
        await self._forward(message, None)

    async def _unpin(self, room: str) -> None:
        await sync_to_async(_unpin, thread_sensitive=False)(pin_key(room), self.channel)

    async def _stats(self, request: Mapping[str, Any]) -> None:
        reply_to = request.get("reply_to")
        if not isinstance(reply_to, str):
            return
        body = self._event_body("", None, "stats")
        body.update(
            rooms=self.rooms,
            max_rooms=self.max_rooms,
            handled={room: dict(ops) for room, ops in self.handled.items()},
            from_shared=dict(self.from_shared),
            counts=media.counts()._asdict(),
        )
        await self._send(reply_to, body)


async def _cancel(tasks: list[asyncio.Task[Any]], seconds: float = 5.0) -> None:
    """Cancel and wait (bounded). Cancels again while waiting: redis-py can swallow a
    cancellation that lands while it is opening a connection (a channel-layer read)."""
    deadline = time.monotonic() + seconds
    pending = {task for task in tasks if not task.done()}
    while pending and time.monotonic() < deadline:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.25)
    if pending:
        logger.warning("media worker: %d task(s) did not stop", len(pending))


async def run_until_stopped(worker: MediaWorker) -> None:
    """Run `worker`; SIGTERM / SIGINT stop it cleanly (rooms closed, participants told)."""
    import signal

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, worker.stop)
    await worker.run()
