"""Consults with CONSULT_MEDIA=worker (DESIGN §6, production): the signaling consumer in this
process, the rooms in media workers reached through the channel layer.

- Media workers in this process (the in-memory channel layer and local-memory cache of the
  embedded default): the protocol, capacity and timeouts, fast.
- Media worker processes (`manage.py run_media_worker`, real Redis: only with REDIS_URL,
  CI's second pass): the colours through a worker, pinning, capacity, and a worker killed
  with SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.conf import settings as django_settings
from django.core.cache import cache

from careconnect.errors import ApplicationError
from consult import media
from consult.media_backend import (
    EVENT,
    REQUEST,
    SHARED_CHANNEL,
    LinkQuality,
    MediaEvents,
    WorkerSession,
    pin_key,
)
from consult.media_worker import MediaWorker
from consult.models import QualitySample
from tests.consult.conftest import (
    BLUE,
    GREEN,
    MEDIA_TESTS,
    RED,
    Call,
    Client,
    admitted_pair,
    amake_call,
    connect,
    disconnect,
    expect,
    in_thread,
    join,
    wait_until,
)

pytestmark = [pytest.mark.django_db(transaction=True), MEDIA_TESTS]

ROOT = Path(__file__).resolve().parents[2]
CLAIM_SECONDS = 2
YELLOW = (210, 16, 146)


@pytest.fixture
def worker_mode(settings: Any) -> None:
    settings.CONSULT_MEDIA = "worker"
    settings.CONSULT_MEDIA_CLAIM_SECONDS = CLAIM_SECONDS
    settings.CONSULT_MEDIA_TIMEOUT_SECONDS = 15


async def pinned(call: Call) -> str | None:
    owner = await cache.aget(pin_key(call.appointment.id))
    return owner if isinstance(owner, str) else None


async def offer_raw(communicator: Any, client: Client) -> None:
    """Send an offer without waiting for the answer."""
    await client.pc.setLocalDescription(await client.pc.createOffer())
    await communicator.send_json_to({"type": "offer", "sdp": client.pc.localDescription.sdp})


async def call_in_progress(
    clients: list[Client], *, doctor_colour: tuple[int, int, int] = GREEN
) -> tuple[Call, Any, Any, Client, Client]:
    """Given: the doctor and the admitted patient, each with media through the server, each
    seeing the other's colour."""
    call = await amake_call()
    doctor_ws, patient_ws = await admitted_pair(call)
    doctor, patient = Client(doctor_colour), Client(RED)
    clients.extend([doctor, patient])
    await doctor.offer(doctor_ws)
    await patient.offer(patient_ws)
    await asyncio.gather(doctor.sees(RED), patient.sees(doctor_colour))
    return call, doctor_ws, patient_ws, doctor, patient


# ------------------------------------------------------------------ workers in this process


@pytest.fixture
async def local_workers(worker_mode: None) -> AsyncIterator[Callable[..., Awaitable[MediaWorker]]]:
    running: list[tuple[MediaWorker, asyncio.Task[None]]] = []

    async def start(name: str, max_rooms: int = 3) -> MediaWorker:
        worker = MediaWorker(name=name, max_rooms=max_rooms)
        task = asyncio.ensure_future(worker.run())
        await asyncio.wait_for(worker.ready.wait(), 5)
        running.append((worker, task))
        return worker

    yield start
    for worker, task in running:
        worker.stop()
        await asyncio.wait_for(task, 15)


async def test_in_worker_mode_the_call_goes_through_a_media_worker(
    local_workers: Callable[..., Awaitable[MediaWorker]], clients: list[Client]
) -> None:
    # given: one media worker
    worker = await local_workers("w1")
    # when: both offer through their sockets
    call, doctor_ws, patient_ws, _, _ = await call_in_progress(clients)
    # then: the room is the worker's, pinned to its channel, both offers went through it
    room = str(call.appointment.id)
    assert worker.rooms == [room]
    assert await pinned(call) == worker.channel
    assert worker.handled[room]["offer"] == 2
    assert worker.from_shared[room] == 1  # the first; the second went straight to it
    # when: the doctor ends the call, then: the room and its pin are gone
    await doctor_ws.send_json_to({"type": "end"})
    await expect(doctor_ws, "ended")
    await expect(patient_ws, "ended")
    await wait_until(lambda: not worker.rooms, 10, "the worker to give the room back")
    assert media.counts() == (0, 0, 0, 0)
    assert await pinned(call) is None
    await disconnect(doctor_ws, patient_ws)


