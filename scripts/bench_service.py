#!/usr/bin/env python3
"""Measure the promises of the gRPC service: deadline adherence, cancel latency, shutdown time.

    python scripts/bench_service.py                    # København week (seed 1), 3 s and 6 s
    python scripts/bench_service.py --deadline 3 --calls 6 --burners 2   # beside 2 CPU burners
    python scripts/bench_service.py --profile vejen --referrals 300 --deadline 2 --calls 3

- *deadline*: `--calls` Optimize calls with a `--deadline` (time limit 300 s, so the deadline
  binds) on a ``scheduler serve`` process: how many came back with a plan, how many ended
  DEADLINE_EXCEEDED (and whether the server said so itself, before the deadline), and the
  answer's time as a share of the deadline;
- *conversion*: parsing, converting and validating the request, and the stop latency during it:
  the budget's stop set at several points of the conversion, time until it has ended;
- *finish*: what happens after a budget ends: the solve's overrun past its (reserve-cut) limit,
  the CPU time of making the answer (assignments, KPIs) and of its message;
- *stop before the solve*: ``solve()`` with its stop already set: time to return;
- *cancel*: OptimizeStream on an in-process server, cancelled 0.3 s, 1.3 s, 2.3 s ... after the
  call started (first while the request is still being converted, then in the solve): time
  from the cancel until the server's solve has ended (the CPU is free again);
- *shutdown*: ``scheduler serve --drain 0 --grace G`` as a process with a solve running: time from
  SIGTERM to exit, its exit status, and whether the client still got its (stopped) plan.

`--burners N` runs N busy loops (``python -c 'while 1: pass'``) beside the measurements, as
other work on the machine would; they are ended at the end. Prints one JSON object with the
load average (``os.getloadavg``) at the start and end of each part; the README quotes it.
"""

from __future__ import annotations

import argparse
import contextlib
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

