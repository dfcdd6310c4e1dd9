"""`scheduler solve`: the weekly batch on an instance file, with progress and a summary.

Progress lines go to stderr while CP-SAT improves; the summary (KPIs, the referrals flagged
for frit valg or not bookable, solver statistics) to stdout; the solution JSON to a file.
Exit code 0: solved (whatever the outcomes); 1: the instance has problems; 2: unreadable.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from scheduler.cli._report import report_unusable
from scheduler.domain import CourseStatus, ObjectiveWeights, Outcome, Solution, SolveOptions
from scheduler.domain.files import (
    DataFileError,
    load_instance,
    parse_plan,
    read_json,
    save_solution,
)
from scheduler.planning.solve import Progress, solve
from scheduler.verify.validation import has_errors, validate_instance

__all__ = ["format_summary", "register", "run"]


def register(sub: Any) -> None:
    """Add `solve` to the subcommands."""
    parser = sub.add_parser(
        "solve",
        help="optimise first sessions for an instance file",
        description=(
            "Plan every referral's first session with CP-SAT: most on time first, then least "
            "lateness, then waits, travel, specialists kept free and balanced load. "
            "Deterministic with --workers 1 --seed N."
        ),
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="instance JSON file")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="where to write the solution JSON (default: FILE's name with .solution.json, "
        "in the current folder; '-' for stdout)",
    )
    parser.add_argument("--time-limit", type=float, default=30.0, metavar="S", help="seconds")
    parser.add_argument(
        "--workers", type=int, default=0, metavar="N", help="CP-SAT workers (0: all cores)"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="random seed")
    parser.add_argument(
        "--late-days",
        type=int,
        default=5,
        metavar="N",
        help="late candidates kept per referral: its first N days past the deadline (default 5)",
    )
    parser.add_argument(
        "--weight",
        action="append",
        default=[],
        metavar="NAME=N",
        help="an objective weight of the last stage (repeatable): wait_day (default 1000), "
        "travel_minute (10), specialist_on_basal (100), balance_minute (1)",
    )
    parser.add_argument(
        "--hint",
        type=Path,
        metavar="SOLUTION",
        help="an earlier solution of the same instance to start from (its first sessions that "
        "still fit are kept)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(run=run)


_FLAGS = {
    "time_limit_s": "--time-limit",
    "workers": "--workers",
    "seed": "--seed",
    "late_days": "--late-days",
}


class _ProgressPrinter:
    """Prints at most a few progress lines a second, always a stage's last."""

    def __init__(self, out: TextIO, referrals: int) -> None:
        self._out = out
        self._referrals = referrals
        self._last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if now - self._last < 0.3 and p.gap not in (0.0, None):
            return
        self._last = now
        on_time = "?" if p.on_time is None else str(p.on_time)
        bound = "" if p.on_time_bound is None else f" (bound {p.on_time_bound})"
        gap = "" if p.gap is None else f", stage gap {p.gap:.1%}"
        print(
            f"[{p.elapsed_s:6.1f}s] {p.stage:<8} on time {on_time}/{self._referrals}{bound}{gap}",
            file=self._out,
            flush=True,
        )


