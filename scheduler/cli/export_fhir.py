"""`scheduler export-fhir INSTANCE SOLUTION -o bundle.json`: the KL Gateway §140 export.

One delivery report per referral (citizen, sending organisation, §140 ServiceRequest), gathered
in a `collection` Bundle; see :mod:`scheduler.outputs.fhir` and docs/fhir.md. The citizen is
identified by the pseudonymous referral id only: the caller maps it to the CPR number.
Exit code 0: written; 1: invalid input; 2: an unreadable file or a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scheduler.cli._outputs import add_inputs, load_inputs, write_output
from scheduler.outputs.fhir import PSEUDONYM_SYSTEM, ExportOptions, FreeChoiceAnswer, export_bundle

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add `export-fhir` to the subcommands."""
    parser = sub.add_parser(
        "export-fhir",
        help="the KL Gateway §140 FHIR export (delivery reports) as JSON",
        description=(
            "Write the plan as KL Gateway rehabilitation delivery reports (FHIR R4 JSON): per "
            "referral the citizen (pseudonymous id only), the sending organisation and the §140 "
            "ServiceRequest with category, discharge date, received date, first contact offered "
            "and status reason."
        ),
    )
    add_inputs(parser, "where to write the Bundle JSON ('-' for stdout)")
    parser.add_argument(
        "--sor",
        required=True,
        metavar="CODE",
        help="SOR code of the municipality's organisation that keeps the citizens' records",
    )
    parser.add_argument(
        "--requester-sor",
        required=True,
        metavar="CODE",
        help="SOR code of the hospital unit that sent the plans (default for every referral)",
    )
    parser.add_argument(
        "--requesters",
        type=Path,
        metavar="FILE",
        help='JSON object {"referral id": "SOR code"} for plans sent by other hospital units',
    )
    parser.add_argument(
        "--answers",
        type=Path,
        metavar="FILE",
        help='JSON object {"referral id": "chose_private" | "will_wait"}: known answers to '
        "frit valg offers",
    )
    parser.add_argument(
        "--identifier-system",
        default=PSEUDONYM_SYSTEM,
        metavar="URI",
        help=f"identifier system of the pseudonymous referral id (default {PSEUDONYM_SYSTEM})",
    )
    parser.add_argument(
        "--timestamp",
        metavar="ISO",
        help="the reports' timestamp with a time zone (default: now, UTC)",
    )
    parser.set_defaults(run=run)


def _mapping(path: Path | None, what: str) -> dict[str, str]:
    if path is None:
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ValueError(f"{path}: {what} must be a JSON object of strings")
    return data


def run(args: argparse.Namespace) -> int:
    """Write the FHIR Bundle; return the exit code."""
    loaded = load_inputs(args, "export-fhir")
    if isinstance(loaded, int):
        return loaded
    instance, solution = loaded
    try:
        timestamp = datetime.fromisoformat(args.timestamp) if args.timestamp else datetime.now(UTC)
        answers = {k: FreeChoiceAnswer(v) for k, v in _mapping(args.answers, "--answers").items()}
        options = ExportOptions(
            managing_sor=args.sor,
            default_requester_sor=args.requester_sor,
            requester_sor=_mapping(args.requesters, "--requesters"),
            answers=answers,
            identifier_system=args.identifier_system,
        )
        bundle = export_bundle(instance, solution, options, timestamp)
    except (OSError, ValueError) as exc:
        print(f"scheduler export-fhir: {exc}", file=sys.stderr)
        return 1
    write_output(args.output, bundle.model_dump_json(indent=2, exclude_none=True) + "\n")
    if args.output != "-":
        print(
            f"{len(instance.referrals)} delivery reports written to {args.output}",
            file=sys.stderr,
        )
    return 0
