"""Shared pieces of the benchmarks: a throw-away var dir, a server started through bin/serve,
a lean open-loop HTTP/1.1 load generator, percentiles and the results file.

Everything stays on loopback; every server a benchmark starts is stopped when it ends,
also on Ctrl-C, SIGTERM or an exception.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
SERVE = ROOT / "bin" / "serve"
LOOPBACK = "127.0.0.1"
SERVER_NICENESS = 0
GENERATOR_NICENESS = -5
CLK_TCK = os.sysconf("SC_CLK_TCK")
NEUTRALISED = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "SECRET_KEY",
    "CRYPTO_KEYS",
    "CARECONNECT_PRODUCTION",
    "DEBUG",
    "EMAIL_URL",
    "STRIPE_SECRET_KEY",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
)


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so `with` blocks (and so the server) are cleaned up."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def prioritise_generator() -> int:
    """The load generator shares the box with the server: a higher priority (needs root or
    CAP_SYS_NICE) lets it keep its schedule and read replies on time, as if it ran on another
    machine, without handicapping the server against anything else. Returns the niceness."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, GENERATOR_NICENESS)
    except PermissionError:
        log("note: cannot raise the load generator's priority (not root); running at nice 0")
    return os.getpriority(os.PRIO_PROCESS, 0)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_1m_at_start": round(os.getloadavg()[0], 2),
    }


def system_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat), to spot other load."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / CLK_TCK


def background_cores(seconds: float = 1.0) -> float:
    """How many cores something else keeps busy right now (sampled over `seconds`)."""
    before, start = system_busy_seconds(), time.monotonic()
    time.sleep(seconds)
    return (system_busy_seconds() - before) / (time.monotonic() - start)


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of already sorted values, linear between ranks."""
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def write_result(name: str, data: dict[str, Any], out: Path | None = None) -> Path:
    path = out or RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


# --- a sandboxed deployment -------------------------------------------------------------


@dataclass
class Sandbox:
    """A temporary CARECONNECT_VAR_DIR (database, key ring, mail) and the environment that
    points the app at it. Embedded default unless database_url/redis_url are given."""

    database_url: str = ""
    redis_url: str = ""
    keep: bool = False
    var_dir: Path = field(init=False)
    env: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.var_dir = Path(tempfile.mkdtemp(prefix="careconnect-bench-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("CARECONNECT_")}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        # Set empty rather than removed: the settings load the repo's .env without overriding
        # what is set, and a developer's .env must not point a benchmark at real services.
        env.update(dict.fromkeys(NEUTRALISED, ""))
        env.update(
            CARECONNECT_VAR_DIR=str(self.var_dir),
            CARECONNECT_BENCH="1",
            ALLOWED_HOSTS=LOOPBACK,
            PYTHONUNBUFFERED="1",
            PYTHONDONTWRITEBYTECODE="1",
        )
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        self.env = env

    def manage(self, *args: str) -> None:
        command = [sys.executable, str(ROOT / "manage.py"), *args]
        done = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")

    def cleanup(self) -> None:
        if self.keep:
            log(f"kept {self.var_dir}")
        else:
            shutil.rmtree(self.var_dir, ignore_errors=True)


@contextmanager
def sandbox(database_url: str = "", redis_url: str = "", keep: bool = False) -> Iterator[Sandbox]:
    box = Sandbox(database_url=database_url, redis_url=redis_url, keep=keep)
    try:
        yield box
    finally:
        box.cleanup()


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def pids(self) -> list[int]:
        """bin/serve's descendants (the daphne and celery processes)."""
        found: list[int] = []
        pending = [self.process.pid]
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

    def cpu_seconds(self, pids: Sequence[int]) -> float:
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
        return total / CLK_TCK

    def rss_mb(self, pids: Sequence[int]) -> float:
        total_kb = 0
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
            except OSError:
                continue
        return round(total_kb / 1024, 1)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextmanager
def serve(
    box: Sandbox,
    *,
    web_processes: int = 1,
    worker: bool = False,
    ready_path: str = "/api/auth/csrf/",
    ready_timeout: float = 60.0,
) -> Iterator[Server]:
    """bin/serve on a free loopback port; stopped (SIGTERM, then SIGKILL) on the way out."""
    port = free_port()
    env = dict(
        box.env,
        HOST=LOOPBACK,
        PORT=str(port),
        WEB_PROCESSES=str(web_processes),
        SERVE_WORKER="1" if worker else "0",
        SERVE_ACCESS_LOG="0",
    )
    log_path = box.var_dir / "serve.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, str(SERVE)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # our Ctrl-C is handled here, not sent to it twice
            # The server runs at normal priority whatever priority the generator got.
            preexec_fn=lambda: os.setpriority(os.PRIO_PROCESS, 0, SERVER_NICENESS),
        )
    server = Server(process=process, port=port, log_path=log_path)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"bin/serve exited early:\n{server.log_tail()}")
            try:
                with urllib.request.urlopen(server.base_url + ready_path, timeout=2) as reply:  # noqa: S310 - loopback
                    if reply.status < 500:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not ready in {ready_timeout}s:\n{server.log_tail()}")
            time.sleep(0.25)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


