"""The benchmark's reports: a Markdown table, CSV and JSON of the results, and two plots.

:func:`write_reports` writes ``results.csv``, ``results.json``, ``results.md`` (the table of
:func:`markdown_table`) and two plots (matplotlib, Agg, imported only when plotting): on-time
share against calendar load per method, and solve time against size (referrals) per method.
The results come from :func:`scheduler.bench.runner.run_bench`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from scheduler.bench.runner import METHODS, BenchResult

__all__ = ["markdown_table", "write_reports"]

_LABELS = {
    "cpsat": "CP-SAT",
    "baseline": "FCFS baseline",
    "edf": "EDF greedy (course-blind)",
    "mip": "HiGHS MIP",
}
_MARKERS = {"cpsat": "o", "baseline": "s", "edf": "D", "mip": "^"}
_COLORS = {"cpsat": "C0", "baseline": "C1", "edf": "C4", "mip": "C2"}
_LINES = {"cpsat": "-", "baseline": "-", "edf": ":", "mip": "--"}

_COLUMNS = [
    "instance",
    "profile",
    "referrals",
    "therapists",
    "nominal_load",
    "calendar_load",
    "method",
    "solver",
    "on_time",
    "on_time_share",
    "free_choice",
    "late_no_right",
    "not_bookable",
    "wait_days_mean",
    "total_lateness_days",
    "courses_started",
    "courses_waiting",
    "status",
    "proven_optimal",
    "gap",
    "on_time_bound",
    "time_s",
    "first_solution_s",
    "peak_mb",
    "valid",
    "violations",
    "error",
]


def _fmt(value: float | None, pattern: str) -> str:
    return "–" if value is None else format(value, pattern)


def markdown_table(results: Sequence[BenchResult]) -> str:
    """The results as a Markdown table, one row per instance and method."""
    lines = [
        "| instance | size | load | method | on-time share | courses start (wait) "
        "| free choice | not bookable "
        "| mean wait (d) | status | gap | time (s) | first plan (s) | peak MB | valid |",
        "|---|--:|--:|---|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|---|",
    ]
    for r in results:
        load = _fmt(r.nominal_load, ".2f") + f" ({r.calendar_load:.2f})"
        lines.append(
            f"| {r.instance} | {r.referrals} | {load} | {_LABELS.get(r.method, r.method)} "
            f"| {r.on_time_share:.1%} ({r.on_time}/{r.referrals}) "
            f"| {r.courses_started} ({r.courses_waiting}) | {r.free_choice} "
            f"| {r.not_bookable} | {_fmt(r.wait_days_mean, '.2f')} | {r.status} "
            f"| {_fmt(r.gap, '.1%')} | {r.time_s:.1f} | {_fmt(r.first_solution_s, '.1f')} "
            f"| {r.peak_mb:.0f} "
            f"| {'yes' if r.valid else 'NO'} |"
        )
    return "\n".join(lines) + "\n"


def _csv(results: Sequence[BenchResult]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in results:
        row = asdict(r)
        row["violations"] = len(r.violations)
        writer.writerow({c: ("" if row[c] is None else row[c]) for c in _COLUMNS})
    return out.getvalue()


def _plot_on_time(results: Sequence[BenchResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method in _methods(results):
        rows = [r for r in results if r.method == method and not r.error]
        if not rows:
            continue
        color = _COLORS.get(method, "C3")
        ax.scatter(
            [r.load for r in rows],
            [100 * r.on_time_share for r in rows],
            marker=_MARKERS.get(method, "o"),
            color=color,
            alpha=0.35,
        )
        loads = sorted({r.load for r in rows})
        means = [
            100
            * sum(r.on_time_share for r in rows if r.load == x)
            / sum(1 for r in rows if r.load == x)
            for x in loads
        ]
        ax.plot(
            loads,
            means,
            marker=_MARKERS.get(method, "o"),
            color=color,
            linestyle=_LINES.get(method, "-"),
            fillstyle="none" if method == "mip" else "full",
            label=_LABELS.get(method, method),
        )
    ax.set_xlabel("calendar load (share of rostered time already booked)")
    ax.set_ylabel("first sessions on time (%)")
    ax.set_title("On-time share vs calendar load (line: mean over instances)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_time(results: Sequence[BenchResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method in _methods(results):
        rows = sorted(
            (r for r in results if r.method == method and not r.error), key=lambda r: r.referrals
        )
        if not rows:
            continue
        ax.plot(
            [r.referrals for r in rows],
            [max(r.time_s, 1e-3) for r in rows],
            marker=_MARKERS.get(method, "o"),
            color=_COLORS.get(method, "C3"),
            fillstyle="none" if method == "mip" else "full",
            linestyle="none",
            label=_LABELS.get(method, method),
        )
    ax.set_xlabel("referrals in the instance (log scale)")
    ax.set_xscale("log")
    ax.set_ylabel("solve time (s, log scale)")
    ax.set_yscale("log")
    ax.set_title("Solve time vs size")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _methods(results: Sequence[BenchResult]) -> list[str]:
    seen = [m for m in METHODS if any(r.method == m for r in results)]
    return seen + sorted({r.method for r in results} - set(seen))


def write_reports(
    results: Sequence[BenchResult], out: Path, meta: dict[str, Any] | None = None
) -> list[Path]:
    """Write results.csv, results.json, results.md and the two PNG plots into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "created": datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        **(meta or {}),
    }
    written: list[Path] = []

    def write(name: str, text: str) -> None:
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)

    write("results.csv", _csv(results))
    write(
        "results.json",
        json.dumps(
            {"meta": meta, "results": [asdict(r) for r in results]}, indent=2, ensure_ascii=False
        )
        + "\n",
    )
    command = meta.get("command")
    head = f"Command: `{command}`\n\n" if command else ""
    notes = (
        "\nload: the manifest's nominal calendar load (measured share of rostered time already "
        "booked in brackets). gap: relative gap on the on-time count. peak MB: the peak resident "
        "memory of the process that ran the method (interpreter and libraries included).\n"
    )
    write("results.md", head + markdown_table(results) + notes)
    for name, plot in (("on_time_vs_load.png", _plot_on_time), ("time_vs_size.png", _plot_time)):
        plot(results, out / name)
        written.append(out / name)
    return written
