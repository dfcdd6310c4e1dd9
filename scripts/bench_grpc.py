#!/usr/bin/env python3
"""Measure the gRPC service: ProposeSlots latency under concurrent clients, Optimize's overhead.

    python scripts/bench_grpc.py                       # København week, seed 1, 10 clients
    python scripts/bench_grpc.py --calls 40 --skip-optimize
    python scripts/bench_grpc.py --skip-optimize --skip-propose    # held calendars only

ProposeSlots: a server process (``scheduler serve``) on loopback and N client processes, each
with its own channel, calling back to back for different referrals. Two cases:

- *same calendars*: every call sends the same instance: a booking system asking again before
  anything changed;
- *changed calendars*: every call sends an instance the server has not seen (a new booking
  each time): the realistic case, as calendars change with every booking made.

Inline, the server keeps nothing between calls, so both cases cost it the same; they are kept apart
to show that. A third case, *held calendar* (:func:`bench_held`), uploads the calendar once
(PutCalendar, timed) and then calls ProposeSlots by reference ``{calendar_id, version}``, with 1
client and with N; it also times UpdateCalendar (one booking removed and one added). With
``--processes N`` the held case runs on one ``scheduler serve --processes N`` (N processes on one
port, the calendar shared through their store: one calendar's load spread by the kernel over
the processes); with ``--servers N`` on N independent server processes, each holding the
calendar, the clients spread over them (several calendars' load on several processes). Per case the
report gives the clients' latencies and the server's own handler time from its log (``duration_ms``:
from the parsed request to the answer, waiting for the interpreter included; each client's untimed
first call is among them). *alone* is the cost of one call in one thread with nothing else running:
parsing the request message and the ProposeSlots handler, for every referral.

Optimize: ``solve()`` called directly vs the same solve through ``Optimize`` on the in-process
server (conversion both ways, transport, validation), same options, best of `--repeat`; plus the
conversion steps timed alone.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scheduler.api.convert import (  # noqa: E402
    instance_from_proto,
    instance_to_proto,
    options_to_proto,
    solution_from_proto,
    solution_to_proto,
)
from scheduler.api.server import MAX_MESSAGE_BYTES  # noqa: E402
from scheduler.bench.generator import generate  # noqa: E402
from scheduler.domain import Booking, Instance, SolveOptions  # noqa: E402
from scheduler.v1 import scheduler_pb2 as pb  # noqa: E402
from scheduler.v1 import scheduler_pb2_grpc  # noqa: E402
from scheduler.verify.validation import validate_instance  # noqa: E402

_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def _start_server(
    log_path: Path, processes: int = 1
) -> tuple[subprocess.Popen[bytes], str, list[int]]:
    """`scheduler serve` on a free port, its JSON log lines going to `log_path`; returns the
    process, its address and the pids of the server processes. With `processes` > 1, that many
    on one port sharing a store (``--processes``), every one of them serving before this
    returns."""
    command = [sys.executable, "-m", "scheduler", "serve", "--max-concurrent-calls", "16"]
    if processes > 1:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        store = log_path.parent / "store.db"
        command += ["--port", str(port), "--processes", str(processes), "--store", str(store)]
    else:
        command += ["--port", "0"]
    log = log_path.open("wb")
    proc = subprocess.Popen(
        command, cwd=ROOT, stderr=log, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    log.close()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        lines = [json.loads(x) for x in log_path.read_text().splitlines() if x.startswith("{")]
        serving = [x for x in lines if x.get("event") == "serving"]
        if processes == 1 and serving:
            return proc, f"127.0.0.1:{serving[0]['port']}", [proc.pid]
        supervisor = [x for x in lines if x.get("event") == "serving processes"]
        if len(serving) >= processes and supervisor:
            return proc, f"127.0.0.1:{serving[0]['port']}", supervisor[0]["pids"]
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start: " + log_path.read_text()[-1000:])


_START: Any = None
"""A barrier shared by one run's client processes (set by :func:`_join`)."""


