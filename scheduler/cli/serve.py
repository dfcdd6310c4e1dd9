"""`scheduler serve`: run the gRPC service (scheduler.v1.Scheduler, health, reflection).

Logs are JSON lines on stderr, with ids and counts only. SIGTERM or SIGINT shuts down
gracefully: health turns NOT_SERVING, running solves are stopped and answer with their best plan,
calls in flight get the grace period to finish, then are cancelled.

With `--store` (an SQLite file, or a ``postgresql://`` URL) the server also serves
SubmitOptimize and google.longrunning.Operations, and runs the stored jobs: a job whose server
was killed is run again once its lease (`--lease`) expires; finished jobs are deleted after
`--retention-days`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add `serve` to the subcommands."""
    parser = sub.add_parser(
        "serve",
        help="run the gRPC service",
        description=(
            "Serve scheduler.v1.Scheduler (Optimize, OptimizeStream, ProposeSlots, Check) with "
            "gRPC health checking and server reflection. Messages up to 64 MiB."
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
        "--workers", type=int, default=16, metavar="N", help="threads serving calls (default 16)"
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds calls in flight get to finish on shutdown (default 10)",
    )
    parser.add_argument(
        "--store",
        metavar="PATH|URL",
        help=(
            "job store for SubmitOptimize: an SQLite file (e.g. jobs.db), or a PostgreSQL URL "
            "(postgresql://user@host:port/db) that several servers may share"
        ),
    )
    parser.add_argument(
        "--job-slots", type=int, default=1, metavar="N", help="stored jobs solved at once (1)"
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
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from scheduler.api.server import configure_logging, serve

    if not 0 <= args.port <= 65535:
        print(f"--port must be 0–65535, got {args.port}", file=sys.stderr)
        return 2
    if args.max_concurrent_solves < 1 or args.workers < 1 or args.grace < 0:
        print("--max-concurrent-solves and --workers must be >= 1, --grace >= 0", file=sys.stderr)
        return 2
    if args.job_slots < 1 or args.lease <= 0 or args.retention_days < 0:
        print("--job-slots must be >= 1, --lease > 0, --retention-days >= 0", file=sys.stderr)
        return 2
    from scheduler.jobs.store import StoreError

    configure_logging()
    try:
        return serve(
            args.host,
            args.port,
            max_concurrent_solves=args.max_concurrent_solves,
            workers=args.workers,
            grace=args.grace,
            store=args.store,
            job_slots=args.job_slots,
            lease_s=args.lease,
            retention_s=args.retention_days * 86400.0,
        )
    except (OSError, StoreError) as exc:
        print(f"cannot serve: {exc}", file=sys.stderr)
        return 1
