"""Each CP-SAT constraint builder alone, on a tiny prepared problem.

Every test builds the decision variables, applies one builder, forces a choice and asks CP-SAT
whether it is feasible: what the builder must allow, and what it must forbid.
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from ortools.sat.python import cp_model

from scheduler.bench.generator import generate
from scheduler.domain import ObjectiveWeights
from scheduler.planning import model as model_module
from scheduler.planning.free_time import critical_gaps
from scheduler.planning.greedy import complete
from scheduler.planning.model import (
    FirstSessionModel,
    Key,
    add_gap_capacity,
    add_one_session_per_referral,
    add_room_capacity,
    build_model,
    set_objective,
)
from scheduler.planning.problem import Problem, prepare
from tests.builders import MONDAY, due_on, fill_day, free_hours, instance, site, therapist

WED = MONDAY + timedelta(days=2)


def _variables(problem: Problem) -> tuple[cp_model.CpModel, dict[Key, cp_model.IntVar]]:
    model = cp_model.CpModel()
    x = {
        (r, k): model.new_bool_var(f"x{r}_{k}")
        for r, cands in enumerate(problem.candidates)
        for k in range(len(cands))
    }
    return model, x


def _feasible(model: cp_model.CpModel) -> bool:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    return solver.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def _force(model: cp_model.CpModel, x: dict[Key, cp_model.IntVar], keys: list[Key]) -> None:
    for key in keys:
        model.add(x[key] == 1)


def test_one_session_per_referral() -> None:
    problem = prepare(instance([therapist("T1")], [due_on("R1", WED)]))
    model, x = _variables(problem)
    booked = add_one_session_per_referral(model, problem, x)
    assert set(booked) == {0}
    _force(model, x, [(0, 0)])
    assert _feasible(model)
    _force(model, x, [(0, 1)])
    assert not _feasible(model)


def test_gap_capacity_fits_sessions_back_to_back() -> None:
    # 09:00-11:00 free: two 60-minute sessions fit, three do not.
    t, bookings = free_hours("T1", {MONDAY: (time(9), time(11))})
    inst = instance([t], [due_on(f"R{i}", WED) for i in range(3)], bookings)
    problem = prepare(inst)
    monday_gap = [
        (r, k)
        for r, cands in enumerate(problem.candidates)
        for k, c in enumerate(cands)
        if c.day == MONDAY and problem.gaps[c.gap].length == 120
    ]
    assert len(monday_gap) == 3
    model, x = _variables(problem)
    add_gap_capacity(model, problem, x)
    _force(model, x, monday_gap[:2])
    assert _feasible(model)
    model, x = _variables(problem)
    add_gap_capacity(model, problem, x)
    _force(model, x, monday_gap)
    assert not _feasible(model)


def test_room_capacity_in_critical_gaps() -> None:
    # One room; two therapists free 09-10 on Monday only: not both at once.
    only_monday = {"days": [MONDAY], "hours": (time(8), time(15))}
    inst = instance(
        [therapist("T1", **only_monday), therapist("T2", **only_monday)],  # type: ignore[arg-type]
        [due_on("R1", WED), due_on("R2", WED)],
        fill_day("T1", MONDAY, (time(9), time(10))) + fill_day("T2", MONDAY, (time(9), time(10))),
        sites=[site(rooms=1)],
    )
    problem = prepare(inst)
    critical = critical_gaps(inst, problem.gaps, problem.room_load)
    first_hour = {
        r: k
        for r, cands in enumerate(problem.candidates)
        for k, c in enumerate(cands)
        if problem.gaps[c.gap].start == 9 * 60
        and problem.gaps[c.gap].therapist == r  # R1 with T1, R2 with T2
    }
    assert len(first_hour) == 2
    model, x = _variables(problem)
    starts = add_room_capacity(model, problem, x, critical)
    assert starts, "sessions in critical gaps get exact start minutes"
    _force(model, x, [(0, first_hour[0])])
    assert _feasible(model)
    _force(model, x, [(1, first_hour[1])])
    assert not _feasible(model)
    # With two rooms the same pair fits.
    roomy = prepare(inst.model_copy(update={"sites": [site(rooms=2)]}))
    model, x = _variables(roomy)
    add_room_capacity(model, roomy, x, critical_gaps(roomy.instance, roomy.gaps, roomy.room_load))
    _force(model, x, [(0, first_hour[0]), (1, first_hour[1])])
    assert _feasible(model)


def _most_on_time(problem: Problem) -> int:
    fsm = build_model(
        problem,
        ObjectiveWeights(),
        lambda _r, _k, cand: cand.on_time,
        courses=False,
    )
    fsm.model.maximize(fsm.objectives.on_time)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = 0
    solver.parameters.max_time_in_seconds = 120
    assert solver.solve(fsm.model) == cp_model.OPTIMAL
    return round(solver.objective_value)


def _certain_room_use(fsm: FirstSessionModel) -> int:
    return sum(
        1 for c in fsm.model.proto.constraints if c.name.startswith("rooms_certainly_in_use")
    )


@pytest.mark.parametrize("seed", [1, 3])
def test_certain_room_use_cuts_off_no_plan_the_rooms_allow(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A week with two sites and few rooms: many room-critical gaps. The sums of sessions
    # certain to hold a room are implied by the cumulative; they must not change the optimum,
    # and every exact greedy plan (to the minute, rooms checked) satisfies them.
    problem = prepare(generate("soenderborg", seed, referrals=40, therapists=12, sites=2, load=0.9))
    fsm = build_model(problem, ObjectiveWeights(), courses=False)
    assert _certain_room_use(fsm) > 0
    plan = complete(problem, {})
    for key, var in fsm.x.items():
        fsm.model.add(var == int(plan.get(key[0], (-1, 0))[0] == key[1]))
    for key, start in fsm.start.items():
        if plan.get(key[0], (-1, 0))[0] == key[1]:
            fsm.model.add(start == plan[key[0]][1])
    assert _feasible(fsm.model)
    with_them = _most_on_time(problem)
    monkeypatch.setattr(model_module, "_add_certain_room_use", lambda *args: None)
    assert _certain_room_use(build_model(problem, ObjectiveWeights(), courses=False)) == 0
    assert _most_on_time(problem) == with_them


def test_set_objective_writes_the_same_proto_as_maximize_and_minimize() -> None:
    model = cp_model.CpModel()
    xs = [model.new_bool_var(f"x{i}") for i in range(5)]
    exprs = [
        cp_model.LinearExpr.sum(xs),
        cp_model.LinearExpr.weighted_sum(xs, [1, 2, 3, 4, 5]) + 7 - 2 * xs[0],
        cp_model.LinearExpr.sum([]),
        cp_model.LinearExpr.weighted_sum([], []) + 3,
    ]
    for expr in exprs:
        for maximize in (True, False):
            (model.maximize if maximize else model.minimize)(expr)
            expected = str(model.proto.objective)
            set_objective(model, expr, maximize)
            assert str(model.proto.objective) == expected
