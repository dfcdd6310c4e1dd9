"""`scheduler check INSTANCE SOLUTION`: re-verify a solution independently of the optimiser.

Loads both files (:mod:`scheduler.domain.files`), runs
:func:`scheduler.verify.checker.check_solution`
and prints either ``OK`` with the recomputed KPIs, or every violation one per line and a count.
Exit code 0: the solution keeps every rule and reports its KPIs truthfully; 1: violations, KPI
mismatches, or a file that cannot be read or used; 2: usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from scheduler.domain import Kpis
from scheduler.domain.files import DataFileError, load_instance, load_solution
from scheduler.verify.checker import CheckReport, check_solution

__all__ = ["format_kpis", "register", "run"]


def register(sub: Any) -> None:
    """Add `check` to the subcommands."""
    parser = sub.add_parser(
        "check",
        help="re-verify a solution against its instance",
        description=(
            "Re-verify every hard rule of a solution from the instance alone (independently of "
            "the optimiser) and recompute its KPIs. Exit code 0: ok; 1: violations, KPI "
            "mismatches or unreadable input; 2: usage error."
        ),
    )
    parser.add_argument("instance", type=Path, metavar="INSTANCE", help="instance JSON file")
    parser.add_argument("solution", type=Path, metavar="SOLUTION", help="solution JSON file")
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    parser.set_defaults(run=run)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _opt(x: float | int | None, fmt: str = "{:.1f}") -> str:
    return "-" if x is None else fmt.format(x)


def format_kpis(kpis: Kpis) -> list[str]:
    """The KPIs as a short two-column table, one line per figure."""
    util = kpis.utilisation
    mean_util = sum(util.values()) / len(util) if util else None
    rows = [
        ("referrals", str(kpis.referrals)),
        ("booked", str(kpis.booked)),
        ("on time", f"{kpis.on_time} ({_pct(kpis.on_time_share)})"),
        ("late, frit valg flagged", str(kpis.free_choice_flagged)),
        ("late, no frit valg", str(kpis.late_no_right)),
        ("not bookable", str(kpis.not_bookable)),
        (
            "wait days mean/median/max",
            f"{_opt(kpis.wait_days_mean)} / {_opt(kpis.wait_days_median)} / "
            f"{_opt(kpis.wait_days_max, '{}')}",
        ),
        ("total lateness days", str(kpis.total_lateness_days)),
        ("home visits", str(kpis.home_visits)),
        ("travel minutes", str(kpis.travel_minutes_total)),
        (
            "utilisation mean/max",
            "-"
            if mean_util is None
            else f"{_pct(mean_util)} / {_pct(max(util.values()))} ({len(util)} therapists)",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    return [f"  {name.ljust(width)}  {value}" for name, value in rows]


def _as_json(report: CheckReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "violations": [
            {
                "code": v.code.value,
                "message": v.message,
                "referral_id": v.referral_id,
                "therapist_id": v.therapist_id,
                "site_id": v.site_id,
            }
            for v in report.violations
        ],
        "kpi_mismatches": report.kpi_mismatches,
        "kpis": report.kpis.model_dump(mode="json"),
    }


def run(args: argparse.Namespace) -> int:
    """Check the solution; print the verdict; return the exit code."""
    try:
        instance = load_instance(args.instance)
        solution = load_solution(args.solution)
    except DataFileError as exc:
        print(f"scheduler check: {exc.source}: cannot be used:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    report = check_solution(instance, solution)
    if args.json:
        print(json.dumps(_as_json(report), indent=2))
        return 0 if report.ok else 1
    if report.ok:
        print(
            f"OK: {args.solution} keeps every rule of {args.instance} "
            f"({len(solution.assignments)} assignments); KPIs as reported:"
        )
        print("\n".join(format_kpis(report.kpis)))
        return 0
    for v in report.violations:
        print(v)
    for mismatch in report.kpi_mismatches:
        print(f"kpi_mismatch: {mismatch}")
    n = len(report.violations)
    m = len(report.kpi_mismatches)
    print(
        f"FAILED: {n} violation{'s' if n != 1 else ''}, "
        f"{m} KPI mismatch{'es' if m != 1 else ''} in {args.solution}"
    )
    return 1
