"""`scheduler simulate`: months of daily referrals in one municipality, per booking strategy.

Runs :func:`scheduler.simulation.simulate` for a profile, a number of measured weeks (after the
profile's burn-in) and a seed, prints the Markdown table to stdout and, with ``--out DIR``,
writes CSV, JSON, the table and PNG plots there. A progress bar goes to stderr. Exit code 0:
done and the checker accepted every day's plan; 1: a checker violation or an unwritable
``--out``; 2: a bad option.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from scheduler.bench.profiles import PROFILES
from scheduler.simulation import STRATEGIES
from scheduler.simulation.metrics import summarise
from scheduler.simulation.report import PlotsUnavailableError, markdown_table, write_report
from scheduler.simulation.settings import SimulationSettings

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add `simulate` to the subcommands."""
    parser = sub.add_parser(
        "simulate",
        help="simulate months of daily referrals and compare booking strategies",
        description=(
            "A discrete-event simulation, deterministic by seed: each working day the day's "
            "plans arrive, the strategy books, bookings are communicated at their letter date, "
            "courses fill the calendars, therapists fall ill. Every day's plan is checked by "
            f"the independent checker. Profiles: {', '.join(PROFILES)}. "
            f"Strategies: {', '.join(STRATEGIES)}."
        ),
    )
    parser.add_argument("--profile", required=True, metavar="NAME", help="municipality profile")
    parser.add_argument("--weeks", type=int, default=13, metavar="N", help="weeks measured")
    parser.add_argument("--seed", type=int, default=1, metavar="S", help="random seed")
    parser.add_argument(
        "--strategy",
        default=",".join(STRATEGIES),
        metavar="LIST",
        help=f"comma-separated strategies (default: all: {','.join(STRATEGIES)})",
    )
    parser.add_argument("--out", type=Path, metavar="DIR", help="write CSV, JSON, MD, PNG here")
    parser.add_argument(
        "--time-limit", type=float, default=3.0, metavar="S", help="CP-SAT seconds per solve"
    )
    parser.add_argument("--workers", type=int, default=1, metavar="N", help="CP-SAT workers")
    parser.add_argument(
        "--burn-in-weeks", type=int, metavar="N", help="override the profile's burn-in weeks"
    )
    parser.add_argument(
        "--therapists", type=int, metavar="N", help="override the profile's number of therapists"
    )
    parser.add_argument(
        "--referrals-per-week", type=float, metavar="X", help="override the weekly volume"
    )
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument(
        "--ray",
        default=None,
        metavar="auto|local|ADDRESS",
        help=(
            "run the strategies' measured weeks (independent after the shared burn-in) on a Ray "
            "cluster (auto: the running one; local: start one here; or its address); needs "
            "scheduler[ray]"
        ),
    )
    parser.set_defaults(run=run)


class _Bar:
    """A one-line progress bar on stderr."""

    def __init__(self, total: int) -> None:
        self.total = max(1, total)
        self.done = 0
        self.began = time.monotonic()

    def __call__(self, name: str, _done: int, _days: int) -> None:
        self.done += 1
        width = 30
        filled = width * self.done // self.total
        elapsed = time.monotonic() - self.began
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} days "
            f"{name:<8} {elapsed:6.0f}s"
        )
        sys.stderr.flush()
        if self.done >= self.total:
            sys.stderr.write("\n")


def run(args: argparse.Namespace) -> int:
    names = [s.strip() for s in args.strategy.split(",") if s.strip()]
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown or not names:
        print(f"unknown strategy: {', '.join(unknown) or '(none)'}", file=sys.stderr)
        return 2
    if args.profile not in PROFILES:
        print(f"unknown profile {args.profile!r}; known: {', '.join(PROFILES)}", file=sys.stderr)
        return 2
    if (
        args.weeks < 1
        or args.time_limit <= 0
        or args.workers < 0
        or (args.therapists is not None and args.therapists < 1)
        or (args.referrals_per_week is not None and args.referrals_per_week < 0)
        or (args.burn_in_weeks is not None and args.burn_in_weeks < 0)
    ):
        print(
            "--weeks and --therapists must be >= 1, --time-limit > 0, --workers, "
            "--burn-in-weeks and --referrals-per-week >= 0",
            file=sys.stderr,
        )
        return 2
    settings = SimulationSettings(
        profile=args.profile,
        weeks=args.weeks,
        seed=args.seed,
        strategies=names,
        time_limit_s=args.time_limit,
        workers=args.workers,
        burn_in_weeks=args.burn_in_weeks,
        therapists=args.therapists,
        referrals_per_week=args.referrals_per_week,
    )
    # The bar counts the burn-in's working days once and the measured ones per strategy.
    burn, measured = settings.day_counts()
    bar = _Bar(burn + measured * len(names))
    fan_out = None
    if args.ray is not None:
        from scheduler.bench.fanout import ray_fan_out

        try:
            fan_out = ray_fan_out(args.ray)
        except RuntimeError as exc:
            print(f"scheduler simulate: {exc}", file=sys.stderr)
            return 2
    result = settings.run(progress=bar, fan_out=fan_out)
    rows = summarise(result)
    print(markdown_table(result, rows), end="")
    if args.out is not None:
        try:
            write_report(result, args.out, plots=not args.no_plots)
        except OSError as exc:
            print(f"cannot write {args.out}: {exc}", file=sys.stderr)
            return 1
        except PlotsUnavailableError as exc:
            print(f"{exc}; use --no-plots", file=sys.stderr)
            return 1
    return 1 if any(r.violations for r in rows) else 0
