"""A previous plan as the solve's hint: kept when it is the best, repaired when it is stale,
never an infeasible plan; and the best plans handed out on the way (`on_plan`)."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta

from scheduler.bench.generator import generate
from scheduler.domain import Assignment, Instance, Solution, SolveOptions
from scheduler.planning.hint import plan_from_hint, quality
from scheduler.planning.problem import prepare
from scheduler.planning.solve import solve
from scheduler.verify.checker import check_solution
from tests.builders import MONDAY, booking, by_id, due_on, free_hours, instance, solve_checked

TUE, WED, THU, FRI = (MONDAY + timedelta(days=i) for i in range(1, 5))
OPTIONS = SolveOptions(time_limit_s=20, workers=1, seed=1)


def _greedy_trap() -> Instance:
    """One free hour on Monday, Tuesday and Friday. R-a is due Wednesday, R-b Thursday but
    cannot come Tuesday to Thursday: earliest deadline first gives R-a Monday and R-b Friday
    (a day late); the optimum is R-b Monday, R-a Tuesday."""
    hour = (time(9), time(10))
    t, bookings = free_hours("T1", {MONDAY: hour, TUE: hour, FRI: hour})
    return instance(
        [t],
        [due_on("R-a", WED), due_on("R-b", THU, unavailable_dates=[TUE, WED, THU])],
        bookings,
    )


def _checked(inst: Instance, solution: Solution) -> Solution:
    report = check_solution(inst, solution)
    assert report.ok, [str(v) for v in report.violations] + report.kpi_mismatches
    return solution


def _first_plan_only(inst: Instance, hint: list[Assignment] | None) -> Solution:
    """Solve but stop as soon as the start plan is handed out: the solution is the start."""
    stop = threading.Event()
    seen: list[list[Assignment]] = []

    def on_plan(plan: list[Assignment]) -> None:
        seen.append(plan)
        stop.set()

    solution = solve(inst, OPTIONS, stop=stop, hint=hint, on_plan=on_plan)
    assert len(seen) == 1
    return _checked(inst, solution)


def _hinted(referral_id: str, day: datetime, therapist_id: str = "T1") -> Assignment:
    """A hinted first session (the legal fields are not read by the hint)."""
    return Assignment.model_validate(
        {
            "referral_id": referral_id,
            "outcome": "on_time",
            "therapist_id": therapist_id,
            "site_id": "A",
            "start": day,
            "end": day + timedelta(hours=1),
            "earliest_start": MONDAY,
            "deadline": FRI,
            "free_choice_right": True,
            "letter_by": MONDAY,
            "letter_send_by": MONDAY,
        }
    )


def _at(day: object, hour: int) -> datetime:
    return datetime.combine(day, time(hour))  # type: ignore[call-overload]


def test_a_hinted_plan_better_than_the_greedy_one_is_the_start() -> None:
    inst = _greedy_trap()
    best = solve_checked(inst)
    assert best.kpis.on_time == 2
    greedy = _first_plan_only(inst, None)
    assert greedy.kpis.on_time == 1  # the trap works: the plain start is worse
    started = _first_plan_only(inst, [a for a in best.assignments if a.start])
    assert started.kpis.on_time == 2
    assert {(a.referral_id, a.start) for a in started.assignments} == {
        (a.referral_id, a.start) for a in best.assignments
    }
    hint = started.stats.stages[0]
    assert hint == {"stage": "hint", "bookings": 2, "kept": 2, "dropped": 0, "used": True}


def test_a_hint_worse_than_the_greedy_plan_is_not_the_start() -> None:
    inst = _greedy_trap()
    # R-a on Friday, two days late: completed, R-b gets Monday: 1 on time and 2 late days,
    # against the greedy plan's 1 on time and 1 late day (R-b on Friday).
    worse = [_hinted("R-a", _at(FRI, 9))]
    started = _first_plan_only(inst, worse)
    assert started.stats.stages[0] == {
        "stage": "hint",
        "bookings": 1,
        "kept": 1,
        "dropped": 0,
        "used": False,
    }
    greedy = _first_plan_only(inst, None)
    assert {(a.referral_id, a.start) for a in started.assignments} == {
        (a.referral_id, a.start) for a in greedy.assignments
    }
    assert by_id(started)["R-a"].start == _at(MONDAY, 9)
    assert by_id(started)["R-b"].start == _at(FRI, 9)


def test_a_stale_hint_is_repaired_and_the_result_passes_the_checker() -> None:
    inst = _greedy_trap()
    stale = [
        _hinted("R-a", _at(MONDAY, 9)),
        _hinted("R-b", _at(MONDAY, 9)),  # clashes with R-a (R-a is more urgent: it stays)
        _hinted("R-gone", _at(TUE, 9)),  # no such referral any more
        _hinted("R-b", _at(WED, 10)),  # a second entry for R-b: ignored
        _hinted("R-a", _at(TUE, 9), therapist_id="T-left"),  # a therapist no longer there
    ]
    problem = prepare(inst)
    plan, report = plan_from_hint(problem, stale)
    assert (report.bookings, report.kept) == (5, 1)
    assert quality(problem, plan)[0] == 1
    solution = _checked(inst, solve(inst, OPTIONS, hint=stale))
    assert solution.kpis.on_time == 2  # the stages still find the optimum
    stage = solution.stats.stages[0]
    assert stage["stage"] == "hint" and stage["kept"] == 1 and stage["dropped"] == 4
    assert [s["stage"] for s in solution.stats.stages[1:]] == [
        "on_time",
        "lateness",
        "courses",
        "tail",
        "repair",
    ]


def test_a_hint_whose_slots_were_taken_since_never_gives_an_infeasible_plan() -> None:
    # The plan of a week, given as the hint of the same week after the calendars changed:
    # a therapist's Monday and Tuesday were booked in the meantime.
    week = generate("vejen", seed=3, referrals=25)
    before = _checked(week, solve(week, OPTIONS))
    taken = [a for a in before.assignments if a.start is not None and not a.fixed]
    assert len(taken) >= 10
    busy = taken[0].therapist_id
    assert busy is not None
    extra = [
        booking(f"new-{i}", busy, a.start.date(), a.start.time(), a.end.time(), site_id=a.site_id)
        for i, a in enumerate(taken)
        if a.therapist_id == busy and a.start is not None and a.end is not None and not a.at_home
    ]
    assert extra
    changed = week.model_copy(update={"bookings": [*week.bookings, *extra]})
    seen: list[list[Assignment]] = []
    after = _checked(changed, solve(changed, OPTIONS, hint=before.assignments, on_plan=seen.append))
    stage = after.stats.stages[0]
    assert stage["stage"] == "hint" and stage["bookings"] == len(taken)
    assert stage["kept"] <= len(taken) - len(extra)
    # Every plan handed out on the way is one the checker accepts as a set of bookings.
    assert seen
    for plan in seen:
        assert len({a.referral_id for a in plan}) == len(plan)
    final = {(a.referral_id, a.start) for a in after.assignments if a.start and not a.fixed}
    assert {(a.referral_id, a.start) for a in seen[-1]} <= final


def test_the_plans_handed_out_improve_and_end_with_the_solution() -> None:
    inst = _greedy_trap()
    seen: list[list[Assignment]] = []
    solution = solve(inst, OPTIONS, on_plan=seen.append)
    on_time = [sum(a.outcome.value == "on_time" for a in plan) for plan in seen]
    assert on_time[0] == 1 and on_time[-1] == 2
    assert on_time == sorted(on_time)
    assert {(a.referral_id, a.start) for a in seen[-1]} == {
        (a.referral_id, a.start) for a in solution.assignments if a.start
    }
