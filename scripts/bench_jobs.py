#!/usr/bin/env python3
"""The job store's throughput: jobs submitted and completed per second, SQLite and PostgreSQL.

    python scripts/bench_jobs.py [--jobs 200] [--clients 4] [--slots 2] [--postgres URL]

For each store, an in-process server (``start_server`` with the store, `--slots` runner
threads) on a fresh store; `--clients` threads submit `--jobs` SubmitOptimize calls of a trivial
instance (tests/data/tiny-soenderborg.json: 3 referrals, 2 therapists, one worker, proven optimal
in about a tenth of a second) through gRPC, then the script waits until every job succeeded.
Submitted/s is the jobs over the time to submit them all; completed/s the jobs over the time
from the first submit to the last job finished. A second row per store ("store alone") measures
the store's own operations without gRPC and without solving: `--clients` threads submit the
same instance JSON, then `--slots` threads claim, heartbeat and finish each job with a stored
solution JSON of the same instance. Without --postgres a private server is started
(scripts/pg_cluster.py). Prints a table and the load average (`uptime`) at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from concurrent import futures
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _bench(target: str, jobs: int, clients: int, slots: int) -> tuple[float, float, float]:
    import grpc

    from scheduler.api.convert import instance_to_proto, options_to_proto
    from scheduler.api.server import start_server
    from scheduler.domain import SolveOptions
    from scheduler.domain.files import load_instance
    from scheduler.jobs.sql import SqlJobStore
    from scheduler.jobs.store import open_store
    from scheduler.v1 import scheduler_pb2 as pb
    from scheduler.v1 import scheduler_pb2_grpc

    instance = load_instance(ROOT / "tests" / "data" / "tiny-soenderborg.json")
    request = pb.SubmitOptimizeRequest(
        instance=instance_to_proto(instance),
        options=options_to_proto(SolveOptions(time_limit_s=10, workers=1, seed=1)),
    )
    store = open_store(target)
    assert isinstance(store, SqlJobStore)
    running = start_server(port=0, job_store=store, job_slots=slots, max_concurrent_calls=16)
    try:
        with grpc.insecure_channel(running.address) as channel:
            stub = scheduler_pb2_grpc.SchedulerStub(channel)  # type: ignore[no-untyped-call]
            stub.Check(pb.CheckRequest(instance=request.instance), timeout=30)  # warm up
            counter = iter(range(jobs))
            lock = threading.Lock()

            def submit() -> int:
                n = 0
                while True:
                    with lock:
                        if next(counter, None) is None:
                            return n
                    stub.SubmitOptimize(request, timeout=60)
                    n += 1

            started = time.perf_counter()
            with futures.ThreadPoolExecutor(clients) as pool:
                assert sum(pool.map(lambda _: submit(), range(clients))) == jobs
            submitted = time.perf_counter() - started
            while True:
                counts = store.count()
                if counts.get("succeeded", 0) + counts.get("failed", 0) >= jobs:
                    break
                time.sleep(0.02)
            completed = time.perf_counter() - started
            assert counts.get("failed", 0) == 0, counts
    finally:
        running.stop(0).wait()
        store.close()
    return jobs / submitted, jobs / completed, completed


def _bench_store(target: str, jobs: int, clients: int, slots: int) -> tuple[float, float, float]:
    from scheduler.domain import SolveOptions
    from scheduler.domain.files import dump_instance, dump_solution, load_instance
    from scheduler.jobs.store import open_store
    from scheduler.planning.solve import solve

    instance = load_instance(ROOT / "tests" / "data" / "tiny-soenderborg.json")
    options = SolveOptions(time_limit_s=10, workers=1, seed=1)
    instance_json, options_json = dump_instance(instance), options.model_dump_json()
    solution_json = dump_solution(solve(instance, options))
    store = open_store(target)
    try:
        started = time.perf_counter()

        def submit(k: int) -> None:
            for _ in range(k, jobs, clients):
                store.submit(
                    instance_json,
                    options_json,
                    instance_name=instance.name,
                    referrals=len(instance.referrals),
                    request_id=None,
                    now=time.time(),
                )

        with futures.ThreadPoolExecutor(clients) as pool:
            list(pool.map(submit, range(clients)))
        submitted = time.perf_counter() - started

        def work(k: int) -> int:
            n = 0
            while (job := store.claim(f"bench-{k}", 30, time.time())) is not None:
                store.heartbeat(job.id, f"bench-{k}", 30, time.time(), '{"stage": "tail"}')
                assert store.finish(job.id, f"bench-{k}", time.time(), solution_json=solution_json)
                n += 1
            return n

        with futures.ThreadPoolExecutor(slots) as pool:
            assert sum(pool.map(work, range(slots))) == jobs
        completed = time.perf_counter() - started
    finally:
        store.close()
    return jobs / submitted, jobs / completed, completed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4, help="threads submitting")
    parser.add_argument("--slots", type=int, default=2, help="runner threads (--job-slots)")
    parser.add_argument("--postgres", metavar="URL", help="an empty database (default: private)")
    args = parser.parse_args(argv)

    import logging

    logging.getLogger("scheduler").setLevel(logging.WARNING)
    rows = []
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        url = args.postgres
        if url is None:
            from pg_cluster import private_cluster

            url = stack.enter_context(private_cluster())
        if args.postgres is None:
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("CREATE DATABASE bench_server")
                conn.execute("CREATE DATABASE bench_store")
        for name, sqlite, db in (("server", "server.db", "bench_server"),
                                 ("store alone", "store.db", "bench_store")):  # fmt: skip
            bench = _bench if name == "server" else _bench_store
            for store, target in (
                ("sqlite", str(Path(tmp) / sqlite)),
                ("postgresql", url if args.postgres else url.rsplit("/", 1)[0] + "/" + db),
            ):
                sub, done, wall = bench(target, args.jobs, args.clients, args.slots)
                rows.append((f"{store}, {name}", sub, done, wall))
    print(
        f"{args.jobs} trivial jobs, {args.clients} submitting clients, {args.slots} runner "
        f"slots, {os.cpu_count()} CPUs"
    )
    print(f"{'store, measured through':<25} {'submitted/s':>11} {'completed/s':>11} {'wall s':>7}")
    for name, sub, done, wall in rows:
        print(f"{name:<25} {sub:>11.1f} {done:>11.1f} {wall:>7.1f}")
    print("load average (1, 5, 15 min):", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
