"""The `scheduler` command line: one subcommand per module in this package."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from scheduler import __version__
from scheduler.cli import (
    bench,
    check,
    client,
    export_fhir,
    generate,
    letters,
    report,
    schema,
    serve,
    simulate,
    solve,
    validate,
)

__all__ = ["main"]

_COMMANDS = (
    validate,
    schema,
    generate,
    solve,
    check,
    report,
    letters,
    export_fhir,
    bench,
    simulate,
    serve,
    client,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scheduler",
        description=(
            "Plan first sessions of almen genoptræning (Sundhedsloven §140) with CP-SAT: "
            "on-time starts, or frit valg flagged."
        ),
    )
    parser.add_argument("--version", action="version", version=f"scheduler {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 ok, 1 problems found, 2 usage error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    raise SystemExit(main())
