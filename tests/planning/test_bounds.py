"""Bounds and exact reductions of the on-time count."""

from __future__ import annotations

from collections import defaultdict
from datetime import time, timedelta

import pytest

from scheduler.bench.generator import generate
from scheduler.planning.bounds import on_time_flow_bound, sure_on_time
from scheduler.planning.problem import Problem, prepare
from tests.builders import MONDAY, due_on, free_hours, instance, solve_checked, therapist

WED = MONDAY + timedelta(days=2)


def test_an_uncontested_referral_is_on_time_for_sure() -> None:
    # A whole free week for one referral: on time for sure, in its first on-time slot.
    problem = prepare(instance([therapist("T1")], [due_on("R1", WED)]))
    assert sure_on_time(problem) == {0: 0}


def test_contested_referrals_are_left_to_the_search() -> None:
    # One free hour, two referrals that want it: neither is sure.
    t, bookings = free_hours("T1", {MONDAY: (time(9), time(10))})
    problem = prepare(instance([t], [due_on("R1", WED), due_on("R2", WED)], bookings))
    assert sure_on_time(problem) == {}


def test_the_flow_bound_counts_the_slots_there_are() -> None:
    t, bookings = free_hours("T1", {MONDAY: (time(9), time(11))})
    inst = instance([t], [due_on(f"R{i}", WED) for i in range(4)], bookings)
    problem = prepare(inst)
    bound = on_time_flow_bound(problem)
    # 09-11 holds two sessions; 15:00-15:30 on each day holds none of 60 minutes.
    assert bound == 2
    assert solve_checked(inst).kpis.on_time == bound
    assert on_time_flow_bound(problem, leave_out={0, 1, 2}) == 1


def _sure_by_passes(problem: Problem) -> dict[int, int]:
    """The sure-on-time fixpoint by whole passes over the referrals (the definition)."""
    demand: dict[int, int] = defaultdict(int)
    for cands in problem.candidates:
        for cand in cands:
            if cand.on_time:
                demand[cand.gap] += cand.length
    sure: dict[int, int] = {}
    changed = True
    while changed:
        changed = False
        for r, cands in enumerate(problem.candidates):
            if r in sure:
                continue
            for k, cand in enumerate(cands):
                if not cand.on_time:
                    break
                gap = problem.gaps[cand.gap]
                if demand[cand.gap] <= gap.length and cand.gap not in problem.critical:
                    sure[r] = k
                    for other in cands:
                        if other.on_time and other is not cand:
                            demand[other.gap] -= other.length
                    changed = True
                    break
    return sure


@pytest.mark.parametrize(("seed", "load"), [(1, 0.7), (2, 0.85), (5, 0.95)])
def test_sure_on_time_matches_whole_passes_on_generated_weeks(seed: int, load: float) -> None:
    problem = prepare(generate("soenderborg", seed, referrals=60, load=load))
    assert sure_on_time(problem) == _sure_by_passes(problem)
