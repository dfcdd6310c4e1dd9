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
2. **Ejection chains**: a referral still not on time takes a place from one that is, which is
   placed again: directly (at any on-time slot with room, possibly another time in its own
   gap), or, in a chain of two moves, by taking a place in turn (an augmenting path, as in
   bipartite matching). A place is the minutes of a session in the same gap, or, in a gap
   where rooms can run out and that has the minutes, the room held by an overlapping session
   at the same site and day. Each referral is displaced at most once per attempt (visited
   marks kept across the whole search for one referral, as in Kuhn's algorithm: unmarking
   after a failed branch found one referral more on one of four 1,000-referral weeks and took
   2-8 times as long). Chains of one move first, then of two, each repeated while a pass
   gains; a referral is tried again only once the plan has changed since it last failed.

It never books a late slot (the caller completes the plan) and is an improvement heuristic,
not a bound: what it finds is checked like every plan. Measured (docs/stage1-parameters.md,
"Ejection chains"): on the 1,000-referral stress week 447 on time (EDF) -> 457 in about
1.2 s (455 with one-move chains in the same gap only; CP-SAT's best in 300 s is 457); on the
København weeks 0 to +3 in 0.01-0.2 s (koebenhavn-085: 190 -> 192, the optimum). Longest
session first, tried too, was as good or one worse on all but one week, and slower.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date

from scheduler.planning.budget import Budget
from scheduler.planning.candidate_lists import fitting, on_time_count, scan
from scheduler.planning.greedy import FreeTime, Plan
from scheduler.planning.problem import Problem

__all__ = ["MAX_CHAIN", "most_on_time"]

MAX_CHAIN = 2
"""Referrals displaced in one ejection chain at most (each placed again, the last one
directly). Three gained one referral on one of the four 1,000-referral weeks measured, for
0.4-2.2 s more on each (docs/stage1-parameters.md, "Ejection chains")."""


def most_on_time(
    problem: Problem,
    budget: Budget | None = None,
    seconds: float = 10.0,
    target: int | None = None,
    *,
    chain: int | None = None,
    rooms: bool = True,
) -> Plan:
    """A plan of on-time first sessions only, with as many referrals as best fit and ejection
    reach in at most `seconds` (and within `budget`): the work stops early, keeping what it
    has, never an infeasible plan. Ejection also stops once `target` referrals are on time (a
    bound no plan exceeds). `chain` (default :data:`MAX_CHAIN`) and `rooms` (whether a room
    held at the site may be taken, not only minutes in the same gap) are for studies
    (``scripts/start_plan_study.py``)."""
    deadline = time.monotonic() + seconds

    def spent() -> bool:
        return time.monotonic() > deadline or (budget is not None and budget.expired())

    free = FreeTime(problem)
    plan = _best_fit(problem, free, spent)
    if target is None or len(plan) < target:
        _eject(problem, free, plan, spent, target, MAX_CHAIN if chain is None else chain, rooms)
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
    target: int | None,
    chain: int,
    rooms: bool,
) -> None:
    """Ejection chains, one move deep first, then up to `chain` deep, each to a
    fixpoint. A referral not on time takes the place of a booked one, which is placed again,
    directly or (in a longer chain) by displacing another. A place is taken from one of two
    kinds of neighbour: a session in the same gap (its minutes), or, where rooms can run out,
    a session at the same site and day that overlaps the gap (its room). Each referral is
    tried as the one displaced at most once per attempt to place a referral (`seen`, kept
    across the attempt's branches: a referral with a tentative session, which has two
    candidates in that gap, tries a neighbour with the first only)."""
    cands_of = problem.candidates
    critical = problem.critical
    in_gap: dict[int, list[int]] = defaultdict(list)
    at_site: dict[tuple[int, date], list[int]] = defaultdict(list)

    def site_day(g: int) -> tuple[int, date]:
        gap = problem.gaps[g]
        return gap.site, gap.day

    def book(r: int, k: int, start: int) -> None:
        cand = cands_of[r][k]
        free.book(cand, start)
        plan[r] = (k, start)
        in_gap[cand.gap].append(r)
        if not cand.at_home:
            at_site[site_day(cand.gap)].append(r)

    def release(r: int) -> tuple[int, int]:
        k, start = plan.pop(r)
        cand = cands_of[r][k]
        free.release(cand, start)
        in_gap[cand.gap].remove(r)
        if not cand.at_home:
            at_site[site_day(cand.gap)].remove(r)
        return k, start

    for r, (k, _) in plan.items():
        cand = cands_of[r][k]
        in_gap[cand.gap].append(r)
        if not cand.at_home:
            at_site[site_day(cand.gap)].append(r)

    def place_directly(r: int) -> bool:
        cands = cands_of[r]
        for k in fitting(cands, free.left, on_time_count(cands)):
            start = free.earliest_start(cands[k])
            if start is not None:
                book(r, k, start)
                return True
        return False

    def may_move(r: int, k: int) -> bool:
        """Whether `r`, booked at its candidate `k`, has another on-time gap with the minutes."""
        cands = cands_of[r]
        return any(other != k for other in fitting(cands, free.left, on_time_count(cands)))

    def same_gap(g: int, length: int) -> Iterator[int]:
        """Sessions in gap `g` whose minutes would make room for a session of `length`."""
        for other in list(in_gap[g]):
            other_k = plan[other][0]
            if free.left[g] + cands_of[other][other_k].length >= length:
                yield other

    def same_rooms(g: int, length: int) -> Iterator[int]:
        """Sessions in other gaps at the site and day of room-critical gap `g`, overlapping
        it: a room they hold may be what the gap lacks (it has the minutes)."""
        gap = problem.gaps[g]
        for other in list(at_site[(gap.site, gap.day)]):
            other_k, other_start = plan[other]
            cand = cands_of[other][other_k]
            if cand.gap != g and other_start < gap.end and gap.start < other_start + cand.length:
                yield other

    kinds = (same_gap, same_rooms) if rooms else (same_gap,)

    def place(r: int, depth: int, seen: set[int]) -> bool:
        """Place `r` on time, displacing at most `depth` others in a chain."""
        if place_directly(r):
            return True
        if depth == 0:
            return False
        cands = cands_of[r]
        on_time = on_time_count(cands)
        for neighbours in kinds:
            for k, g, length in scan(cands, on_time):
                if neighbours is same_rooms and (
                    cands[k].at_home or g not in critical or free.left[g] < length
                ):
                    continue
                for other in neighbours(g, length):
                    if other in seen:
                        continue
                    other_k, other_start = plan[other]
                    if depth == 1 and neighbours is same_gap and not may_move(other, other_k):
                        continue  # it would have to come back to the same gap
                    seen.add(other)
                    release(other)
                    start = free.earliest_start(cands[k])
                    if start is not None:
                        book(r, k, start)
                        if place(other, depth - 1, seen):
                            return True
                        release(r)
                    book(other, other_k, other_start)
        return False

    # A referral that failed is tried again only after a later gain changed the plan.
    waiting = [r for r, cands in enumerate(cands_of) if on_time_count(cands)]
    for depth in range(1, chain + 1):
        failed_at: dict[int, int] = {}
        gains, passes = 0, -1
        while passes != gains:
            passes = gains
            for n, r in enumerate(waiting):
                if n % 16 == 0 and spent():
                    return
                if r in plan or failed_at.get(r) == gains:
                    continue
                if place(r, depth, {r}):
                    gains += 1
                    if target is not None and len(plan) >= target:
                        return
                else:
                    failed_at[r] = gains
