"""`scheduler schema`: not written yet (owned by the work on it)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Add this subcommand to the parser (to be written)."""
    _ = sub


def run(args: argparse.Namespace) -> int:
    _ = args
    return 2
