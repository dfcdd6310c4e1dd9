"""A previous plan of the same instance as a starting point: mapped, repaired, compared.

A caller that has a plan of the instance from before (e.g. a batch job re-run after its server
died, with the best plan its lost attempt had found) passes its assignments to
:func:`scheduler.planning.solve.solve` as a hint. :func:`plan_from_hint` maps each hinted first
session onto the problem's candidates — the same referral, therapist, site, day and place, its
start (travel included) inside the candidate's gap — and keeps it only where it still fits
exactly (therapist time and rooms to the minute, a kept tentative session at its own minute);
the sessions that no longer fit are dropped and the plan is completed by the exact greedy
(:func:`scheduler.planning.greedy.complete`). The result is always a feasible plan, whatever
the hint says. :func:`better` tells which of two plans to start from: more on time, then fewer
late days (an unbooked referral counting as later than anything in the horizon, as stage 2
counts it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scheduler.domain import Assignment
from scheduler.planning.budget import Budget
from scheduler.planning.candidate_lists import scan
from scheduler.planning.greedy import FreeTime, Plan, complete
from scheduler.planning.problem import Problem
from scheduler.rules.calendar import as_minutes

__all__ = ["HintReport", "better", "plan_from_hint", "quality"]


@dataclass(frozen=True)
class HintReport:
    """What became of a hint: its first sessions, those kept, and whether the solve started
    from it (rather than from the plain greedy plan)."""

    bookings: int
    """Hinted first sessions that were not communicated bookings (those are fixed anyway)."""
    kept: int
    """Of them, those that still fit exactly and were kept."""
    used: bool = False

    def as_stage(self) -> dict[str, Any]:
        """The entry of ``SolverStats.stages`` that reports it."""
        return {
            "stage": "hint",
            "bookings": self.bookings,
            "kept": self.kept,
            "dropped": self.bookings - self.kept,
            "used": self.used,
        }


def _match(problem: Problem, r: int, a: Assignment, t: int, s: int) -> tuple[int, int] | None:
    """The candidate of referral `r` that holds the hinted session `a`, and the start minute of
    its use of the gap; None if no candidate does."""
    assert a.start is not None
    day = a.start.date()
    session = as_minutes(a.start.time())
    cands = problem.candidates[r]
    for k, g, _ in scan(cands):
        gap = problem.gaps[g]
        # The gap first: a candidate is made only for the hinted therapist, site and day.
        if gap.day != day or gap.therapist != t or gap.site != s:
            continue
        cand = cands[k]
        if cand.at_home != a.at_home:
            continue
        start = session - cand.travel
        if not (gap.start <= start and start + cand.length <= gap.end):
            continue
        if cand.pinned_start is not None and cand.pinned_start != start:
            continue  # the copies after it (moving the tentative session) may match
        return k, start
    return None


def plan_from_hint(
    problem: Problem, hint: Sequence[Assignment], budget: Budget | None = None
) -> tuple[Plan, HintReport]:
    """The hint's first sessions that still fit, completed by the exact greedy; and what was
    kept. Sessions are kept most urgent first (earliest deadline), so where two hinted sessions
    now clash the urgent one stays."""
    inst = problem.instance
    referral = {ref.id: i for i, ref in enumerate(inst.referrals)}
    therapist = {t.id: i for i, t in enumerate(inst.therapists)}
    site = {x.id: i for i, x in enumerate(inst.sites)}
    hinted = [a for a in hint if a.start is not None and not a.fixed]
    found: list[tuple[int, int, int]] = []
    seen: set[int] = set()
    for a in hinted:
        r = referral.get(a.referral_id)
        t = therapist.get(a.therapist_id or "")
        s = site.get(a.site_id or "")
        if r is None or t is None or s is None or r in seen or not problem.candidates[r]:
            continue
        match = _match(problem, r, a, t, s)
        if match is not None:
            seen.add(r)
            found.append((r, *match))
    found.sort(key=lambda f: (problem.dates[f[0]].deadline, f[0]))
    free = FreeTime(problem)
    partial: Plan = {}
    for r, k, start in found:
        cand = problem.candidates[r][k]
        if free.fits_at(cand, start):
            free.book(cand, start)
            partial[r] = (k, start)
    return complete(problem, partial, budget), HintReport(bookings=len(hinted), kept=len(partial))


def quality(problem: Problem, plan: Plan) -> tuple[int, int]:
    """(referrals on time, minus the late days): larger is better. An unbooked referral that
    has candidates counts as later than any booking in the horizon."""
    on_time = late = 0
    for r, cands in enumerate(problem.candidates):
        if not cands:
            continue
        if r in plan:
            cand = cands[plan[r][0]]
            on_time += cand.on_time
            late += cand.lateness_days
        else:
            late += problem.unassigned_penalty_days(r)
    return on_time, -late


def better(problem: Problem, a: Plan, b: Plan) -> bool:
    """Whether plan `a` is at least as good as `b`: more on time, then fewer late days."""
    return quality(problem, a) >= quality(problem, b)
