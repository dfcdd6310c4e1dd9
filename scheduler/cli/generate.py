"""`scheduler generate`: write a realistic instance for a municipality profile, by seed.

The same profile, seed and options always give the same file. The instance goes to stdout (or
`-o FILE`); a one-line summary (sizes, calendar fill) goes to stderr. Exit code 0: written;
1: the file cannot be written; 2: a bad option (unknown profile, a value out of range).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from scheduler.bench.generator import DEFAULT_PLANNING_DATE, GeneratorError, generate, instance_json
from scheduler.bench.profiles import PROFILES
from scheduler.domain import Instance, Level
from scheduler.verify.kpis import calendar_fill

__all__ = ["register", "run", "summary_line"]


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def register(sub: Any) -> None:
    """Add `generate` to the subcommands."""
    parser = sub.add_parser(
        "generate",
        help="write a realistic instance for a municipality profile (deterministic by seed)",
        description=(
            "Generate a week's planning batch for a municipality profile: sites, therapists "
            "with rosters and absences, calendars filled with ongoing courses, and the week's "
            "new referrals. The same profile, seed and options give the same file. "
            f"Profiles: {', '.join(PROFILES)}."
        ),
    )
    parser.add_argument("--profile", required=True, metavar="NAME", help="municipality profile")
    parser.add_argument("--seed", type=int, required=True, metavar="N", help="random seed")
    parser.add_argument("--referrals", type=int, metavar="N", help="new referrals of the week")
    parser.add_argument("--therapists", type=int, metavar="N", help="number of therapists")
    parser.add_argument("--sites", type=int, metavar="N", help="number of training sites")
    parser.add_argument(
        "--load", type=float, metavar="X", help="booked share of rostered minutes, e.g. 0.85"
    )
    parser.add_argument(
        "--avanceret-share", type=float, metavar="X", help="share of avanceret referrals"
    )
    parser.add_argument(
        "--home-share", type=float, metavar="X", help="share of home-training referrals"
    )
    parser.add_argument(
        "--fragmentation",
        type=float,
        metavar="X",
        help="0-1: shorter sessions, more and shorter free gaps, scarcer rooms (default 0)",
    )
    parser.add_argument(
        "--planning-date",
        type=_date,
        metavar="YYYY-MM-DD",
        help=f"the day the batch is planned (default {DEFAULT_PLANNING_DATE})",
    )
    parser.add_argument(
        "--receipt-days",
        type=int,
        metavar="N",
        help=(
            "the batch's plans came in over the last N working days (default 1: the planning "
            "day's plans; 5: a weekly batch, a backlog of plans already due)"
        ),
    )
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write here, not stdout")
    parser.set_defaults(run=run)


def summary_line(instance: Instance) -> str:
    """Sizes and calendar fill of an instance, on one line."""
    avanceret = sum(1 for r in instance.referrals if r.level is Level.AVANCERET)
    home = sum(1 for r in instance.referrals if r.home_training)
    rooms = sum(s.rooms for s in instance.sites)
    return (
        f"{instance.name}: {len(instance.sites)} sites ({rooms} rooms), "
        f"{len(instance.therapists)} therapists, {len(instance.bookings)} bookings, "
        f"{len(instance.referrals)} referrals ({avanceret} avanceret, {home} home training), "
        f"calendar fill {calendar_fill(instance):.1%}"
    )


def run(args: argparse.Namespace) -> int:
    try:
        instance = generate(
            args.profile,
            args.seed,
            referrals=args.referrals,
            therapists=args.therapists,
            sites=args.sites,
            load=args.load,
            avanceret_share=args.avanceret_share,
            home_share=args.home_share,
            planning_date=args.planning_date,
            receipt_days=args.receipt_days,
            fragmentation=args.fragmentation,
        )
    except GeneratorError as exc:
        print(f"scheduler generate: error: {exc}", file=sys.stderr)
        return 2
    text = instance_json(instance)
    if args.output is None:
        sys.stdout.write(text)
    else:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            print(
                f"scheduler generate: error: {args.output}: cannot write: {exc.strerror or exc}",
                file=sys.stderr,
            )
            return 1
    print(summary_line(instance), file=sys.stderr)
    return 0
