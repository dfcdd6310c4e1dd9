"""More referrals on time than the earliest-deadline-first plan, before any search.

The EDF greedy (:func:`scheduler.planning.greedy.fill_edf`) books each referral, most urgent
first, into its earliest free slot. On a full week that spends gaps badly: a short session
takes the only gap a long one fitted, and a referral with one on-time slot finds it taken by
one that had ten. The optimiser's search starts from its first plan, and on the 1,000-referral
stress week CP-SAT needed most of a minute to add the referrals a better start has at once.
:func:`most_on_time` makes that start, exactly (therapist time and rooms to the minute through
:class:`~scheduler.planning.greedy.FreeTime`), in two steps:

1. **Best fit**: the referrals that can be on time, shortest session first (then earliest
   deadline, fewest on-time slots: a count is made of short sessions), each into the on-time
   slot that leaves its gap the fewest minutes (then the earliest), so that the rests of gaps
   stay large enough for the sessions still to come.
2. **Ejection**: a referral still not on time takes a slot from one that is, which moves to
   another of its on-time slots still free (an augmenting path of one step, as in bipartite
   matching); repeated while a pass gains, a referral tried again only once the plan has
   changed since it last failed.

It never books a late slot (the caller completes the plan) and is an improvement heuristic,
not a bound: what it finds is checked like every plan. Measured (docs/stage1-parameters.md):
on the 1,000-referral stress week 447 on time (EDF) -> 455 in about 2.7 s; on the København
weeks 0 to +2 in 0.01-0.25 s (koebenhavn-085: 190 -> 192, the optimum). Longest session
first, tried too, was as good or one worse on all but one week, and slower.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable

from scheduler.planning.budget import Budget
from scheduler.planning.candidate_lists import fitting, on_time_count, scan
from scheduler.planning.greedy import FreeTime, Plan
from scheduler.planning.problem import Problem

__all__ = ["most_on_time"]


def most_on_time(
    problem: Problem,
    budget: Budget | None = None,
    seconds: float = 10.0,
    target: int | None = None,
) -> Plan:
    """A plan of on-time first sessions only, with as many referrals as best fit and ejection
    reach in at most `seconds` (and within `budget`): the work stops early, keeping what it
    has, never an infeasible plan. Ejection also stops once `target` referrals are on time (a
    bound no plan exceeds)."""
    deadline = time.monotonic() + seconds

    def spent() -> bool:
        return time.monotonic() > deadline or (budget is not None and budget.expired())

    free = FreeTime(problem)
    plan = _best_fit(problem, free, spent)
    if target is None or len(plan) < target:
        _eject(problem, free, plan, spent, target)
    return plan


def _best_fit(problem: Problem, free: FreeTime, spent: Callable[[], bool]) -> Plan:
    minutes = [r.first_session_minutes for r in problem.instance.referrals]
    order = sorted(
        (r for r, cands in enumerate(problem.candidates) if on_time_count(cands)),
        key=lambda r: (
            minutes[r],
            problem.dates[r].deadline,
            on_time_count(problem.candidates[r]),
            r,
        ),
    )
    plan: Plan = {}
    for n, r in enumerate(order):
        if n % 64 == 0 and spent():
            break
        cands = problem.candidates[r]
        best: tuple[int, int, int] | None = None  # (minutes left after, k, start)
        for k in fitting(cands, free.left, on_time_count(cands)):
            cand = cands[k]
            rest = free.left[cand.gap] - cand.length
            if best is not None and rest >= best[0]:
                continue
            start = free.earliest_start(cand)
            if start is not None:
                best = (rest, k, start)
        if best is not None:
            _, k, start = best
            free.book(cands[k], start)
            plan[r] = (k, start)
    return plan


def _eject(
    problem: Problem,
    free: FreeTime,
    plan: Plan,
    spent: Callable[[], bool],
    target: int | None = None,
) -> None:
    in_gap: dict[int, list[int]] = defaultdict(list)
    for r, (k, _) in plan.items():
        in_gap[problem.candidates[r][k].gap].append(r)

    def book(r: int, k: int, start: int) -> None:
        free.book(problem.candidates[r][k], start)
        plan[r] = (k, start)
        in_gap[problem.candidates[r][k].gap].append(r)

    def release(r: int) -> tuple[int, int]:
        k, start = plan.pop(r)
        free.release(problem.candidates[r][k], start)
        in_gap[problem.candidates[r][k].gap].remove(r)
        return k, start

    def place_directly(r: int) -> bool:
        cands = problem.candidates[r]
        for k in fitting(cands, free.left, on_time_count(cands)):
            start = free.earliest_start(cands[k])
            if start is not None:
                book(r, k, start)
                return True
        return False

    def may_move(r: int, k: int) -> bool:
        """Whether `r`, booked at its candidate `k`, has another on-time gap with the minutes."""
        cands = problem.candidates[r]
        return any(other != k for other in fitting(cands, free.left, on_time_count(cands)))

    def place_by_ejecting(r: int) -> bool:
        cands = problem.candidates[r]
        for k, g, length in scan(cands, on_time_count(cands)):
            for other in list(in_gap[g]):
                other_k, other_start = plan[other]
                if free.left[g] + problem.candidates[other][other_k].length < length:
                    continue
                if not may_move(other, other_k):
                    continue
                release(other)
                start = free.earliest_start(cands[k])
                if start is not None:
                    book(r, k, start)
                    if place_directly(other):
                        return True
                    release(r)
                book(other, other_k, other_start)
        return False

    # A referral that failed is tried again only after a later gain changed the plan.
    waiting = [r for r, cands in enumerate(problem.candidates) if on_time_count(cands)]
    failed_at: dict[int, int] = {}
    gains, passes = 0, -1
    while passes != gains:
        passes = gains
        for n, r in enumerate(waiting):
            if n % 16 == 0 and spent():
                return
            if r in plan or failed_at.get(r) == gains:
                continue
            if place_directly(r) or place_by_ejecting(r):
                gains += 1
                if target is not None and len(plan) >= target:
                    return
            else:
                failed_at[r] = gains
