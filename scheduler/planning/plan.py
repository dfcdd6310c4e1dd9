"""Reading a plan back: from the sessions placed to every referral's Assignment and a Solution.

Every way of planning (the staged CP-SAT solve, the greedy baseline, the MIP peer) ends in a
:data:`Placed` map and calls :func:`make_solution`, so an Assignment means the same whoever made
it: legal dates from :mod:`scheduler.rules.legal`, the outcome of the booked day, the reason a
late, unbooked or rejected referral gives (each computed from the facts of the plan), the
working day the letter must go out, and the frit valg answer-by time.
"""

from __future__ import annotations

from datetime import date

from scheduler.domain import (
    Assignment,
    Booking,
    BookingStatus,
    CourseStatus,
    Outcome,
    Reason,
    Solution,
    SolverStats,
)
from scheduler.planning.candidate_lists import on_time_count
from scheduler.planning.candidates import Candidate, iter_candidates
from scheduler.planning.courses import Courses, allocate, result_for
from scheduler.planning.problem import Problem
from scheduler.rules.calendar import at_minutes
from scheduler.rules.legal import LegalDates, answer_by, letter_send_by, offer_sent, outcome
from scheduler.verify.kpis import compute_kpis

__all__ = ["Placed", "assignments", "booked_assignments", "make_solution"]

Placed = dict[int, tuple[Candidate, int]]
"""Per booked referral index: its candidate and the start minute of its use of the gap (travel
there included for a home visit)."""


def _common(problem: Problem, referral: int, start: date | None) -> dict[str, object]:
    ld = problem.dates[referral]
    return {
        "referral_id": problem.instance.referrals[referral].id,
        "earliest_start": ld.earliest_start,
        "deadline": ld.deadline,
        "free_choice_right": ld.free_choice_right,
        "letter_by": ld.letter_by,
        "letter_send_by": letter_send_by(ld.letter_by, start, problem.cal),
    }


_LATE_DETAIL: dict[Reason, str] = {
    Reason.CITIZEN_POSTPONED: "the citizen asked to start after the deadline",
    Reason.CITIZEN_UNAVAILABLE: "the citizen cannot come on any working day up to the deadline",
    Reason.PLAN_LATER_START: "the plan asked for a later start; the policy gives no frit valg",
    Reason.DEADLINE_BEFORE_PLANNING: "the deadline had passed before the plan could be made",
    Reason.EARLIEST_START_AFTER_DEADLINE: (
        "the plan arrived too late (receipt plus notice) to start by the deadline"
    ),
    Reason.DEADLINE_SLOTS_TAKEN: (
        "free qualified time on days the citizen could come up to the deadline went to other "
        "referrals (or their rooms were full)"
    ),
    Reason.CITIZEN_UNAVAILABLE_ON_FREE_DAYS: (
        "the only free qualified time up to the deadline was on days the citizen cannot come"
    ),
    Reason.NO_CAPACITY_BY_DEADLINE: (
        "no qualified therapist had a free slot on the days the citizen could come up to the "
        "deadline"
    ),
}


def _late_reason(problem: Problem, referral: int, ld: LegalDates) -> Reason:
    """The real cause of a late start, from the facts: the citizen's or the plan's own date,
    a deadline already past or out of reach, free slots given to others, free slots only on
    the citizen's unavailable days, or no free slot at all."""
    if ld.no_right_reason is not None:
        return ld.no_right_reason
    if problem.days and ld.deadline < problem.days[0]:
        return Reason.DEADLINE_BEFORE_PLANNING
    if ld.earliest_start > ld.deadline:
        return Reason.EARLIEST_START_AFTER_DEADLINE
    if on_time_count(problem.candidates[referral]):
        return Reason.DEADLINE_SLOTS_TAKEN
    inst = problem.instance
    if not inst.referrals[referral].unavailable_dates:
        return Reason.NO_CAPACITY_BY_DEADLINE
    # The referral's own gaps, already in time order: no sorting of every gap per referral.
    qualified, in_order = problem.gaps_for(referral)
    if any(
        c.on_time
        for c in iter_candidates(
            inst,
            referral,
            ld,
            in_order,
            0,
            ordered=True,
            qualified=qualified,
            ignore_unavailable=True,
        )
    ):
        return Reason.CITIZEN_UNAVAILABLE_ON_FREE_DAYS
    return Reason.NO_CAPACITY_BY_DEADLINE


def _answer_by(problem: Problem, result: Outcome) -> object:
    if result is not Outcome.LATE_FREE_CHOICE:
        return None
    inst = problem.instance
    return answer_by(inst.policy, offer_sent(inst.planning_date, inst.policy, inst.offers_sent_at))


def _rejected(problem: Problem, referral: int) -> Assignment:
    why, detail = problem.rejected[referral]
    return Assignment.model_validate(
        {
            **_common(problem, referral, None),
            "outcome": Outcome.REJECTED,
            "reason": why,
            "detail": detail,
        }
    )