def format_summary(solution: Solution) -> str:
    """A readable summary: KPIs, the flagged, not bookable and rejected referrals, solver
    statistics."""
    k, st = solution.kpis, solution.stats
    lines = [
        f"Solution for {solution.instance_name or 'instance'} (planned {solution.planning_date})",
        f"  referrals        {k.referrals}",
        f"  on time          {k.on_time} ({k.on_time_share:.1%})",
        f"  frit valg        {k.free_choice_flagged}  (late, the citizen may choose a provider)",
        f"  late, no right   {k.late_no_right}",
        f"  not bookable     {k.not_bookable}",
        f"  rejected         {k.rejected}  (not for this scheduler: see where they belong)",
    ]
    if k.wait_days_mean is not None:
        lines.append(
            f"  wait (days)      mean {k.wait_days_mean:.1f}, median {k.wait_days_median:.1f}, "
            f"max {k.wait_days_max}"
        )
    if k.utilisation:
        values = sorted(k.utilisation.values())
        lines.append(
            f"  utilisation      min {values[0]:.0%}, median {values[len(values) // 2]:.0%}, "
            f"max {values[-1]:.0%}"
        )
    flagged = [a for a in solution.assignments if a.outcome is not Outcome.ON_TIME]
    if flagged:
        lines += ["", f"{'referral':<14} {'outcome':<17} {'deadline':<10} {'offer':<16} reason"]
        for a in sorted(flagged, key=lambda a: (a.outcome.value, a.deadline, a.referral_id)):
            offer = a.start.strftime("%Y-%m-%d %H:%M") if a.start else "-"
            why = (a.reason.value if a.reason else "") + (f": {a.detail}" if a.detail else "")
            answer = f"; answer by {a.answer_by:%Y-%m-%d %H:%M}" if a.answer_by else ""
            lines.append(
                f"{a.referral_id:<14} {a.outcome.value:<17} {a.deadline!s:<10} {offer:<16} "
                f"{why}{answer}"
            )
    k = solution.kpis
    lines += [
        "",
        f"Courses: {k.courses_started} start within the course-start days, "
        f"{k.courses_waiting} wait for a place; tentative first sessions moved: "
        f"{k.tentative_moved}",
    ]
    waiting = [a for a in solution.assignments if a.course_status is CourseStatus.WAITS]
    for a in sorted(waiting, key=lambda a: a.referral_id)[:20]:
        why = a.course_reason.value if a.course_reason else ""
        lines.append(f"  {a.referral_id:<14} course waits: {why}")
    for a in sorted(solution.assignments, key=lambda a: a.referral_id):
        if a.tentative_moved:
            lines.append(f"  {a.referral_id:<14} tentative moved: {a.moved_detail}")
    gap = "-" if st.gap is None else f"{st.gap:.2%}"
    first = "" if st.first_solution_s is None else f" (first plan {st.first_solution_s:.1f}s)"
    lines += [
        "",
        f"Solver: {st.method} {st.status}{' (proven optimal)' if st.proven_optimal else ''}, "
        f"on-time bound {st.on_time_bound}, gap {gap}, {st.wall_time_s:.1f}s{first}, "
        f"{st.variables} variables, {st.constraints} constraints, "
        f"workers {st.workers or 'all'}, seed {st.seed}",
        "Stages: "
        + "; ".join(
            f"{stage['stage']} {stage.get('status', '')}"
            + (" proven" if stage.get("proven") else "")
            + ("" if stage.get("full_candidates", True) else " (restricted candidates)")
            for stage in st.stages
            if "status" in stage
        )
        + f"; on-time count {'proven' if st.on_time_proven else 'not proven'}",
    ]
    for stage in st.stages:
        if stage.get("stage") == "hint":
            lines.append(
                f"Hint: {stage.get('kept', 0)} of {stage.get('bookings', 0)} hinted first "
                "sessions still fit; started from "
                + ("the hint" if stage.get("used") else "the greedy plan (better than the hint)")
            )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        instance = load_instance(args.file)
    except DataFileError as exc:
        return report_unusable(exc)
    findings = validate_instance(instance)
    if has_errors(findings):
        for finding in findings:
            print(f"{args.file}: {finding}", file=sys.stderr)
        print(f"{args.file}: not solved: fix the errors above", file=sys.stderr)
        return 1
    weights: dict[str, str] = {}
    for item in args.weight:
        name, sep, value = item.partition("=")
        if not sep or name not in ObjectiveWeights.model_fields:
            known = ", ".join(ObjectiveWeights.model_fields)
            print(f"--weight {item!r}: expected NAME=N with NAME one of {known}", file=sys.stderr)
            return 2
        weights[name] = value
    try:
        options = SolveOptions(
            time_limit_s=args.time_limit,
            workers=args.workers,
            seed=args.seed,
            late_days=args.late_days,
            weights=ObjectiveWeights.model_validate(weights),
        )
    except ValidationError as exc:
        for error in exc.errors():
            flag = _FLAGS.get(str(error["loc"][0]), f"--weight {error['loc'][0]}")
            print(f"{flag}: {error['msg']}", file=sys.stderr)
        return 2
    hint = None
    if args.hint is not None:
        try:
            hint = parse_plan(read_json(args.hint), str(args.hint))
        except DataFileError as exc:
            return report_unusable(exc)
    progress = None if args.quiet else _ProgressPrinter(sys.stderr, len(instance.referrals))
    solution = solve(instance, options, on_progress=progress, hint=hint)
    to_stdout = args.output is not None and str(args.output) == "-"
    summary_out = sys.stderr if to_stdout else sys.stdout
    print(format_summary(solution), file=summary_out)
    if to_stdout:
        sys.stdout.write(solution.model_dump_json(indent=2) + "\n")
        return 0
    output = args.output or Path(args.file.name.removesuffix(".json") + ".solution.json")
    try:
        save_solution(solution, output)
    except DataFileError as exc:
        print(f"{exc.source}: {'; '.join(exc.problems)}", file=sys.stderr)
        return 2
    print(f"\nSolution written to {output}", file=summary_out)
    return 0
