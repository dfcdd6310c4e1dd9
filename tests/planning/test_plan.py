"""Reading a plan back: assignments of placed, fixed and unbookable referrals, and the Solution."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from scheduler.domain import Outcome, Reason, SolverStats
from scheduler.planning.plan import assignments, make_solution
from scheduler.planning.problem import prepare
from scheduler.verify.checker import check_solution
from tests.builders import MONDAY, booking, due_on, instance, referral, therapist

WED = MONDAY + timedelta(days=2)


def test_placed_fixed_and_unbookable_referrals() -> None:
    inst = instance(
        [therapist("T1")],
        [
            due_on("R-placed", WED),
            due_on("R-fixed", MONDAY),
            referral("R-ot", discipline="OT"),
        ],
        bookings=[booking("B1", "T1", WED, time(9), time(10), referral_id="R-fixed")],
    )
    problem = prepare(inst)
    cand = problem.candidates[0][0]
    gap = problem.gaps[cand.gap]
    out = assignments(problem, {0: (cand, gap.start)})
    placed, fixed, ot = out
    assert placed.outcome is Outcome.ON_TIME
    assert placed.start == datetime.combine(cand.day, time(8))
    assert placed.therapist_id == "T1" and placed.letter_by is not None
    assert fixed.fixed and fixed.start == datetime.combine(WED, time(9))
    assert fixed.outcome is Outcome.LATE_FREE_CHOICE and fixed.answer_by is not None
    assert ot.outcome is Outcome.NOT_BOOKABLE and ot.reason is Reason.NO_QUALIFIED_THERAPIST


def test_make_solution_computes_the_kpis_the_checker_recomputes() -> None:
    inst = instance([therapist("T1")], [due_on("R1", WED)])
    problem = prepare(inst)
    cand = problem.candidates[0][0]
    solution = make_solution(
        problem, {0: (cand, problem.gaps[cand.gap].start)}, SolverStats(status="TEST")
    )
    assert solution.kpis.on_time == 1 and solution.stats.status == "TEST"
    assert check_solution(inst, solution).ok
