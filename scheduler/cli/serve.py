"""`scheduler serve`: run the gRPC service (scheduler.v1.Scheduler, health, reflection).

Logs are JSON lines on stderr, with request ids and counts only. SIGTERM or SIGINT shuts down
gracefully: health turns NOT_SERVING for the drain period while calls are still served, then new
calls are refused, running solves are stopped and answer with their best plan, and calls in
flight get the grace period to finish before they are cancelled.

With `--store` (an SQLite file, or a ``postgresql://`` URL) the server also serves
SubmitOptimize, SubmitSimulate and google.longrunning.Operations, and runs the stored jobs: a
job whose server was killed is run again once its lease (`--lease`) expires (a solve from the
best plan its lost attempt had stored); finished jobs are deleted after `--retention-days`.
The store is also the journal of the held calendars (PutCalendar, UpdateCalendar): a restarted
server answers for them, and so does every process of `--processes N` (N servers on one port;
see scheduler.api.processes).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add `serve` to the subcommands."""
    parser = sub.add_parser(
        "serve",
        help="run the gRPC service",
        description=(
            "Serve scheduler.v1.Scheduler (Optimize, OptimizeStream, ProposeSlots, Check) with "
            "gRPC health checking and server reflection. Messages up to 64 MiB. Bearer tokens "
            "come from --token-file and the SCHEDULER_API_TOKENS environment variable."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=50051, help="port (0: any free port)")
    parser.add_argument(
        "--max-concurrent-solves",
        type=int,
        default=1,
        metavar="N",
        help="Optimize calls running at once; more get RESOURCE_EXHAUSTED (default 1)",
    )
    parser.add_argument(
        "--max-concurrent-calls",
        type=int,
        default=8,
        metavar="N",
        help="scheduler calls running at once, solves included; more get RESOURCE_EXHAUSTED "
        "before their request is read (default 8)",
    )
    parser.add_argument(
        "--held-calendars",
        type=int,
        default=16,
        metavar="N",
        help="calendars held for ProposeSlots by reference (PutCalendar); the least recently "
        "used is evicted beyond N (default 16; about 20 MB per København week)",
    )
    parser.add_argument(
        "--calendar-versions",
        type=int,
        default=4,
        metavar="N",
        help="versions kept per held calendar (default 4)",
    )
    parser.add_argument(
        "--drain",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds health reports NOT_SERVING, still serving, before shutdown (default 5)",
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds calls in flight get to finish on shutdown (default 10)",
    )
    parser.add_argument("--tls-cert", type=Path, metavar="PEM", help="server certificate chain")
    parser.add_argument("--tls-key", type=Path, metavar="PEM", help="server private key")
    parser.add_argument(
        "--tls-client-ca",
        type=Path,
        metavar="PEM",
        help="require client certificates signed by this CA (mutual TLS)",
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        metavar="FILE",
        help="accepted bearer tokens, one a line (also: SCHEDULER_API_TOKENS)",
    )
    parser.add_argument(
        "--no-reflection", action="store_true", help="do not serve gRPC server reflection"
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve Prometheus metrics at http://HOST:PORT/metrics (default: not served)",
    )
    parser.add_argument(
        "--metrics-host", default="127.0.0.1", help="address of the metrics endpoint"
    )
    parser.add_argument(
        "--store",
        metavar="PATH|URL",
        help=(
            "job store for SubmitOptimize and SubmitSimulate: an SQLite file (e.g. jobs.db), "
            "or a PostgreSQL URL (postgresql://user@host:port/db) that several servers may share"
        ),
    )
    parser.add_argument(
        "--job-slots",
        type=int,
        default=1,
        metavar="N",
        help="stored jobs solved at once, per process (1)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help=(
            "server processes listening on the one port, sharing held calendars and jobs "
            "through --store (which N > 1 needs); process i serves metrics on "
            "--metrics-port + i (default 1)"
        ),
    )
    parser.add_argument(
        "--lease",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds before a killed server's running job is taken over (default 30)",
    )
    parser.add_argument(
        "--retention-days",
        type=float,
        default=7.0,
        metavar="D",
        help="finished jobs are deleted after this many days (default 7)",
    )
    parser.add_argument(
        "--calendar-retention-days",
        type=float,
        default=7.0,
        metavar="D",
        help="with --store: held calendars are deleted from the store this many days after "
        "their last upload or update (default 7; > 0)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from scheduler.api.server import ServerConfig, TlsConfig, configure_logging, read_tokens, serve

    ports = [args.port] + ([args.metrics_port] if args.metrics_port is not None else [])
    if not all(0 <= p <= 65535 for p in ports):
        print("--port and --metrics-port must be 0–65535", file=sys.stderr)
        return 2
    if (
        args.max_concurrent_solves < 1
        or args.max_concurrent_calls < args.max_concurrent_solves
        or args.grace < 0
        or args.drain < 0
    ):
        print(
            "--max-concurrent-solves must be >= 1, --max-concurrent-calls >= it, "
            "--grace and --drain >= 0",
            file=sys.stderr,
        )
        return 2
    if (args.tls_cert is None) != (args.tls_key is None) or (
        args.tls_client_ca is not None and args.tls_cert is None
    ):
        print(
            "--tls-cert and --tls-key go together (and --tls-client-ca needs them)", file=sys.stderr
        )
        return 2
    try:
        tokens = read_tokens(args.token_file)
    except (OSError, ValueError) as exc:
        print(f"cannot read the bearer tokens: {exc}", file=sys.stderr)
        return 2
    if args.held_calendars < 1 or args.calendar_versions < 1:
        print("--held-calendars and --calendar-versions must be >= 1", file=sys.stderr)
        return 2
    if (
        args.job_slots < 1
        or args.lease <= 0
        or args.retention_days < 0
        or args.calendar_retention_days <= 0
    ):
        print(
            "--job-slots must be >= 1, --lease > 0, --retention-days >= 0, "
            "--calendar-retention-days > 0",
            file=sys.stderr,
        )
        return 2
    from scheduler.api.processes import processes_problem, serve_processes
    from scheduler.jobs.store import StoreError

    tls = None
    if args.tls_cert is not None:
        tls = TlsConfig(args.tls_cert, args.tls_key, args.tls_client_ca)
    config = ServerConfig(
        host=args.host,
        port=args.port,
        max_concurrent_solves=args.max_concurrent_solves,
        max_concurrent_calls=args.max_concurrent_calls,
        tls=tls,
        tokens=tokens,
        reflection=not args.no_reflection,
        metrics_port=args.metrics_port,
        metrics_host=args.metrics_host,
        drain_s=args.drain,
        grace_s=args.grace,
        store=args.store,
        job_slots=args.job_slots,
        lease_s=args.lease,
        retention_s=args.retention_days * 86400.0,
        calendar_retention_s=args.calendar_retention_days * 86400.0,
        held_calendars=args.held_calendars,
        calendar_versions=args.calendar_versions,
    )
    problem = processes_problem(config, args.processes)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    configure_logging()
    try:
        if args.processes > 1:
            return serve_processes(config, args.processes)
        return serve(config)
    except (OSError, StoreError) as exc:
        print(f"cannot serve: {exc}", file=sys.stderr)
        return 1
