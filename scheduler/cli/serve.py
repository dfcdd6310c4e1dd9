"""`scheduler serve`: run the gRPC service (scheduler.v1.Scheduler, health, reflection).

Logs are JSON lines on stderr, with ids and counts only. SIGTERM or SIGINT shuts down
gracefully: health turns NOT_SERVING, running solves are stopped and answer with their best plan,
calls in flight get the grace period to finish, then are cancelled.
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
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from scheduler.api.server import configure_logging, serve

    if not 0 <= args.port <= 65535:
        print(f"--port must be 0–65535, got {args.port}", file=sys.stderr)
        return 2
    if args.max_concurrent_solves < 1 or args.workers < 1 or args.grace < 0:
        print("--max-concurrent-solves and --workers must be >= 1, --grace >= 0", file=sys.stderr)
        return 2
    configure_logging()
    try:
        return serve(
            args.host,
            args.port,
            max_concurrent_solves=args.max_concurrent_solves,
            workers=args.workers,
            grace=args.grace,
        )
    except OSError as exc:
        print(f"cannot serve: {exc}", file=sys.stderr)
        return 1
