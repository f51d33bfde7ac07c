"""Pieces shared by the booking benchmarks: a throw-away PostgreSQL database, the seeding
step (bench/booking_seed.py, run in the sandbox's environment), and a client that fires a
burst of requests at once, one per keep-alive connection, and keeps the response bodies."""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import psycopg
from psycopg import sql

from bench._common import LOOPBACK, ROOT, Connection, Sandbox, Server, log, percentile

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
BURST_TIMEOUT_S = 30.0  # per response of a burst


def check_database_url(url: str) -> str | None:
    """Why `url` is refused, or None. The benchmark drops and re-creates that database, so
    it must be on loopback and be named for benchmarks."""
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        return "--database-url must be a postgres:// URL"
    if parsed.hostname not in LOOPBACK_HOSTS:
        return "--database-url must point at a loopback PostgreSQL"
    if "bench" not in parsed.path.lstrip("/"):
        return "--database-url must name a database with 'bench' in its name (it is dropped)"
    return None


@contextmanager
def bench_database(url: str, *, keep: bool = False) -> Iterator[None]:
    """PostgreSQL: drop and create the database `url` names, drop it again afterwards
    (unless keep). Nothing to do for the embedded default (empty url)."""
    if not url:
        yield
        return
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    maintenance = urlunparse(parsed._replace(path="/postgres", query=""))

    def run(statement: sql.Composed) -> None:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(statement)

    run(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    run(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield
    finally:
        if keep:
            log(f"kept database {name}")
        else:
            run(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_pids(url: str) -> list[int]:
    """The PostgreSQL backends connected to the benchmark's database (the server's pooled
    connections), so that their CPU counts as the database's rather than as other work."""
    if not url:
        return []
    parsed = urlparse(url)
    maintenance = urlunparse(parsed._replace(path="/postgres", query=""))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (parsed.path.lstrip("/"),)
        ).fetchall()
    return [int(pid) for (pid,) in rows]


class DatabaseCpu:
    """CPU seconds the benchmark database's backends used between start() and stop().
    A backend that connected meanwhile (the pool growing) counts in full: it started at 0."""

    def __init__(self, url: str, server: Server) -> None:
        self.url, self.server = url, server
        self.before: dict[int, float] = {}

    def start(self) -> None:
        self.before = {pid: self.server.cpu_seconds([pid]) for pid in database_pids(self.url)}

    def stop(self) -> float:
        after = {pid: self.server.cpu_seconds([pid]) for pid in database_pids(self.url)}
        return sum(cpu - self.before.get(pid, 0.0) for pid, cpu in after.items())


def seed(box: Sandbox, scenario: str, *options: str) -> dict[str, Any]:
    """Run bench/booking_seed.py in the sandbox; returns its JSON answer."""
    out = box.var_dir / f"seed-{scenario}.json"
    command = [sys.executable, "-m", "bench.booking_seed", scenario, "--out", str(out), *options]
    done = subprocess.run(command, cwd=ROOT, env=box.env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"booking_seed {scenario} failed:\n{done.stdout}{done.stderr}")
    answer: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return answer


def seed_file(box: Sandbox, scenario: str) -> Path:
    return box.var_dir / f"seed-{scenario}.json"


def engine(database_url: str) -> str:
    return "postgresql" if database_url else "sqlite"


# --- a burst client -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    seconds: float  # from the moment the burst was sent to this response's last byte

    def error_code(self) -> str | None:
        try:
            return str(json.loads(self.body)["error"]["code"])
        except (ValueError, KeyError, TypeError):
            return None


class BodyConnection(Connection):
    """A `Connection` that sends without waiting and keeps the response body."""

    def send(self, payload: bytes) -> None:
        assert self.writer is not None
        self.writer.write(payload)

    async def receive(self) -> tuple[int, bytes]:
        reader = self.reader
        assert reader is not None
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
        body = b""
        if chunked:
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":
                        pass
                    break
                parts.append((await reader.readexactly(size + 2))[:-2])
            body = b"".join(parts)
        elif length is not None:
            body = await reader.readexactly(length)
        else:
            body = await reader.read()
            close = True
        if close:
            self.close()
        return status, body


async def open_connections(port: int, count: int) -> list[BodyConnection]:
    connections = [BodyConnection(LOOPBACK, port) for _ in range(count)]
    await asyncio.gather(*(c.open() for c in connections))
    return connections


async def burst(connections: Sequence[BodyConnection], payloads: Sequence[bytes]) -> list[Reply]:
    """Send one request on every connection in the same instant (one loop tick, no awaits
    in between), then read every answer. A connection that fails is reopened for the next
    burst and its reply has status 0."""
    loop = asyncio.get_running_loop()
    for conn in connections:
        if conn.writer is None:
            await conn.open()
    start = loop.time()
    for conn, payload in zip(connections, payloads, strict=True):
        conn.send(payload)

    async def one(conn: BodyConnection) -> Reply:
        try:
            async with asyncio.timeout(BURST_TIMEOUT_S):
                status, body = await conn.receive()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            conn.close()
            return Reply(0, b"", loop.time() - start)
        return Reply(status, body, loop.time() - start)

    return list(await asyncio.gather(*(one(c) for c in connections)))


def request(
    method: str,
    path: str,
    port: int,
    *,
    token: str | None = None,
    body: dict[str, Any] | None = None,
) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {LOOPBACK}:{port}",
        "Accept: application/json",
        "User-Agent: careconnect-bench",
    ]
    if token:
        lines.append(f"Authorization: Token {token}")
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def latency_summary(seconds: Sequence[float]) -> dict[str, Any]:
    ordered = sorted(seconds)
    return {
        "n": len(ordered),
        "p50_ms": round(percentile(ordered, 50) * 1000, 2) if ordered else None,
        "p95_ms": round(percentile(ordered, 95) * 1000, 2) if ordered else None,
        "p99_ms": round(percentile(ordered, 99) * 1000, 2) if ordered else None,
        "max_ms": round(ordered[-1] * 1000, 2) if ordered else None,
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2) if ordered else None,
    }


def median_of(rows: Sequence[dict[str, Any]], key: str) -> float | None:
    values = [float(r[key]) for r in rows if r.get(key) is not None]
    return round(statistics.median(values), 2) if values else None