def _join(barrier: Any) -> None:
    """Pool initializer: the clients of a run start their timed calls together."""
    global _START
    _START = barrier


def _pool(n: int) -> Any:
    """`n` client processes whose timed calls start together, after every one has started,
    connected and made its untimed first call (so process start-up is not timed)."""
    ctx = mp.get_context("spawn")
    return ctx.Pool(n, initializer=_join, initargs=(ctx.Barrier(n),))


def _client(
    args: tuple[str, bytes, list[str], list[bytes] | None, int, tuple[str, int] | None],
) -> list[float]:
    """One client process: warm up, then time each call (seconds). With `ref` (calendar id,
    version) it calls by reference and sends no instance."""
    import grpc

    address, instance_bytes, referral_ids, variants, k, ref = args
    base = pb.Instance.FromString(instance_bytes)
    calendar = pb.CalendarRef(calendar_id=ref[0], version=ref[1]) if ref is not None else None
    with grpc.insecure_channel(address, options=_OPTIONS) as channel:
        stub = scheduler_pb2_grpc.SchedulerStub(channel)
        if calendar is not None:
            stub.ProposeSlots(
                pb.ProposeSlotsRequest(calendar=calendar, referral_id=referral_ids[0], k=k)
            )
            requests = [
                pb.ProposeSlotsRequest(calendar=calendar, referral_id=rid, k=k)
                for rid in referral_ids
            ]
        else:
            stub.ProposeSlots(
                pb.ProposeSlotsRequest(instance=base, referral_id=referral_ids[0], k=k)
            )
            requests = [
                pb.ProposeSlotsRequest(
                    instance=pb.Instance.FromString(variants[i]) if variants else base,
                    referral_id=rid,
                    k=k,
                )
                for i, rid in enumerate(referral_ids)
            ]
        if _START is not None:
            _START.wait(timeout=120)  # every client warmed up: time only the calls together
        latencies = []
        for request in requests:
            started = time.perf_counter()
            try:
                stub.ProposeSlots(request, timeout=30)
            except grpc.RpcError as error:  # RpcError does not pickle: report it as text
                raise RuntimeError(f"{error.code().name}: {error.details()}") from None
            latencies.append(time.perf_counter() - started)
    return latencies


