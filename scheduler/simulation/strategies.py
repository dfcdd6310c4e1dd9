"""The ways of booking a simulated municipality compares, each on the planner's own functions.

Every morning the engine hands a strategy the day's :class:`Day`: the planning instance
(planning date = today; the world's bookings, tentative first sessions included; the referrals
not yet communicated, in order of arrival) and which of them have no booking. The strategy
answers with a :class:`Slot` for each referral it books or moves, and None for one whose
tentative booking it gives up (a re-plan that found no room for it: the slot went to someone
more urgent); the others stay as they are.

- ``manual``: today's practice. The plans that came in (and sessions cancelled by sickness)
  are booked in arrival order into the first free slot, never moving anything:
  :func:`scheduler.bench.baseline.solve_baseline` on them.
- ``edf``: the strongest simple rule. Each morning every referral not yet communicated
  (tentative bookings released) is re-booked, most urgent first, into the first free slot that
  keeps it on time, then the first free slot at all: the planner's greedy
  (:func:`scheduler.planning.greedy.complete`).
- ``propose``: each new plan gets ProposeSlots' best option at arrival
  (:func:`scheduler.planning.propose.rank_slots`), nothing moves.
- ``daily``: each morning CP-SAT (:func:`scheduler.planning.solve.solve`) over every referral
  not yet communicated.
- ``weekly``: CP-SAT on the first working day of the week, ``propose`` on the other days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from scheduler.bench.baseline import solve_baseline
from scheduler.domain import (
    Assignment,
    Booking,
    BookingStatus,
    Instance,
    SolveOptions,
    SolverStats,
)
from scheduler.planning.greedy import complete
from scheduler.planning.plan import make_solution
from scheduler.planning.problem import prepare
from scheduler.planning.propose import index_calendars, rank_slots
from scheduler.planning.solve import solve

__all__ = ["STRATEGIES", "Day", "Slot", "Strategy", "strategy"]


@dataclass(frozen=True, slots=True)
class Slot:
    """Where a first session is booked: therapist, site (a home visit's base), session times,
    and for a home visit the one-way travel before and after it."""

    therapist_id: str
    site_id: str
    at_home: bool
    start: datetime
    end: datetime
    travel_minutes: int

    def booking(self, referral_id: str, status: BookingStatus) -> Booking:
        """The calendar entry: the session, with a home visit's travel both ways."""
        travel = timedelta(minutes=self.travel_minutes if self.at_home else 0)
        return Booking(
            id=f"F-{referral_id}",
            therapist_id=self.therapist_id,
            site_id=self.site_id,
            start=self.start - travel,
            end=self.end + travel,
            status=status,
            referral_id=referral_id,
            at_home=self.at_home,
        )


@dataclass(frozen=True)
class Day:
    """What a strategy sees on a morning."""

    day: date
    instance: Instance
    unbooked: list[str]
    """Referrals of the instance without any booking, in order of arrival."""
    week_start: bool
    """The first working day of the week."""
    options: SolveOptions
    """CP-SAT options for the strategies that optimise."""


Strategy = Callable[[Day], dict[str, "Slot | None"]]
"""A strategy: the slots it books or moves today (None: released), by referral id."""


def _slots(assignments: list[Assignment]) -> dict[str, Slot | None]:
    """A plan of every referral of the instance: booked ones at their slot, the rest None
    (a re-plan released their tentative bookings; they are unbooked now)."""
    out: dict[str, Slot | None] = {}
    for a in assignments:
        if a.fixed:
            continue
        if a.start is None or a.end is None or a.therapist_id is None or a.site_id is None:
            out[a.referral_id] = None
            continue
        out[a.referral_id] = Slot(
            a.therapist_id, a.site_id, a.at_home, a.start, a.end, a.travel_minutes
        )
    return out


def manual(day: Day) -> dict[str, Slot | None]:
    """First free slot at arrival, in arrival order; nothing already booked moves."""
    if not day.unbooked:
        return {}
    todo = set(day.unbooked)
    batch = [r for r in day.instance.referrals if r.id in todo]
    return _slots(solve_baseline(day.instance.model_copy(update={"referrals": batch})).assignments)


def edf(day: Day) -> dict[str, Slot | None]:
    """Each morning every referral not yet communicated, most urgent first, first free slot."""
    if not day.instance.referrals:
        return {}
    problem = prepare(day.instance, late_days=None)
    plan = complete(problem, {})
    placed = {r: (problem.candidates[r][k], start) for r, (k, start) in plan.items()}
    stats = SolverStats(method="edf", status="HEURISTIC", workers=1)
    return _slots(make_solution(problem, placed, stats).assignments)


def propose(day: Day) -> dict[str, Slot | None]:
    """Each new plan gets ProposeSlots' best option at arrival; nothing moves."""
    out: dict[str, Slot | None] = {}
    if not day.unbooked:
        return out
    by_id = {r.id: r for r in day.instance.referrals}
    instance = day.instance
    for rid in day.unbooked:
        best = rank_slots(index_calendars(instance), by_id[rid], 1)
        if not best:
            continue
        p = best[0]
        slot = Slot(p.therapist_id, p.site_id, p.at_home, p.start, p.end, p.travel_minutes)
        out[rid] = slot
        booking = slot.booking(rid, BookingStatus.TENTATIVE)
        instance = instance.model_copy(update={"bookings": [*instance.bookings, booking]})
    return out


def daily(day: Day) -> dict[str, Slot | None]:
    """Each morning CP-SAT over every referral not yet communicated."""
    if not day.instance.referrals:
        return {}
    return _slots(solve(day.instance, day.options).assignments)


def weekly(day: Day) -> dict[str, Slot | None]:
    """CP-SAT on the week's first working day, ProposeSlots on the others."""
    return daily(day) if day.week_start else propose(day)


STRATEGIES: dict[str, Strategy] = {
    "manual": manual,
    "edf": edf,
    "propose": propose,
    "daily": daily,
    "weekly": weekly,
}
"""The strategies by name, in the order reports list them."""


def strategy(name: str) -> Strategy:
    """The strategy called `name`; KeyError names the known ones."""
    if name not in STRATEGIES:
        raise KeyError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}")
    return STRATEGIES[name]
