"""`scheduler schema`: the JSON Schema of instance, solution and policy files.

Point an editor at it (``"$schema": "instance.schema.json"`` at the top of an instance file)
to get completion and checks while writing instances by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scheduler.domain.files import (
    DataFileError,
    instance_json_schema,
    policy_json_schema,
    solution_json_schema,
    write_text,
)

__all__ = ["register", "run"]

_SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "instance": instance_json_schema,
    "solution": solution_json_schema,
    "policy": policy_json_schema,
}


def register(sub: Any) -> None:
    """Add `schema` to the subcommands."""
    parser = sub.add_parser(
        "schema",
        help="print the JSON Schema of instance, solution or policy files",
        description="Print the JSON Schema (draft 2020-12) of a file kind.",
    )
    parser.add_argument(
        "kind",
        nargs="?",
        default="instance",
        choices=sorted(_SCHEMAS),
        help="which file (default: instance)",
    )
    parser.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of stdout"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print or write the schema; exit code 2 if the output file cannot be written."""
    text = json.dumps(_SCHEMAS[args.kind](), indent=2, ensure_ascii=False) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        write_text(args.output, text)
    except DataFileError as exc:
        print(f"scheduler schema: {exc}", file=sys.stderr)
        return 2
    return 0
