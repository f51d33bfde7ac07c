"""Consult media benchmark: N concurrent 1:1 video consults through consult.media's rooms.

    python -m bench.consult_bench [--consults 2] [--duration 20] [--warmup 4] \\
        [--width 640] [--height 360] [--fps 30]

A media process (this module with `--serve`, Django settings configured in memory: no
database, no server) holds the rooms exactly as daphne does on the embedded default; it is
reached over a loopback line-JSON socket standing in for the signaling consumer. This
process runs the 2N aiortc client peers: each sends synthetic video of its side's colour
(doctor green, patient red) at W x H and `--fps`, and decodes what it receives.

Reported (bench/results/consult.json):
- frames delivered %: frames of the partner's colour each client decoded during the window,
  over the frames the partner's camera produced in it (the server drops frames when it falls
  behind: its forwarders keep only the 2 newest);
- server CPU (cores) over the window, and per consult: the media process only (decode once,
  re-encode per receiver, DESIGN §6);
- admit → first frame: from the moment a client starts its offer (what a browser does on
  `admitted`) until it decodes its partner's first frame (offer/answer, ICE, DTLS, the
  first keyframe through the server): p50 / p95 / max;
- the registry after every client left (rooms, peer connections, tracks, tasks: all 0).

No target is enforced (`pass` is only "nothing leaked and every consult delivered"); the
numbers size CONSULT_MAX_ROOMS for a machine. Bounded: <= 8 consults, <= 120 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
    write_result,
)

GREEN = (145, 54, 34)
RED = (82, 90, 240)
MAX_CONSULTS = 8
MAX_DURATION = 120.0
MAX_SOAK = 900.0  # --soak: the 10-minute memory soak
RSS_SAMPLE_S = 10.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--consults", type=int, default=2)
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=4.0, help="seconds after connecting")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--soak", action="store_true", help="allow a long --duration (<= 900 s): memory soak"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.consults = max(1, min(MAX_CONSULTS, args.consults))
    args.duration = max(1.0, min(MAX_SOAK if args.soak else MAX_DURATION, args.duration))
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


async def media_server(args: argparse.Namespace) -> None:
    from consult import media

    done = asyncio.Event()

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


@contextlib.contextmanager
def media_process(args: argparse.Namespace) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    command = [
        sys.executable,
        "-m",
        "bench.consult_bench",
        "--serve",
        f"--consults={args.consults}",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE)
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


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


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
            elif close_to(colour, self.colour):
                self.failures.append("received its own colour")

    async def stop(self, signaling: Signaling) -> None:
        await signaling.call(op="leave", room=f"consult-{self.consult}", user=self.user)
        await self.pc.close()
        if self.reader is not None:
            self.reader.cancel()


async def run(args: argparse.Namespace, port: int, server_pid: int) -> dict[str, Any]:
    signaling = await Signaling.open(port)
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
    await asyncio.sleep(args.warmup)

    sent_before = [c.camera.sent for c in clients]
    received_before = [c.received for c in clients]
    forwarded_before = (await signaling.call(op="counts"))["forwarded"]
    server_before, client_before = cpu_seconds(server_pid), time.process_time()
    started = time.monotonic()
    log(f"measuring {args.duration:.0f} s")
    rss = [round(rss_mb(server_pid), 1)]
    while (left := args.duration - (time.monotonic() - started)) > 0:
        await asyncio.sleep(min(RSS_SAMPLE_S, left))
        rss.append(round(rss_mb(server_pid), 1))
    elapsed = time.monotonic() - started
    server_cores = (cpu_seconds(server_pid) - server_before) / elapsed
    client_cores = (time.process_time() - client_before) / elapsed
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
        "admit_to_first_frame_ms": {
            "p50": round(percentile(latencies, 50), 1),
            "p95": round(percentile(latencies, 95), 1),
            "max": round(latencies[-1], 1) if latencies else None,
            "n": len(latencies),
            "missing": len(clients) - len(latencies),
        },
        "server_rss_mb": {
            "start": rss[0],
            "end": rss[-1],
            "max": max(rss),
            "growth_pct": round(100 * (rss[-1] - rss[0]) / rss[0], 1) if rss[0] else None,
            "samples": rss if len(rss) <= 100 else rss[:: max(1, len(rss) // 100)],
        },
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
            "server_video_cap": [640, 360],
        },
        "results": results,
        "pass": delivered_everywhere and clean and not results["failures"],
    }
    path = write_result("consult", data, args.out)
    log(
        f"delivered {results['frames_delivered_pct']}% | server {results['server_cpu_cores']} "
        f"cores ({results['server_cpu_cores_per_consult']}/consult) | admit->first frame p50 "
        f"{results['admit_to_first_frame_ms']['p50']} ms | rss {results['server_rss_mb']['start']}"
        f" -> {results['server_rss_mb']['end']} MB | leftover {results['leftover']}"
    )
    log(f"wrote {path}")
    return 0 if data["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
