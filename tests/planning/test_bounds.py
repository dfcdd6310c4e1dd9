"""Bounds and exact reductions of the on-time count."""

from __future__ import annotations

from datetime import time, timedelta

from scheduler.planning.bounds import on_time_flow_bound, sure_on_time
from scheduler.planning.problem import prepare
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