def _variants(instance: Instance, count: int, salt: int) -> list[bytes]:
    """Instances that differ by one new meeting each: every one is new to the server's cache."""
    therapist = instance.therapists[0].id
    day = datetime.combine(instance.planning_date, datetime.min.time())
    out = []
    for i in range(count):
        start = day + timedelta(days=7 * (1 + (salt * count + i) // 400), minutes=1 + i % 400)
        meeting = Booking(
            id=f"B-bench-{salt}-{i}",
            therapist_id=therapist,
            start=start,
            end=start + timedelta(minutes=1),
        )
        changed = instance.model_copy(update={"bookings": [*instance.bookings, meeting]})
        out.append(instance_to_proto(changed).SerializeToString())
    return out


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system, every thread) a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _handler_ms(log_path: Path, skip: int) -> tuple[list[float], int]:
    """The ProposeSlots handler times logged after the first `skip` lines, and the line count."""
    lines = log_path.read_text().splitlines()
    times = [
        float(entry["duration_ms"])
        for entry in map(json.loads, lines[skip:])
        if entry.get("method") == "ProposeSlots"
    ]
    return times, len(lines)


def _summary(latencies_ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(_percentile(latencies_ms, 50), 1),
        "p99_ms": round(_percentile(latencies_ms, 99), 1),
        "max_ms": round(max(latencies_ms), 1),
    }


def bench_propose(instance: Instance, clients: int, calls: int, k: int) -> dict[str, Any]:
    log_path = Path(tempfile.mkdtemp(prefix="bench-grpc-")) / "server.log"
    proc, address, _ = _start_server(log_path)
    try:
        data = instance_to_proto(instance).SerializeToString()
        ids = [r.id for r in instance.referrals]
        results: dict[str, Any] = {"request_bytes": len(data)}
        _client((address, data, ids[:1], None, k, None))  # the server's first call loads code
        for case in ("same calendars", "changed calendars"):
            jobs = []
            for c in range(clients):
                mine = [ids[(c * calls + i) % len(ids)] for i in range(calls)]
                variants = _variants(instance, calls, c) if case == "changed calendars" else None
                jobs.append((address, data, mine, variants, k, None))
            _, logged = _handler_ms(log_path, 0)
            started = time.perf_counter()
            with _pool(clients) as pool:
                per_client = pool.map(_client, jobs)
            wall = time.perf_counter() - started
            latencies = [x for xs in per_client for x in xs]
            time.sleep(0.5)  # let the server's last log lines land
            handler, _ = _handler_ms(log_path, logged)
            results[case] = {
                "calls": len(latencies),
                "p50_ms": round(1000 * _percentile(latencies, 50), 1),
                "p99_ms": round(1000 * _percentile(latencies, 99), 1),
                "mean_ms": round(1000 * statistics.fmean(latencies), 1),
                "max_ms": round(1000 * max(latencies), 1),
                "server_handler": _summary(handler),
                "wall_s_incl_client_start": round(wall, 1),
            }
        return results
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def bench_held(
    instance: Instance, clients: int, calls: int, k: int, servers: int = 1, processes: int = 1
) -> dict[str, Any]:
    """ProposeSlots by reference on a held calendar: PutCalendar once, then 1 client and
    `clients` clients calling by reference; UpdateCalendar timed (one booking out, one in).

    With `processes` > 1, one ``scheduler serve --processes N`` (N server processes on one
    port, sharing the calendar through a store): the clients' connections are spread over the
    processes by the kernel, the calendar uploaded through one of them and rebuilt from the
    store by the others on their first call (untimed). With `servers` > 1, that many
    independent server processes, each holding the calendar, client c calling server c mod
    `servers`: the load of several calendars spread over processes, as a proxy with
    calendar-id affinity would. Server CPU is summed over the server processes."""
    import grpc

    logs = [
        Path(tempfile.mkdtemp(prefix="bench-grpc-held-")) / "server.log" for _ in range(servers)
    ]
    launched = [_start_server(log_path, processes) for log_path in logs]
    started_servers = [(proc, address) for proc, address, _ in launched]
    pids = [pid for _, _, ps in launched for pid in ps]
    try:
        msg = instance_to_proto(instance)
        data = msg.SerializeToString()
        ids = [r.id for r in instance.referrals]
        results: dict[str, Any] = {
            "request_bytes_inline": len(data),
            "servers": servers,
            "processes": processes,
        }
        refs = []
        for n, (_, address) in enumerate(started_servers):
            with grpc.insecure_channel(address, options=_OPTIONS) as channel:
                stub = scheduler_pb2_grpc.SchedulerStub(channel)
                started = time.perf_counter()
                put = stub.PutCalendar(
                    pb.PutCalendarRequest(calendar_id="bench", instance=msg), timeout=120
                )
                put_ms = round(1000 * (time.perf_counter() - started), 1)
                version = put.version
                update_ms = []
                for i in range(5 if n == 0 else 0):
                    old = msg.bookings[i]
                    moved = pb.Booking()
                    moved.CopyFrom(old)  # removed and added again: its day re-indexed
                    started = time.perf_counter()
                    version = stub.UpdateCalendar(
                        pb.UpdateCalendarRequest(
                            calendar_id="bench",
                            base_version=version,
                            bookings_removed=[old.id],
                            bookings_added=[moved],
                        ),
                        timeout=120,
                    ).version
                    update_ms.append(1000 * (time.perf_counter() - started))
                if n == 0:
                    results["put_calendar_ms"] = put_ms
                    results["update_calendar_ms"] = _summary(update_ms)
                    request = pb.ProposeSlotsRequest(
                        calendar=pb.CalendarRef(calendar_id="bench", version=version),
                        referral_id=ids[0],
                    )
                    results["request_bytes_by_reference"] = request.ByteSize()
            refs.append((address, ("bench", version)))
        for n in sorted({1, clients}):
            jobs = [
                (
                    refs[c % servers][0],
                    data,
                    [ids[(c * calls + i) % len(ids)] for i in range(calls)],
                    None,
                    k,
                    refs[c % servers][1],
                )
                for c in range(n)
            ]
            logged = [_handler_ms(log_path, 0)[1] for log_path in logs]
            cpu_before = sum(_cpu_s(pid) for pid in pids)
            with _pool(n) as pool:
                per_client = pool.map(_client, jobs)
            server_cpu = sum(_cpu_s(pid) for pid in pids) - cpu_before
            latencies = [x for xs in per_client for x in xs]
            time.sleep(0.5)
            handler = [
                ms
                for log_path, skip in zip(logs, logged, strict=True)
                for ms in _handler_ms(log_path, skip)[0]
            ]
            results[f"{n} client(s)"] = {
                "calls": len(latencies),
                "p50_ms": round(1000 * _percentile(latencies, 50), 2),
                "p99_ms": round(1000 * _percentile(latencies, 99), 2),
                "mean_ms": round(1000 * statistics.fmean(latencies), 2),
                "max_ms": round(1000 * max(latencies), 1),
                "server_handler": _summary(handler),
                "server_handler_mean_ms": round(statistics.fmean(handler), 2),
                # The servers' CPU (all threads: transport, interceptor, log, handler)
                # per call, the untimed first calls included: what the load does not change.
                "server_cpu_ms_per_call": round(1000 * server_cpu / (len(latencies) + n), 2),
            }
        return results
    finally:
        for proc, _ in started_servers:
            proc.terminate()
        for proc, _ in started_servers:
            proc.wait(timeout=30)


class _Context:
    """The little of a grpc.ServicerContext that a successful unary call touches."""

    def code(self) -> None:
        return None

    def time_remaining(self) -> None:
        return None  # no deadline

    def add_callback(self, callback: Any) -> bool:
        return True  # a call that never ends early

    def is_active(self) -> bool:
        return True


def bench_propose_alone(instance: Instance, k: int) -> dict[str, Any]:
    """One call at a time in this thread, for every referral: parse the request, handle it."""
    from scheduler.api.service import SchedulerService

    service = SchedulerService()
    data = instance_to_proto(instance).SerializeToString()
    times = []
    for referral in instance.referrals:
        wire = pb.ProposeSlotsRequest(
            instance=pb.Instance.FromString(data), referral_id=referral.id, k=k
        ).SerializeToString()
        started = time.perf_counter()
        service.ProposeSlots(pb.ProposeSlotsRequest.FromString(wire), _Context())
        times.append(1000 * (time.perf_counter() - started))
    return {"calls": len(times), **_summary(times), "mean_ms": round(statistics.fmean(times), 1)}


def bench_held_alone(instance: Instance, k: int) -> dict[str, Any]:
    """One call at a time in this thread, for every referral, by reference to a held calendar:
    parse the small request, handle it."""
    from scheduler.api.service import SchedulerService

    service = SchedulerService()
    put = service.PutCalendar(
        pb.PutCalendarRequest(calendar_id="alone", instance=instance_to_proto(instance)),
        _Context(),
    )
    times = []
    for referral in instance.referrals:
        wire = pb.ProposeSlotsRequest(
            calendar=pb.CalendarRef(calendar_id="alone", version=put.version),
            referral_id=referral.id,
            k=k,
        ).SerializeToString()
        started = time.perf_counter()
        service.ProposeSlots(pb.ProposeSlotsRequest.FromString(wire), _Context())
        times.append(1000 * (time.perf_counter() - started))
    return {
        "calls": len(times),
        "p50_ms": round(_percentile(times, 50), 2),
        "p99_ms": round(_percentile(times, 99), 2),
        "max_ms": round(max(times), 1),
        "mean_ms": round(statistics.fmean(times), 2),
    }


def bench_optimize(instance: Instance, options: SolveOptions, repeat: int) -> dict[str, Any]:
    import grpc

    from scheduler.api.server import start_server
    from scheduler.planning.solve import solve

    direct = []
    for _ in range(repeat):
        started = time.perf_counter()
        solve(instance, options)
        direct.append(time.perf_counter() - started)
    running = start_server(port=0)
    through = []
    try:
        with grpc.insecure_channel(running.address, options=_OPTIONS) as channel:
            stub = scheduler_pb2_grpc.SchedulerStub(channel)
            for _ in range(repeat):
                started = time.perf_counter()
                request = pb.OptimizeRequest(
                    instance=instance_to_proto(instance), options=options_to_proto(options)
                )
                solution_from_proto(stub.Optimize(request, timeout=600).solution)
                through.append(time.perf_counter() - started)
    finally:
        running.stop(0).wait()
    # The steps of the overhead, alone.
    solution = solve(instance, options)
    steps: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        best = float("inf")
        value = None
        for _ in range(3):
            started = time.perf_counter()
            value = fn()
            best = min(best, time.perf_counter() - started)
        steps[name] = round(1000 * best, 1)
        return value

    msg = timed("client: instance_to_proto", lambda: instance_to_proto(instance))
    wire = timed("client: serialize instance", msg.SerializeToString)
    parsed = timed("server: parse instance", lambda: pb.Instance.FromString(wire))
    timed("server: instance_from_proto", lambda: instance_from_proto(parsed))
    timed("server: validate_instance", lambda: validate_instance(instance))
    out = timed("server: solution_to_proto", lambda: solution_to_proto(solution))
    timed("client: solution_from_proto", lambda: solution_from_proto(out))
    return {
        "options": options.model_dump(exclude={"weights"}),
        "solve_direct_s": [round(x, 2) for x in direct],
        "optimize_grpc_s": [round(x, 2) for x in through],
        "overhead_s_best_vs_best": round(min(through) - min(direct), 2),
        "steps_ms": steps,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="koebenhavn")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--calls", type=int, default=30, help="calls per client and case")
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=0, help="CP-SAT workers (0: all cores)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-optimize", action="store_true")
    parser.add_argument("--skip-propose", action="store_true", help="skip the inline cases")
    parser.add_argument("--skip-held", action="store_true", help="skip the held-calendar case")
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="server processes in the held-calendar case, each holding the calendar (client c "
        "calls server c mod N)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="the held-calendar case on one `scheduler serve --processes N` (N processes on one "
        "port sharing the calendar through a store)",
    )
    args = parser.parse_args()
    instance = generate(args.profile, seed=args.seed)
    report: dict[str, Any] = {
        "instance": {
            "profile": args.profile,
            "seed": args.seed,
            "sites": len(instance.sites),
            "therapists": len(instance.therapists),
            "bookings": len(instance.bookings),
            "referrals": len(instance.referrals),
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
    }
    if not args.skip_propose:
        report["propose_slots"] = {
            "clients": args.clients,
            "k": args.k,
            "alone": bench_propose_alone(instance, args.k),
            **bench_propose(instance, args.clients, args.calls, args.k),
        }
    if not args.skip_held:
        report["propose_slots_held_calendar"] = {
            "clients": args.clients,
            "k": args.k,
            "alone": bench_held_alone(instance, args.k),
            **bench_held(instance, args.clients, args.calls, args.k, args.servers, args.processes),
        }
    if not args.skip_optimize:
        options = SolveOptions(time_limit_s=args.time_limit, workers=args.workers, seed=1)
        report["optimize"] = bench_optimize(instance, options, args.repeat)
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
