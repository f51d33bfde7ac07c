"""Chat benchmark (issue 4, Performance): websocket message latency under load through the
real server, side by side with a bare channels relay, and the memory of idle sockets.

    python -m bench.chat_bench --database-url postgres://postgres@127.0.0.1:5432/careconnect_bench_chat \\
        --redis-url redis://127.0.0.1:6379/15 [--clients 1000] [--conversations 300] \\
        [--rate 300] [--duration 30] [--web-processes 4] [--client-processes 4] \\
        [--idle-sockets 5000] [--smoke]

Needs PostgreSQL and Redis on loopback (`--database-url`/`--redis-url`, or BENCH_POSTGRES
and BENCH_REDIS in the environment, as `make bench` passes them); without them it writes a
"skipped" result and exits 0. The database it names is dropped and created (its name must
contain "bench") and dropped again; the Redis database it names is flushed before and after
(its number must not be 0).

1. Latency: N clients (websockets, session cookies, the page's Origin) in M patient-doctor
   conversations, spread over several client processes; messages sent open-loop at an
   aggregate rate; latency from the sender's send to each recipient socket's receive of
   `message.new` (database write and encryption included). The same load, with the same
   clients, goes through bench/relay_app.py (a bare channels relay: no database, no
   encryption) in the same run; the ratio of p50s is the overhead of the real thing.
2. Idle sockets: one daphne process, K authenticated sockets held open; the process's RSS
   growth per socket.

Results: bench/results/chat.json. Targets (2-core machine): p99 <= 100 ms, our p50 <= 2 x the
relay's p50, and <= 50 KiB per idle socket. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import queue
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from bench._common import (
    LOOPBACK,
    ROOT,
    SERVER_NICENESS,
    Sandbox,
    background_cores,
    log,
    machine,
    percentile,
    sandbox,
    serve,
    stop_on_sigterm,
    system_busy_seconds,
    write_result,
)

TARGET_P99_MS = 100.0
TARGET_RATIO = 2.0
TARGET_IDLE_KIB = 50.0
DOCTOR_CONVERSATIONS = 3  # each doctor talks with this many patients
DEFAULT_WEB_PROCESSES = 4
DEFAULT_CLIENT_PROCESSES = 4
CONNECT_CONCURRENCY = 16  # handshakes in flight per client process
CONNECT_ATTEMPTS = 8
DRAIN_S = 5.0  # after the last send, how long receipts are still awaited
IDLE_WARM = 100  # idle sockets opened before the baseline RSS reading
SEND_PREFIX = "bench"
PASSWORD = "bench-pass-2026"  # noqa: S105 - throw-away bench accounts
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
SMOKE = {
    "clients": 200,
    "conversations": 60,
    "rate": 60.0,
    "duration": 8.0,
    "warmup": 2.0,
    "idle_sockets": 500,
    "web_processes": 2,
    "client_processes": 2,
}


# ====================================================================== the main command


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000, help="websocket clients (1000)")
    parser.add_argument("--conversations", type=int, default=300, help="conversations (300)")
    parser.add_argument("--rate", type=float, default=300.0, help="messages/s, aggregate (300)")
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds (30)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring (5)")
    parser.add_argument(
        "--web-processes",
        type=int,
        default=DEFAULT_WEB_PROCESSES,
        help=f"daphne processes, for both apps (default {DEFAULT_WEB_PROCESSES})",
    )
    parser.add_argument(
        "--client-processes",
        type=int,
        default=DEFAULT_CLIENT_PROCESSES,
        help=f"load generator processes (default {DEFAULT_CLIENT_PROCESSES})",
    )
    parser.add_argument(
        "--idle-sockets", type=int, default=5000, help="idle sockets on one process (5000; 0: skip)"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="relay/chat rounds, interleaved (0: only idle)"
    )
    parser.add_argument(
        "--sweep",
        default="",
        metavar="R1,R2,...",
        help="also run these aggregate rates (msg/s), one round each: where the targets hold",
    )
    parser.add_argument(
        "--apps", default="relay,chat", help="comma list of relay,chat (default both)"
    )
    parser.add_argument(
        "--layer",
        choices=("core", "pubsub"),
        default="core",
        help="channels-redis layer for both apps: core (the settings' default) or pubsub",
    )
    parser.add_argument("--capacity", type=int, default=0, help="CHANNEL_CAPACITY (core layer)")
    parser.add_argument("--smoke", action="store_true", help="a short run (<= ~60 s per part)")
    parser.add_argument(
        "--database-url",
        default=_env_database_url(),
        help="PostgreSQL (default $BENCH_POSTGRES/careconnect_bench_chat); dropped and created",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS", ""),
        help="Redis database for layer, cache and broker (default $BENCH_REDIS); flushed",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument("--out", type=Path, default=None, help="default bench/results/chat.json")
    parser.add_argument("--keep-var", action="store_true", help="keep the temporary var dir")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.smoke:
        for key, value in SMOKE.items():
            if getattr(args, key) == parser.get_default(key):
                setattr(args, key, value)
    args.apps = [a.strip() for a in args.apps.split(",") if a.strip()]
    try:
        args.sweep = [float(r) for r in args.sweep.split(",") if r.strip()]
    except ValueError:
        parser.error("--sweep takes a comma list of rates, e.g. 25,50,100")
    if any(not 0 < r <= 3000 for r in args.sweep):
        parser.error("--sweep rates must be in (0, 3000]")
    if not set(args.apps) <= {"relay", "chat"}:
        parser.error("--apps takes relay and/or chat")
    if not 2 <= args.clients <= 20_000 or not 1 <= args.conversations <= args.clients:
        parser.error("need 2 <= clients <= 20000 and 1 <= conversations <= clients")
    if not 0 < args.rate <= 3000 or not 0 < args.duration <= 600 or args.warmup < 0:
        parser.error("need 0 < rate <= 3000, 0 < duration <= 600, warmup >= 0")
    if not 1 <= args.web_processes <= 16 or not 1 <= args.client_processes <= 16:
        parser.error("need 1..16 web and client processes")
    if not 0 <= args.idle_sockets <= 20_000 or not 0 <= args.rounds <= 10:
        parser.error("need 0 <= idle-sockets <= 20000 and 0 <= rounds <= 10")
    if args.rounds == 0 and not args.idle_sockets:
        parser.error("--rounds 0 measures only the idle sockets: --idle-sockets must be > 0")
    return args


def _env_database_url() -> str:
    base = os.environ.get("BENCH_POSTGRES", "").rstrip("/")
    return f"{base}/careconnect_bench_chat" if base else ""


def refusal(args: argparse.Namespace) -> str | None:
    """Why the URLs are refused (or missing), or None."""
    if not args.database_url or not args.redis_url:
        return (
            "needs PostgreSQL and Redis: --database-url and --redis-url "
            "(or BENCH_POSTGRES and BENCH_REDIS)"
        )
    db = urlparse(args.database_url)
    if db.scheme not in {"postgres", "postgresql"} or db.hostname not in LOOPBACK_HOSTS:
        return "--database-url must be a loopback postgres:// URL"
    if "bench" not in db.path.lstrip("/"):
        return "--database-url must name a database with 'bench' in its name (it is dropped)"
    redis = urlparse(args.redis_url)
    if redis.scheme != "redis" or redis.hostname not in LOOPBACK_HOSTS:
        return "--redis-url must be a loopback redis:// URL"
    if redis.path.strip("/") in {"", "0"}:
        return "--redis-url must name a Redis database other than 0 (it is flushed)"
    return None


def unreachable(args: argparse.Namespace) -> str | None:
    import psycopg
    import redis

    maintenance = urlunparse(urlparse(args.database_url)._replace(path="/postgres", query=""))
    try:
        with psycopg.connect(maintenance, connect_timeout=5):
            pass
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable: {exc}"
    try:
        redis.Redis.from_url(args.redis_url, socket_timeout=5).ping()
    except redis.RedisError as exc:
        return f"Redis not reachable: {exc}"
    return None


@contextmanager
def bench_database(url: str, keep: bool) -> Iterator[None]:
    """Drop and create the database `url` names; drop it again afterwards."""
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    maintenance = urlunparse(parsed._replace(path="/postgres", query=""))

    def run(statement: sql.Composed) -> None:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(statement)

    run(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    run(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield
    finally:
        if keep:
            log(f"kept database {name}")
        else:
            run(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


# ---------------------------------------------------------------------- seeding


def seed(box: Sandbox, args: argparse.Namespace) -> dict[str, Any]:
    out = box.var_dir / "seed.json"
    command = [sys.executable, "-m", "bench.chat_bench", "_seed", "--out", str(out)]
    command += ["--conversations", str(args.conversations), "--idle", str(args.idle_sockets)]
    done = subprocess.run(command, cwd=ROOT, env=box.env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{done.stdout}{done.stderr}")
    answer: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return answer


def seed_main(argv: list[str]) -> int:
    """In the sandbox's environment: users with sessions, conversations, idle users."""
    parser = argparse.ArgumentParser(prog="chat_bench _seed")
    parser.add_argument("--conversations", type=int, required=True)
    parser.add_argument("--idle", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careconnect.settings")
    django.setup()
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.db import transaction
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from careconnect.accounts.models import DoctorProfile, MedicalCenter, Role, RoleAssignment, User
    from chat import services

    hashed = make_password(PASSWORD)
    now = timezone.now()

    def users(prefix: str, count: int) -> list[User]:
        made = [
            User(
                email=f"{prefix}{i}@bench.test",
                first_name="Bench",
                last_name=f"{prefix}{i}",
                password=hashed,
                email_confirmed_at=now,
            )
            for i in range(count)
        ]
        User.objects.bulk_create(made, batch_size=2000)
        return made

    def sessions(people: Sequence[User]) -> list[str]:
        store = SessionStore()
        expires = now + timedelta(seconds=settings.SESSION_COOKIE_AGE)
        keys, rows = [], []
        for user in people:
            key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
            data = {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
            rows.append(
                Session(session_key=key, session_data=store.encode(data), expire_date=expires)
            )
            keys.append(key)
        Session.objects.bulk_create(rows, batch_size=2000)
        return keys

    n_doctors = math.ceil(args.conversations / DOCTOR_CONVERSATIONS)
    with transaction.atomic():
        center = MedicalCenter.objects.create(
            name="Bench Chat Clinic",
            city="Lisbon",
            latitude="38.722300",
            longitude="-9.139300",
            timezone="Europe/Lisbon",
        )
        patients = users("chat-patient", args.conversations)
        doctors = users("chat-doctor", n_doctors)
        idle = users("idle", args.idle)
        RoleAssignment.objects.bulk_create(
            [RoleAssignment(user=u, role=Role.PATIENT) for u in [*patients, *idle]],
            batch_size=2000,
        )
        RoleAssignment.objects.bulk_create(
            [RoleAssignment(user=u, role=Role.DOCTOR, center=center) for u in doctors]
        )
        profiles = DoctorProfile.objects.bulk_create(
            [DoctorProfile(user=u, center=center) for u in doctors]
        )
    conversations = []
    for i, patient in enumerate(patients):
        doctor = profiles[i // DOCTOR_CONVERSATIONS]
        with transaction.atomic():
            conversation, _ = services.ensure_conversation(patient=patient, doctor=doctor)
        conversations.append(
            {"id": str(conversation.id), "patient": str(patient.id), "doctor": str(doctor.user_id)}
        )
    people = [*patients, *doctors]
    answer = {
        "users": [
            {"id": str(u.id), "session": key}
            for u, key in zip(people, sessions(people), strict=True)
        ],
        "conversations": conversations,
        "idle": [
            {"id": str(u.id), "session": key} for u, key in zip(idle, sessions(idle), strict=True)
        ],
    }
    args.out.write_text(json.dumps(answer), encoding="utf-8")
    return 0


# ---------------------------------------------------------------------- servers


@dataclass
class Running:
    """Server processes under test: their pids and where they listen."""

    port: int
    pids: list[int]

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> int:
        total = 0
        for pid in self.pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total


def _daphne_pids(root: int) -> list[int]:
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found.append(child)
            pending.append(child)
    return found


def _wait_http(port: int, path: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"http://{LOOPBACK}:{port}{path}", timeout=2) as reply:
                if reply.status < 500:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server not ready:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.25)


def _wait_listening(log_path: Path, count: int, timeout: float = 180) -> None:
    """Every daphne process is up: one answered probe only shows that one of them is (the
    kernel hands a connection to any of the SO_REUSEPORT sockets, started or not)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            up = log_path.read_text(errors="replace").count("Listening on TCP address")
        except OSError:
            up = 0
        if up >= count:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {up} of {count} daphne processes listening")
        time.sleep(0.25)


@contextmanager
def serve_chat(box: Sandbox, processes: int) -> Iterator[Running]:
    """The real thing: bin/serve (WEB_PROCESSES daphne processes on one SO_REUSEPORT port)."""
    with serve(box, web_processes=processes) as server:
        _wait_listening(server.log_path, processes)
        yield Running(port=server.port, pids=server.pids())


@contextmanager
def serve_relay(box: Sandbox, processes: int, members: Path) -> Iterator[Running]:
    """bench/relay_app.py the way bin/serve starts daphne: one SO_REUSEPORT listening socket
    per process, handed over with `daphne --fd`, access log off."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind((LOOPBACK, 0))
    port = probe.getsockname()[1]
    probe.close()
    sockets = []
    for _ in range(processes):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((LOOPBACK, port))
        sock.listen(1024)
        sock.set_inheritable(True)
        sockets.append(sock)
    env = dict(box.env, RELAY_MEMBERS=str(members))
    log_path = box.var_dir / f"relay-{port}.log"
    children: list[subprocess.Popen[bytes]] = []
    try:
        with log_path.open("ab") as log_file:
            for sock in sockets:
                fd = sock.fileno()
                command = [sys.executable, "-m", "daphne", "--verbosity", "0", "--fd", str(fd)]
                children.append(
                    subprocess.Popen(
                        [*command, "bench.relay_app:application"],
                        cwd=ROOT,
                        env=env,
                        pass_fds=(fd,),
                        stdin=subprocess.DEVNULL,
                        stdout=log_file,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                        preexec_fn=lambda: os.setpriority(os.PRIO_PROCESS, 0, SERVER_NICENESS),
                    )
                )
        for sock in sockets:
            sock.close()
        for child in children:
            _wait_http(port, "/", child, log_path)
        _wait_listening(log_path, processes)
        yield Running(port=port, pids=[c.pid for c in children])
    finally:
        for sock in sockets:
            sock.close()
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


# ---------------------------------------------------------------------- load generators


@dataclass
class Worker:
    process: subprocess.Popen[str]
    out: Path
    lines: queue.Queue[str] = field(default_factory=queue.Queue)

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put("")  # end of output: the process exited


def _spawn_workers(box: Sandbox, configs: list[dict[str, Any]], tag: str) -> list[Worker]:
    workers = []
    for index, config in enumerate(configs):
        path = box.var_dir / f"{tag}-client{index}.json"
        out = box.var_dir / f"{tag}-client{index}-result.json"
        path.write_text(json.dumps({**config, "out": str(out)}), encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.chat_bench", "_client", str(path)],
            cwd=ROOT,
            env=box.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        workers.append(Worker(process, out))
    return workers


def _await_line(worker: Worker, prefix: str, timeout: float) -> str:
    """The worker's next stdout line starting with prefix (the worker only prints those)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = worker.lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            raise RuntimeError(f"a client process did not say {prefix} in {timeout:.0f}s") from None
        if not line:
            raise RuntimeError(f"a client process exited (status {worker.process.wait()})")
        if line.startswith(prefix):
            return line.strip()


def _tell(workers: Sequence[Worker], line: str) -> None:
    for worker in workers:
        assert worker.process.stdin is not None
        worker.process.stdin.write(line + "\n")
        worker.process.stdin.flush()


def _stop_workers(workers: Sequence[Worker]) -> None:
    for worker in workers:
        if worker.process.poll() is None:
            try:
                os.killpg(worker.process.pid, signal.SIGTERM)
                worker.process.wait(timeout=10)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                os.killpg(worker.process.pid, signal.SIGKILL)
                worker.process.wait()


@dataclass
class Plan:
    """Who holds which socket, and who talks with whom (the same for both apps)."""

    sockets: list[dict[str, str]]  # [{user, session}] in socket order
    conversations: list[dict[str, str]]
    user_conversations: dict[str, list[list[str]]] = field(default_factory=dict)
    sockets_per_user: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, seeded: dict[str, Any], clients: int) -> Plan:
        people = seeded["users"]
        sockets = [
            {"user": people[i % len(people)]["id"], "session": people[i % len(people)]["session"]}
            for i in range(clients)
        ]
        plan = cls(sockets=sockets, conversations=seeded["conversations"])
        for c in plan.conversations:
            plan.user_conversations.setdefault(c["patient"], []).append([c["id"], c["doctor"]])
            plan.user_conversations.setdefault(c["doctor"], []).append([c["id"], c["patient"]])
        plan.sockets_per_user = dict(Counter(s["user"] for s in sockets))
        return plan

    def members(self) -> dict[str, list[str]]:
        return {c["id"]: [c["patient"], c["doctor"]] for c in self.conversations}


def _shares(items: Sequence[Any], parts: int) -> list[list[Any]]:
    size = math.ceil(len(items) / parts)
    return [list(items[i * size : (i + 1) * size]) for i in range(parts)]


def run_load(
    box: Sandbox, app: str, running: Running, plan: Plan, args: argparse.Namespace, rate: float
) -> dict[str, Any]:
    """One app under the load: connect every client, send for warmup + duration, collect."""
    shares = _shares(plan.sockets, args.client_processes)
    common = {
        "mode": "load",
        "app": app,
        "port": running.port,
        "rate": rate / len(shares),
        "warmup": args.warmup,
        "duration": args.duration,
        "user_conversations": plan.user_conversations,
        "sockets_per_user": plan.sockets_per_user,
    }
    configs = [
        {**common, "worker": i, "offset": i / len(shares), "sockets": share, "seed": args.seed + i}
        for i, share in enumerate(shares)
    ]
    workers = _spawn_workers(box, configs, f"{app}-load")
    try:
        connect_started = time.monotonic()
        for worker in workers:
            _await_line(worker, "READY", timeout=600)
        connect_s = time.monotonic() - connect_started
        log(f"{app}: {len(plan.sockets)} clients connected in {connect_s:.1f}s; sending")
        t0 = time.monotonic() + 1.0
        _tell(workers, f"GO {t0:.6f}")
        # The measured window, for CPU accounting.
        time.sleep(max(0.0, t0 + args.warmup - time.monotonic()))
        load_start = os.getloadavg()[0]
        cpu_before, system_before = running.cpu_seconds(), system_busy_seconds()
        wall_before = time.monotonic()
        time.sleep(args.duration)
        server_cpu = running.cpu_seconds() - cpu_before
        system = system_busy_seconds() - system_before
        wall = time.monotonic() - wall_before
        load_end = os.getloadavg()[0]
        for worker in workers:
            try:
                worker.process.wait(timeout=DRAIN_S + 120)
            except subprocess.TimeoutExpired as exc:
                raise RuntimeError("a client process did not finish") from exc
            if worker.process.returncode != 0:
                raise RuntimeError(f"a client process failed ({worker.process.returncode})")
        results = [json.loads(w.out.read_text(encoding="utf-8")) for w in workers]
    finally:
        _stop_workers(workers)
    summary = summarise(results, args, connect_s, server_cpu, system, wall, (load_start, load_end))
    return {"rate": rate, **summary}


def summarise(
    results: list[dict[str, Any]],
    args: argparse.Namespace,
    connect_s: float,
    server_cpu: float,
    system: float,
    wall: float,
    loadavg: tuple[float, float],
) -> dict[str, Any]:
    latencies = sorted(v for r in results for v in r["latencies_ms"])
    acks = sorted(v for r in results for v in r["ack_ms"])
    lags = sorted(v for r in results for v in r["lag_ms"])
    sent = sum(r["sent"] for r in results)
    expected = sum(r["expected_receipts"] for r in results)
    errors: Counter[str] = Counter()
    for r in results:
        errors.update(r["errors"])
    client_cpu = sum(r["cpu_s"] for r in results)
    retries = sum(r["handshake_retries"] for r in results)
    n = len(latencies)
    # p50/p99 per tenth of the window: a warm-up tail or a stall shows here
    buckets: list[list[float]] = [[] for _ in range(10)]
    for r in results:
        for sent_s, value in zip(r["sent_s"], r["latencies_ms"], strict=True):
            buckets[min(9, max(0, int(sent_s / args.duration * 10)))].append(value)
    timeline = [
        {
            "p50_ms": round(percentile(sorted(b), 50), 1),
            "p99_ms": round(percentile(sorted(b), 99), 1),
        }
        if b
        else None
        for b in buckets
    ]

    def ms(values: Sequence[float], q: float) -> float | None:
        value = percentile(values, q) if values else math.inf
        return round(value, 2) if math.isfinite(value) else None

    # A receipt that never came (still queued when the drain ended, or dropped by the layer)
    # counts as infinitely late: the percentiles are over every expected receipt, and one
    # that lands on a missing receipt is null (the server could not keep up).
    undelivered = max(0, expected - n)
    every = latencies + [math.inf] * undelivered
    processed = min(sent, len(acks)) or 1
    return {
        "p50_ms": ms(every, 50),
        "p90_ms": ms(every, 90),
        "p99_ms": ms(every, 99),
        "max_ms": round(latencies[-1], 2) if latencies and not undelivered else None,
        "delivered_only": {
            "p50_ms": ms(latencies, 50),
            "p99_ms": ms(latencies, 99),
            "max_ms": round(latencies[-1], 2) if latencies else None,
            "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
        },
        "receipts": n,
        "expected_receipts": expected,
        "undelivered": undelivered,
        "sent": sent,
        "achieved_rate": round(sent / args.duration, 1),
        "ack_p50_ms": ms(acks, 50),
        "ack_p99_ms": ms(acks, 99),
        "acks": len(acks),
        "errors": dict(errors),
        "connect_s": round(connect_s, 1),
        "handshake_retries": retries,
        "server_cpu_cores": round(server_cpu / wall, 2),
        # per message handled (acked) rather than sent, when the server falls behind
        "server_cpu_ms_per_message": round(server_cpu / processed * 1000, 2),
        "client_cpu_cores": round(client_cpu / wall, 2),
        "other_cpu_cores": round(max(0.0, system - server_cpu - client_cpu) / wall, 2),
        "loadavg_1m": {"window_start": round(loadavg[0], 2), "window_end": round(loadavg[1], 2)},
        "timeline": timeline,
        "generator": {
            "dispatch_lag_p99_ms": ms(lags, 99),
            "dispatch_lag_max_ms": round(lags[-1], 2) if lags else None,
        },
    }


def run_idle(
    box: Sandbox, seeded: dict[str, Any], args: argparse.Namespace, app: str, members: Path
) -> dict[str, Any]:
    """K sockets (authenticated, for ours) held open on one daphne process: its RSS growth
    per socket. The relay's number is what daphne and channels cost by themselves."""
    people = seeded["idle"][: args.idle_sockets]
    warm, rest = people[:IDLE_WARM], people[IDLE_WARM:]
    server = serve_relay(box, 1, members) if app == "relay" else serve_chat(box, processes=1)
    with server as running:
        common = {"mode": "idle", "app": app, "port": running.port}
        warm_workers = _spawn_workers(box, [{**common, "sockets": _idle(warm)}], "idle-warm")
        workers = list(warm_workers)
        try:
            _await_line(warm_workers[0], "READY", timeout=300)
            time.sleep(3)
            rss_warm = running.rss_kib()
            log(f"idle {app}: {len(warm)} sockets open, daphne RSS {rss_warm / 1024:.1f} MiB")
            started = time.monotonic()
            configs = [
                {**common, "sockets": _idle(share)}
                for share in _shares(rest, args.client_processes)
                if share
            ]
            more = _spawn_workers(box, configs, "idle")
            workers += more
            opened, retries = len(warm), 0
            for worker in more:
                _, count, retried = _await_line(worker, "READY", timeout=900).split()
                opened, retries = opened + int(count), retries + int(retried)
            connect_s = time.monotonic() - started
            time.sleep(5)  # let the process settle (buffers, garbage)
            rss_full = running.rss_kib()
            _tell(workers, "CHECK")
            alive = sum(int(_await_line(w, "ALIVE", timeout=300).split()[1]) for w in workers)
            rss_after_check = running.rss_kib()
        finally:
            _tell_quietly(workers, "STOP")
            _stop_workers(workers)
    per_socket = (rss_full - rss_warm) / max(1, opened - len(warm))
    log(
        f"idle {app}: {opened} sockets, RSS {rss_full / 1024:.1f} MiB, "
        f"{per_socket:.1f} KiB per socket"
    )
    return {
        "sockets": opened,
        "alive_after_ping": alive,
        "warm_sockets": len(warm),
        "daphne_pid_rss_kib": {"warm": rss_warm, "full": rss_full, "after_ping": rss_after_check},
        "kib_per_socket": round(per_socket, 2),
        "kib_per_socket_including_process": round(rss_full / max(1, opened), 2),
        "connect_s": round(connect_s, 1),
        "handshake_retries": retries,
        "handshakes_per_s": round((opened - len(warm)) / connect_s, 1) if connect_s else None,
    }


def _idle(people: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    return [{"user": p["id"], "session": p["session"]} for p in people]


def _tell_quietly(workers: Sequence[Worker], line: str) -> None:
    for worker in workers:
        if worker.process.poll() is None and worker.process.stdin is not None:
            try:
                worker.process.stdin.write(line + "\n")
                worker.process.stdin.flush()
            except OSError:
                pass


# ---------------------------------------------------------------------- the client process


@dataclass
class Sock:
    user: str
    ws: Any = None


def client_main(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    with contextlib.suppress(PermissionError):
        os.nice(-5)  # like the REST bench's generator: keep its schedule if allowed
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if config["mode"] == "idle":
        asyncio.run(_idle_client(config))
    else:
        asyncio.run(_load_client(config))
    return 0


async def _open(config: dict[str, Any], spec: dict[str, str]) -> Any:
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    port = config["port"]
    origin = Origin(f"http://{LOOPBACK}:{port}")
    if config["app"] == "relay":
        url, headers = f"ws://{LOOPBACK}:{port}/ws/chat/?user={spec['user']}", {}
    else:
        url, headers = (
            f"ws://{LOOPBACK}:{port}/ws/chat/",
            {"Cookie": f"sessionid={spec['session']}"},
        )
    return await connect(
        url,
        origin=origin,
        additional_headers=headers,
        open_timeout=120,
        ping_interval=None,  # daphne pings; the clients answer
        proxy=None,
        compression=None,
        max_queue=None,
    )


async def _connect_all(config: dict[str, Any]) -> tuple[list[Sock], int]:
    """Open every socket, a few at a time; a refused handshake is retried with backoff, as
    the web app does (daphne rejects a handshake the app has not accepted within 5 s, which
    a connect storm on a busy box can reach). Returns the sockets and the retries."""
    from websockets.exceptions import InvalidHandshake

    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    socks = [Sock(user=s["user"]) for s in config["sockets"]]
    retries = 0

    async def one(sock: Sock, spec: dict[str, str]) -> None:
        nonlocal retries
        async with gate:
            for attempt in range(CONNECT_ATTEMPTS):
                try:
                    sock.ws = await _open(config, spec)
                    return
                except (OSError, InvalidHandshake, TimeoutError):
                    if attempt == CONNECT_ATTEMPTS - 1:
                        raise
                    retries += 1
                    await asyncio.sleep(min(5.0, 0.5 * 2**attempt))

    await asyncio.gather(*(one(s, spec) for s, spec in zip(socks, config["sockets"], strict=True)))
    return socks, retries


async def _stdin_line() -> str:
    return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


async def _load_client(config: dict[str, Any]) -> None:
    from websockets.exceptions import ConnectionClosed

    socks, retries = await _connect_all(config)
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    sent_times: list[float] = []  # of each latency, seconds into the window
    ack_ms: list[float] = []
    lag_ms: list[float] = []
    errors: Counter[str] = Counter()
    pending: dict[str, float] = {}
    window = [math.inf, -math.inf]  # sends in [start, end) are measured

    async def read(sock: Sock) -> None:
        try:
            async for raw in sock.ws:
                now = time.monotonic()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "message.new":
                    message = frame["message"]
                    if message.get("sender") == sock.user:
                        continue  # the sender's other tabs
                    parts = str(message.get("body", "")).split(" ", 2)
                    if len(parts) == 3 and parts[0] == SEND_PREFIX:
                        sent_at = float(parts[1])
                        if window[0] <= sent_at < window[1]:
                            latencies.append((now - sent_at) * 1000)
                            sent_times.append(sent_at - window[0])
                elif kind == "ack":
                    sent_at = pending.pop(str(frame.get("client_id")), math.nan)
                    if window[0] <= sent_at < window[1]:
                        ack_ms.append((now - sent_at) * 1000)
                elif kind == "error":
                    errors[str(frame.get("code"))] += 1
        except ConnectionClosed:
            errors["connection_closed"] += 1

    readers = [asyncio.create_task(read(s)) for s in socks]
    print("READY", flush=True)  # the protocol with the main process
    go = await _stdin_line()
    t0 = float(go.split()[1])
    rate, warmup, duration = config["rate"], config["warmup"], config["duration"]
    window[0], window[1] = t0 + warmup, t0 + warmup + duration
    rng = random.Random(config["seed"])
    senders = [s for s in socks if config["user_conversations"].get(s.user)]
    per_user = config["sockets_per_user"]
    total = math.floor(rate * (warmup + duration))
    sent = expected = 0
    cpu_start = time.process_time()
    for i in range(total):
        scheduled = t0 + (i + config["offset"]) / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        now = time.monotonic()
        sock = rng.choice(senders)
        conversation, other = rng.choice(config["user_conversations"][sock.user])
        client_id = str(uuid.uuid4())
        frame = {
            "type": "message.send",
            "conversation": conversation,
            "client_id": client_id,
            "body": f"{SEND_PREFIX} {now:.6f} {config['worker']}-{i}",
        }
        if window[0] <= now < window[1]:
            lag_ms.append(max(0.0, now - scheduled) * 1000)
            sent += 1
            expected += per_user.get(other, 0)
        pending[client_id] = now
        try:
            await sock.ws.send(json.dumps(frame))
        except ConnectionClosed:
            errors["send_on_closed"] += 1
    cpu_s = time.process_time() - cpu_start
    await asyncio.sleep(DRAIN_S)
    for task in readers:
        task.cancel()
    result = {
        "latencies_ms": [round(v, 3) for v in latencies],
        "sent_s": [round(v, 3) for v in sent_times],
        "ack_ms": [round(v, 3) for v in ack_ms],
        "lag_ms": [round(v, 3) for v in lag_ms],
        "sent": sent,
        "expected_receipts": expected,
        "errors": dict(errors),
        "handshake_retries": retries,
        # CPU while sending (warm-up included), scaled to the measured window by the caller
        "cpu_s": cpu_s * duration / max(duration + warmup, 1e-9),
    }
    await asyncio.to_thread(Path(config["out"]).write_text, json.dumps(result), "utf-8")
    await asyncio.gather(*(s.ws.close() for s in socks), return_exceptions=True)


async def _idle_client(config: dict[str, Any]) -> None:
    """Open the sockets, say READY <n>; on CHECK ping each socket (`ping` frame, `pong`
    back: it is alive and signed in) and say ALIVE <n>; on STOP close them."""
    socks, retries = await _connect_all(config)
    print(f"READY {len(socks)} {retries}", flush=True)  # the protocol with the main process
    while True:
        line = (await _stdin_line()).strip()
        if line == "CHECK":
            alive = await _ping_all(socks)
            print(f"ALIVE {alive}", flush=True)
        elif line in {"STOP", ""}:
            break
    await asyncio.gather(*(s.ws.close() for s in socks), return_exceptions=True)


async def _ping_all(socks: Sequence[Sock]) -> int:
    gate = asyncio.Semaphore(64)

    failures: Counter[str] = Counter()

    async def one(sock: Sock) -> bool:
        async with gate:
            try:
                await sock.ws.send(json.dumps({"type": "ping"}))
                async with asyncio.timeout(60):
                    while True:
                        frame = json.loads(await sock.ws.recv())
                        if frame.get("type") == "pong":
                            return True
            except Exception as exc:  # a dead socket, counted
                code = getattr(sock.ws, "close_code", None)
                failures[f"{type(exc).__name__} (close code {code})"] += 1
                return False

    alive = sum(await asyncio.gather(*(one(s) for s in socks)))
    if failures:
        print(f"[bench] idle client: no pong: {dict(failures)}", file=sys.stderr, flush=True)
    return alive


# ---------------------------------------------------------------------- the report


def layer_settings(box: Sandbox, args: argparse.Namespace) -> None:
    if args.layer == "pubsub":
        box.env["DJANGO_SETTINGS_MODULE"] = "bench.chat_pubsub_settings"
    if args.capacity:
        box.env["CHANNEL_CAPACITY"] = str(args.capacity)


def _median(values: Iterable[float | None]) -> float | None:
    """The median, with None (a percentile the server never reached) as +infinity."""
    ordered = sorted((math.inf if v is None else v) for v in values)
    if not ordered:
        return None
    value = statistics.median_low(ordered)
    return value if math.isfinite(value) else None


def verdict(report: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    rounds = report["rounds"]
    chat = [r["chat"] for r in rounds if "chat" in r]
    relay = [r["relay"] for r in rounds if "relay" in r]
    summary: dict[str, Any] = {}
    ok = bool(chat)
    if chat:
        summary["chat_p50_ms"] = _median(r["p50_ms"] for r in chat)
        summary["chat_p99_ms"] = _median(r["p99_ms"] for r in chat)
        ok &= summary["chat_p99_ms"] is not None and summary["chat_p99_ms"] <= TARGET_P99_MS
    if relay:
        summary["relay_p50_ms"] = _median(r["p50_ms"] for r in relay)
        summary["relay_p99_ms"] = _median(r["p99_ms"] for r in relay)
    if chat and relay:
        ratios = [
            r["chat"]["p50_ms"] / r["relay"]["p50_ms"]
            if r["chat"]["p50_ms"] is not None and r["relay"]["p50_ms"]
            else None
            for r in rounds
            if "chat" in r and "relay" in r
        ]
        ratio = _median(ratios)
        summary["p50_ratio_chat_over_relay"] = None if ratio is None else round(ratio, 2)
        ok &= ratio is not None and ratio <= TARGET_RATIO
    for row in report.get("sweep", []):
        rate = f"{row[next(iter(row))]['rate']:g}"
        for app, r in row.items():
            summary[f"sweep_{rate}_{app}_p50_p99_ms"] = [r["p50_ms"], r["p99_ms"]]
    if report.get("idle_relay"):
        summary["idle_relay_kib_per_socket"] = report["idle_relay"]["kib_per_socket"]
    idle = report.get("idle")
    if idle:
        summary["idle_kib_per_socket"] = idle["kib_per_socket"]
        ok &= (
            idle["kib_per_socket"] <= TARGET_IDLE_KIB
            and idle["alive_after_ping"] == idle["sockets"]
        )
    return summary, ok


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def print_table(report: dict[str, Any]) -> None:
    load = report["load"]
    print()
    print(
        f"Chat benchmark: {load['clients']} clients, {load['conversations']} conversations, "
        f"{load['rate']:g} msg/s x {load['duration_s']:g}s, {report['topology']['web_processes']} "
        f"daphne processes, {report['topology']['channel_layer']} layer, "
        f"{report['machine']['cores']} cores"
    )
    head = f"{'round':<7}{'app':<6}{'rate':>6}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}"
    head += f"{'sent/s':>7}{'lost':>6}{'ack p50':>9}{'srv cpu':>8}{'ms/msg':>7}{'gen cpu':>8}"
    head += f"{'other':>6}{'load':>6}"
    print(head)
    rows = [(str(n), row) for n, row in enumerate(report["rounds"], start=1)]
    rows += [("sweep", row) for row in report.get("sweep", [])]
    for label, row in rows:
        for app, r in row.items():
            print(
                f"{label:<7}{app:<6}{r['rate']:>6g}{_num(r['p50_ms']):>9}{_num(r['p90_ms']):>9}"
                f"{_num(r['p99_ms']):>9}{_num(r['max_ms']):>9}{r['achieved_rate']:>7.0f}"
                f"{r['undelivered']:>6}{_num(r['ack_p50_ms']):>9}{r['server_cpu_cores']:>8.2f}"
                f"{r['server_cpu_ms_per_message']:>7.1f}{r['client_cpu_cores']:>8.2f}"
                f"{r['other_cpu_cores']:>6.2f}{r['loadavg_1m']['window_end']:>6.1f}"
            )
    for key, app in (("idle", "chat"), ("idle_relay", "relay")):
        idle = report.get(key)
        if idle:
            print(
                f"idle {app}: {idle['sockets']} sockets on one process "
                f"({idle['alive_after_ping']} answered a ping): {idle['kib_per_socket']:.1f} KiB "
                f"per socket" + (f" (target <= {TARGET_IDLE_KIB:g})" if app == "chat" else "")
            )
    for key, value in report["summary"].items():
        print(f"{key}: {value}")
    print(
        f"targets: p99 <= {TARGET_P99_MS:g} ms, p50 <= {TARGET_RATIO:g} x relay p50, idle <= "
        f"{TARGET_IDLE_KIB:g} KiB/socket: {'PASS' if report['pass'] else 'FAIL'}"
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.time()
    busy = background_cores()
    if busy > 0.25:
        log(f"warning: {busy:.2f} cores busy with other work before starting; expect noise")
    report: dict[str, Any] = {
        "benchmark": "chat",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "machine": {**machine(), "background_cores_at_start": round(busy, 2)},
    }
    flush_redis(args.redis_url)
    try:
        with (
            bench_database(args.database_url, args.keep_var),
            sandbox(args.database_url, args.redis_url, keep=args.keep_var) as box,
        ):
            log(f"var dir {box.var_dir}; migrating (PostgreSQL) and seeding")
            box.manage("migrate", "--no-input", "-v", "0")
            seeded = seed(box, args)
            layer_settings(box, args)
            plan = Plan.build(seeded, args.clients)
            members = box.var_dir / "members.json"
            members.write_text(json.dumps(plan.members()), encoding="utf-8")

            def one_round(rate: float, label: str) -> dict[str, Any]:
                row: dict[str, Any] = {}
                for app in args.apps:
                    log(f"{label}: {app} at {rate:g} msg/s")
                    server = (
                        serve_relay(box, args.web_processes, members)
                        if app == "relay"
                        else serve_chat(box, args.web_processes)
                    )
                    with server as running:
                        row[app] = run_load(box, app, running, plan, args, rate)
                    flush_redis(args.redis_url)  # layer leftovers, queued reminders
                return row

            report["rounds"] = [
                one_round(args.rate, f"round {n}/{args.rounds}") for n in range(1, args.rounds + 1)
            ]
            report["sweep"] = [one_round(rate, "sweep") for rate in args.sweep]
            if args.idle_sockets:
                log(f"idle: {args.idle_sockets} sockets on one daphne process")
                report["idle"] = run_idle(box, seeded, args, "chat", members)
                if "relay" in args.apps:
                    report["idle_relay"] = run_idle(box, seeded, args, "relay", members)
    finally:
        flush_redis(args.redis_url)
    report["topology"] = {
        "server": "bin/serve: daphne, careconnect.asgi:application",
        "baseline": "bench/relay_app.py under daphne --fd (SO_REUSEPORT), as bin/serve starts it",
        "web_processes": args.web_processes,
        "client_processes": args.client_processes,
        "database": "postgresql",
        "channel_layer": args.layer,
        "channel_capacity": args.capacity or "settings default",
        "layer_encryption": True,
        "client": "websockets (asyncio), one connection per client, session cookie, Origin",
    }
    report["load"] = {
        "clients": args.clients,
        "conversations": args.conversations,
        "users": len({s["user"] for s in plan.sockets}),
        "rate": args.rate,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "latency": "sender's send to each socket of the recipient receiving message.new "
        "(monotonic clock, one box)",
    }
    report["summary"], report["pass"] = verdict(report)
    report["targets"] = {
        "p99_ms_max": TARGET_P99_MS,
        "p50_ratio_to_relay_max": TARGET_RATIO,
        "idle_kib_per_socket_max": TARGET_IDLE_KIB,
    }
    return report


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_seed"]:
        return seed_main(argv[1:])
    if argv[:1] == ["_client"]:
        return client_main(argv[1])
    stop_on_sigterm()
    args = parse_args(argv)
    reason = refusal(args) or unreachable(args)
    if reason is not None:
        log(f"skipped: {reason}")
        write_result("chat", {"benchmark": "chat", "skipped": reason}, args.out)
        return 1 if args.check else 0
    report = run(args)
    path = write_result("chat", report, args.out)
    print_table(report)
    log(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 1 if args.check and not report["pass"] else 0


if __name__ == "__main__":
    sys.exit(main())
