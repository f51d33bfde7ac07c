"""Booking contention: N signed-in patients POST /api/appointments/ for the same slot at the
same instant, round after round, each round on a fresh slot.

    python -m bench.booking_contention_bench [--clients 100] [--rounds 50] [--web-processes 8]
    python -m bench.booking_contention_bench --database-url \
        postgres://postgres@127.0.0.1:5432/careconnect_bench_contention

Per round, every client (its own keep-alive connection and DRF token) sends its POST in the
same event-loop tick. Right is: one 201, N-1 x 409 `slot_taken`, and in the database exactly
one live appointment on the slot. Each round is preceded by bursts of the same shape on
GET /bench/bare/ (Django and nothing of ours) and GET /api/auth/me/ (token auth, one read),
the same-run baselines: the ratios show what the booking path adds to the queueing of N
simultaneous requests. Afterwards each kind of request is sent alone, back to back, for its
uncontended latency and server CPU (the floor under any burst: N x CPU / cores). Writes
bench/results/booking-contention[-postgresql].json.

Target (issue): 0 double bookings, and the losers' 409 p95 <= 250 ms (over every 409 of the
run).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import django

from bench._booking import (
    BodyConnection,
    DatabaseCpu,
    Reply,
    bench_database,
    burst,
    check_database_url,
    engine,
    latency_summary,
    open_connections,
    request,
    seed,
    seed_file,
)
from bench._common import (
    Server,
    background_cores,
    log,
    machine,
    prioritise_generator,
    sandbox,
    serve,
    stop_on_sigterm,
    system_busy_seconds,
    write_result,
)

TARGET_LOSER_P95_MS = 250.0
DEFAULT_WEB_PROCESSES = 8  # as bench/rest_bench.py (chosen there by measurement)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100, help="patients per slot (100)")
    parser.add_argument("--rounds", type=int, default=50, help="slots contested (50)")
    parser.add_argument(
        "--web-processes", type=int, default=DEFAULT_WEB_PROCESSES, help="daphne processes (8)"
    )
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between bursts")
    parser.add_argument("--reason", default="", help="send this booking reason (sealed)")
    parser.add_argument(
        "--sequential", type=int, default=50, help="requests of each kind sent one at a time"
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="PostgreSQL instead of SQLite: a loopback database with 'bench' in its name; "
        "it is dropped and re-created",
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep-var", action="store_true", help="keep the var dir/database")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if not 2 <= args.clients <= 400 or not 1 <= args.rounds <= 500:
        parser.error("need 2 <= clients <= 400 and 1 <= rounds <= 500")
    if not 1 <= args.web_processes <= 16 or not 0 <= args.pause <= 10:
        parser.error("need 1 <= web-processes <= 16 and 0 <= pause <= 10")
    if problem := check_database_url(args.database_url):
        parser.error(problem)
    return args


def classify(replies: list[Reply]) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for reply in replies:
        code = reply.error_code()
        key = str(reply.status) + (f" {code}" if code else "")
        kinds[key] = kinds.get(key, 0) + 1
    return kinds


async def contest(
    server: Server, args: argparse.Namespace, tokens: list[str], slots: list[str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The rounds, then the same requests one at a time (what each costs uncontended)."""
    port = server.port
    connections: list[BodyConnection] = await open_connections(port, args.clients)
    me = [request("GET", "/api/auth/me/", port, token=t) for t in tokens]
    bare = [request("GET", "/bench/bare/", port)] * len(tokens)
    # Warm every connection (and so every daphne process) and check every token.
    warm = await burst(connections, me)
    if bad := [r for r in warm if r.status != 200]:
        raise RuntimeError(f"GET /api/auth/me/ with a bench token: {bad[0].status} {bad[0].body!r}")
    rounds: list[dict[str, Any]] = []
    try:
        for number, slot in enumerate(slots, start=1):
            baselines: dict[str, list[float]] = {}
            for name, payloads in (("bare", bare), ("me", me)):
                await asyncio.sleep(args.pause)
                replies = await burst(connections, payloads)
                baselines[name] = [r.seconds for r in replies if r.status == 200]
            await asyncio.sleep(args.pause)
            replies = await burst(connections, bookings(port, tokens, slot, args.reason))
            kinds = classify(replies)
            won = [r.seconds for r in replies if r.status == 201]
            lost = [
                r.seconds for r in replies if r.status == 409 and r.error_code() == "slot_taken"
            ]
            correct = len(won) == 1 and len(lost) == args.clients - 1
            odd = [r for r in replies if r.status not in (201, 409)]
            rounds.append(
                {
                    "slot": slot,
                    "replies": kinds,
                    "correct_answers": correct,
                    "unexpected_sample": odd[0].body[:300].decode(errors="replace")
                    if odd
                    else None,
                    "winner_ms": round(won[0] * 1000, 2) if len(won) == 1 else None,
                    "losers": latency_summary(lost),
                    "baseline_bare": latency_summary(baselines["bare"]),
                    "baseline_me": latency_summary(baselines["me"]),
                    "_lost": lost,
                    "_won": won,
                    "_bare": baselines["bare"],
                    "_me": baselines["me"],
                }
            )
            if number % 10 == 0 or not correct:
                log(
                    f"round {number}/{len(slots)}: {kinds}; 409 p95 "
                    f"{rounds[-1]['losers']['p95_ms']} ms"
                )
        sequential = await one_at_a_time(server, connections[0], args, tokens, slots[0])
    finally:
        for conn in connections:
            conn.close()
    return rounds, sequential


