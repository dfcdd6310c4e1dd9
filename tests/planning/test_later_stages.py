"""Stages 2-3 on huge weeks: a bounded model (on-time referrals pinned, late ones only where
time is left, at most the limit)."""

from __future__ import annotations

from collections import Counter

import pytest

from scheduler.planning import solve as solve_module
from scheduler.planning.greedy import complete
from scheduler.planning.problem import prepare
from tests.builders import MONDAY, due_on, instance, site, therapist


def test_a_huge_week_pins_on_time_referrals_and_bounds_the_late_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Eight therapists free all week, eight rooms; 60 referrals due Monday: 56 fit on Monday,
    # 4 are late with 32 later candidates each (8 therapists x 4 days).
    inst = instance(
        [therapist(f"T{i}") for i in range(8)],
        [due_on(f"R{i}", MONDAY) for i in range(60)],
        sites=[site(rooms=8)],
    )
    problem = prepare(inst)
    plan = complete(problem, {})
    on_time = {r: k for r, (k, _) in plan.items() if problem.candidates[r][k].on_time}
    assert len(on_time) == 56
    full, restricted = solve_module._later_stages(problem, plan)
    assert not restricted  # small enough: every candidate of the late ones, on-time ones free
    monkeypatch.setattr(solve_module, "_FULL_MODEL_LIMIT", 10)
    keys, restricted = solve_module._later_stages(problem, plan)
    assert restricted
    per_referral = Counter(r for r, _ in keys)
    assert all(per_referral[r] == 1 and (r, k) in keys for r, k in on_time.items())
    left = {g.index: g.length for g in problem.gaps}
    for r, k in on_time.items():
        left[problem.candidates[r][k].gap] -= problem.candidates[r][k].length
    late = [r for r in range(60) if r not in on_time]
    assert late
    for r in late:
        assert per_referral[r] <= 25 + 1  # the earliest 25 with time left, and the planned one
        assert (r, plan[r][0]) in keys
        for rr, k in keys:
            if rr == r and k != plan[r][0]:
                cand = problem.candidates[r][k]
                assert left[cand.gap] >= cand.length
    assert len(keys) < len(full)
