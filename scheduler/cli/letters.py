"""`scheduler letters INSTANCE SOLUTION -o letters.csv`: the letters a plan asks to send.

One CSV row per letter (referral id, kind, send-by date, start offered, answer-by), in the order
they must go out; see :mod:`scheduler.outputs.letters` and docs/letters.md.
Exit code 0: written; 1: invalid input; 2: an unreadable file or a usage error.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from typing import Any

from scheduler.cli._outputs import add_inputs, load_inputs, write_output
from scheduler.outputs.letters import CSV_COLUMNS, letters, letters_csv_rows

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add `letters` to the subcommands."""
    parser = sub.add_parser(
        "letters",
        help="the letters to send (start time, frit valg offer) as CSV",
        description=(
            "Write one CSV row per letter the plan asks the municipality to send: referral id, "
            "kind (start_time or frit_valg_offer), send-by date, start offered, answer-by; "
            "ordered by when they must go out."
        ),
    )
    add_inputs(parser, "where to write the CSV ('-' for stdout)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Write the letters CSV; return the exit code."""
    loaded = load_inputs(args, "letters")
    if isinstance(loaded, int):
        return loaded
    _, solution = loaded
    found = letters(solution)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(letters_csv_rows(found))
    write_output(args.output, buffer.getvalue())
    if args.output != "-":
        print(f"{len(found)} letters written to {args.output}", file=sys.stderr)
    return 0