def _unbooked(problem: Problem, referral: int) -> Assignment:
    why, detail = problem.unbookable.get(
        referral,
        (Reason.NO_CAPACITY_IN_HORIZON, "every qualified free slot in the horizon is taken"),
    )
    return Assignment.model_validate(
        {
            **_common(problem, referral, None),
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
    why = None if result is Outcome.ON_TIME else _late_reason(problem, referral, ld)
    return Assignment.model_validate(
        {
            **_common(problem, referral, cand.day),
            "outcome": result,
            "therapist_id": inst.therapists[gap.therapist].id,
            "site_id": inst.sites[gap.site].id,
            "at_home": cand.at_home,
            "start": at_minutes(cand.day, session_start),
            "end": at_minutes(cand.day, session_start + ref.first_session_minutes),
            "travel_minutes": cand.travel,
            "answer_by": _answer_by(problem, result),
            "reason": why,
            "detail": "" if why is None else _LATE_DETAIL[why],
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
            **_common(problem, referral, day),
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


def _course(problem: Problem, r: int, day: date, courses: Courses) -> dict[str, object]:
    """The course fields of the Assignment of a referral booked on `day`."""
    res = result_for(problem, r, day, courses.get(r))
    fields: dict[str, object] = {"course_status": res.status, "course_reason": res.reason}
    if res.status is CourseStatus.BEYOND_HORIZON:
        fields["course_weeks_beyond"] = res.beyond
    if res.option is not None:
        o = res.option
        fields.update(
            course_therapist_id=(
                None if o.therapist is None else problem.instance.therapists[o.therapist].id
            ),
            course_hold_id=None if o.hold is None else problem.holds[o.hold][1].id,
            course_start=o.start,
            course_weeks_planned=len(o.weeks),
            course_weeks_beyond=o.beyond,
        )
    return fields


def _tentative_by_referral(problem: Problem) -> dict[str, Booking]:
    """Per referral id, its tentative first session (the first one listed), found in one pass
    over the bookings."""
    held: dict[str, Booking] = {}
    for b in problem.instance.bookings:
        if b.status is BookingStatus.TENTATIVE and b.referral_id is not None:
            held.setdefault(b.referral_id, b)
    return held


def _moved(
    problem: Problem,
    r: int,
    a: Assignment,
    method: str,
    tentative: dict[str, Booking] | None = None,
) -> dict[str, object]:
    """Whether the referral's tentative first session was moved, and why. `tentative`: the
    bookings by referral (:func:`_tentative_by_referral`), when the caller has them."""
    if tentative is None:
        tentative = _tentative_by_referral(problem)
    held = tentative.get(problem.instance.referrals[r].id)
    if held is None or (a.start == held.start and a.therapist_id == held.therapist_id):
        return {}
    if r not in problem.tentative:
        why = "its tentative time was late, or no longer free or legal for it: planned anew"
    elif method == "cp-sat":
        why = (
            "its on-time tentative time was given up for a higher priority: another referral "
            "on time, less lateness, or a course place (stability yields only to these)"
        )
    else:
        why = f"moved by {method}, which does not weigh promised times"
    return {"tentative_moved": True, "moved_detail": why}


def assignments(
    problem: Problem, placed: Placed, courses: Courses | None = None, method: str = "cp-sat"
) -> list[Assignment]:
    """Every referral's Assignment, in instance order: fixed ones from their communicated
    booking, the rejected ones with where they belong, the `placed` ones (with their course:
    `courses` where it still fits, else a greedy place, see
    :func:`scheduler.planning.courses.allocate`), the rest not bookable with their reason.
    Fixed referrals whose first session is still to come get their course too (their place,
    or why it waits); a fixed referral whose first session has been held has course status
    `none` (its course is in the calendars already)."""
    carried = allocate(problem, {r: c for r, (c, _) in placed.items()}, courses)
    tentative = _tentative_by_referral(problem)
    out: list[Assignment] = []
    for r in range(len(problem.instance.referrals)):
        if r in problem.fixed:
            a = _fixed(problem, r)
            if r in problem.pending:
                a = a.model_copy(update=_course(problem, r, problem.pending[r][1], carried))
            out.append(a)
        elif r in problem.rejected:
            out.append(_rejected(problem, r))
        elif r in placed:
            a = _booked(problem, r, *placed[r])
            extra = _course(problem, r, placed[r][0].day, carried) | _moved(
                problem, r, a, method, tentative
            )
            out.append(a.model_copy(update=extra))
        else:
            out.append(_unbooked(problem, r))
    return out


def booked_assignments(problem: Problem, placed: Placed) -> list[Assignment]:
    """The Assignments of the `placed` first sessions alone, in instance order: what a plan is
    as a hint for a later solve (:mod:`scheduler.planning.hint`). Cheaper than
    :func:`assignments`: no courses, no moved tentative sessions, no unbooked referrals, no
    KPIs."""
    return [_booked(problem, r, *placed[r]) for r in sorted(placed)]


def make_solution(
    problem: Problem, placed: Placed, stats: SolverStats, courses: Courses | None = None
) -> Solution:
    """The Solution of a plan: every referral's Assignment, the KPIs, the solver's stats.
    `courses`: the course places the solver chose (None: placed greedily)."""
    result = assignments(problem, placed, courses, stats.method)
    inst = problem.instance
    return Solution(
        instance_name=inst.name,
        planning_date=inst.planning_date,
        assignments=result,
        kpis=compute_kpis(inst, result),
        stats=stats,
    )
