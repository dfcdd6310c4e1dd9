"""The staged solve loop: stages in order, progress, a stop that ends it with the best plan."""

from __future__ import annotations

import threading
from datetime import time, timedelta

import pytest

from scheduler.domain import SolveOptions
from scheduler.planning.solve import Progress, solve
from scheduler.verify.checker import check_solution
from tests.builders import MONDAY, by_id, due_on, free_hours, instance, solve_checked

WED, THU, FRI = (MONDAY + timedelta(days=d) for d in (2, 3, 4))


def _contested():  # type: ignore[no-untyped-def]
    """Two free hours on Monday and one on Thursday; three referrals, two due Wednesday."""
    t, bookings = free_hours("T1", {MONDAY: (time(9), time(11)), THU: (time(9), time(10))})
    return instance(
        [t], [due_on("R-thu", THU), due_on("R-wed1", WED), due_on("R-wed2", WED)], bookings
    )


def test_stages_run_in_priority_order_and_are_recorded() -> None:
    solution = solve_checked(_contested())
    stages = [s["stage"] for s in solution.stats.stages]
    assert stages == ["on_time", "lateness", "courses", "tail", "repair"]
    assert solution.kpis.on_time == 3
    assert solution.stats.on_time_proven and solution.stats.gap == 0
    assert all(s["proven"] for s in solution.stats.stages if "proven" in s)
    # Stages 2-4 keep on-time referrals at on-time candidates: not their full candidate set,
    # so the plan as a whole is not claimed proven optimal.
    assert not solution.stats.stages[1]["full_candidates"]
    assert not solution.stats.proven_optimal


def test_progress_reports_the_greedy_plan_first() -> None:
    events: list[Progress] = []
    solve(_contested(), SolveOptions(time_limit_s=5, workers=1, seed=1), on_progress=events.append)
    assert events[0].stage == "greedy"
    assert events[-1].on_time == 3
    assert all(e.elapsed_s >= 0 for e in events)


def test_a_stop_before_the_start_ends_at_once_with_nothing_planned_marked_stopped() -> None:
    # Issue 10: a stop ends every phase, preparation included; nothing was prepared, so
    # nothing is booked, and each referral says it was not searched.
    inst = _contested()
    stop = threading.Event()
    stop.set()
    solution = solve(inst, SolveOptions(time_limit_s=30, workers=1, seed=1), stop=stop)
    assert solution.stats.status == "STOPPED" and not solution.stats.proven_optimal
    assert check_solution(inst, solution).ok
    assert solution.kpis.booked == 0
    assert all("not searched" in (a.detail or "") for a in solution.assignments)


def test_every_referral_is_placed_once_and_the_urgent_ones_first() -> None:
    solution = solve_checked(_contested())
    plan = by_id(solution)
    assert plan["R-thu"].start.date() == THU
    assert {plan["R-wed1"].start.date(), plan["R-wed2"].start.date()} == {MONDAY}


def test_the_finishing_time_kept_back_grows_with_size_and_pace() -> None:
    from scheduler.planning.solve import FINISH_SHARE_MAX, finish_reserve

    small = _contested()
    quiet = finish_reserve(small, 100.0)
    assert 0 < quiet < 1
    assert finish_reserve(small, 100.0, pace=4.0) == pytest.approx(4 * quiet)
    assert finish_reserve(small, 0.1, pace=8.0) == pytest.approx(FINISH_SHARE_MAX * 0.1)
    assert finish_reserve(small, float("inf")) == 0.0


def test_a_starved_solve_keeps_back_its_finishing_time_times_the_pace() -> None:
    from scheduler.planning.budget import Budget
    from scheduler.planning.solve import finish_reserve

    inst = _contested()
    wall, cpu = [0.0], [0.0]
    budget = Budget(1000.0, clock=lambda: wall[0], cpu_clock=lambda: cpu[0])
    wall[0], cpu[0] = 4.0, 1.0  # the work so far had a quarter of a core
    solution = solve(inst, SolveOptions(time_limit_s=1000, workers=1, seed=1), budget=budget)
    assert check_solution(inst, solution).ok
    assert budget.pace == pytest.approx(4.0)
    assert budget.limit_s == pytest.approx(1000.0 - finish_reserve(inst, 1000.0, 4.0))


def test_the_repair_runs_on_its_kept_back_time_after_the_search_budget_is_spent() -> None:
    # One free hour on Monday, Thursday and Friday each for three referrals due Monday. With
    # one late day each keeps Thursday only, so the third is booked by the repair (Friday).
    # Once the greedy plan is made, the clock jumps to where the search's budget is spent but
    # the repair's share of the kept-back time is not.
    from scheduler.planning.budget import Budget
    from scheduler.planning.solve import _answer_cpu_s, finish_reserve

    hour = (time(9), time(10))
    t, bookings = free_hours("T1", {MONDAY: hour, THU: hour, FRI: hour})
    inst = instance([t], [due_on(f"R-{i}", MONDAY) for i in (1, 2, 3)], bookings)
    wall, cpu = [0.0], [0.0]
    budget = Budget(10.0, clock=lambda: wall[0], cpu_clock=lambda: cpu[0])
    reserve, answer = finish_reserve(inst, 10.0), _answer_cpu_s(inst)
    assert answer < reserve

    def jump(progress: Progress) -> None:
        wall[0] = 10.0 - (reserve + answer) / 2

    options = SolveOptions(time_limit_s=10, late_days=1, workers=1)
    solution = solve(inst, options, on_progress=jump, budget=budget)
    assert check_solution(inst, solution).ok
    assert [s["stage"] for s in solution.stats.stages] == ["repair"]  # no search ran
    assert solution.stats.stages[-1] == {"stage": "repair", "booked": 1, "finished": True}
    assert {a.referral_id: a.start.date() for a in solution.assignments if a.start} == {
        "R-1": MONDAY,
        "R-2": THU,
        "R-3": FRI,
    }
    # Past the repair's share too: it is cut, and the unbooked referral's reason says so
    # instead of claiming that every free slot is taken.
    wall[0] = 0.0
    late = Budget(10.0, clock=lambda: wall[0], cpu_clock=lambda: cpu[0])

    def jump_further(progress: Progress) -> None:
        wall[0] = 10.0 - answer / 2

    solution = solve(inst, options, on_progress=jump_further, budget=late)
    assert check_solution(inst, solution).ok
    assert solution.stats.stages[-1] == {"stage": "repair", "booked": 0, "finished": False}
    r3 = by_id(solution)["R-3"]
    assert r3.start is None and "solve ended (time limit or stop)" in r3.detail


def test_an_abandoned_solve_makes_no_plan_and_a_stopped_one_still_does() -> None:
    from scheduler.planning.budget import Budget, BudgetExpired
    from scheduler.planning.problem import prepare

    inst = _contested()
    stopped = Budget(30.0)
    stopped.stop.set()
    assert check_solution(inst, solve(inst, budget=stopped)).ok  # the best plan so far
    # The client has gone: nobody reads the plan, so neither preparation nor the solve makes it.
    abandoned = Budget(30.0, abandon=threading.Event())
    abandoned.stop.set()
    abandoned.abandon.set()
    with pytest.raises(BudgetExpired):
        prepare(inst, budget=abandoned)
    with pytest.raises(BudgetExpired):
        solve(inst, budget=abandoned)