async def test_a_full_worker_means_no_capacity_until_a_room_is_given_back(
    local_workers: Callable[..., Awaitable[MediaWorker]], clients: list[Client]
) -> None:
    # given: one worker with room for one call, which is in progress
    # (two workers sharing the shared channel need Redis: the in-memory layer hands a message
    # to one waiter only, see the worker-process tests below)
    worker = await local_workers("w1", max_rooms=1)
    first, second = await amake_call(), await amake_call()
    first_ws, second_ws = await connect(first, first.doctor), await connect(second, second.doctor)
    await join(first_ws, "admitted")
    await join(second_ws, "admitted")
    doctor_1 = Client(GREEN)
    clients.append(doctor_1)
    await doctor_1.offer(first_ws)
    # when: a second consult starts its call
    doctor_2 = Client(BLUE)
    clients.append(doctor_2)
    await offer_raw(second_ws, doctor_2)
    # then: a clear no_capacity, and nobody took the room
    error = await expect(second_ws, "error", wait=CLAIM_SECONDS + 5)
    assert error["code"] == "no_capacity"
    assert await pinned(second) is None
    assert worker.rooms == [str(first.appointment.id)]
    # when: the first call ends, and the second consult offers again
    await first_ws.send_json_to({"type": "end"})
    await expect(first_ws, "ended")
    await wait_until(lambda: not worker.rooms, 10, "the worker to give the room back")
    retry = Client(BLUE)
    clients.append(retry)
    await retry.offer(second_ws)
    # then: the freed slot took it
    assert worker.rooms == [str(second.appointment.id)]
    assert await pinned(second) == worker.channel
    await disconnect(first_ws, second_ws)


async def test_an_offer_to_a_dead_workers_pin_is_rerouted_to_a_live_worker(
    local_workers: Callable[..., Awaitable[MediaWorker]], clients: list[Client]
) -> None:
    # given: a room still pinned to a worker that is gone (it crashed: its pin outlives it)
    worker = await local_workers("alive")
    call = await amake_call()
    await cache.aset(pin_key(call.appointment.id), "specific.inmemory!gone", 60)
    doctor_ws = await connect(call, call.doctor)
    await join(doctor_ws, "admitted")
    # when: the doctor offers
    doctor = Client(GREEN)
    clients.append(doctor)
    started = time.monotonic()
    await doctor.offer(doctor_ws)
    # then: after the claim timeout the offer went to the shared channel, and a live worker
    # took the room
    assert time.monotonic() - started >= CLAIM_SECONDS
    assert await pinned(call) == worker.channel
    assert worker.rooms == [str(call.appointment.id)]
    await doctor.connected()
    await disconnect(doctor_ws)


async def test_an_accepted_offer_without_an_answer_is_media_failed(
    worker_mode: None, settings: Any, clients: list[Client]
) -> None:
    # given: a "worker" that takes offers and never answers them
    settings.CONSULT_MEDIA_TIMEOUT_SECONDS = 1
    layer = get_channel_layer()
    assert layer is not None
    stuck = await layer.new_channel()
    taken: list[dict[str, Any]] = []

    async def take_and_hang() -> None:
        while True:
            request = await layer.receive(SHARED_CHANNEL)
            taken.append(request)
            await layer.send(
                request["reply_to"],
                {"type": EVENT, "event": "accepted", "seq": request["seq"], "worker": stuck},
            )

    hanging = asyncio.ensure_future(take_and_hang())
    try:
        call = await amake_call()
        doctor_ws = await connect(call, call.doctor)
        await join(doctor_ws, "admitted")
        doctor = Client(GREEN)
        clients.append(doctor)
        # when: the doctor offers
        await offer_raw(doctor_ws, doctor)
        # then: media_failed once the answer is late; the stuck worker is told to let go
        error = await expect(doctor_ws, "error", wait=10)
        assert error["code"] == "media_failed"
        assert len(taken) == 1
        leave = await asyncio.wait_for(layer.receive(stuck), 5)
        assert leave["op"] == "leave"
        await disconnect(doctor_ws)
    finally:
        hanging.cancel()


# ------------------------------------------------------------------ the session's protocol


@dataclass
class Recorder:
    answers: list[str]
    errors: list[str]

    def events(self) -> MediaEvents:
        async def answer(sdp: str) -> None:
            self.answers.append(sdp)

        async def quality(sample: LinkQuality) -> None:
            pass

        async def failed() -> None:
            self.errors.append("failed")

        async def error(exc: ApplicationError) -> None:
            self.errors.append(exc.code)

        return MediaEvents(answer=answer, quality=quality, failed=failed, error=error)