import scheduler.planning.solve as solve_module  # noqa: E402
from scheduler.api.convert import (  # noqa: E402
    instance_from_proto,
    instance_to_proto,
    options_to_proto,
    solution_to_proto,
)
from scheduler.api.server import settle_heap, start_server  # noqa: E402
from scheduler.bench.generator import generate  # noqa: E402
from scheduler.domain import Instance, SolveOptions  # noqa: E402
from scheduler.planning.budget import Budget, BudgetExpired  # noqa: E402
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


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _serve(
    grace: float, log: list[dict[str, Any]] | None = None
) -> tuple[subprocess.Popen[str], int]:
    """`scheduler serve --port 0 --drain 0 --grace G` as a process, and its port; its log lines
    are appended to `log`."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "scheduler", "serve", "--port", "0", "--drain", "0"]
    proc = subprocess.Popen(
        [*command, "--grace", str(grace)], stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    assert proc.stderr is not None
    port = json.loads(proc.stderr.readline())["port"]
    lines = log if log is not None else []

    def read(stream: Any) -> None:  # keeps reading, so a full pipe never blocks the server
        for line in stream:
            with contextlib.suppress(ValueError):
                lines.append(json.loads(line))

    threading.Thread(target=read, args=(proc.stderr,), daemon=True).start()
    return proc, port


def deadline(instance: Instance, calls: int, seconds: float, workers: int) -> dict[str, Any]:
    log: list[dict[str, Any]] = []
    proc, port = _serve(grace=1.0, log=log)
    request = _request(instance, workers)
    shares: list[float] = []
    plans = exceeded = early = 0
    load_start = _load()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            stub = scheduler_pb2_grpc.SchedulerStub(ch)
            for _ in range(calls):
                time.sleep(1.0)  # the previous call's solve ends within a fraction of a second
                started = time.monotonic()
                try:
                    answer = stub.Optimize(request, timeout=seconds)
                    plans += len(answer.solution.assignments) == len(instance.referrals)
                except grpc.RpcError as exc:
                    exceeded += exc.code() is grpc.StatusCode.DEADLINE_EXCEEDED
                    # The server's own DEADLINE_EXCEEDED carries its explanation.
                    early += "deadline left no time" in (exc.details() or "")
                    print(f"  call ended {exc.code().name}: {exc.details()}", file=sys.stderr)
                shares.append((time.monotonic() - started) / seconds)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    keys = ("code", "duration_ms", "pace", "budget_s", "solve_s", "status")
    calls_logged = [
        {k: entry.get(k) for k in keys}
        for entry in log
        if entry.get("event") == "rpc" and entry.get("method") == "Optimize"
    ]
    return {
        "deadline_s": seconds,
        "calls": calls,
        "plans_before_deadline": plans,
        "deadline_exceeded": exceeded,
        "deadline_exceeded_said_by_the_server": early,
        "answer_time_share_of_deadline_max": round(max(shares), 3),
        "answer_time_share_of_deadline_median": round(sorted(shares)[len(shares) // 2], 3),
        "load_average": [load_start, _load()],
        "server_log": calls_logged,
    }


def conversion(instance: Instance) -> dict[str, Any]:
    """Parsing, converting and validating the request; then the same with the budget's stop set
    at points spread over it: how long after the stop the work ended."""
    data = _request(instance, 1).SerializeToString()
    load_start = _load()
    started = time.monotonic()
    request = pb.OptimizeRequest.FromString(data)
    validate_instance(instance_from_proto(request.instance))
    took = time.monotonic() - started
    latencies: list[float] = []
    for share in (0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95):
        budget = Budget(None)
        timer = threading.Timer(share * took, budget.stop.set)
        timer.start()
        try:
            message = pb.OptimizeRequest.FromString(data)
            validate_instance(instance_from_proto(message.instance, budget=budget), budget)
        except BudgetExpired:
            latencies.append(time.monotonic() - (budget.started + share * took))
        timer.join()
    return {
        "parse_convert_validate_s": round(took, 3),
        "stop_during_conversion_to_end_s": [round(x, 3) for x in latencies],
        "conversion_load_average": [load_start, _load()],
    }


def finish(instance: Instance, workers: int) -> dict[str, Any]:
    """After a budget ends: how far past its limit the solve returns, and the CPU time of the
    answer (make_solution: assignments, KPIs; then the answer's message)."""
    cpu: dict[str, float] = {}
    real = solve_module.make_solution

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return real(*args, **kwargs)
        finally:
            cpu["make_solution"] = time.thread_time() - started

    solve_module.make_solution = timed  # type: ignore[assignment]
    overruns: list[float] = []
    reserves: list[float] = []
    paces: list[float] = []
    try:
        for limit in (2.0, 3.0, 4.0):
            budget = Budget(limit)
            solution = solve(
                instance, SolveOptions(time_limit_s=300, workers=workers, seed=1), budget=budget
            )
            overruns.append(time.monotonic() - (budget.started + limit))
            reserves.append(limit - budget.limit_s)
            paces.append(budget.pace)
    finally:
        solve_module.make_solution = real
    started = time.thread_time()
    pb.OptimizeResponse(solution=solution_to_proto(solution)).SerializeToString()
    return {
        "solve_limits_s": [2.0, 3.0, 4.0],
        "solve_returned_after_its_limit_s": [round(x, 3) for x in overruns],
        "finish_reserve_s": [round(x, 3) for x in reserves],
        "pace": [round(x, 2) for x in paces],
        "make_solution_cpu_s": round(cpu["make_solution"], 3),
        "answer_message_cpu_s": round(time.thread_time() - started, 3),
        "bookings": len(instance.bookings),
    }


def stop_before(instance: Instance, workers: int) -> dict[str, Any]:
    stop = threading.Event()
    stop.set()
    started = time.monotonic()
    solve(instance, SolveOptions(time_limit_s=300, workers=workers), stop=stop)
    return {"stop_before_solve_s": round(time.monotonic() - started, 3)}


def cancel(instance: Instance, repeats: int, workers: int) -> dict[str, Any]:
    running = start_server(port=0)
    settle_heap()  # as `scheduler serve` does
    latencies: list[float] = []
    load_start = _load()
    try:
        with grpc.insecure_channel(running.address) as ch:
            stub = scheduler_pb2_grpc.SchedulerStub(ch)
            for i in range(repeats):
                stream = stub.OptimizeStream(_request(instance, workers))
                assert _wait(lambda: running.service.running_solves == 1, 60)
                time.sleep(0.3 + i * 1.0)  # cancel in a different phase each time
                cancelled = time.monotonic()
                stream.cancel()
                assert _wait(lambda: running.service.running_solves == 0, 60)
                latencies.append(time.monotonic() - cancelled)
                assert _wait(lambda: running.guard.in_flight == 0, 60)
    finally:
        running.stop(0).wait()
    return {
        "cancel_to_solve_end_s": [round(x, 3) for x in latencies],
        "cancel_load_average": [load_start, _load()],
    }


def shutdown(instance: Instance, grace: float, workers: int) -> dict[str, Any]:
    proc, port = _serve(grace)
    load_start = _load()
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
        result["exit_status"] = proc.wait(timeout=60)
        result["sigterm_to_exit_s"] = round(time.monotonic() - sent, 3)
        result["grace_s"] = grace
        result["shutdown_load_average"] = [load_start, _load()]
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
    parser.add_argument(
        "--burners", type=int, default=0, help="busy loops to run beside it (default 0)"
    )
    parser.add_argument(
        "--only",
        default="deadline,conversion,finish,stop,cancel,shutdown",
        help="comma-separated parts to run (default: all)",
    )
    args = parser.parse_args()
    parts = set(args.only.split(","))
    instance = generate(args.profile, seed=1, referrals=args.referrals)
    settle_heap()  # the in-process parts run on a heap settled as `scheduler serve` settles its
    burners = [
        subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(args.burners)
    ]
    try:
        report: dict[str, Any] = {
            "profile": args.profile,
            "referrals": len(instance.referrals),
            "bookings": len(instance.bookings),
            "cpus": os.cpu_count(),
            "burners": args.burners,
            "load_average_at_start": _load(),
        }
        if "deadline" in parts:
            report["deadlines"] = [
                deadline(instance, args.calls, seconds, args.workers)
                for seconds in (args.deadline or [3.0, 6.0])
            ]
        if "conversion" in parts:
            report.update(conversion(instance))
        if "finish" in parts:
            report.update(finish(instance, args.workers))
        if "stop" in parts:
            report.update(stop_before(instance, args.workers))
        if "cancel" in parts:
            report.update(cancel(instance, args.cancels, args.workers))
        if "shutdown" in parts:
            report.update(shutdown(instance, args.grace, args.workers))
        report["load_average_at_end"] = _load()
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
