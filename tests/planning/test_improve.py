"""The start plan's improvement: best fit and ejection, exact to the minute."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from scheduler.bench.generator import generate
from scheduler.planning.budget import Budget
from scheduler.planning.greedy import FreeTime, complete
from scheduler.planning.improve import most_on_time
from scheduler.planning.problem import Problem, prepare
from tests.builders import MONDAY, by_id, due_on, free_hours, instance, site, solve_checked

TUE, WED, THU = (MONDAY + timedelta(days=n) for n in (1, 2, 3))


def _two_referrals_one_specialist():  # type: ignore[no-untyped-def]
    # T1 (neuro) is free 09-10 on Monday, T2 (basal only) 09-10 on Tuesday. R-a (basal, due
    # Tuesday) can take either; R-b (avanceret neuro, due Wednesday) only T1's Monday hour.
    t1, b1 = free_hours("T1", {MONDAY: (time(9), time(10))}, specialties=["neuro"])
    t2, b2 = free_hours("T2", {TUE: (time(9), time(10))})
    refs = [
        due_on("R-a", TUE),
        due_on("R-b", WED, level="avanceret", specialty="neuro"),
    ]
    return instance([t1, t2], refs, b1 + b2)


def _on_time(problem: Problem, plan: dict[int, tuple[int, int]]) -> int:
    return sum(1 for r, (k, _) in plan.items() if problem.candidates[r][k].on_time)


def _fits_exactly(problem: Problem, plan: dict[int, tuple[int, int]]) -> bool:
    free = FreeTime(problem)
    for r, (k, start) in plan.items():
        cand = problem.candidates[r][k]
        if not free.fits_at(cand, start):
            return False
        free.book(cand, start)
    return True


def test_ejection_moves_a_flexible_referral_for_one_with_a_single_slot() -> None:
    problem = prepare(_two_referrals_one_specialist())
    # Earliest deadline first gives R-a the Monday hour: R-b has no on-time slot left.
    assert _on_time(problem, complete(problem, {})) == 1
    plan = most_on_time(problem)
    assert _on_time(problem, plan) == 2 == len(plan)
    assert _fits_exactly(problem, plan)
    day = {r: problem.candidates[r][k].day for r, (k, _) in plan.items()}
    assert day == {0: TUE, 1: MONDAY}


def test_ejection_moves_a_session_in_another_gap_for_the_room_it_holds() -> None:
    # One room. The OT therapist T2 is free 09-11 on Monday, the PT therapist T1 09-10 (their
    # other bookings take no room). Best fit books R-a (OT, due Tuesday, so first) at 09:00,
    # which leaves T1's hour with the minutes but no room for R-b (PT, due Wednesday). No
    # session shares T1's gap: the room, held from T2's gap, is what has to move.
    t1, b1 = free_hours("T1", {MONDAY: (time(9), time(10))})
    t2, b2 = free_hours("T2", {MONDAY: (time(9), time(11))}, discipline="OT")
    elsewhere = [b.model_copy(update={"site_id": None}) for b in b1 + b2]
    refs = [due_on("R-a", TUE, discipline="OT"), due_on("R-b", WED)]
    problem = prepare(instance([t1, t2], refs, elsewhere, sites=[site(rooms=1)]))
    assert _on_time(problem, complete(problem, {})) == 1
    plan = most_on_time(problem)
    assert _on_time(problem, plan) == 2 == len(plan)
    assert _fits_exactly(problem, plan)
    assert {r: start for r, (_, start) in plan.items()} == {0: 10 * 60, 1: 9 * 60}


def test_an_ejection_chain_moves_two_referrals_for_a_third() -> None:
    # T1 (neuro) is free 09-10 on Monday, T2 09-10 on Tuesday, T3 09-11 on Wednesday. Best
    # fit gives R-a (due Tuesday) Monday's hour and R-b (due Wednesday) Tuesday's; R-c
    # (avanceret neuro, due Thursday) has only T1's hour. One move is not enough (R-a has no
    # free on-time gap); the chain R-c -> Monday, R-a -> Tuesday, R-b -> Wednesday is.
    t1, b1 = free_hours("T1", {MONDAY: (time(9), time(10))}, specialties=["neuro"])
    t2, b2 = free_hours("T2", {TUE: (time(9), time(10))})
    t3, b3 = free_hours("T3", {WED: (time(9), time(11))})
    refs = [
        due_on("R-a", TUE),
        due_on("R-b", WED),
        due_on("R-c", THU, level="avanceret", specialty="neuro"),
    ]
    problem = prepare(instance([t1, t2, t3], refs, b1 + b2 + b3))
    assert _on_time(problem, complete(problem, {})) == 2
    plan = most_on_time(problem)
    assert _on_time(problem, plan) == 3 == len(plan)
    assert _fits_exactly(problem, plan)
    day = {r: problem.candidates[r][k].day for r, (k, _) in plan.items()}
    assert day == {0: TUE, 1: WED, 2: MONDAY}


def test_ejection_stops_once_the_target_is_reached() -> None:
    # The target is the flow bound in the solve loop: a plan that reaches it cannot gain, so
    # no referral is moved for nothing. Here a target of 1 is reached by best fit alone.
    problem = prepare(_two_referrals_one_specialist())
    assert len(most_on_time(problem, target=1)) == 1
    assert len(most_on_time(problem, target=2)) == 2


def test_the_solve_starts_from_the_improved_plan_and_the_checker_accepts_it() -> None:
    solution = solve_checked(_two_referrals_one_specialist())
    got = by_id(solution)
    assert got["R-a"].start.date() == TUE
    assert got["R-b"].start.date() == MONDAY


@pytest.mark.parametrize(("seed", "load"), [(1, 0.9), (4, 0.95)])
def test_on_generated_weeks_the_plan_is_exact_and_on_time(seed: int, load: float) -> None:
    inst = generate("soenderborg", seed, referrals=60, therapists=12, sites=2, load=load)
    problem = prepare(inst)
    plan = most_on_time(problem)
    assert plan
    assert all(problem.candidates[r][k].on_time for r, (k, _) in plan.items())
    assert _fits_exactly(problem, plan)
    # Completed greedily it is a whole plan, and the solve's checker accepts what comes of it.
    whole = complete(problem, plan)
    assert _fits_exactly(problem, whole)
    solve_checked(inst, time_limit=10)


def test_a_spent_budget_or_no_seconds_stops_it_before_it_books() -> None:
    problem = prepare(generate("soenderborg", 2, referrals=60, therapists=12, sites=2, load=0.9))
    assert most_on_time(problem)
    assert most_on_time(problem, Budget(0.0)) == {}
    assert most_on_time(problem, seconds=-1.0) == {}


def test_room_stretches_kept_up_to_date_equal_the_ones_made_afresh() -> None:
    # FreeTime re-derives the stretches where every room is taken only inside a changed span;
    # after any sequence of bookings and releases they must equal those made from scratch.
    import random

    from scheduler.planning.greedy import _full_spans

    problem = prepare(generate("koebenhavn", seed=3, load=0.9))
    free = FreeTime(problem)
    rng = random.Random(5)
    booked: list[tuple[object, int]] = []
    site_cands = [
        cand
        for cands in problem.candidates
        for cand in list(cands)[:40]
        if not cand.at_home and cand.gap in problem.critical
    ]
    assert site_cands
    for _ in range(600):
        if booked and rng.random() < 0.4:
            cand, start = booked.pop(rng.randrange(len(booked)))
            free.release(cand, start)  # type: ignore[arg-type]
        else:
            cand = rng.choice(site_cands)
            start = free.earliest_start(cand)
            if start is None:
                continue
            free.book(cand, start)
            booked.append((cand, start))
        for key in list(free._full):
            rooms = problem.instance.sites[key[0]].rooms
            assert free._rooms_full(key) == _full_spans(free.rooms_in_use(key), rooms)
