"""How every subcommand reports a data file it cannot use: each problem on its own line."""

from __future__ import annotations

import sys

from scheduler.domain.files import DataFileError

__all__ = ["report_unusable"]


def report_unusable(exc: DataFileError) -> int:
    """Print each problem of an unusable file to stderr; the exit code: 2 when the file cannot
    be read at all (missing, not JSON), 1 when it is read but invalid."""
    for problem in exc.problems:
        print(f"{exc.source}: {problem}", file=sys.stderr)
    return 2 if exc.unreadable else 1