def bookings(port: int, tokens: list[str], slot: str, reason: str) -> list[bytes]:
    body: dict[str, Any] = {"slot": slot, "mode": "online"}
    if reason:
        body["reason"] = reason
    return [request("POST", "/api/appointments/", port, token=t, body=body) for t in tokens]


async def one_at_a_time(
    server: Server,
    conn: BodyConnection,
    args: argparse.Namespace,
    tokens: list[str],
    taken_slot: str,
) -> dict[str, Any]:
    """Each kind of request alone, back to back on one connection: its latency and the
    server CPU it costs. A burst of N requests cannot finish before N x that CPU / cores."""
    port = server.port
    kinds = {
        "bare": [request("GET", "/bench/bare/", port)],
        "me": [request("GET", "/api/auth/me/", port, token=t) for t in tokens],
        "booking_409": bookings(port, tokens, taken_slot, args.reason),
    }
    results: dict[str, Any] = {}
    for name, payloads in kinds.items():
        seconds: list[float] = []
        statuses: dict[str, int] = {}
        pids = server.pids()
        cpu_before = server.cpu_seconds(pids)
        for i in range(args.sequential):
            (reply,) = await burst([conn], [payloads[i % len(payloads)]])
            statuses[str(reply.status)] = statuses.get(str(reply.status), 0) + 1
            seconds.append(reply.seconds)
        cpu = server.cpu_seconds(pids) - cpu_before
        results[name] = {
            **latency_summary(seconds),
            "statuses": statuses,
            "server_cpu_ms_per_request": round(cpu / max(1, args.sequential) * 1000, 2),
        }
    return results


