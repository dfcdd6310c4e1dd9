"""Today's practice as a baseline: first come, first served (FCFS), the first free slot.

A planner in the municipal EHR calendar takes the plans in the order they arrive and books
each one into the earliest free slot of any qualified therapist, never moving a booking
already made. :func:`solve_baseline` does exactly that, under every rule the optimiser obeys:

- referrals in order of arrival: `received_date`, then `discharge_date`, then `id`;
- each takes the earliest free slot: the earliest working day on or after its earliest start
  (not on its unavailable dates, at its chosen site if it chose one, at home when it needs
  home training, with the therapist's travel both ways inside the free time), then the
  earliest minute, then the therapist listed first;
- free time is what :func:`scheduler.slots.prepare` computes (rosters, absences, opening
  hours, daytime, staying bookings), with no cut-off after the deadline;
- a session at a site needs a room for its minutes: rooms taken by staying bookings
  (:attr:`Problem.room_load <scheduler.slots.Problem.room_load>`) and by sessions placed
  before it count.

The earliest feasible start in a gap is found exactly: it is the gap's start or the end of a
session of the same therapist or of a room's use at that site, so only those minutes are
tried. Communicated first sessions stay as booked; a referral with no free slot at all in
the horizon is not bookable, with the reason :func:`scheduler.slots.prepare` found.
"""

from __future__ import annotations

import time as _time
from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from scheduler.domain import Assignment, Instance, Solution, SolverStats
from scheduler.kpis import compute_kpis
from scheduler.slots import Candidate, Gap, Problem, prepare

__all__ = ["FreeTime", "arrival_order", "fcfs_plan", "solve_baseline"]

METHOD = "baseline-fcfs"


def arrival_order(instance: Instance) -> list[int]:
    """Referral indices in order of arrival: received, then discharged, then by id."""
    refs = instance.referrals
    return sorted(
        range(len(refs)),
        key=lambda i: (refs[i].received_date, refs[i].discharge_date, refs[i].id),
    )


def _peak(spans: list[tuple[int, int]], lo: int, hi: int) -> int:
    """The most of `spans` that overlap at one moment within [lo, hi)."""
    events: list[tuple[int, int]] = []
    for s, e in spans:
        s, e = max(s, lo), min(e, hi)
        if s < e:
            events += [(s, 1), (e, -1)]
    level = peak = 0
    for _, delta in sorted(events, key=lambda x: (x[0], x[1])):
        level += delta
        peak = max(peak, level)
    return peak


class FreeTime:
    """What has been booked so far on top of the staying bookings: per gap the therapist's new
    sessions, per site-day the rooms in use. Answers "the first free slot" exactly."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.in_gap: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self.rooms: dict[tuple[int, date], list[tuple[int, int]]] = {
            key: list(spans) for key, spans in problem.room_load.items()
        }

    def earliest_start(self, cand: Candidate, grid: int | None = None) -> int | None:
        """The earliest minute `cand` can start its use of the gap (travel included), or None.

        With `grid`, only starts on that many minutes' steps from the gap's start are tried.
        """
        gap: Gap = self.problem.gaps[cand.gap]
        own = self.in_gap[cand.gap]
        room_key = (gap.site, gap.day)
        # Where even every therapist at once cannot fill the rooms, rooms need no check.
        binding = not cand.at_home and self.problem.critical.get(room_key, False)
        rooms = self.rooms.get(room_key, []) if binding else None
        capacity = self.problem.instance.sites[gap.site].rooms
        if grid is not None:
            points = set(range(gap.start, gap.end - cand.length + 1, grid))
        else:
            points = {gap.start} | {e for _, e in own}
            if rooms:
                points |= {e for _, e in rooms}
        for start in sorted(p for p in points if gap.start <= p <= gap.end - cand.length):
            end = start + cand.length
            if any(s < end and start < e for s, e in own):
                continue
            if rooms is not None and _peak(rooms, start, end) + 1 > capacity:
                continue
            return start
        return None

    def first_free(self, cands: Iterable[Candidate]) -> tuple[Candidate, int] | None:
        """The first free slot among `cands` (in time order): the earliest day, then the
        earliest minute, then the therapist listed first."""
        best: tuple[int, int, Candidate] | None = None
        day: date | None = None
        for cand in cands:
            if day is not None and cand.day != day:
                break
            start = self.earliest_start(cand)
            if start is None:
                continue
            day = cand.day
            therapist = self.problem.gaps[cand.gap].therapist
            if best is None or (start, therapist) < (best[0], best[1]):
                best = (start, therapist, cand)
        return None if best is None else (best[2], best[0])

    def book(self, cand: Candidate, start: int) -> None:
        """Take the gap time from `start` (travel included) and, at a site, a room."""
        gap = self.problem.gaps[cand.gap]
        span = (start, start + cand.length)
        self.in_gap[cand.gap].append(span)
        if not cand.at_home:
            self.rooms.setdefault((gap.site, gap.day), []).append(span)


def fcfs_plan(problem: Problem) -> dict[int, tuple[Candidate, int]]:
    """Per referral index, the candidate and gap-start minute FCFS gives it (absent: none)."""
    free = FreeTime(problem)
    chosen: dict[int, tuple[Candidate, int]] = {}
    for r in arrival_order(problem.instance):
        if r in problem.fixed:
            continue
        found = free.first_free(problem.candidates[r])
        if found is not None:
            free.book(*found)
            chosen[r] = found
    return chosen


def solve_baseline(instance: Instance) -> Solution:
    """Book every referral FCFS into the first free slot, as a planner does by hand today."""
    began = _time.perf_counter()
    problem = prepare(instance, late_days=None)
    chosen = fcfs_plan(problem)
    assignments: list[Assignment] = []
    for r in range(len(instance.referrals)):
        if r in problem.fixed:
            assignments.append(problem.fixed_assignment(r))
        elif r in chosen:
            cand, start = chosen[r]
            assignments.append(problem.assignment(r, cand, start))
        else:
            assignments.append(problem.assignment(r, None, None))
    wall = _time.perf_counter() - began
    return Solution(
        instance_name=instance.name,
        planning_date=instance.planning_date,
        assignments=assignments,
        kpis=compute_kpis(instance, assignments),
        stats=SolverStats(
            method=METHOD,
            status="HEURISTIC",
            proven_optimal=False,
            wall_time_s=wall,
            workers=1,
        ),
    )
