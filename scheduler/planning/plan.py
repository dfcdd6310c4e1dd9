"""Reading a plan back: from the sessions placed to every referral's Assignment and a Solution.

Every way of planning (the staged CP-SAT solve, the greedy baseline, the MIP peer) ends in a
:data:`Placed` map and calls :func:`make_solution`, so an Assignment means the same whoever made
it: legal dates from :mod:`scheduler.rules.legal`, the outcome of the booked day, the reason a
late or unbooked referral gives, and the frit valg answer-by time.
"""

from __future__ import annotations

from datetime import date

from scheduler.domain import Assignment, Outcome, Reason, Solution, SolverStats
from scheduler.planning.candidates import Candidate
from scheduler.planning.problem import Problem
from scheduler.rules.calendar import at_minutes
from scheduler.rules.legal import LegalDates, answer_by, offer_sent, outcome
from scheduler.verify.kpis import compute_kpis

__all__ = ["Placed", "assignments", "make_solution"]

Placed = dict[int, tuple[Candidate, int]]
"""Per booked referral index: its candidate and the start minute of its use of the gap (travel
there included for a home visit)."""


def _common(problem: Problem, referral: int) -> dict[str, object]:
    ld = problem.dates[referral]
    return {
        "referral_id": problem.instance.referrals[referral].id,
        "earliest_start": ld.earliest_start,
        "deadline": ld.deadline,
        "free_choice_right": ld.free_choice_right,
        "letter_by": ld.letter_by,
    }


def _late_reason(problem: Problem, ld: LegalDates) -> Reason:
    return ld.no_right_reason or (
        Reason.DEADLINE_BEFORE_PLANNING
        if problem.days and ld.deadline < problem.days[0]
        else Reason.NO_CAPACITY_BY_DEADLINE
    )


def _answer_by(problem: Problem, result: Outcome) -> object:
    if result is not Outcome.LATE_FREE_CHOICE:
        return None
    inst = problem.instance
    return answer_by(inst.policy, offer_sent(inst.planning_date, inst.policy))


def _unbooked(problem: Problem, referral: int) -> Assignment:
    why, detail = problem.unbookable.get(
        referral,
        (Reason.NO_CAPACITY_IN_HORIZON, "every qualified free slot in the horizon is taken"),
    )
    return Assignment.model_validate(
        {
            **_common(problem, referral),
            "outcome": Outcome.NOT_BOOKABLE,
            "reason": why,
            "detail": detail,
        }
    )


def _booked(problem: Problem, referral: int, cand: Candidate, start: int) -> Assignment:
    inst = problem.instance
    ref = inst.referrals[referral]
    ld = problem.dates[referral]
    gap = problem.gaps[cand.gap]
    session_start = start + cand.travel
    result = outcome(cand.day, ld.deadline, ld.free_choice_right)
    return Assignment.model_validate(
        {
            **_common(problem, referral),
            "outcome": result,
            "therapist_id": inst.therapists[gap.therapist].id,
            "site_id": inst.sites[gap.site].id,
            "at_home": cand.at_home,
            "start": at_minutes(cand.day, session_start),
            "end": at_minutes(cand.day, session_start + ref.first_session_minutes),
            "travel_minutes": cand.travel,
            "answer_by": _answer_by(problem, result),
            "reason": None if result is Outcome.ON_TIME else _late_reason(problem, ld),
        }
    )


def _fixed(problem: Problem, referral: int) -> Assignment:
    booking = problem.fixed[referral]
    ld = problem.dates[referral]
    day: date = booking.start.date()
    result = outcome(day, ld.deadline, ld.free_choice_right)
    travel = int((booking.end - booking.start).total_seconds() // 60)
    travel -= problem.instance.referrals[referral].first_session_minutes
    return Assignment.model_validate(
        {
            **_common(problem, referral),
            "outcome": result,
            "therapist_id": booking.therapist_id,
            "site_id": booking.site_id,
            "at_home": booking.at_home,
            "start": booking.start,
            "end": booking.end,
            "travel_minutes": max(0, travel // 2) if booking.at_home else 0,
            "answer_by": _answer_by(problem, result),
            "reason": ld.no_right_reason if result is not Outcome.ON_TIME else None,
            "fixed": True,
        }
    )


def assignments(problem: Problem, placed: Placed) -> list[Assignment]:
    """Every referral's Assignment, in instance order: fixed ones from their communicated
    booking, the `placed` ones, the rest not bookable with their reason."""
    out: list[Assignment] = []
    for r in range(len(problem.instance.referrals)):
        if r in problem.fixed:
            out.append(_fixed(problem, r))
        elif r in placed:
            out.append(_booked(problem, r, *placed[r]))
        else:
            out.append(_unbooked(problem, r))
    return out


def make_solution(problem: Problem, placed: Placed, stats: SolverStats) -> Solution:
    """The Solution of a plan: every referral's Assignment, the KPIs, the solver's stats."""
    result = assignments(problem, placed)
    inst = problem.instance
    return Solution(
        instance_name=inst.name,
        planning_date=inst.planning_date,
        assignments=result,
        kpis=compute_kpis(inst, result),
        stats=stats,
    )
