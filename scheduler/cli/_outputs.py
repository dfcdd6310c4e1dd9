"""Shared by the output subcommands (`report`, `letters`, `export-fhir`): read the instance and
its solution, write the result to a file or stdout."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scheduler.cli._report import report_unusable
from scheduler.domain import Instance, Solution
from scheduler.domain.files import DataFileError, load_instance, load_solution

__all__ = ["add_inputs", "load_inputs", "write_output"]


def add_inputs(parser: Any, output_help: str) -> None:
    """The INSTANCE and SOLUTION arguments and `-o/--output`."""
    parser.add_argument("instance", type=Path, metavar="INSTANCE", help="instance JSON file")
    parser.add_argument("solution", type=Path, metavar="SOLUTION", help="solution JSON file")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help=output_help)


def load_inputs(args: argparse.Namespace, command: str) -> tuple[Instance, Solution] | int:
    """Both files, or the exit code after printing every problem to stderr (2: a file cannot be
    read, 1: invalid, or the solution is not a plan of the instance)."""
    try:
        instance = load_instance(args.instance)
        solution = load_solution(args.solution)
    except DataFileError as exc:
        return report_unusable(exc)
    known = {r.id for r in instance.referrals}
    foreign = [a.referral_id for a in solution.assignments if a.referral_id not in known]
    if foreign:
        print(
            f"scheduler {command}: {args.solution} is not a plan of {args.instance}: "
            f"referrals {', '.join(foreign[:5])} are not in the instance",
            file=sys.stderr,
        )
        return 1
    return instance, solution


def write_output(target: str, text: str) -> None:
    """Write UTF-8 text to a file (parents created), or to stdout for '-'."""
    if target == "-":
        sys.stdout.write(text)
        return
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
