#!/usr/bin/env python3
"""Measure the promises of the gRPC service: deadline adherence, cancel latency, shutdown time.

    python scripts/bench_service.py                    # København week (seed 1), 3 s and 6 s
    python scripts/bench_service.py --profile vejen --referrals 300 --deadline 2 --calls 3

- *deadline*: `--calls` Optimize calls with a `--deadline` (time limit 300 s, so the deadline
  binds) on an in-process server: how many came back with a plan (not DEADLINE_EXCEEDED), and
  the answer's time as a share of the deadline;
- *conversion*: parsing, converting and validating the request, the part no stop interrupts;
- *stop before the solve*: ``solve()`` with its stop already set: time to return;
- *cancel*: OptimizeStream, cancelled 0.5 s, 1.5 s, 2.5 s ... after the call started (first
  while the request is still being converted, then in the solve): time from the cancel until
  the server's solve has ended (the CPU is free again);
- *shutdown*: ``scheduler serve --drain 0 --grace G`` as a process with a solve running: time from
  SIGTERM to exit, and whether the client still got its (stopped) plan.

Prints one JSON object; the README quotes it with the load average of the run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import grpc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scheduler.api.convert import (  # noqa: E402
    instance_from_proto,
    instance_to_proto,
    options_to_proto,
)
from scheduler.api.server import start_server  # noqa: E402
from scheduler.bench.generator import generate  # noqa: E402
from scheduler.domain import Instance, SolveOptions  # noqa: E402
from scheduler.planning.solve import solve  # noqa: E402
from scheduler.v1 import scheduler_pb2 as pb  # noqa: E402
from scheduler.v1 import scheduler_pb2_grpc  # noqa: E402
from scheduler.verify.validation import validate_instance  # noqa: E402


def _request(instance: Instance, workers: int) -> pb.OptimizeRequest:
    options = SolveOptions(time_limit_s=300, workers=workers, seed=1)
    return pb.OptimizeRequest(
        instance=instance_to_proto(instance), options=options_to_proto(options)
    )


def _wait(condition: Any, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.005)
    return False


def deadline(instance: Instance, calls: int, seconds: float, workers: int) -> dict[str, Any]:
    running = start_server(port=0)
    request = _request(instance, workers)
    shares: list[float] = []
    plans = 0
    try:
        with grpc.insecure_channel(running.address) as ch:
            stub = scheduler_pb2_grpc.SchedulerStub(ch)
            for _ in range(calls):
                # The previous call's solve ends within a fraction of a second of its deadline.
                assert _wait(lambda: running.guard.in_flight == 0, 60)
                started = time.monotonic()
                try:
                    answer = stub.Optimize(request, timeout=seconds)
                    plans += len(answer.solution.assignments) == len(instance.referrals)
                except grpc.RpcError as exc:
                    print(f"  call ended {exc.code().name}", file=sys.stderr)
                shares.append((time.monotonic() - started) / seconds)
            assert _wait(lambda: running.guard.in_flight == 0, 60)
    finally:
        running.stop(0).wait()
    return {
        "deadline_s": seconds,
        "calls": calls,
        "plans_before_deadline": plans,
        "answer_time_share_of_deadline_max": round(max(shares), 3),
        "answer_time_share_of_deadline_median": round(sorted(shares)[len(shares) // 2], 3),
    }


def conversion(instance: Instance) -> dict[str, Any]:
    """The part of a call no stop interrupts: parsing, converting and validating the request."""
    data = _request(instance, 1).SerializeToString()
    started = time.monotonic()
    request = pb.OptimizeRequest.FromString(data)
    validate_instance(instance_from_proto(request.instance))
    return {"parse_convert_validate_s": round(time.monotonic() - started, 3)}


def stop_before(instance: Instance, workers: int) -> dict[str, Any]:
    stop = threading.Event()
    stop.set()
    started = time.monotonic()
    solve(instance, SolveOptions(time_limit_s=300, workers=workers), stop=stop)
    return {"stop_before_solve_s": round(time.monotonic() - started, 3)}


def cancel(instance: Instance, repeats: int, workers: int) -> dict[str, Any]:
    running = start_server(port=0)
    latencies: list[float] = []
    try:
        with grpc.insecure_channel(running.address) as ch:
            stub = scheduler_pb2_grpc.SchedulerStub(ch)
            for i in range(repeats):
                stream = stub.OptimizeStream(_request(instance, workers))
                assert _wait(lambda: running.service.running_solves == 1, 60)
                time.sleep(0.5 + i * 1.0)  # cancel in a different phase each time
                cancelled = time.monotonic()
                stream.cancel()
                assert _wait(lambda: running.service.running_solves == 0, 60)
                latencies.append(time.monotonic() - cancelled)
                assert _wait(lambda: running.guard.in_flight == 0, 60)
    finally:
        running.stop(0).wait()
    return {"cancel_to_solve_end_s": [round(x, 3) for x in latencies]}


def shutdown(instance: Instance, grace: float, workers: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scheduler",
            "serve",
            "--port",
            "0",
            "--drain",
            "0",
            "--grace",
            str(grace),
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.stderr is not None
    first = json.loads(proc.stderr.readline())
    port = first["port"]
    result: dict[str, Any] = {}
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        stub = scheduler_pb2_grpc.SchedulerStub(ch)
        stream = stub.OptimizeStream(_request(instance, workers), timeout=300)
        events: list[Any] = []
        progressed = threading.Event()

        def read() -> None:
            try:
                for event in stream:
                    events.append(event)
                    progressed.set()
            except grpc.RpcError as exc:
                events.append(exc)
            progressed.set()

        reader = threading.Thread(target=read)
        reader.start()
        progressed.wait(120)  # the solve has made its greedy plan: it is in the solver
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        result["sigterm_to_exit_s"] = round(time.monotonic() - sent, 3)
        result["grace_s"] = grace
        reader.join(10)
        last = events[-1] if events else None
        if isinstance(last, pb.OptimizeEvent) and last.HasField("solution"):
            result["client_got"] = f"plan, status {last.solution.stats.status}"
        else:
            result["client_got"] = last.code().name if isinstance(last, grpc.RpcError) else None
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="koebenhavn")
    parser.add_argument("--referrals", type=int, default=None)
    parser.add_argument(
        "--deadline", type=float, action="append", help="seconds (repeatable; default 3 and 6)"
    )
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--cancels", type=int, default=3)
    parser.add_argument("--grace", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=0, help="CP-SAT workers (0: all cores)")
    args = parser.parse_args()
    instance = generate(args.profile, seed=1, referrals=args.referrals)
    report: dict[str, Any] = {
        "profile": args.profile,
        "referrals": len(instance.referrals),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    report["deadlines"] = [
        deadline(instance, args.calls, seconds, args.workers)
        for seconds in (args.deadline or [3.0, 6.0])
    ]
    report.update(conversion(instance))
    report.update(stop_before(instance, args.workers))
    report.update(cancel(instance, args.cancels, args.workers))
    report.update(shutdown(instance, args.grace, args.workers))
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
