"""The wall-clock budget: its pace (how starved the work is) and the record loops that look at it.

Every clock is injected: nothing here depends on the machine's speed.
"""

from __future__ import annotations

import threading

import pytest

from scheduler.planning.budget import CHECK_EVERY, MAX_PACE, Budget, BudgetExpired, checked


class _Clocks:
    """A wall clock and a CPU clock the test moves by hand."""

    def __init__(self) -> None:
        self.wall = 100.0
        self.cpu = 7.0

    def run(self, wall_s: float, cpu_s: float) -> None:
        self.wall += wall_s
        self.cpu += cpu_s

    def budget(self, limit_s: float | None = None) -> Budget:
        return Budget(limit_s, clock=lambda: self.wall, cpu_clock=lambda: self.cpu)


def test_the_pace_is_wall_time_per_cpu_second_of_the_work() -> None:
    clocks = _Clocks()
    budget = clocks.budget()
    assert budget.pace == 1.0
    clocks.run(wall_s=2.0, cpu_s=0.5)  # a quarter of a core: a 2-core machine at load 8
    assert budget.note_pace() == pytest.approx(4.0)
    assert budget.pace == pytest.approx(4.0)


def test_the_pace_needs_enough_cpu_is_at_least_one_at_most_the_cap_and_only_grows() -> None:
    clocks = _Clocks()
    budget = clocks.budget()
    clocks.run(wall_s=1.0, cpu_s=0.001)  # too little CPU time to tell anything
    assert budget.note_pace() == 1.0
    clocks.run(wall_s=0.0, cpu_s=1.999)  # 1 s of wall for 2 s of CPU: never below 1
    assert budget.note_pace() == 1.0
    clocks.run(wall_s=1000.0, cpu_s=1.0)
    assert budget.note_pace() == MAX_PACE
    clocks.run(wall_s=0.0, cpu_s=1000.0)  # a later quiet stretch does not undo a starved one
    assert budget.note_pace() == MAX_PACE


def test_the_pace_is_measured_in_the_thread_that_measures() -> None:
    clocks = _Clocks()
    budget = clocks.budget()
    clocks.run(wall_s=8.0, cpu_s=1.0)
    seen: list[float] = []
    # Another thread's CPU clock says nothing about this one's: its first call starts there.
    worker = threading.Thread(target=lambda: seen.append(budget.note_pace()))
    worker.start()
    worker.join()
    assert seen == [1.0]


def test_the_budget_reads_its_clock_once_when_made() -> None:
    readings = [0]

    def clock() -> float:
        readings[0] += 1
        return 5.0

    budget = Budget(1.0, clock=clock)
    assert readings == [1] and budget.started == 5.0
    assert Budget(1.0, clock=clock, started=2.0).started == 2.0


def test_checked_looks_at_the_budget_before_the_first_and_every_so_many_records() -> None:
    budget = Budget(None)
    seen: list[int] = []
    stop_after = 10
    with pytest.raises(BudgetExpired):
        for i in checked(range(10_000), budget):
            seen.append(i)
            if i == stop_after:
                budget.stop.set()
    # The stop is seen at the next look: within CHECK_EVERY records of it.
    assert stop_after < len(seen) <= stop_after + CHECK_EVERY
    stopped = Budget(None)
    stopped.stop.set()
    with pytest.raises(BudgetExpired):
        next(checked([1, 2, 3], stopped))
    # Without a budget the items are the items.
    assert list(checked([1, 2, 3], None)) == [1, 2, 3]


def test_checked_by_an_injected_clock_that_runs_out() -> None:
    clocks = _Clocks()
    budget = clocks.budget(limit_s=1.0)
    seen = 0
    with pytest.raises(BudgetExpired):
        for _ in checked(range(1000), budget, every=10):
            seen += 1
            if seen == 25:
                clocks.run(wall_s=2.0, cpu_s=0.0)
    assert seen == 30  # the look after the 30th record
