"""The `scheduler` command line: one subcommand per module in this package."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

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

__all__ = ["INTERNAL_ERROR", "main"]

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


INTERNAL_ERROR = 70
"""Exit code of a bug (sysexits' EX_SOFTWARE): an exception no command expected."""


def _where(error: BaseException) -> str:
    """The innermost frame of `error` as ``path:line`` inside the package (no message: it may
    quote input data)."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "?"
    frame = frames[-1]
    path = Path(frame.filename)
    parts = path.parts
    if "scheduler" in parts:
        last = len(parts) - 1 - parts[::-1].index("scheduler")
        shown = "/".join(parts[last:])
    else:
        shown = path.name
    return f"{shown}:{frame.lineno}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 ok, 1 problems found, 2 usage error,
    70 a bug: an unexpected error, reported in one line without the input's data; set
    ``SCHEDULER_DEBUG=1`` for the traceback)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if os.environ.get("SCHEDULER_DEBUG"):
            raise
        print(
            f"scheduler {args.command}: internal error ({type(error).__name__} at "
            f"{_where(error)}); this is a bug: please report it with the command line "
            "(rerun with SCHEDULER_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return INTERNAL_ERROR
    return code


if __name__ == "__main__":
    raise SystemExit(main())