def summarise(
    rounds: list[dict[str, Any]],
    sequential: dict[str, Any],
    verified: dict[str, Any],
    args: argparse.Namespace,
) -> dict[str, Any]:
    lost = [s for r in rounds for s in r.pop("_lost")]
    won = [s for r in rounds for s in r.pop("_won")]
    me = [s for r in rounds for s in r.pop("_me")]
    bare = [s for r in rounds for s in r.pop("_bare")]
    losers, winners = latency_summary(lost), latency_summary(won)
    me_burst, bare_burst = latency_summary(me), latency_summary(bare)

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 2) if a is not None and b else None

    per_round_p95 = [r["losers"]["p95_ms"] for r in rounds if r["losers"]["p95_ms"] is not None]
    wrong_rounds = sum(not r["correct_answers"] for r in rounds)
    double = int(verified["double_bookings"])
    unbooked = int(verified["slots_without_booking"])
    passed = (
        double == 0
        and unbooked == 0
        and wrong_rounds == 0
        and verified["overlapping_live_appointments"] == 0
        and losers["p95_ms"] is not None
        and losers["p95_ms"] <= TARGET_LOSER_P95_MS
    )
    cores = len(os.sched_getaffinity(0))
    loser_cpu = sequential["booking_409"]["server_cpu_ms_per_request"]
    bare_cpu = sequential["bare"]["server_cpu_ms_per_request"]
    return {
        "losers_409": losers,
        "winners_201": winners,
        "baseline_bare_burst": bare_burst,
        "baseline_me_burst": me_burst,
        "losers_409_p95_median_of_rounds_ms": round(statistics.median(per_round_p95), 2)
        if per_round_p95
        else None,
        "ratios": {
            "loser_p50_over_bare_burst_p50": ratio(losers["p50_ms"], bare_burst["p50_ms"]),
            "loser_p95_over_bare_burst_p95": ratio(losers["p95_ms"], bare_burst["p95_ms"]),
            "loser_p50_over_me_burst_p50": ratio(losers["p50_ms"], me_burst["p50_ms"]),
            "loser_p95_over_me_burst_p95": ratio(losers["p95_ms"], me_burst["p95_ms"]),
            "winner_p50_over_me_burst_p50": ratio(winners["p50_ms"], me_burst["p50_ms"]),
        },
        "one_at_a_time": sequential,
        "cpu_floor": {
            "cores": cores,
            "note": "a burst of N requests needs at least N x CPU per request / cores; the "
            "95th of them finishes no sooner than 0.95 x that",
            "burst_of_409s_ms": round(args.clients * loser_cpu / cores, 1),
            "burst_of_bare_ms": round(args.clients * bare_cpu / cores, 1),
        },
        "correctness": {
            "rounds": len(rounds),
            "rounds_with_wrong_answers": wrong_rounds,
            "double_bookings": double,
            "slots_without_booking": unbooked,
            "overlapping_live_appointments": verified["overlapping_live_appointments"],
            "live_appointments": verified["live_appointments"],
        },
        "pass": passed,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.time()
    busy = background_cores()
    if busy > 0.25:
        log(f"warning: {busy:.2f} cores busy with other work before starting; expect noise")
    with (
        sandbox(args.database_url, keep=args.keep_var) as box,
        bench_database(args.database_url, keep=args.keep_var),
    ):
        log(f"{engine(args.database_url)}: var dir {box.var_dir}; migrating")
        box.manage("migrate", "--no-input", "-v", "0")
        log(f"seeding {args.clients} patients and {args.rounds} fresh slots")
        seeded = seed(
            box,
            "contention",
            "--patients",
            str(args.clients),
            "--rounds",
            str(args.rounds),
        )
        with serve(box, web_processes=args.web_processes) as server:
            log(f"server up at {server.base_url} ({args.web_processes} daphne process(es))")
            pids, database = server.pids(), DatabaseCpu(args.database_url, server)
            database.start()
            cpu_before, wall_before = server.cpu_seconds(pids), time.monotonic()
            system_before, client_before = system_busy_seconds(), time.process_time()
            rounds, sequential = asyncio.run(
                contest(server, args, seeded["tokens"], seeded["slots"])
            )
            wall = time.monotonic() - wall_before
            server_cpu = server.cpu_seconds(pids) - cpu_before
            client_cpu = time.process_time() - client_before
            system = system_busy_seconds() - system_before
            db_cpu = database.stop()
            others = system - server_cpu - client_cpu - db_cpu
            alive = server.process.poll() is None
        if not alive:
            raise RuntimeError("the server died during the run")
        verified = seed(box, "verify", "--slots", str(seed_file(box, "contention")))
    summary = summarise(rounds, sequential, verified, args)
    return {
        "benchmark": "booking-contention",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "machine": machine(),
        "topology": {
            "server": "bin/serve: daphne, careconnect.asgi:application",
            "web_processes": args.web_processes,
            "database": engine(args.database_url),
            "django": django.get_version(),
            "client": "asyncio, one keep-alive connection and token per patient; each burst "
            "sends every request in one loop tick",
        },
        "load": {
            "clients": args.clients,
            "rounds": args.rounds,
            "pause_s": args.pause,
            "request": "POST /api/appointments/ {slot, mode: online}"
            + (" + reason" if args.reason else ""),
            "baselines": "bursts of the same shape before each round: GET /bench/bare/ (Django "
            "and nothing of ours) and GET /api/auth/me/ (token auth and one read)",
            "latency": "from the burst's send to each response's last byte",
            "server_cpu_cores": round(server_cpu / wall, 3),
            "client_cpu_cores": round(client_cpu / wall, 3),
            "database_cpu_cores": round(db_cpu / wall, 3),
            "other_cpu_cores": round(max(0.0, others) / wall, 3),
            "wall_s": round(wall, 1),
        },
        **summary,
        "targets": {"double_bookings": 0, "loser_409_p95_ms_max": TARGET_LOSER_P95_MS},
        "rounds_detail": rounds,
    }


def print_report(report: dict[str, Any]) -> None:
    print()
    top, load = report["topology"], report["load"]
    print(
        f"Booking contention: {top['database']}, {top['web_processes']} daphne process(es), "
        f"{load['clients']} clients x {load['rounds']} rounds"
    )
    print(f"{'':<18}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for label, key in (
        ("409 slot_taken", "losers_409"),
        ("201 winner", "winners_201"),
        ("baseline bare", "baseline_bare_burst"),
        ("baseline me", "baseline_me_burst"),
    ):
        row = report[key]
        cells = [row[k] if row[k] is not None else float("nan") for k in ("p50_ms", "p95_ms")]
        cells += [row[k] if row[k] is not None else float("nan") for k in ("p99_ms", "max_ms")]
        print(f"{label:<18}{row['n']:>6}" + "".join(f"{c:>9.1f}" for c in cells))
    print(f"ratios: {report['ratios']}")
    alone = report["one_at_a_time"]
    print(
        "one at a time (p50 ms / server CPU ms): "
        + ", ".join(
            f"{k} {v['p50_ms']} / {v['server_cpu_ms_per_request']}" for k, v in alone.items()
        )
    )
    print(f"CPU floor of a burst: {report['cpu_floor']}")
    print(f"correctness: {report['correctness']}")
    print(
        f"targets: 0 double bookings, 409 p95 <= {TARGET_LOSER_P95_MS:g} ms: "
        f"{'PASS' if report['pass'] else 'FAIL'}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop_on_sigterm()
    prioritise_generator()
    try:
        report = run(args)
    except KeyboardInterrupt:
        log("interrupted; server stopped")
        return 130
    except RuntimeError as exc:
        log(f"failed: {exc}")
        return 1
    suffix = "" if not args.database_url else "-postgresql"
    path = write_result(f"booking-contention{suffix}", report, args.out)
    print_report(report)
    log(f"wrote {path}")
    return 1 if args.check and not report["pass"] else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