async def _drain(layer: Any, channel: str) -> list[dict[str, Any]]:
    got = []
    with contextlib.suppress(TimeoutError):
        while True:
            got.append(await asyncio.wait_for(layer.receive(channel), 0.2))
    return got


def _reply(worker: str, seq: int, kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": EVENT, "event": kind, "worker": worker, "seq": seq, **fields}


async def test_a_superseded_offer_answered_by_the_same_worker_leaves_the_new_peer_alone(
    worker_mode: None,
) -> None:
    # given: a socket that offers twice before any answer (both to the shared channel)
    layer = get_channel_layer()
    assert layer is not None
    socket, worker = await layer.new_channel(), await layer.new_channel()
    seen = Recorder([], [])
    session = WorkerSession("room-1", "user-1", socket, False, seen.events())
    await session.offer("sdp-1")
    await session.offer("sdp-2")
    first, second = await _drain(layer, SHARED_CHANNEL)
    assert (first["seq"], second["seq"]) == (1, 2)
    # when: one worker takes and answers both, in order
    for seq in (1, 2):
        await session.deliver(_reply(worker, seq, "accepted"))
        await session.deliver(_reply(worker, seq, "answer", sdp=f"answer-{seq}"))
    # then: only the newer answer reaches the socket, and the worker is not told to leave
    # (its second offer replaced the first peer there)
    assert seen.answers == ["answer-2"]
    assert await _drain(layer, worker) == []
    assert session.worker == worker
    # when: the socket leaves, then: that worker is told
    await session.leave()
    assert [m["op"] for m in await _drain(layer, worker)] == ["leave"]


async def test_a_superseded_offer_taken_by_another_worker_is_closed_there(
    worker_mode: None,
) -> None:
    layer = get_channel_layer()
    assert layer is not None
    socket = await layer.new_channel()
    old, new = await layer.new_channel(), await layer.new_channel()
    seen = Recorder([], [])
    session = WorkerSession("room-1", "user-1", socket, False, seen.events())
    # given: two offers in flight; a trickled candidate waits for the second to be taken
    await session.offer("sdp-1")
    await session.offer("sdp-2")
    await session.add_ice({"candidate": "candidate:1 1 udp 1 192.0.2.1 5000 typ host"})
    await _drain(layer, SHARED_CHANNEL)
    # when: one worker answers the first, another takes and answers the second
    await session.deliver(_reply(old, 1, "answer", sdp="answer-1"))
    await session.deliver(_reply(new, 2, "accepted"))
    assert [m["op"] for m in await _drain(layer, new)] == ["ice"]
    await session.deliver(_reply(new, 2, "answer", sdp="answer-2"))
    # then: the socket has the second answer; the first worker drops the stale peer
    assert seen.answers == ["answer-2"]
    assert [m["op"] for m in await _drain(layer, old)] == ["leave"]
    assert await _drain(layer, new) == []
    # and: events about the stale peer are ignored, those of the current one are not
    await session.deliver(_reply(old, 1, "failed"))
    await session.deliver(_reply(new, 2, "failed"))
    assert seen.errors == ["failed"]


# ------------------------------------------------------------------ worker processes (Redis)

needs_redis = pytest.mark.skipif(
    not django_settings.REDIS_URL,
    reason="media worker processes need a shared channel layer: set REDIS_URL "
    "(the embedded default keeps the rooms in-process)",
)
READY_TIMEOUT = 120.0  # importing Django and aiortc on a loaded 2-core box


@dataclass
class WorkerProcess:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    channel: str = ""

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no cleanup at all (its pins stay until they expire)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def terminate(self) -> None:
        """SIGTERM, without waiting: the worker closes its rooms and exits."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass


class WorkerCluster:
    def __init__(self, tmp_path: Path) -> None:
        self.var_dir = tmp_path / "var"
        self.var_dir.mkdir(exist_ok=True)
        self.workers: list[WorkerProcess] = []

    def env(self, max_rooms: int) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTEST_", "CARECONNECT_", "CONSULT_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="careconnect.settings",
            REDIS_URL=str(django_settings.REDIS_URL),
            # The channel layer's encryption key: the workers must read what we write.
            SECRET_KEY=str(django_settings.SECRET_KEY),
            CRYPTO_KEYS=str(django_settings.CRYPTO_KEYS),
            CARECONNECT_VAR_DIR=str(self.var_dir),
            CELERY_BROKER_URL="memory://",
            CONSULT_MEDIA="worker",
            CONSULT_MAX_ROOMS=str(max_rooms),
            CONSULT_ICE_SERVERS="[]",
            CONSULT_QUALITY_INTERVAL_SECONDS="1",
            PYTHONUNBUFFERED="1",
            PYTHONDONTWRITEBYTECODE="1",
        )
        return env

    def launch(self, names: tuple[str, ...], max_rooms: int) -> list[WorkerProcess]:
        started = []
        for name in names:
            log_path = self.var_dir / f"{name}.log"
            with log_path.open("ab") as log:
                process = subprocess.Popen(
                    [sys.executable, "manage.py", "run_media_worker", "--name", name],
                    cwd=ROOT,
                    env=self.env(max_rooms),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            started.append(WorkerProcess(name, process, log_path))
        self.workers += started
        return started

    async def start(self, *names: str, max_rooms: int = 3) -> list[WorkerProcess]:
        """Start worker processes together (imports overlap), then wait for each."""
        started = self.launch(names, max_rooms)
        deadline = time.monotonic() + READY_TIMEOUT
        for worker in started:
            while not worker.channel:
                found = re.search(r"media worker \S+ ready on (\S+)", worker.log())
                if found:
                    worker.channel = found.group(1)
                elif worker.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{worker.name} did not start:\n{worker.log()}")
                else:
                    await asyncio.sleep(0.1)
        return started

    def holder(self, channel: str | None) -> WorkerProcess:
        return next(w for w in self.workers if w.channel == channel)

    def logs(self) -> str:
        return "\n".join(f"--- {w.name} ---\n{w.log()[-4000:]}" for w in self.workers)

    def stop_all(self) -> None:
        for worker in self.workers:
            try:
                worker.stop()
            finally:
                worker.kill()


@pytest.fixture
def cluster(tmp_path: Path, worker_mode: None) -> Iterator[WorkerCluster]:
    running = WorkerCluster(tmp_path)
    try:
        yield running
    finally:
        running.stop_all()
        print(running.logs())  # noqa: T201 - pytest shows it when the test failed


async def stats(worker: WorkerProcess) -> dict[str, Any]:
    """The worker's debug stat (what it holds, what it handled), over the channel layer."""
    layer = get_channel_layer()
    assert layer is not None
    reply_to = await layer.new_channel()
    await layer.send(worker.channel, {"type": REQUEST, "op": "stats", "reply_to": reply_to})
    reply: dict[str, Any] = await asyncio.wait_for(layer.receive(reply_to), 10)
    return reply


@needs_redis
async def test_a_call_through_worker_processes_sees_colours_and_is_pinned_to_one(
    cluster: WorkerCluster, clients: list[Client]
) -> None:
    # given: two media worker processes
    await cluster.start("media-a", "media-b")
    # when: the doctor and the patient offer through their sockets
    call, doctor_ws, patient_ws, _, _ = await call_in_progress(clients)
    room = str(call.appointment.id)
    # and: the patient renegotiates twice (new camera) and trickles an end-of-candidates
    for colour in (BLUE, YELLOW):
        again = Client(colour)
        clients.append(again)
        await again.offer(patient_ws)
        await patient_ws.send_json_to({"type": "ice", "candidate": None})
    await clients[0].sees(YELLOW)
    # then: every message of the room went to one worker (the first offer through the shared
    # channel, the rest straight to it); the other never saw the room
    holder = cluster.holder(await pinned(call))
    other = next(w for w in cluster.workers if w is not holder)
    held, idle = await stats(holder), await stats(other)
    assert held["rooms"] == [room]
    assert held["handled"][room] == {"offer": 4, "ice": 2}
    assert held["from_shared"] == {room: 1}
    assert room not in idle["handled"]
    assert idle["rooms"] == []
    assert f"media worker {holder.name} took room {room}" in holder.log()
    # and: the worker's quality samples reached the consumer (stored for both)
    await wait_until_async(
        lambda: (
            QualitySample.objects.filter(consult_id=call.appointment.id)
            .values("user")
            .distinct()
            .count()
            == 2
        ),
        20,
        "quality samples of both",
    )
    # when: the doctor ends the call, then: the worker gives the room back
    await doctor_ws.send_json_to({"type": "end"})
    await expect(patient_ws, "ended")
    empty = {"rooms": 0, "peer_connections": 0, "tracks": 0, "tasks": 0}
    for _ in range(50):
        final = await stats(holder)
        if final["rooms"] == [] and final["counts"] == empty:
            break
        await asyncio.sleep(0.2)
    assert final["rooms"] == []
    assert final["counts"] == empty
    assert await pinned(call) is None
    await disconnect(doctor_ws, patient_ws)


@needs_redis
async def test_a_full_worker_answers_no_capacity_then_another_worker_takes_the_room(
    cluster: WorkerCluster, clients: list[Client]
) -> None:
    # given: one worker process with room for one call, which is in progress
    (first,) = await cluster.start("media-1", max_rooms=1)
    call_1 = await amake_call()
    doctor_1 = await connect(call_1, call_1.doctor)
    await join(doctor_1, "admitted")
    client_1 = Client(GREEN)
    clients.append(client_1)
    await client_1.offer(doctor_1)
    assert await pinned(call_1) == first.channel
    # when: a second consult starts its call
    call_2 = await amake_call()
    doctor_2 = await connect(call_2, call_2.doctor)
    await join(doctor_2, "admitted")
    client_2 = Client(BLUE)
    clients.append(client_2)
    await offer_raw(doctor_2, client_2)
    # then: no_capacity, and the full worker never even took the offer
    error = await expect(doctor_2, "error", wait=CLAIM_SECONDS + 10)
    assert error["code"] == "no_capacity"
    assert str(call_2.appointment.id) not in (await stats(first))["handled"]
    # when: a second worker process runs and the doctor offers again
    (second,) = await cluster.start("media-2", max_rooms=1)
    retry = Client(BLUE)
    clients.append(retry)
    await retry.offer(doctor_2)
    # then: the second worker took the room; the first still holds only its own
    assert await pinned(call_2) == second.channel
    assert (await stats(second))["rooms"] == [str(call_2.appointment.id)]
    assert (await stats(first))["rooms"] == [str(call_1.appointment.id)]
    await retry.connected()
    await disconnect(doctor_1, doctor_2)


@needs_redis
async def test_after_a_worker_is_killed_the_reoffered_room_lands_on_another(
    cluster: WorkerCluster, clients: list[Client]
) -> None:
    # given: two worker processes and a call in progress on one of them
    await cluster.start("media-a", "media-b")
    call, doctor_ws, patient_ws, _, _ = await call_in_progress(clients)
    dead = cluster.holder(await pinned(call))
    survivor = next(w for w in cluster.workers if w is not dead)
    # when: that worker is killed (SIGKILL: its pin stays until it expires) and both
    # browsers reconnect their media with a new offer right away
    dead.kill()
    doctor, patient = Client(GREEN), Client(BLUE)
    clients.extend([doctor, patient])
    await asyncio.gather(doctor.offer(doctor_ws), patient.offer(patient_ws))
    # then: the room is on the surviving worker, and they see each other again
    assert await pinned(call) == survivor.channel
    assert (await stats(survivor))["rooms"] == [str(call.appointment.id)]
    await asyncio.gather(doctor.sees(BLUE), patient.sees(GREEN))
    await disconnect(doctor_ws, patient_ws)


async def wait_until_async(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    """`wait_until` for a predicate that reads the database."""
    deadline = time.monotonic() + seconds
    while not await in_thread(predicate)():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f}s waiting for {what}")
        await asyncio.sleep(0.2)


@needs_redis
async def test_a_stopped_worker_tells_its_participants_to_offer_again(
    cluster: WorkerCluster, clients: list[Client]
) -> None:
    # given: a worker process holding a call with the doctor's media
    (worker,) = await cluster.start("media-1")
    call = await amake_call()
    doctor_ws = await connect(call, call.doctor)
    await join(doctor_ws, "admitted")
    doctor = Client(GREEN)
    clients.append(doctor)
    await doctor.offer(doctor_ws)
    assert await pinned(call) == worker.channel
    # when: the worker is stopped (a deploy: SIGTERM)
    worker.terminate()
    # then: the doctor's page is told at once to offer again, and the room is unpinned
    error = await expect(doctor_ws, "error", wait=15)
    assert error["code"] == "media_failed"
    assert await pinned(call) is None
    await wait_until(lambda: worker.process.poll() is not None, 15, "the worker to exit")
    assert worker.process.returncode == 0
    assert f"media worker {worker.name} stopped" in worker.log()
    await disconnect(doctor_ws)
