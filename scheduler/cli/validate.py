"""`scheduler validate`: check instance files before planning, and show each referral's dates.

Reads each file (:func:`scheduler.domain.files.load_instance`), then checks it across records
(:func:`scheduler.verify.validation.validate_instance`). Exit code 0: usable (warnings allowed
unless
``--strict``); 1: problems found; 2: a file could not be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scheduler.domain import Instance, Level, PlanStartKind
from scheduler.domain.files import DataFileError, load_instance
from scheduler.rules.calendar import WorkingCalendar
from scheduler.rules.commitments import horizon_days
from scheduler.rules.legal import exclusion, legal_dates, letter_send_by
from scheduler.verify.kpis import calendar_fill
from scheduler.verify.validation import Problem, Severity, has_errors, validate_instance

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add `validate` to the subcommands."""
    parser = sub.add_parser(
        "validate",
        help="check instance files",
        description=(
            "Check instance files: the format (see `scheduler schema`), then how the records "
            "fit together. Exit code 0: usable; 1: problems found; 2: a file cannot be read."
        ),
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="instance JSON file")
    parser.add_argument(
        "--strict", action="store_true", help="treat warnings as problems (exit code 1)"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    parser.add_argument(
        "--dates",
        action="store_true",
        help="also list each referral's legal dates (earliest start, deadline, letter by)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print only files with problems")
    parser.set_defaults(run=run)


@dataclass
class _Report:
    """What was found in one file."""

    path: Path
    instance: Instance | None = None
    problems: list[Problem] = field(default_factory=list)
    file_problems: list[str] = field(default_factory=list)
    unreadable: bool = False

    def exit_code(self, strict: bool) -> int:
        if self.unreadable:
            return 2
        if self.file_problems or has_errors(self.problems):
            return 1
        return 1 if strict and self.problems else 0


def _check(path: Path) -> _Report:
    try:
        instance = load_instance(path)
    except DataFileError as exc:
        return _Report(path, file_problems=exc.problems, unreadable=exc.unreadable)
    return _Report(path, instance=instance, problems=validate_instance(instance))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _summary(instance: Instance) -> str:
    return (
        f"policy {instance.policy.name}, planning date {instance.planning_date}; "
        f"{_plural(len(instance.sites), 'site')}, "
        f"{_plural(len(instance.therapists), 'therapist')}, "
        f"{_plural(len(instance.bookings), 'booking')}, "
        f"{_plural(len(instance.referrals), 'referral')}"
    )


def _details(instance: Instance) -> list[str]:
    """The one-screen summary of a usable instance: horizon, resources, calendars, referrals."""
    policy = instance.policy
    cal = WorkingCalendar(policy)
    days = horizon_days(instance, cal)
    refs = instance.referrals
    therapists = instance.therapists
    specialties = Counter(s for t in therapists for s in t.specialties)
    disciplines = Counter(t.discipline.value for t in therapists)
    dates = [legal_dates(r, policy, cal) for r in refs]
    first_day = days[0] if days else None
    due_before = sum(1 for d in dates if first_day is None or d.deadline < first_day)
    horizon = f"{days[0]} .. {days[-1]} ({len(days)} working days)" if days else "no working day"
    plan_later = sum(r.plan_start_kind is PlanStartKind.LATER for r in refs)
    plan_earlier = sum(r.plan_start_kind is PlanStartKind.EARLIER for r in refs)
    return [
        f"  horizon     {horizon}",
        f"  sites       {len(instance.sites)} with {sum(s.rooms for s in instance.sites)} rooms: "
        + ", ".join(f"{s.name} ({s.rooms})" for s in instance.sites),
        f"  therapists  {len(therapists)}: "
        + ", ".join(f"{n} {d}" for d, n in sorted(disciplines.items()))
        + f"; {sum(bool(t.specialties) for t in therapists)} approved for avanceret"
        + (
            f" ({', '.join(f'{s} {n}' for s, n in specialties.most_common())})"
            if specialties
            else ""
        )
        + f"; {sum(t.home_visits for t in therapists)} do home visits",
        f"  calendars   {len(instance.bookings)} bookings, "
        f"{calendar_fill(instance):.0%} of rostered time in the horizon booked",
        f"  referrals   {len(refs)}: {sum(r.level is Level.BASAL for r in refs)} basal, "
        f"{sum(r.level is Level.AVANCERET for r in refs)} avanceret, "
        f"{sum(not r.level.almen for r in refs)} specialiseret (rejected); "
        f"{sum(r.home_training for r in refs)} home training; "
        f"{sum(r.chosen_site_id is not None for r in refs)} chose a site; "
        f"plan start {plan_later} later, {plan_earlier} earlier; "
        f"{sum(r.postponed_to is not None for r in refs)} postponed by the citizen",
        f"  deadlines   {due_before} due before the first bookable day; "
        f"{sum(not d.free_choice_right for d in dates)} without frit valg if late",
    ]


def _dates_table(instance: Instance) -> list[str]:
    policy = instance.policy
    cal = WorkingCalendar(policy)
    header = (
        "referral",
        "level",
        "anchor",
        "earliest",
        "deadline",
        "frit valg",
        "letter by",
        "send by",
    )
    rows: list[tuple[str, ...]] = [header]
    notes: list[str] = []
    for referral in instance.referrals:
        dates = legal_dates(referral, policy, cal)
        right = "yes" if dates.free_choice_right else f"no ({dates.no_right_reason or 'policy'})"
        rows.append(
            (
                referral.id,
                f"{referral.level} {referral.discipline}",
                str(dates.anchor),
                str(dates.earliest_start),
                str(dates.deadline),
                right,
                str(dates.letter_by),
                str(letter_send_by(dates.letter_by, None, cal)),
            )
        )
        if (rejected := exclusion(referral, policy)) is not None:
            notes.append(f"  {referral.id}: rejected ({rejected[0].value}): {rejected[1]}")
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return [line.rstrip() for line in lines] + notes


def _print_text(report: _Report, args: argparse.Namespace) -> None:
    if report.unreadable:
        for problem in report.file_problems:
            print(f"scheduler validate: {report.path}: {problem}", file=sys.stderr)
        return
    if report.file_problems:
        count = _plural(len(report.file_problems), "problem")
        print(f"{report.path}: not a valid instance file ({count})")
        for problem in report.file_problems:
            print(f"  error    {problem}")
        return
    assert report.instance is not None
    errors = sum(p.severity is Severity.ERROR for p in report.problems)
    warnings = len(report.problems) - errors
    if args.quiet and report.exit_code(args.strict) == 0:
        return
    verdict = "ok" if errors == 0 else _plural(errors, "error")
    extra = f", {_plural(warnings, 'warning')}" if warnings else ""
    print(f"{report.path}: {verdict}{extra} ({_summary(report.instance)})")
    if errors == 0 and len(args.files) == 1 and not args.dates:
        print("\n".join(_details(report.instance)))
    for p in report.problems:
        print(f"  {p.severity:<8} {p.where}: {p.message} [{p.code}]")
    if args.dates and report.instance.referrals:
        print("\n".join(_dates_table(report.instance)))


def _as_json(report: _Report, strict: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "file": str(report.path),
        "ok": report.exit_code(strict) == 0,
        "loaded": report.instance is not None,
    }
    if report.instance is None:
        code = "unreadable_file" if report.unreadable else "invalid_file"
        out["problems"] = [
            {"severity": "error", "code": code, "where": str(report.path), "message": text}
            for text in report.file_problems
        ]
        return out
    instance = report.instance
    out["problems"] = [
        {"severity": str(p.severity), "code": p.code, "where": p.where, "message": p.message}
        for p in report.problems
    ]
    out["summary"] = {
        "policy": instance.policy.name,
        "planning_date": str(instance.planning_date),
        "sites": len(instance.sites),
        "therapists": len(instance.therapists),
        "bookings": len(instance.bookings),
        "referrals": len(instance.referrals),
    }
    return out


def run(args: argparse.Namespace) -> int:
    """Check every file; the exit code is the worst of them."""
    reports = [_check(path) for path in args.files]
    if args.json:
        print(json.dumps({"files": [_as_json(r, args.strict) for r in reports]}, indent=2))
    else:
        for report in reports:
            _print_text(report, args)
    return max(report.exit_code(args.strict) for report in reports)
