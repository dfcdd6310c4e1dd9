"""Writing a simulation's results: CSV and JSON, a Markdown table, PNG plots.

``summary.csv`` / ``weekly.csv``: one row per strategy (and week); ``result.json``: both, with
what was simulated and every day's checker violations; ``summary.md``: the table the README
quotes; ``on_time_by_week.png`` and ``waits.png``: on-time share by week of receipt per strategy
and the distribution of waits from the anchor (matplotlib from the `bench` extra, imported
only here).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scheduler.simulation.engine import SimulationResult
from scheduler.simulation.metrics import Summary, summarise, weekly

__all__ = ["PlotsUnavailableError", "markdown_table", "result_document", "write_report"]


class PlotsUnavailableError(RuntimeError):
    """The PNG plots need matplotlib (the `bench` extra); everything else was written."""


def _fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def markdown_table(result: SimulationResult, rows: Sequence[Summary]) -> str:
    """The whole-period numbers per strategy as a Markdown table."""
    lines = [
        f"{result.profile}, {result.weeks} weeks measured after {result.burn_in_weeks} weeks of "
        f"burn-in ({result.measure_start} – {result.end}), seed {result.seed}",
        "",
        "| strategy | referrals | on time | share | frit valg letters | wait mean / median / p90 "
        "(days) | courses without wait | moved | utilisation | avanceret on basal | "
        "checker violations |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for s in rows:
        courses = f"{s.courses_without_wait}/{s.courses}"
        util = "–" if s.utilisation is None else f"{100 * s.utilisation:.0f}%"
        lines.append(
            f"| {s.strategy} | {s.referrals} | {s.on_time} | {100 * s.on_time_share:.1f}% | "
            f"{s.frit_valg_letters} | {_fmt(s.wait_mean)} / {_fmt(s.wait_median)} / "
            f"{_fmt(s.wait_p90)} | {courses} | {s.moved} | {util} | {s.specialists_on_basal} | "
            f"{s.violations} |"
        )
    return "\n".join(lines) + "\n"


def _csv(path: Path, rows: Sequence[Summary]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0].as_dict()) if rows else [])
        writer.writeheader()
        for row in rows:
            writer.writerow(row.as_dict())


def _plots(result: SimulationResult, rows: Sequence[Summary], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written: list[Path] = []
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name in result.runs:
        mine = [r for r in rows if r.strategy == name and r.referrals]
        ax.plot(
            [r.week or 0 for r in mine],
            [100 * r.on_time_share for r in mine],
            marker="o",
            label=name,
        )
    ax.set_xlabel("week of receipt")
    ax.set_ylabel("first sessions on time (%)")
    ax.set_title(f"{result.profile}: on time by week (seed {result.seed})")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = out / "on_time_by_week.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)

    fig, ax = plt.subplots(figsize=(8, 4.5))
    waits = {
        name: [
            (c.slot.start.date() - c.dates.anchor).days
            for c in run.cases.values()
            if c.slot is not None
        ]
        for name, run in result.runs.items()
    }
    top = max((max(w) for w in waits.values() if w), default=1)
    bins = list(range(0, min(top, 60) + 2))
    for name, values in waits.items():
        ax.hist([min(v, bins[-1]) for v in values], bins=bins, histtype="step", label=name)
    ax.set_xlabel("wait from anchor to first session (days; last bin: that or more)")
    ax.set_ylabel("referrals")
    ax.set_title(f"{result.profile}: wait distribution (seed {result.seed})")
    ax.legend()
    fig.tight_layout()
    path = out / "waits.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)
    return written


def result_document(
    result: SimulationResult,
    total: Sequence[Summary] | None = None,
    per_week: Sequence[Summary] | None = None,
) -> dict[str, Any]:
    """What was simulated and what each strategy achieved, as JSON-ready data (``result.json``,
    and a SubmitSimulate job's stored result): the summaries per strategy and per week, and per
    strategy its wall time, course sessions lost to sickness and every day's checker
    violations."""
    total = summarise(result) if total is None else total
    per_week = weekly(result) if per_week is None else per_week
    return {
        "profile": result.profile,
        "policy": result.policy_name,
        "seed": result.seed,
        "weeks": result.weeks,
        "burn_in_weeks": result.burn_in_weeks,
        "start": result.start.isoformat(),
        "measure_start": result.measure_start.isoformat(),
        "end": result.end.isoformat(),
        "summary": [s.as_dict() for s in total],
        "weekly": [s.as_dict() for s in per_week],
        "runs": {
            name: {
                "wall_s": run.wall_s,
                "course_sessions_lost_to_sickness": run.course_sessions_lost,
                "violations": [
                    {"day": d.day.isoformat(), "messages": d.violations}
                    for d in run.days
                    if d.violations
                ],
            }
            for name, run in result.runs.items()
        },
    }


def write_report(result: SimulationResult, out: Path, plots: bool = True) -> list[Path]:
    """Write CSV, JSON, Markdown and (with `plots`) PNG files into `out`; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    total = summarise(result)
    per_week = weekly(result)
    _csv(out / "summary.csv", total)
    _csv(out / "weekly.csv", per_week)
    doc = result_document(result, total, per_week)
    (out / "result.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    (out / "summary.md").write_text(markdown_table(result, total), encoding="utf-8")
    written = [out / n for n in ("summary.csv", "weekly.csv", "result.json", "summary.md")]
    if plots:
        try:
            written += _plots(result, per_week, out)
        except ImportError as exc:  # matplotlib is in the `bench` extra
            raise PlotsUnavailableError(
                f"plots need matplotlib (pip install 'scheduler[bench]'): {exc}"
            ) from exc
    return written
