"""The HiGHS MIP peer: valid plans, and the same on-time count as CP-SAT where both prove it.

Calendar: Monday 3 March 2025 is the planning day (law policy: due 7 calendar days after
discharge, bookable from the working day after receipt).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from scheduler.bench.generator import generate
from scheduler.bench.mip import MipModel, build_mip, greedy_start, solve_mip
from scheduler.domain import (
    Coordinates,
    Course,
    CourseForm,
    Instance,
    Outcome,
    Referral,
    SolveOptions,
)
from scheduler.domain.policy import Policy
from scheduler.planning.problem import prepare
from scheduler.planning.solve import solve
from scheduler.verify.checker import check_solution
from tests import builders
from tests.planning.test_courses import WEEKS as COURSE_WEEKS
from tests.planning.test_courses import busy_weeks
from tests.planning.test_courses import hold as course_hold
from tests.planning.test_courses import instance as course_instance
from tests.planning.test_courses import referral as course_referral
from tests.planning.test_courses import therapist as course_therapist

PLANNING = date(2025, 3, 3)
TUE, WED, THU = date(2025, 3, 4), date(2025, 3, 5), date(2025, 3, 6)
SITE_AT = Coordinates(lat=55.5, lon=9.5)


def _instance(
    rooms: int, rosters: dict[str, list[tuple[date, int, int]]], refs: list[Referral]
) -> Instance:
    site = builders.site("S", rooms, SITE_AT, (time(8), time(16)), name="Træningscenter")
    therapists = [builders.therapist(t, roster=r, site_id="S") for t, r in rosters.items()]
    return builders.instance(
        therapists, refs, sites=[site], policy=Policy(), planning_date=PLANNING
    )


def _referral(rid: str, discharged: date, received: date, **fields: Any) -> Referral:
    return builders.referral(rid, discharged, received=received, **fields)


def _cpsat(inst: Instance) -> Any:
    return solve(inst, SolveOptions(time_limit_s=10, workers=1, seed=0))


def test_mip_meets_the_deadline_first_come_first_served_misses() -> None:
    inst = _instance(
        1,
        {"T1": [(TUE, 8, 9), (THU, 8, 9)]},
        [
            _referral("R1", date(2025, 3, 2), date(2025, 3, 2)),
            _referral("R2", date(2025, 2, 26), date(2025, 3, 3)),
        ],
    )
    solution = solve_mip(inst, time_limit_s=10)
    assert check_solution(inst, solution).ok
    assert solution.kpis.on_time == _cpsat(inst).kpis.on_time == 2
    st = solution.stats
    assert (st.method, st.status, st.on_time_proven) == ("mip-highs", "OPTIMAL", True)
    assert st.on_time_bound == 2 and st.gap == 0.0
    # The policy's default courses get the courses stage, as in CP-SAT; every stage proven on
    # its full candidate set (no late candidate cut here) makes the plan proven.
    assert [s["stage"] for s in st.stages] == ["on_time", "lateness", "courses", "tail", "repair"]
    assert [s.get("proven") for s in st.stages[:4]] == [True, True, True, True]
    assert st.proven_optimal
    no_courses = inst.model_copy(
        update={"policy": inst.policy.model_copy(update={"course_defaults": {}})}
    )
    plain = solve_mip(no_courses, time_limit_s=10).stats
    assert plain.proven_optimal
    assert [s["stage"] for s in plain.stages] == ["on_time", "lateness", "tail", "repair"]


def test_the_courses_stage_gives_the_same_course_count_as_cpsat_when_both_prove_it() -> None:
    # T2 has room for one 2 x 60 min course a week after week 1, T1 none; the knee hold one
    # seat. R1's first session with T2 is communicated (still to come): its course takes T2's
    # place first. R2 and R3 are new (their courses wait), R4 takes the hold seat.
    knee = Course(form=CourseForm.HOLD, hold_type="knee-hip", weeks=2)
    inst = course_instance(
        [course_therapist("T1"), course_therapist("T2")],
        [
            course_referral("R1"),
            course_referral("R2"),
            course_referral("R3"),
            course_referral("R4", course=knee),
        ],
        [
            builders.booking(
                "first-R1",
                "T2",
                COURSE_WEEKS[0] + timedelta(days=1),
                time(10),
                time(11),
                referral_id="R1",
            ),
            *busy_weeks("T1", COURSE_WEEKS[1:]),
            *busy_weeks("T2", COURSE_WEEKS[1:], free_hours=3),
        ],
        holds=[course_hold(seats=1)],
    )
    mip = solve_mip(inst, time_limit_s=20)
    cpsat = _cpsat(inst)
    for solution in (mip, cpsat):
        assert check_solution(inst, solution).ok
    stage = {
        s.stats.method: next(x for x in s.stats.stages if x["stage"] == "courses")
        for s in (mip, cpsat)
    }
    assert stage["mip-highs"]["proven"] and stage["cp-sat"]["proven"]
    assert stage["mip-highs"]["objective"] == stage["cp-sat"]["objective"]
    assert mip.kpis.courses_started == cpsat.kpis.courses_started == 2
    for solution in (mip, cpsat):
        a = {x.referral_id: x for x in solution.assignments}
        assert (a["R1"].course_therapist_id, a["R4"].course_hold_id) == ("T2", "knee1")


def test_one_room_for_two_therapists_is_time_indexed_and_never_overbooked() -> None:
    # Three referrals due Tuesday; two therapists free 08-10 share one room: only two fit.
    due_tuesday = [_referral(f"R{k}", date(2025, 2, 25), date(2025, 3, 3)) for k in (1, 2, 3)]
    inst = _instance(1, {"T1": [(TUE, 8, 10), (WED, 8, 9)], "T2": [(TUE, 8, 10)]}, due_tuesday)
    problem = prepare(inst, late_days=5)
    assert any(problem.gaps[g].day == TUE for g in problem.critical)
    model = build_mip(problem)
    # Tuesday's candidates get one column per 15-minute start (five starts each in 08-10).
    assert len(model.columns) > sum(len(c) for c in problem.candidates)

    solution = solve_mip(inst, time_limit_s=10)
    report = check_solution(inst, solution)
    assert report.ok, [str(v) for v in report.violations]
    assert solution.kpis.on_time == _cpsat(inst).kpis.on_time == 2
    tuesday = sorted(a.start for a in solution.assignments if a.start and a.start.date() == TUE)
    assert tuesday == [datetime(2025, 3, 4, 8, 0), datetime(2025, 3, 4, 9, 0)]
    late = [a for a in solution.assignments if a.outcome is not Outcome.ON_TIME]
    assert [a.start for a in late] == [datetime(2025, 3, 5, 8, 0)]


@pytest.mark.parametrize(("profile", "load"), [("vejen", 0.85), ("soenderborg", 0.95)])
def test_mip_on_generated_instances_is_valid_and_matches_cpsat(profile: str, load: float) -> None:
    inst = generate(profile, 3, load=load)
    solution = solve_mip(inst, time_limit_s=20)
    report = check_solution(inst, solution)
    assert report.ok, [str(v) for v in report.violations[:5]] + report.kpi_mismatches
    assert solution.stats.on_time_proven
    cpsat = _cpsat(inst)
    assert cpsat.stats.stages[0]["status"] == "OPTIMAL"
    assert solution.kpis.on_time == cpsat.kpis.on_time


def _rows_hold(model: MipModel, values: list[float]) -> bool:
    starts = [*model.row_start, len(model.row_index)]
    for i in range(model.num_rows):
        activity = sum(
            model.row_value[k] * values[model.row_index[k]] for k in range(starts[i], starts[i + 1])
        )
        if not model.row_lower[i] - 1e-9 <= activity <= model.row_upper[i] + 1e-9:
            return False
    return True


def test_greedy_start_is_a_feasible_plan_that_uses_critical_gaps() -> None:
    due_tuesday = [_referral(f"R{k}", date(2025, 2, 25), date(2025, 3, 3)) for k in (1, 2, 3)]
    inst = _instance(1, {"T1": [(TUE, 8, 10), (WED, 8, 9)], "T2": [(TUE, 8, 10)]}, due_tuesday)
    model = build_mip(prepare(inst, late_days=5))
    start = greedy_start(model)
    assert _rows_hold(model, start)
    chosen = [model.columns[j] for j, v in enumerate(start[:-1]) if v]
    # Two sessions in the one room on Tuesday (on the grid), the third on Wednesday.
    assert sorted((c.cand.day, c.start) for c in chosen) == [
        (TUE, 8 * 60),
        (TUE, 9 * 60),
        (WED, None),
    ]
    assert start[-1] == 180.0  # T1 takes all three: the busiest therapist's new minutes


def test_greedy_start_is_feasible_on_a_generated_instance() -> None:
    model = build_mip(prepare(generate("soenderborg", 3, load=0.85), late_days=5))
    start = greedy_start(model)
    assert _rows_hold(model, start)
    assert sum(start[:-1]) > 0
