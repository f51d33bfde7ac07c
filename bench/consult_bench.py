"""Consult media benchmark: N concurrent 1:1 video consults through consult.media's rooms.

    python -m bench.consult_bench [--consults 2] [--duration 20] [--warmup 4] \\
        [--width 640] [--height 360] [--fps 30]
    python -m bench.consult_bench --consults 2 --duration 600 --soak   # the memory soak

A media process (this module with `--serve`, Django settings configured in memory: no
database, no server) holds the rooms exactly as daphne does on the embedded default; it is
reached over a loopback line-JSON socket standing in for the signaling consumer. This
process runs the 2N aiortc client peers: each sends synthetic video of its side's colour
(doctor green, patient red) at W x H and `--fps`, and decodes what it receives. The media
process gets the allocator setting bin/serve gives daphne (`MALLOC_ARENA_MAX=2` unless the
environment sets it; `--malloc-arena-max 0`: glibc's default).

Reported (bench/results/consult.json; consult-soak.json with --soak):
- frames delivered %: frames of the partner's colour each client decoded during the window,
  over the frames the partner's camera produced in it (the server drops frames when it falls
  behind: its forwarders keep only the 2 newest);
- server CPU (cores) over the window, and per consult: the media process only (decode once,
  re-encode per receiver, DESIGN §6);
- admit → first frame: from the moment a client starts its offer (what a browser does on
  `admitted`) until it decodes its partner's first frame (offer/answer, ICE, DTLS, the
  first keyframe through the server): p50 / p95 / max;
- the media process's memory every 10 s from t=0 (every client has decoded its partner's
  first frame) through the warm-up (`--warmup`) and the measured window (`--duration`): RSS
  (anonymous / file), threads, glibc's heap (in use / free), the load average; growth from
  the first sample and from the warm-up point (t = `--warmup`);
- the registry after every client left (rooms, peer connections, tracks, tasks: all 0).

`pass` is "nothing leaked and every consult delivered"; with --soak also "RSS grew by at most
10 % from the warm-up point to the end of a window of at least 600 s" (bench/README.md). The
other numbers size CONSULT_MAX_ROOMS for a machine. Bounded: <= 8 consults, <= 120 s
(--soak: <= 900 s, warm-up 60 s by default).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._common import (
    CLK_TCK,
    LOOPBACK,
    background_cores,
    log,
    machine,
    percentile,
    stop_on_sigterm,
    system_busy_seconds,
    write_result,
)

GREEN = (145, 54, 34)
RED = (82, 90, 240)
MAX_CONSULTS = 8
MAX_DURATION = 120.0
MAX_SOAK = 900.0  # --soak: the 10-minute memory soak
RSS_SAMPLE_S = 10.0
SOAK_WARMUP_S = 60.0  # --soak's default warm-up point (bench/README.md says why)
SOAK_MIN_WINDOW_S = 600.0  # the soak target is judged on 10 minutes after the warm-up
SOAK_MAX_GROWTH_PCT = 10.0  # issue 6: RSS grows by at most 10 % in the soak
SERVE_ARENA_MAX = "2"  # what bin/serve exports for daphne unless MALLOC_ARENA_MAX is set
SERVE_MMAP_THRESHOLD = "131072"  # and MALLOC_MMAP_THRESHOLD_, likewise
MIB = 1024 * 1024


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--consults", type=int, default=2)
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    parser.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds after every first frame before the window (4; --soak: 60, the point"
        " memory growth is judged from)",
    )
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--soak", action="store_true", help="allow a long --duration (<= 900 s): memory soak"
    )
    parser.add_argument(
        "--malloc-arena-max",
        type=int,
        default=None,
        help="MALLOC_ARENA_MAX of the media process (default: the environment's, else 2 as"
        " bin/serve; 0: unset, glibc's default of 8 per core)",
    )
    parser.add_argument(
        "--trace-python",
        action="store_true",
        help="tracemalloc in the media process: Python heap per sample, top growth at the end"
        " (slows it down: a diagnosis, not a measurement)",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.consults = max(1, min(MAX_CONSULTS, args.consults))
    args.duration = max(1.0, min(MAX_SOAK if args.soak else MAX_DURATION, args.duration))
    if args.warmup is None:
        args.warmup = SOAK_WARMUP_S if args.soak else 4.0
    args.warmup = max(0.0, min(MAX_DURATION, args.warmup))
    return args


# --- the media process ---------------------------------------------------------------------


def configure_media(args: argparse.Namespace) -> None:
    """consult.media reads only CONSULT_* settings: configure them in memory."""
    from django.conf import settings

    settings.configure(
        CONSULT_ICE_SERVERS=[],
        CONSULT_MAX_ROOMS=args.consults,
        CONSULT_VIDEO_WIDTH=640,
        CONSULT_VIDEO_HEIGHT=360,
        CONSULT_QUALITY_INTERVAL_SECONDS=5,
    )


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",  # bytes of the arenas' heaps (non-mmapped), all arenas
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",  # bytes in mmapped chunks
            "usmblks",
            "fsmblks",
            "uordblks",  # bytes in use in the arenas
            "fordblks",  # bytes free in the arenas: held by malloc, not by the program
            "keepcost",
        )
    ]


def heap_stats() -> dict[str, float] | None:
    """glibc's view of this process's heap (mallinfo2, glibc >= 2.33), None elsewhere."""
    try:
        mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return None
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return {
        "heap_in_use_mb": round((info.uordblks + info.hblkhd) / MIB, 1),
        "heap_free_mb": round(info.fordblks / MIB, 1),
        "heap_mmapped_mb": round(info.hblkhd / MIB, 1),
    }


def python_growth(baseline: Any, limit: int = 12) -> list[dict[str, Any]]:
    """tracemalloc: the source lines whose live allocations grew most since `baseline`."""
    import tracemalloc

    diff = tracemalloc.take_snapshot().compare_to(baseline, "lineno")
    return [
        {
            "where": str(stat.traceback[0]),
            "growth_kb": round(stat.size_diff / 1024, 1),
            "size_kb": round(stat.size / 1024, 1),
            "blocks": stat.count,
        }
        for stat in diff[:limit]
    ]


async def media_server(args: argparse.Namespace) -> None:
    import tracemalloc

    from consult import media

    done = asyncio.Event()
    if args.trace_python:
        tracemalloc.start()
    baseline: list[Any] = []  # the tracemalloc snapshot taken at the warm-up point

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            request = json.loads(line)
            op = request["op"]
            reply: dict[str, Any] = {}
            try:
                if op == "offer":
                    room = media.open_room(request["room"])
                    reply["sdp"] = await room.offer(request["user"], request["sdp"])
                elif op == "leave":
                    room_or_none = media.get_room(request["room"])
                    if room_or_none is not None:
                        await room_or_none.leave(request["user"])
                elif op == "counts":
                    reply["counts"] = media.counts()._asdict()
                    reply["forwarded"] = sum(
                        track.frames_forwarded
                        for room in media.rooms().values()
                        for user in room.participants
                        for track in room.forwarders(user).values()
                        if track.kind == "video"
                    )
                elif op == "memory":
                    reply["heap"] = heap_stats()
                    if tracemalloc.is_tracing():
                        reply["python_mb"] = round(tracemalloc.get_traced_memory()[0] / MIB, 1)
                        if request.get("mark"):
                            baseline[:] = [tracemalloc.take_snapshot()]
                        elif request.get("growth") and baseline:
                            reply["python_growth"] = python_growth(baseline[0])
                elif op == "quit":
                    await media.close_all()
                    done.set()
            except Exception as exc:
                reply["error"] = repr(exc)
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, LOOPBACK, 0)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)  # the parent reads the port
    async with server:
        await done.wait()


def serve_main(args: argparse.Namespace) -> None:
    configure_media(args)
    asyncio.run(media_server(args))


def media_environment(args: argparse.Namespace) -> dict[str, str]:
    """The media process's environment: MALLOC_ARENA_MAX as bin/serve sets it for daphne
    (the environment's, else 2), unless --malloc-arena-max says otherwise (0: unset), and
    MALLOC_MMAP_THRESHOLD_ as bin/serve sets it (the environment's, else 131072)."""
    env = dict(os.environ)
    if args.malloc_arena_max is not None:
        env.pop("MALLOC_ARENA_MAX", None)
        if args.malloc_arena_max > 0:
            env["MALLOC_ARENA_MAX"] = str(args.malloc_arena_max)
    elif not env.get("MALLOC_ARENA_MAX"):
        env["MALLOC_ARENA_MAX"] = SERVE_ARENA_MAX
    env.setdefault("MALLOC_MMAP_THRESHOLD_", SERVE_MMAP_THRESHOLD)
    return env


@contextlib.contextmanager
def media_process(args: argparse.Namespace) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    command = [
        sys.executable,
        "-m",
        "bench.consult_bench",
        "--serve",
        f"--consults={args.consults}",
    ]
    if args.trace_python:
        command.append("--trace-python")
    env = media_environment(args)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=env)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def proc_memory(pid: int) -> dict[str, float]:
    """RSS (MB) from /proc/<pid>/status: total, anonymous (heap, thread stacks, frames) and
    file-backed (the interpreter, libav*, libvpx...), and the thread count."""
    wanted = {"VmRSS:": "rss_mb", "RssAnon:": "rss_anon_mb", "RssFile:": "rss_file_mb"}
    found: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in wanted:
            found[wanted[words[0]]] = round(int(words[1]) / 1024, 1)
        elif len(words) >= 2 and words[0] == "Threads:":
            found["threads"] = int(words[1])
    return found


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime, all threads


# --- the clients ---------------------------------------------------------------------------


class Signaling:
    """One line-JSON connection to the media process (as a browser's socket would be)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.lock = asyncio.Lock()

    @classmethod
    async def open(cls, port: int) -> Signaling:
        return cls(*await asyncio.open_connection(LOOPBACK, port))

    async def call(self, **request: Any) -> dict[str, Any]:
        async with self.lock:
            self.writer.write(json.dumps(request).encode() + b"\n")
            await self.writer.drain()
            reply: dict[str, Any] = json.loads(await self.reader.readline())
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


def colour_track(yuv: tuple[int, int, int], width: int, height: int, fps: int) -> Any:
    import fractions

    from aiortc.mediastreams import VideoStreamTrack
    from av import VideoFrame

    # The top third is moving texture (a camera's content costs the encoder; a solid colour
    # would cost next to nothing), the rest the side's solid colour (what clients check).
    textured = (height // 3) * width
    texture = os.urandom(textured * 2)
    solid_y = bytes([yuv[0]]) * (width * height - textured)
    chroma = [bytes([yuv[1]]) * (width * height // 4), bytes([yuv[2]]) * (width * height // 4)]

    class Camera(VideoStreamTrack):
        sent = 0
        start = time.monotonic()

        async def recv(self) -> Any:
            if self.sent == 0:
                self.start = time.monotonic()
            await asyncio.sleep(max(0.0, self.start + self.sent / fps - time.monotonic()))
            frame = VideoFrame(width=width, height=height, format="yuv420p")
            shift = (self.sent * width * 2) % textured  # scrolls two rows per frame
            luma = texture[shift : shift + textured] + solid_y
            for plane, data in zip(frame.planes, [luma, *chroma], strict=True):
                plane.update(data)
            frame.pts = int(self.sent * 90_000 / fps)
            frame.time_base = fractions.Fraction(1, 90_000)
            self.sent += 1
            return frame

    return Camera()


def centre_colour(frame: Any) -> tuple[float, float, float]:
    """Mean Y, U, V of one row of each plane in the solid lower part (cheap, and enough)."""
    frame = frame.reformat(format="yuv420p")
    means: list[float] = []
    for plane in frame.planes:
        row = plane.height * 3 // 4
        data = bytes(plane)[row * plane.line_size : row * plane.line_size + plane.width]
        means.append(sum(data) / max(1, len(data)))
    return means[0], means[1], means[2]


def close_to(actual: tuple[float, float, float], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - e) <= 20 for a, e in zip(actual, expected, strict=True))


@dataclass
class Client:
    consult: int
    user: str
    colour: tuple[int, int, int]
    partner_colour: tuple[int, int, int]
    args: argparse.Namespace
    pc: Any = None
    camera: Any = None
    received: int = 0  # partner frames decoded
    offered_at: float = 0.0
    first_frame_at: float | None = None
    reader: asyncio.Task[None] | None = None
    failures: list[str] = field(default_factory=list)

    async def start(self, signaling: Signaling) -> None:
        from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.camera = colour_track(self.colour, self.args.width, self.args.height, self.args.fps)
        self.pc.addTrack(self.camera)
        self.pc.on("track", self._on_track)
        self.offered_at = time.monotonic()
        await self.pc.setLocalDescription(await self.pc.createOffer())
        reply = await signaling.call(
            op="offer",
            room=f"consult-{self.consult}",
            user=self.user,
            sdp=self.pc.localDescription.sdp,
        )
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))

    def _on_track(self, track: Any) -> None:
        if track.kind == "video":
            self.reader = asyncio.ensure_future(self._read(track))

    async def _read(self, track: Any) -> None:
        from aiortc.mediastreams import MediaStreamError

        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            colour = centre_colour(frame)
            if close_to(colour, self.partner_colour):
                self.received += 1
                if self.first_frame_at is None:
                    self.first_frame_at = time.monotonic()
            elif close_to(colour, self.colour) and len(self.failures) < 10:
                self.failures.append("received its own colour")

    async def stop(self, signaling: Signaling) -> None:
        await signaling.call(op="leave", room=f"consult-{self.consult}", user=self.user)
        await self.pc.close()
        if self.reader is not None:
            self.reader.cancel()


class MemorySampler:
    """The media process's memory on a fixed 10 s grid from t=0, every sample kept, with the
    frames each consult delivered so far (a stalled consult shows)."""

    def __init__(self, pid: int, signaling: Signaling, clients: list[Client]) -> None:
        self.pid, self.signaling, self.clients = pid, signaling, clients
        self.t0 = time.monotonic()
        self.due = 0.0  # when the last sample was due, seconds after t0
        self.samples: list[dict[str, Any]] = []

    async def sample(self, *, mark: bool = False) -> dict[str, Any]:
        sample: dict[str, Any] = {"t_s": round(time.monotonic() - self.t0, 1)}
        sample.update(proc_memory(self.pid))
        reply = await self.signaling.call(op="memory", mark=mark)
        sample.update(reply.get("heap") or {})
        if "python_mb" in reply:
            sample["python_mb"] = reply["python_mb"]
        sample["loadavg_1m"] = round(os.getloadavg()[0], 2)
        received = [client.received for client in self.clients]
        sample["delivered"] = [sum(received[i : i + 2]) for i in range(0, len(received), 2)]
        self.samples.append(sample)
        return sample

    async def until(self, end: float, *, mark: bool = False) -> None:
        """Sample every RSS_SAMPLE_S up to `end` seconds after t0, the last one at `end`
        (with `mark`: the Python heap's baseline for --trace-python)."""
        while self.due < end:
            self.due = min(self.due + RSS_SAMPLE_S, end)
            await asyncio.sleep(max(0.0, self.t0 + self.due - time.monotonic()))
            await self.sample(mark=mark and self.due >= end)


def growth_pct(before: float, after: float) -> float | None:
    return round(100 * (after - before) / before, 1) if before else None


def memory_summary(
    args: argparse.Namespace, sampler: MemorySampler, idle: dict[str, Any], warm: int
) -> dict[str, Any]:
    """RSS growth from the first sample and from the warm-up point (sample `warm`), and the
    soak verdict: judged only on a window of at least SOAK_MIN_WINDOW_S after the warm-up."""
    samples = sampler.samples
    rss = [float(sample["rss_mb"]) for sample in samples]
    # Every consult delivered frames between every two samples from the warm-up point on.
    flowed = all(
        now > before
        for earlier, later in zip(samples[warm:], samples[warm + 1 :], strict=False)
        for before, now in zip(earlier["delivered"], later["delivered"], strict=True)
    )
    first, at_warmup, end = rss[0], rss[warm], rss[-1]
    after = rss[warm:]
    judged = args.duration >= SOAK_MIN_WINDOW_S
    growth = growth_pct(at_warmup, end)
    summary: dict[str, Any] = {
        "idle_before_consults_mb": idle["rss_mb"],
        "first_mb": first,
        "warmup_point_s": samples[warm]["t_s"],
        "warmup_point_mb": at_warmup,
        "end_s": samples[-1]["t_s"],
        "end_mb": end,
        "max_mb": max(rss),
        "max_after_warmup_mb": max(after),
        "growth_from_first_pct": growth_pct(first, end),
        "growth_from_warmup_pct": growth,
        "peak_growth_from_warmup_pct": growth_pct(at_warmup, max(after)),
        "media_flowed_throughout": flowed,
        "samples": samples,
    }
    for key in ("rss_anon_mb", "heap_in_use_mb", "heap_free_mb", "python_mb"):
        if key in samples[warm] and key in samples[-1]:
            name = key.removesuffix("_mb")
            summary[f"{name}_growth_from_warmup_mb"] = round(
                samples[-1][key] - samples[warm][key], 1
            )
    if args.soak:
        summary["soak"] = {
            "target": f"RSS at the end <= RSS at the warm-up point + {SOAK_MAX_GROWTH_PCT:g} %",
            "window_s": args.duration,
            "judged": judged and flowed,
            "why_not_judged": (
                None
                if judged and flowed
                else f"window under {SOAK_MIN_WINDOW_S:.0f} s"
                if not judged
                else "a consult stopped delivering frames during the window"
            ),
            "pass": judged and flowed and growth is not None and growth <= SOAK_MAX_GROWTH_PCT,
        }
    return summary


async def run(args: argparse.Namespace, port: int, server_pid: int) -> dict[str, Any]:
    signaling = await Signaling.open(port)
    idle = {"rss_mb": proc_memory(server_pid)["rss_mb"]}
    clients: list[Client] = []
    for index in range(args.consults):
        clients.append(Client(index, f"doctor-{index}", GREEN, RED, args))
        clients.append(Client(index, f"patient-{index}", RED, GREEN, args))
    log(f"{args.consults} consults: offering")
    links = [await Signaling.open(port) for _ in clients]
    await asyncio.gather(*(c.start(link) for c, link in zip(clients, links, strict=True)))
    deadline = time.monotonic() + 30
    while any(c.first_frame_at is None for c in clients):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    latencies = sorted(
        (c.first_frame_at - c.offered_at) * 1000 for c in clients if c.first_frame_at is not None
    )
    log(f"first frames in; warming up {args.warmup:.0f} s")
    sampler = MemorySampler(server_pid, signaling, clients)
    first = await sampler.sample(mark=args.warmup == 0)
    log(f"t=0: rss {first['rss_mb']} MB")
    await sampler.until(args.warmup, mark=True)
    warm = len(sampler.samples) - 1
    log(f"t={args.warmup:.0f} s (warm-up point): rss {sampler.samples[warm]['rss_mb']} MB")

    sent_before = [c.camera.sent for c in clients]
    received_before = [c.received for c in clients]
    forwarded_before = (await signaling.call(op="counts"))["forwarded"]
    server_before, client_before = cpu_seconds(server_pid), time.process_time()
    busy_before = system_busy_seconds()
    started = time.monotonic()
    log(f"measuring {args.duration:.0f} s")
    minute = 60.0
    while sampler.due < args.warmup + args.duration:
        await sampler.until(min(sampler.due + minute, args.warmup + args.duration))
        last = sampler.samples[-1]
        log(f"t={last['t_s']:.0f} s: rss {last['rss_mb']} MB, load {last['loadavg_1m']}")
    elapsed = time.monotonic() - started
    server_cpu = cpu_seconds(server_pid) - server_before
    client_cpu = time.process_time() - client_before
    other_cores = (system_busy_seconds() - busy_before - server_cpu - client_cpu) / elapsed
    server_cores, client_cores = server_cpu / elapsed, client_cpu / elapsed
    python_growth = None
    if args.trace_python:
        python_growth = (await signaling.call(op="memory", growth=True)).get("python_growth")
    forwarded = (await signaling.call(op="counts"))["forwarded"] - forwarded_before
    sent = [c.camera.sent - before for c, before in zip(clients, sent_before, strict=True)]
    received = [c.received - before for c, before in zip(clients, received_before, strict=True)]

    per_consult = []
    for index in range(args.consults):
        doctor, patient = 2 * index, 2 * index + 1
        produced = sent[doctor] + sent[patient]
        delivered = received[doctor] + received[patient]
        per_consult.append(
            {
                "consult": index,
                "frames_sent": produced,
                "frames_delivered": delivered,
                "delivered_pct": round(100 * delivered / produced, 1) if produced else 0.0,
            }
        )
    for client, link in zip(clients, links, strict=True):
        await client.stop(link)
        await link.close()
    await asyncio.sleep(0.5)
    leftover = (await signaling.call(op="counts"))["counts"]
    await signaling.call(op="quit")
    await signaling.close()

    total_sent, total_delivered = sum(sent), sum(received)
    failures = [f for c in clients for f in c.failures]
    memory = memory_summary(args, sampler, idle, warm)
    if python_growth is not None:
        memory["python_top_growth_since_warmup"] = python_growth
    loads = [float(sample["loadavg_1m"]) for sample in sampler.samples[warm:]]
    return {
        "frames_delivered_pct": round(100 * total_delivered / total_sent, 1) if total_sent else 0.0,
        "frames_sent": total_sent,
        "frames_delivered": total_delivered,
        "frames_forwarded_by_server": forwarded,
        "camera_fps": round(total_sent / elapsed / len(clients), 1),
        "per_consult": per_consult,
        "server_cpu_cores": round(server_cores, 3),
        "server_cpu_cores_per_consult": round(server_cores / args.consults, 3),
        "client_cpu_cores": round(client_cores, 3),
        "other_cpu_cores": round(max(0.0, other_cores), 3),  # everything else on the box
        "loadavg_1m_in_window": {
            "start": loads[0],
            "end": loads[-1],
            "mean": round(sum(loads) / len(loads), 2),
            "max": max(loads),
        },
        "admit_to_first_frame_ms": {
            "p50": round(percentile(latencies, 50), 1),
            "p95": round(percentile(latencies, 95), 1),
            "max": round(latencies[-1], 1) if latencies else None,
            "n": len(latencies),
            "missing": len(clients) - len(latencies),
        },
        "server_memory": memory,
        "leftover": leftover,
        "failures": failures[:10],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        serve_main(args)
        return 0
    stop_on_sigterm()
    info = machine()
    info["background_cores_at_start"] = round(background_cores(), 2)
    with media_process(args) as (process, port):
        results = asyncio.run(run(args, port, process.pid))
    delivered_everywhere = all(c["frames_delivered"] > 0 for c in results["per_consult"])
    clean = all(value == 0 for value in results["leftover"].values())
    memory = results["server_memory"]
    soak_ok = memory["soak"]["pass"] if args.soak else True
    env = media_environment(args)
    data = {
        "benchmark": "consult",
        "machine": info,
        "load": {
            "consults": args.consults,
            "width": args.width,
            "height": args.height,
            "fps": args.fps,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "soak": args.soak,
            "server_video_cap": [640, 360],
            # the media process's allocator settings (null: glibc's default)
            "media_env": {
                key: env.get(key)
                for key in sorted(
                    {"MALLOC_ARENA_MAX", *(k for k in env if k.startswith("MALLOC_"))}
                )
            },
            "trace_python": args.trace_python,
        },
        "command": " ".join(["python -m bench.consult_bench", *(argv or sys.argv[1:])]),
        "results": results,
        "pass": delivered_everywhere and clean and not results["failures"] and soak_ok,
    }
    path = write_result("consult-soak" if args.soak else "consult", data, args.out)
    log(
        f"delivered {results['frames_delivered_pct']}% | server {results['server_cpu_cores']} "
        f"cores ({results['server_cpu_cores_per_consult']}/consult) | admit->first frame p50 "
        f"{results['admit_to_first_frame_ms']['p50']} ms | leftover {results['leftover']}"
    )
    log(
        f"rss {memory['first_mb']} (t=0) -> {memory['warmup_point_mb']} (t={args.warmup:.0f} s)"
        f" -> {memory['end_mb']} MB (t={memory['end_s']:.0f} s): "
        f"{memory['growth_from_first_pct']:+}% from the first sample, "
        f"{memory['growth_from_warmup_pct']:+}% from the warm-up point"
        + (f" | soak {'pass' if soak_ok else 'FAIL'}" if args.soak else "")
        + f" | load {results['loadavg_1m_in_window']}"
    )
    log(f"wrote {path}")
    return 0 if data["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
