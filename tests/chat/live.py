"""Live chat servers for the cross-process tests: separate daphne processes sharing the test's
PostgreSQL database and Redis (the production shape), and a websocket client that behaves like
the web app's (docs/chat-protocol.md §1): an outbox resent with the same `client_id` until
acked, per-conversation cursors, `sync` on every (re)connect and whenever it sees a gap.

Only for PostgreSQL + Redis: the embedded default is one process with an in-memory layer."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Origin

from careconnect.accounts.models import DoctorProfile, User
from chat import services
from chat.models import Conversation
from tests.factories import PASSWORD, make_doctor, make_patient

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"
READY_TIMEOUT = 120.0  # a daphne process importing Django on a loaded 2-core box
STOP_TIMEOUT = 10.0
DAPHNE = [sys.executable, "-m", "daphne"]

needs_postgres_and_redis = pytest.mark.skipif(
    connection.vendor != "postgresql" or not settings.REDIS_URL,
    reason="cross-process chat needs PostgreSQL and Redis (DATABASE_URL=postgres://…, "
    "REDIS_URL): the embedded default is one process with an in-memory channel layer",
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _database_url() -> str:
    """The test database (pytest-django's), as a URL for the server processes."""
    db = connection.settings_dict
    user = quote(str(db.get("USER") or ""), safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = db.get("HOST") or LOOPBACK
    port = db.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{quote(str(db['NAME']), safe='')}"


def server_env(var_dir: Path) -> dict[str, str]:
    """The environment of every server process: the test's database and Redis, and the test
    process's secret and key ring (so rows written here open there, and the processes agree
    on session hashes and on the channel layer's encryption key)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "CARECONNECT_")) and k != "CELERY_TASK_ALWAYS_EAGER"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="careconnect.settings",
        DATABASE_URL=_database_url(),
        REDIS_URL=str(settings.REDIS_URL),
        # Offline-email reminders would be queued in the shared Redis for a worker that never
        # comes; they are not what these tests are about.
        CELERY_BROKER_URL="memory://",
        SECRET_KEY=str(settings.SECRET_KEY),
        CRYPTO_KEYS=str(settings.CRYPTO_KEYS),
        CARECONNECT_VAR_DIR=str(var_dir),
        ALLOWED_HOSTS=LOOPBACK,
        CARECONNECT_PRODUCTION="",
        DEBUG="",
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@dataclass
class Daphne:
    """One daphne process on its own port (not bin/serve: these tests kill one process and
    keep the others, and bin/serve stops everything when one of its children dies)."""

    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def origin(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{LOOPBACK}:{self.port}/ws/chat/"

    def start(self) -> None:
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n===== {self.name} start #{self.starts}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [*DAPHNE, "-b", LOOPBACK, "-p", str(self.port), "careconnect.asgi:application"],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited while starting:\n{self.log_tail()}")
            try:
                reply = httpx.get(f"{self.origin}/api/auth/csrf/", timeout=5)
                if reply.status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready in {timeout:.0f}s:\n{self.log_tail()}")
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: no disconnect handlers, no cleanup, transactions cut where they are."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Cluster:
    """Server processes sharing one var dir, one database and one Redis; every process is
    killed when the test ends, whatever happened."""

    def __init__(self, tmp_path: Path) -> None:
        self.var_dir = tmp_path / "var"
        self.var_dir.mkdir()
        self.env = server_env(self.var_dir)
        self.servers: list[Daphne] = []

    def start(self, *names: str) -> list[Daphne]:
        """Start the processes together (imports overlap), then wait for each."""
        started = [
            Daphne(name, free_port(), self.env, self.var_dir / f"{name}.log") for name in names
        ]
        self.servers += started
        for server in started:
            server.start()
        for server in started:
            server.wait_ready()
        return started

    def stop_all(self) -> None:
        for server in self.servers:
            try:
                server.stop()
            finally:
                server.kill()

    def logs(self) -> str:
        return "\n".join(f"--- {s.name} ---\n{s.log_tail()}" for s in self.servers)


@contextmanager
def running_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """For a test's fixture: the processes are stopped (and killed) however the test ends."""
    running = Cluster(tmp_path)
    try:
        yield running
    finally:
        running.stop_all()


# ------------------------------------------------------------------ people and sessions


@dataclass
class Pair:
    patient: User
    doctor: User
    conversation: Conversation


def make_pair() -> Pair:
    """A patient and a doctor with their conversation (committed: the servers read it). The
    passwords use a hasher the servers know (the suite's MD5 is test-only)."""
    patient, doctor = make_patient(), make_doctor()
    for user in (patient, doctor):
        user.password = make_password(PASSWORD, hasher="argon2")
        user.save(update_fields=["password"])
    conversation, _ = services.ensure_conversation(
        patient=patient, doctor=DoctorProfile.objects.get(user=doctor)
    )
    return Pair(patient, doctor, conversation)


def sign_in(server: Daphne, user: User) -> str:
    """Log in the way the web app does (CSRF cookie, then POST /api/auth/login/ with the
    token); returns the Cookie header for the websocket handshake."""
    with httpx.Client(base_url=server.origin, timeout=30) as client:
        client.get("/api/auth/csrf/").raise_for_status()
        reply = client.post(
            "/api/auth/login/",
            json={"email": user.email, "password": PASSWORD},
            headers={"X-CSRFToken": client.cookies["csrftoken"], "Origin": server.origin},
        )
        assert reply.status_code == 200, reply.text
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


# ------------------------------------------------------------------ a web-app-like client


RETRYABLE = {"rate_limited", "server_error"}


@dataclass
class ChatClient:
    """One socket of one user, like a browser tab of the web app.

    `servers` are tried in turn: the first is home; with `failover`, a lost connection moves
    on to the next one, otherwise it waits for home to come back."""

    name: str
    cookie: str
    servers: list[Daphne]
    conversations: list[str]
    failover: bool = False
    resend_after: float = 5.0
    # state
    store: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    outbox: dict[str, dict[str, Any]] = field(default_factory=dict)  # client_id -> frame
    sent_at: dict[str, float] = field(default_factory=dict)
    acked: dict[str, dict[str, Any]] = field(default_factory=dict)  # client_id -> MESSAGE
    acks: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # every ack, in order
    frames: dict[str, dict[str, Any]] = field(default_factory=dict)  # every frame sent
    resent: int = 0  # frames sent again (reconnect, no answer, retryable error)
    duplicates: int = 0  # pushes of a message already held (at-least-once: harmless)
    failures: list[str] = field(default_factory=list)  # what a correct server never causes
    connects: list[str] = field(default_factory=list)  # server names, in order
    errors: list[dict[str, Any]] = field(default_factory=list)
    pushes_after_connect: dict[int, int] = field(default_factory=dict)  # connect no -> pushes
    _ws: ClientConnection | None = None
    _index: int = 0
    _connected: asyncio.Event = field(default_factory=asyncio.Event)
    _synced: asyncio.Event = field(default_factory=asyncio.Event)
    _sync_in_flight: bool = False
    _task: asyncio.Task[None] | None = None
    _side_tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _closing: bool = False

    def __post_init__(self) -> None:
        for conversation in self.conversations:
            self.store.setdefault(conversation, {})

    # ---- state

    def cursor(self, conversation: str) -> int:
        """The highest seq held with nothing missing below it."""
        held, seq = self.store[conversation], 0
        while seq + 1 in held:
            seq += 1
        return seq

    def cursors(self) -> dict[str, int]:
        return {c: self.cursor(c) for c in self.conversations}

    def _keep(self, message: dict[str, Any]) -> None:
        conversation, seq = message["conversation"], int(message["seq"])
        held = self.store.setdefault(conversation, {})
        if seq in held:
            if held[seq]["id"] != message["id"]:
                self.failures.append(
                    f"seq {seq} of {conversation} is {held[seq]['id']} and {message['id']}"
                )
            self.duplicates += 1
            return
        held[seq] = message

    # ---- connection

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def wait_connected(self, seconds: float = 60) -> None:
        async with asyncio.timeout(seconds):
            await self._connected.wait()

    async def _run(self) -> None:
        delay = 0.1
        while not self._closing:
            server = self.servers[self._index % len(self.servers)]
            try:
                async with connect(
                    server.ws_url,
                    origin=Origin(server.origin),
                    additional_headers={"Cookie": self.cookie},
                    open_timeout=30,
                    ping_interval=None,
                    proxy=None,
                    compression=None,
                    max_queue=None,
                ) as ws:
                    self._ws = ws
                    self.connects.append(server.name)
                    delay = 0.1
                    await self._on_connect(ws)
                    async for raw in ws:
                        self._on_frame(json.loads(raw))
                    if ws.close_code == 4401:
                        self.failures.append("the server refused the session (4401)")
                        return
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError):
                pass
            finally:
                self._ws = None
                self._connected.clear()
                self._sync_in_flight = False
            if self._closing:
                return
            if self.failover:
                self._index += 1
            await asyncio.sleep(delay)
            delay = min(1.0, delay * 2)

    async def _on_connect(self, ws: ClientConnection) -> None:
        self.pushes_after_connect[len(self.connects)] = 0
        self._connected.set()
        await self.sync()
        for client_id, frame in list(self.outbox.items()):  # the outbox, unchanged, in order
            self.sent_at[client_id] = time.monotonic()
            self.resent += 1
            await ws.send(json.dumps(frame))

    async def _send(self, frame: dict[str, Any]) -> None:
        ws = self._ws
        if ws is None:
            return  # the outbox resends it on reconnect
        with suppress(ConnectionClosed):
            await ws.send(json.dumps(frame))

    async def sync(self) -> None:
        self._synced.clear()
        self._sync_in_flight = True
        await self._send({"type": "sync", "cursors": self.cursors()})

    async def sync_and_wait(self, seconds: float = 30) -> None:
        """Sync from the cursors and wait for `synced` (repeating while the server says
        there is more); a sync already under way (the one of a reconnect) is waited for."""
        async with asyncio.timeout(seconds):
            await self._connected.wait()
            if not self._sync_in_flight:
                await self.sync()
            await self._synced.wait()

    async def send_text(self, conversation: str, body: str) -> str:
        client_id = str(uuid.uuid4())
        frame = {
            "type": "message.send",
            "conversation": conversation,
            "client_id": client_id,
            "body": body,
        }
        self.frames[client_id] = frame
        self.outbox[client_id] = frame
        self.sent_at[client_id] = time.monotonic()
        await self._send(frame)
        return client_id

    async def send_again(self, client_ids: list[str]) -> None:
        """Send frames that were acked already, unchanged (as after a lost ack)."""
        for client_id in client_ids:
            self.outbox[client_id] = self.frames[client_id]
            self.sent_at[client_id] = time.monotonic()
            self.resent += 1
            await self._send(self.frames[client_id])

    async def resend_stale(self) -> None:
        """Frames unanswered for a while on a live connection: send them again, unchanged."""
        now = time.monotonic()
        for client_id, frame in list(self.outbox.items()):
            if now - self.sent_at.get(client_id, now) > self.resend_after:
                self.sent_at[client_id] = now
                self.resent += 1
                await self._send(frame)

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    # ---- frames

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    def _on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "message.new":
            message = frame["message"]
            self.pushes_after_connect[len(self.connects)] += 1
            self._keep(message)
            conversation = message["conversation"]
            if (
                conversation in self.store
                and int(message["seq"]) > self.cursor(conversation) + 1
                and not self._sync_in_flight
            ):
                self._spawn(self.sync())  # a gap: repair it
        elif kind == "ack":
            client_id = frame["client_id"]
            self.outbox.pop(client_id, None)
            self.acked[client_id] = frame["message"]
            self.acks.append((client_id, frame["message"]))
            self._keep(frame["message"])
        elif kind == "synced":
            self._sync_in_flight = False
            if frame.get("more"):
                self._spawn(self.sync())
            else:
                self._synced.set()
        elif kind == "error":
            self.errors.append(frame)
            client_id = frame.get("client_id")
            if frame.get("code") in RETRYABLE and client_id in self.outbox:
                # Retry later, the same frame (resend_stale picks it up).
                self.sent_at[client_id] = time.monotonic() - self.resend_after + 1.0
            else:
                self.failures.append(f"unexpected error frame {frame}")


async def wait_until(predicate: Any, seconds: float, what: str, step: float = 0.05) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f}s waiting for {what}")
        await asyncio.sleep(step)
