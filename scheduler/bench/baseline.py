"""Today's practice as a baseline: first come, first served (FCFS), the first free slot.

A planner in the municipal EHR calendar takes the plans in the order they arrive and books
each one into the earliest free slot of any qualified therapist, never moving a booking
already made. :func:`solve_baseline` does exactly that, under every rule the optimiser obeys:

- referrals in order of arrival: `received_date`, then `discharge_date`, then `id`;
- each takes the earliest free slot: the earliest working day on or after its earliest start
  (not on its unavailable dates, at its chosen site if it chose one, at home when it needs
  home training, with the therapist's travel both ways inside the free time), then the
  earliest minute, then the therapist listed first;
- free time is what :func:`scheduler.planning.problem.prepare` computes (rosters, absences, opening
  hours, daytime, staying bookings), with no cut-off after the deadline;
- a session at a site needs a room for its minutes: rooms taken by staying bookings
  (:attr:`Problem.room_load <scheduler.planning.problem.Problem.room_load>`) and by sessions placed
  before it count.

The earliest feasible start in a gap is found exactly: it is the gap's start or the end of a
session of the same therapist or of a room's use at that site, so only those minutes are
tried. Communicated first sessions stay as booked; a referral with no free slot at all in
the horizon is not bookable, with the reason :func:`scheduler.planning.problem.prepare` found.
"""

from __future__ import annotations

import time as _time

from scheduler.domain import Instance, Solution, SolverStats
from scheduler.planning.greedy import FreeTime, complete
from scheduler.planning.plan import Placed, make_solution
from scheduler.planning.problem import Problem, prepare

__all__ = ["EDF_METHOD", "arrival_order", "fcfs_plan", "solve_baseline", "solve_edf"]

METHOD = "baseline-fcfs"
EDF_METHOD = "edf-greedy"


def arrival_order(instance: Instance) -> list[int]:
    """Referral indices in order of arrival: received, then discharged, then by id."""
    refs = instance.referrals
    return sorted(
        range(len(refs)),
        key=lambda i: (refs[i].received_date, refs[i].discharge_date, refs[i].id),
    )


def fcfs_plan(problem: Problem) -> Placed:
    """Per referral index, the candidate and gap-start minute FCFS gives it (absent: none)."""
    free = FreeTime(problem)
    chosen: Placed = {}
    for r in arrival_order(problem.instance):
        if r in problem.fixed:
            continue
        # The first free slot in time order: a kept tentative time is no preference here.
        found = free.first_free([c for c in problem.candidates[r] if c.pinned_start is None])
        if found is not None:
            free.book(*found)
            chosen[r] = found
    return chosen


def solve_baseline(instance: Instance) -> Solution:
    """Book every referral FCFS into the first free slot, as a planner does by hand today."""
    began = _time.perf_counter()
    problem = prepare(instance, late_days=None)
    chosen = fcfs_plan(problem)
    wall = _time.perf_counter() - began
    return make_solution(
        problem,
        chosen,
        SolverStats(
            method=METHOD,
            status="HEURISTIC",
            proven_optimal=False,
            wall_time_s=wall,
            first_solution_s=wall,
            workers=1,
        ),
    )


def solve_edf(instance: Instance) -> Solution:
    """The earliest-deadline-first greedy that ignores courses: every referral, most urgent
    first, into its earliest candidate that still fits (on-time ones first), exactly as the
    optimiser's first plan (:func:`scheduler.planning.greedy.complete`); the courses are then
    given places greedily where the first sessions happen to leave room
    (:func:`scheduler.planning.courses.allocate`), so the bench can count how many of them can
    start without a wait when first sessions are planned course-blind."""
    began = _time.perf_counter()
    problem = prepare(instance, late_days=None)
    plan = complete(problem, {})
    placed: Placed = {r: (problem.candidates[r][k], start) for r, (k, start) in plan.items()}
    wall = _time.perf_counter() - began
    return make_solution(
        problem,
        placed,
        SolverStats(
            method=EDF_METHOD,
            status="HEURISTIC",
            proven_optimal=False,
            wall_time_s=wall,
            first_solution_s=wall,
            workers=1,
        ),
    )
