"""`scheduler report INSTANCE SOLUTION -o plan.html`: the coordinator's plan report.

One self-contained HTML file (CSS and JavaScript inline, nothing loaded at view time): KPIs, a
day-by-day timeline per site and therapist, frit valg offers, referrals not bookable with the
reason in Danish and English, filters; see :mod:`scheduler.outputs.report` and docs/report.md.
Exit code 0: written; 1: invalid input; 2: an unreadable file or a usage error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from scheduler.cli._outputs import add_inputs, load_inputs, write_output
from scheduler.outputs.report import render_report

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add `report` to the subcommands."""
    parser = sub.add_parser(
        "report",
        help="the plan as one self-contained HTML page for the coordinator",
        description=(
            "Write the plan as one HTML file that opens offline in any browser: KPIs, a "
            "day-by-day timeline per site and therapist, frit valg offers, referrals not "
            "bookable with the reason, and filters by site, discipline and outcome."
        ),
    )
    add_inputs(parser, "where to write the HTML ('-' for stdout)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Write the report; return the exit code."""
    loaded = load_inputs(args, "report")
    if isinstance(loaded, int):
        return loaded
    write_output(args.output, render_report(*loaded))
    if args.output != "-":
        print(f"report written to {args.output}", file=sys.stderr)
    return 0