# --- a lean open-loop HTTP/1.1 load generator -----------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection; just enough protocol for small GET responses."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, payload: bytes) -> int:
        """Send one request, read the whole response; returns the status code."""
        if self.writer is None:
            await self.open()
        reader, writer = self.reader, self.writer
        assert reader is not None
        assert writer is not None
        writer.write(payload)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length: int | None = None
        chunked = close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            key, value = name.strip().lower(), value.strip().lower()
            if key == b"content-length":
                length = int(value)
            elif key == b"transfer-encoding":
                chunked = b"chunked" in value
            elif key == b"connection":
                close = b"close" in value
        if chunked:
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":
                        pass
                    break
                await reader.readexactly(size + 2)
        elif length is not None:
            await reader.readexactly(length)
        else:
            await reader.read()
            close = True
        if close:
            self.close()
        return status


@dataclass
class LoadResult:
    latencies: list[float]  # seconds, successful requests, from dispatch to last byte
    statuses: dict[str, int]
    errors: int
    dispatch_lag: list[float]  # seconds the generator was late against its schedule
    elapsed: float  # first dispatch to last completion
    client_cpu: float  # CPU seconds the load generator used

    def summary(self, rate: float) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        lag = sorted(self.dispatch_lag)
        n = len(ordered)
        rps = (n + self.errors) / self.elapsed if self.elapsed > 0 else 0.0
        return {
            "p50_ms": round(percentile(ordered, 50) * 1000, 3),
            "p95_ms": round(percentile(ordered, 95) * 1000, 3),
            "p99_ms": round(percentile(ordered, 99) * 1000, 3),
            "max_ms": round(ordered[-1] * 1000, 3) if ordered else None,
            "mean_ms": round(sum(ordered) / n * 1000, 3) if n else None,
            "rps": round(rps, 2),
            "target_rps": rate,
            "errors": self.errors,
            "n": n,
            "statuses": self.statuses,
            "generator": {
                "dispatch_lag_p99_ms": round(percentile(lag, 99) * 1000, 3),
                "dispatch_lag_max_ms": round(lag[-1] * 1000, 3) if lag else None,
                "cpu_cores": round(self.client_cpu / self.elapsed, 3) if self.elapsed else None,
            },
        }


async def open_loop(
    host: str,
    port: int,
    payload: bytes,
    *,
    rate: float,
    duration: float,
    connections: int,
    request_timeout: float = 10.0,
) -> LoadResult:
    """Dispatch requests on a fixed schedule (rate per second for duration seconds) whatever
    the server does, over a FIFO pool of keep-alive connections opened beforehand. A request
    that finds every connection busy waits for one, and that wait counts in its latency."""
    loop = asyncio.get_running_loop()
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    opened = [Connection(host, port) for _ in range(connections)]
    await asyncio.gather(*(c.open() for c in opened))
    for conn in opened:
        pool.put_nowait(conn)

    latencies: list[float] = []
    lags: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0

    async def one(dispatched: float) -> None:
        nonlocal errors
        conn = await pool.get()
        try:
            async with asyncio.timeout(request_timeout):
                status = await conn.request(payload)
        except (
            OSError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            TimeoutError,
            ValueError,
        ):
            conn.close()
            errors += 1
            statuses["exception"] = statuses.get("exception", 0) + 1
        else:
            done = loop.time()
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if 200 <= status < 300:
                latencies.append(done - dispatched)
            else:
                errors += 1
        finally:
            pool.put_nowait(conn)

    total = max(1, round(rate * duration))
    cpu_start = time.process_time()
    start = loop.time() + 0.01
    tasks: list[asyncio.Task[None]] = []
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        now = loop.time()
        lags.append(max(0.0, now - scheduled))
        tasks.append(asyncio.create_task(one(now)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - start  # to the last completion
    client_cpu = time.process_time() - cpu_start
    for conn in opened:
        conn.close()
    return LoadResult(
        latencies=latencies,
        statuses=statuses,
        errors=errors,
        dispatch_lag=lags,
        elapsed=elapsed,
        client_cpu=client_cpu,
    )
