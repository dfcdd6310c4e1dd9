"""The independent checker: a correct plan passes; each broken rule gives its own violation.

One small Sønderborg instance (planning Monday 11 May 2026; Kristi Himmelfartsdag is Thursday
14 May) and a correct plan for it. Each test breaks exactly one thing and asserts the exact set
of violation codes, so a check that fires too eagerly fails the test as surely as one that
misses.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from scheduler.cli import main
from scheduler.domain import (
    Absence,
    Assignment,
    BookingStatus,
    Coordinates,
    Course,
    CourseForm,
    CourseStatus,
    Discipline,
    Instance,
    Level,
    Outcome,
    Reason,
    Referral,
    Site,
    Solution,
    SolverStats,
    Therapist,
)
from scheduler.domain.policy import preset
from scheduler.rules.calendar import WorkingCalendar
from scheduler.rules.legal import answer_by, legal_dates, letter_send_by, outcome
from scheduler.rules.travel import travel_minutes
from scheduler.verify.checker import CheckReport, ViolationCode, check_solution, compare_kpis
from scheduler.verify.kpis import compute_kpis
from tests.builders import booking, instance, referral, shift, site, therapist
from tests.planning.test_courses import WEEKS as COURSE_WEEKS
from tests.planning.test_courses import busy_weeks
from tests.planning.test_courses import hold as course_hold
from tests.planning.test_courses import instance as course_instance
from tests.planning.test_courses import referral as course_referral
from tests.planning.test_courses import run as solve_courses
from tests.planning.test_courses import therapist as course_therapist

V = ViolationCode
PLANNING = date(2026, 5, 11)  # a Monday
TUE, WED, THU, FRI = (PLANNING + timedelta(days=n) for n in (1, 2, 3, 4))  # THU: a holiday
NEXT_MON = PLANNING + timedelta(days=7)
S1_AT = Coordinates(lat=54.909, lon=9.792)
HOME_R4 = Coordinates(lat=54.95, lon=9.80)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm))


# --------------------------------------------------------------------------- builders


# Every weekday of the horizon, holidays included: the checker, not the roster, must know a
# holiday.
HORIZON_WEEKDAYS = [
    d for d in (PLANNING + timedelta(days=n) for n in range(1, 29)) if d.weekday() < 5
]


def _site(
    sid: str, rooms: int, where: Coordinates, hours: tuple[time, time] = (time(7, 30), time(17))
) -> Site:
    return site(sid, rooms, where, hours, name=sid)


def _therapist(tid: str, discipline: Discipline, site_id: str, **extra: Any) -> Therapist:
    """Rostered 08:00–15:30 at `site_id` on every weekday of the horizon."""
    return therapist(tid, discipline=discipline, days=HORIZON_WEEKDAYS, site_id=site_id, **extra)


def _referral(rid: str, **extra: Any) -> Referral:
    return referral(rid, PLANNING, **extra)


def make_instance(**changes: object) -> Instance:
    """Two sites with two rooms each, four therapists, a few bookings, nine referrals."""
    therapists = [
        _therapist(
            "T-PT1",
            Discipline.PT,
            "S1",
            home_visits=True,
            absences=[Absence(start=date(2026, 5, 20), end=date(2026, 5, 20))],
        ),
        _therapist("T-PT2", Discipline.PT, "S1", specialties=["neuro"]),
        _therapist("T-OT1", Discipline.OT, "S1"),
        _therapist("T-PT3", Discipline.PT, "S2"),
    ]
    bookings = [
        # A meeting off-site (no room) right after R1's session.
        booking("B-MEET", "T-PT1", WED, time(10, 30), time(11, 30), site_id=None),
        # Right after R4's home visit and its drive back.
        booking("B-ADJ", "T-PT1", FRI, time(11, 10), time(12), site_id=None),
        # R6's first session, already told to the citizen: fixed.
        booking("B-R6", "T-PT2", TUE, time(13), time(14), site_id="S1", referral_id="R6"),
        # R7's tentative slot: released, anyone may use that time; R7 is planned anew.
        booking(
            "B-R7",
            "T-PT1",
            WED,
            time(13),
            time(14),
            site_id="S1",
            status=BookingStatus.TENTATIVE,
            referral_id="R7",
        ),
    ]
    referrals = [
        _referral("R1", unavailable_dates=[TUE]),
        _referral("R2", level=Level.AVANCERET, specialty="neuro"),
        _referral("R3", discipline=Discipline.OT, received_date=TUE),
        _referral("R4", home_training=True, location=HOME_R4),
        _referral("R5", chosen_site_id="S2"),
        _referral("R6"),
        _referral("R7"),
        # Discharged Friday 1 May: its deadline (8 May) passed before planning.
        _referral("R8", discharge_date=date(2026, 5, 1), received_date=date(2026, 5, 4)),
        _referral("R9", level=Level.AVANCERET, specialty="børn"),
    ]
    data: dict[str, Any] = {
        "name": "checker-tiny",
        "planning_date": PLANNING,
        "policy": preset("soenderborg"),
        "sites": [_site("S1", 2, S1_AT), _site("S2", 2, Coordinates(lat=55.06, lon=9.74))],
        "therapists": therapists,
        "bookings": bookings,
        "referrals": referrals,
    }
    data.update(changes)
    return instance(**data)


def book(
    inst: Instance,
    rid: str,
    therapist: str,
    site: str | None,
    start: datetime,
    *,
    minutes: int | None = None,
    at_home: bool = False,
    travel: int = 0,
    fixed: bool = False,
) -> Assignment:
    """A booked assignment with the legal dates, outcome and answer-by the rules give."""
    ref = next(r for r in inst.referrals if r.id == rid)
    cal = WorkingCalendar(inst.policy)
    ld = legal_dates(ref, inst.policy, cal)
    result = outcome(start.date(), ld.deadline, ld.free_choice_right)
    offer = datetime.combine(inst.planning_date, inst.policy.day_end)
    return Assignment(
        referral_id=rid,
        outcome=result,
        therapist_id=therapist,
        site_id=site,
        at_home=at_home,
        start=start,
        end=start + timedelta(minutes=minutes or ref.first_session_minutes),
        travel_minutes=travel,
        earliest_start=ld.earliest_start,
        deadline=ld.deadline,
        free_choice_right=ld.free_choice_right,
        letter_by=ld.letter_by,
        letter_send_by=letter_send_by(ld.letter_by, start.date(), cal),
        answer_by=answer_by(inst.policy, offer) if result is Outcome.LATE_FREE_CHOICE else None,
        reason=ld.no_right_reason if result is not Outcome.ON_TIME else None,
        fixed=fixed,
    )


def unbooked(inst: Instance, rid: str, reason: Reason) -> Assignment:
    ref = next(r for r in inst.referrals if r.id == rid)
    cal = WorkingCalendar(inst.policy)
    ld = legal_dates(ref, inst.policy, cal)
    return Assignment(
        referral_id=rid,
        outcome=Outcome.NOT_BOOKABLE,
        earliest_start=ld.earliest_start,
        deadline=ld.deadline,
        free_choice_right=ld.free_choice_right,
        letter_by=ld.letter_by,
        letter_send_by=letter_send_by(ld.letter_by, None, cal),
        reason=reason,
    )


def solve_by_hand(inst: Instance) -> list[Assignment]:
    """A plan that keeps every rule."""
    travel = travel_minutes(S1_AT, HOME_R4)
    return [
        book(inst, "R1", "T-PT1", "S1", at(WED, 9)),
        book(inst, "R2", "T-PT2", "S1", at(WED, 11)),
        book(inst, "R3", "T-OT1", "S1", at(WED, 9)),
        book(inst, "R4", "T-PT1", "S1", at(FRI, 10), at_home=True, travel=travel),
        book(inst, "R5", "T-PT3", "S2", at(WED, 9)),
        book(inst, "R6", "T-PT2", "S1", at(TUE, 13), fixed=True),
        book(inst, "R7", "T-PT1", "S1", at(WED, 13)),  # in its own released tentative slot
        book(inst, "R8", "T-PT3", "S2", at(TUE, 9)),
        unbooked(inst, "R9", Reason.NO_QUALIFIED_THERAPIST),
    ]


def solution(inst: Instance, assignments: list[Assignment]) -> Solution:
    """A solution whose KPIs are computed truthfully (so only what a test breaks is wrong)."""
    return Solution(
        instance_name=inst.name,
        planning_date=inst.planning_date,
        assignments=assignments,
        kpis=compute_kpis(inst, assignments),
        stats=SolverStats(status="hand"),
    )


def with_replaced(inst: Instance, new: Assignment) -> Solution:
    """The correct plan with one referral's assignment replaced by `new`."""
    plan = [new if a.referral_id == new.referral_id else a for a in solve_by_hand(inst)]
    return solution(inst, plan)


def edited(inst: Instance, rid: str, **changes: object) -> Solution:
    """The correct plan with fields of one assignment changed as given, nothing else."""
    plan = [
        a.model_copy(update=changes) if a.referral_id == rid else a for a in solve_by_hand(inst)
    ]
    return solution(inst, plan)


def codes(report: CheckReport) -> set[ViolationCode]:
    return {v.code for v in report.violations}


@pytest.fixture
def inst() -> Instance:
    return make_instance()


# --------------------------------------------------------------------------- courses


def _course_plan() -> tuple[Instance, Solution, Assignment, Assignment]:
    """One therapist with room for one 2 x 60 min course a week after week 1, two referrals:
    a checked plan with one course started and one waiting."""
    inst = course_instance(
        [course_therapist("T1")],
        [course_referral("R1"), course_referral("R2")],
        busy_weeks("T1", COURSE_WEEKS[1:], free_hours=3),
    )
    plan = solve_courses(inst)
    started = next(a for a in plan.assignments if a.course_status is CourseStatus.STARTS)
    waiting = next(a for a in plan.assignments if a.course_status is CourseStatus.WAITS)
    return inst, plan, started, waiting


def _with(plan: Solution, old: Assignment, **changes: object) -> Solution:
    new = old.model_copy(update=changes)
    return plan.model_copy(
        update={"assignments": [new if a is old else a for a in plan.assignments]}
    )


def test_a_course_started_where_the_therapists_week_is_full() -> None:
    inst, plan, _, waiting = _course_plan()
    bad = _with(
        plan,
        waiting,
        course_status=CourseStatus.STARTS,
        course_reason=None,
        course_therapist_id="T1",
        course_start=COURSE_WEEKS[1],
        course_weeks_planned=2,
    )
    assert codes(check_solution(inst, bad)) == {V.THERAPIST_WEEK_OVERCOMMITTED}


def test_a_course_carried_by_another_therapist_than_the_first_session() -> None:
    inst, plan, started, _ = _course_plan()
    bad = _with(plan, started, course_therapist_id="T9")
    assert codes(check_solution(inst, bad)) == {V.COURSE_OWNER_WRONG}


def test_a_course_starting_later_than_the_course_start_days() -> None:
    inst, plan, started, _ = _course_plan()
    bad = _with(plan, started, course_start=COURSE_WEEKS[2])
    assert codes(check_solution(inst, bad)) == {V.COURSE_START_WRONG}


def test_a_course_with_the_wrong_weeks_planned() -> None:
    inst, plan, started, _ = _course_plan()
    bad = _with(plan, started, course_weeks_planned=1, course_weeks_beyond=1)
    assert codes(check_solution(inst, bad)) == {V.COURSE_WEEKS_WRONG}


def test_a_waiting_course_without_a_reason() -> None:
    inst, plan, _, waiting = _course_plan()
    bad = _with(plan, waiting, course_reason=None)
    assert codes(check_solution(inst, bad)) == {V.COURSE_WITHOUT_REASON}


def test_a_hold_seat_that_is_not_free() -> None:
    knee = Course(form=CourseForm.HOLD, hold_type="knee-hip", weeks=2)
    inst = course_instance(
        [course_therapist("T1")],
        [course_referral("R1", course=knee), course_referral("R2", course=knee)],
        holds=[course_hold(seats=1)],
    )
    plan = solve_courses(inst)
    waiting = next(a for a in plan.assignments if a.course_status is CourseStatus.WAITS)
    bad = _with(
        plan,
        waiting,
        course_status=CourseStatus.STARTS,
        course_reason=None,
        course_hold_id="knee1",
        course_start=COURSE_WEEKS[1],
        course_weeks_planned=2,
    )
    assert codes(check_solution(inst, bad)) == {V.HOLD_SEATS_EXCEEDED}


def _promised_plan(first_day: date) -> tuple[Instance, Solution, Assignment]:
    """T1 with room for one course a week after week 1; R1's first session communicated on
    `first_day` (10–11), R2 new: a checked plan and R1's assignment."""
    discharge = min(first_day, COURSE_WEEKS[0]) - timedelta(days=4)
    inst = course_instance(
        [course_therapist("T1")],
        [course_referral("R1", discharge=discharge), course_referral("R2")],
        [
            booking("first-R1", "T1", first_day, time(10), time(11), referral_id="R1"),
            *busy_weeks("T1", COURSE_WEEKS[1:], free_hours=3),
        ],
    )
    plan = solve_courses(inst)
    return inst, plan, next(a for a in plan.assignments if a.referral_id == "R1")


def test_a_course_for_a_communicated_first_session_already_held() -> None:
    # Seen the day before planning: its course is in the calendars, not to be planned again.
    inst, plan, first = _promised_plan(COURSE_WEEKS[0] - timedelta(days=4))
    assert first.course_status is CourseStatus.NONE
    bad = _with(
        plan,
        first,
        course_status=CourseStatus.STARTS,
        course_therapist_id="T1",
        course_start=COURSE_WEEKS[1],
        course_weeks_planned=2,
    )
    assert codes(check_solution(inst, bad)) == {V.COURSE_STATUS_WRONG}


def test_a_promised_course_counts_in_the_therapists_week() -> None:
    # R1's first session is still to come: its course holds T1's one free course place, so
    # starting R2's course too overcommits T1's weeks.
    inst, plan, first = _promised_plan(COURSE_WEEKS[0] + timedelta(days=1))
    assert first.course_status is CourseStatus.STARTS and first.course_therapist_id == "T1"
    other = next(a for a in plan.assignments if a.referral_id == "R2")
    bad = _with(
        plan,
        other,
        course_status=CourseStatus.STARTS,
        course_reason=None,
        course_therapist_id="T1",
        course_start=COURSE_WEEKS[1],
        course_weeks_planned=2,
    )
    assert codes(check_solution(inst, bad)) == {V.THERAPIST_WEEK_OVERCOMMITTED}
    bad = _with(plan, first, course_therapist_id="T9")
    assert codes(check_solution(inst, bad)) == {V.COURSE_OWNER_WRONG}


# --------------------------------------------------------------------------- a correct plan


def test_the_hand_made_plan_keeps_every_rule(inst: Instance) -> None:
    report = check_solution(inst, solution(inst, solve_by_hand(inst)))
    assert report.violations == []
    assert report.kpi_mismatches == []
    assert report.ok
    outcomes = {a.referral_id: a.outcome for a in solve_by_hand(inst)}
    assert outcomes["R8"] is Outcome.LATE_FREE_CHOICE
    assert outcomes["R1"] is Outcome.ON_TIME


def test_the_legal_dates_of_the_tiny_instance_are_as_counted_by_hand(inst: Instance) -> None:
    r1 = next(a for a in solve_by_hand(inst) if a.referral_id == "R1")
    # Discharged Monday 11 May: 7 days later is Monday 18 May; letter within 4 days: Friday.
    assert (r1.earliest_start, r1.deadline, r1.letter_by) == (TUE, NEXT_MON, FRI)
    r8 = next(a for a in solve_by_hand(inst) if a.referral_id == "R8")
    assert r8.deadline == date(2026, 5, 8)
    assert r8.answer_by == datetime(2026, 5, 14, 16, 0)  # planning day 16:00 + 72 h


# --------------------------------------------------------------------------- who


def test_a_therapist_of_the_wrong_discipline(inst: Instance) -> None:
    # The OT therapist is free on Wednesday 10:00 and rostered at S1: only the discipline is wrong.
    report = check_solution(inst, with_replaced(inst, book(inst, "R1", "T-OT1", "S1", at(WED, 10))))
    assert codes(report) == {V.WRONG_DISCIPLINE}
    assert report.violations[0].referral_id == "R1"
    assert report.violations[0].therapist_id == "T-OT1"


def test_avanceret_by_a_therapist_without_the_specialty(inst: Instance) -> None:
    report = check_solution(inst, with_replaced(inst, book(inst, "R2", "T-PT3", "S2", at(WED, 10))))
    assert codes(report) == {V.MISSING_SPECIALTY}


def test_an_unknown_therapist(inst: Instance) -> None:
    report = check_solution(inst, edited(inst, "R2", therapist_id="T-NOBODY"))
    assert codes(report) == {V.UNKNOWN_THERAPIST}


# --------------------------------------------------------------------------- overlaps and rooms


def test_a_session_overlapping_an_existing_booking(inst: Instance) -> None:
    report = check_solution(inst, with_replaced(inst, book(inst, "R1", "T-PT1", "S1", at(WED, 10))))
    assert codes(report) == {V.THERAPIST_OVERLAP}
    assert "B-MEET" in report.violations[0].message
    assert report.violations[0].referral_id == "R1"


def test_two_new_sessions_of_one_therapist_overlapping(inst: Instance) -> None:
    report = check_solution(
        inst, with_replaced(inst, book(inst, "R8", "T-PT3", "S2", at(WED, 9, 30)))
    )
    assert codes(report) == {V.THERAPIST_OVERLAP}
    assert report.violations[0].referral_id == "R8"
    assert "overlaps R5" in report.violations[0].message


def test_back_to_back_sessions_do_not_overlap(inst: Instance) -> None:
    # R8 right after R5 at S2 (09:00–10:00, then 10:00–11:00): allowed.
    report = check_solution(inst, with_replaced(inst, book(inst, "R8", "T-PT3", "S2", at(WED, 10))))
    assert report.ok


def test_a_released_tentative_booking_frees_its_time(inst: Instance) -> None:
    # R7's tentative slot is used by R7 in the correct plan; moving R7 and putting R1 there is
    # fine too, because a tentative first session of a planned referral does not stay.
    plan = solve_by_hand(inst)
    plan = [a for a in plan if a.referral_id not in {"R1", "R7"}] + [
        book(inst, "R1", "T-PT1", "S1", at(WED, 13)),
        book(inst, "R7", "T-PT1", "S1", at(WED, 9)),
    ]
    assert check_solution(inst, solution(inst, plan)).ok


def test_three_sessions_at_once_in_a_two_room_site(inst: Instance) -> None:
    report = check_solution(inst, with_replaced(inst, book(inst, "R2", "T-PT2", "S1", at(WED, 9))))
    assert codes(report) == {V.ROOMS_EXCEEDED}
    assert report.violations[0].site_id == "S1"
    assert "3 sessions at once, 2 rooms" in report.violations[0].message


def test_an_existing_booking_at_the_site_takes_a_room(inst: Instance) -> None:
    # B-R6 uses a room at S1 on Tuesday 13:00–14:00: two new sessions beside it make three.
    early_r3 = _referral("R3", discipline=Discipline.OT)  # received Monday: Tuesday is allowed
    inst2 = make_instance(referrals=[early_r3 if r.id == "R3" else r for r in inst.referrals])
    moved = {
        "R3": book(inst2, "R3", "T-OT1", "S1", at(TUE, 13)),
        "R7": book(inst2, "R7", "T-PT1", "S1", at(TUE, 13, 30)),
    }
    plan = [moved.get(a.referral_id, a) for a in solve_by_hand(inst2)]
    report = check_solution(inst2, solution(inst2, plan))
    assert codes(report) == {V.ROOMS_EXCEEDED}
    assert "B-R6" in report.violations[0].message


def test_a_home_visit_whose_drive_back_runs_into_the_next_booking(inst: Instance) -> None:
    travel = travel_minutes(S1_AT, HOME_R4)
    assert travel == 10
    # Session 10:05–11:05 ends before B-ADJ (11:10), but the drive back ends 11:15.
    moved = book(inst, "R4", "T-PT1", "S1", at(FRI, 10, 5), at_home=True, travel=travel)
    report = check_solution(inst, with_replaced(inst, moved))
    assert codes(report) == {V.THERAPIST_OVERLAP}
    assert "B-ADJ" in report.violations[0].message


# --------------------------------------------------------------------------- where


def test_a_home_visit_by_a_therapist_without_home_visits(inst: Instance) -> None:
    moved = book(inst, "R4", "T-PT2", "S1", at(FRI, 10), at_home=True, travel=10)
    report = check_solution(inst, with_replaced(inst, moved))
    assert codes(report) == {V.NO_HOME_VISITS}


def test_a_home_visit_with_too_little_travel(inst: Instance) -> None:
    report = check_solution(inst, edited(inst, "R4", travel_minutes=5))
    assert codes(report) == {V.TRAVEL_TOO_SHORT}


def test_home_training_booked_at_the_site(inst: Instance) -> None:
    report = check_solution(inst, with_replaced(inst, book(inst, "R4", "T-PT1", "S1", at(FRI, 10))))
    assert codes(report) == {V.HOME_VISIT_REQUIRED}


def test_a_home_visit_for_a_referral_without_home_training(inst: Instance) -> None:
    moved = book(inst, "R7", "T-PT1", "S1", at(WED, 13), at_home=True, travel=10)
    report = check_solution(inst, with_replaced(inst, moved))
    assert codes(report) == {V.UNEXPECTED_HOME_VISIT}


def test_the_citizens_chosen_site_ignored(inst: Instance) -> None:
    report = check_solution(inst, with_replaced(inst, book(inst, "R5", "T-PT1", "S1", at(TUE, 9))))
    assert codes(report) == {V.CHOSEN_SITE_IGNORED}


# --------------------------------------------------------------------------- when


def test_outside_the_therapists_roster(inst: Instance) -> None:
    # 15:00–16:00 is daytime and the site is open, but the roster ends at 15:30.
    report = check_solution(inst, with_replaced(inst, book(inst, "R1", "T-PT1", "S1", at(WED, 15))))
    assert codes(report) == {V.OUTSIDE_ROSTER}


def test_at_a_site_where_the_therapist_is_not_rostered(inst: Instance) -> None:
    report = check_solution(inst, with_replaced(inst, book(inst, "R1", "T-PT1", "S2", at(WED, 9))))
    assert codes(report) == {V.OUTSIDE_ROSTER}


def test_on_a_public_holiday(inst: Instance) -> None:
    # Kristi Himmelfartsdag 2026; the therapist's roster has the day, the calendar does not.
    report = check_solution(inst, with_replaced(inst, book(inst, "R1", "T-PT1", "S1", at(THU, 9))))
    assert codes(report) == {V.NOT_WORKING_DAY}


def test_on_the_therapists_absence_day(inst: Instance) -> None:
    day = date(2026, 5, 20)
    report = check_solution(inst, with_replaced(inst, book(inst, "R1", "T-PT1", "S1", at(day, 9))))
    assert codes(report) == {V.THERAPIST_ABSENT}


def test_before_the_earliest_start(inst: Instance) -> None:
    # R3's plan arrived on Tuesday: one working day's notice makes Wednesday the earliest.
    report = check_solution(inst, with_replaced(inst, book(inst, "R3", "T-OT1", "S1", at(TUE, 9))))
    assert codes(report) == {V.BEFORE_EARLIEST_START}


def test_on_a_date_the_citizen_is_unavailable(inst: Instance) -> None:
    report = check_solution(inst, with_replaced(inst, book(inst, "R1", "T-PT1", "S1", at(TUE, 9))))
    assert codes(report) == {V.CITIZEN_UNAVAILABLE}


def test_a_session_of_the_wrong_length(inst: Instance) -> None:
    report = check_solution(inst, edited(inst, "R1", end=at(WED, 10, 30)))
    assert codes(report) == {V.WRONG_DURATION}


def test_outside_daytime() -> None:
    # Rostered and open from 07:30, but the policy's daytime starts at 08:00.
    inst = make_instance()
    early = make_instance(
        therapists=[
            t.model_copy(
                update={"roster": [e.model_copy(update={"start": time(7, 30)}) for e in t.roster]}
            )
            for t in inst.therapists
        ]
    )
    report = check_solution(
        early, with_replaced(early, book(early, "R1", "T-PT1", "S1", at(WED, 7, 30)))
    )
    assert codes(report) == {V.OUTSIDE_DAYTIME}


def test_after_the_horizon(inst: Instance) -> None:
    day = date(2026, 6, 9)  # planning date + 29 days; the roster reaches it in this test
    extended = make_instance(
        therapists=[
            t.model_copy(
                update={
                    "roster": [
                        *t.roster,
                        shift(day, time(8), time(15, 30), "S1"),
                    ]
                }
            )
            if t.id == "T-PT1"
            else t
            for t in inst.therapists
        ]
    )
    report = check_solution(
        extended, with_replaced(extended, book(extended, "R1", "T-PT1", "S1", at(day, 9)))
    )
    assert codes(report) == {V.OUTSIDE_HORIZON}


# --------------------------------------------------------------------------- legal dates, outcome


def test_on_time_claimed_for_a_start_after_the_deadline(inst: Instance) -> None:
    late = book(inst, "R1", "T-PT1", "S1", at(NEXT_MON + timedelta(days=1), 9))
    assert late.outcome is Outcome.LATE_FREE_CHOICE
    claimed = late.model_copy(update={"outcome": Outcome.ON_TIME, "answer_by": None})
    report = check_solution(inst, with_replaced(inst, claimed))
    assert codes(report) == {V.WRONG_OUTCOME}


def test_a_wrong_deadline(inst: Instance) -> None:
    report = check_solution(inst, edited(inst, "R1", deadline=NEXT_MON + timedelta(days=1)))
    assert codes(report) == {V.WRONG_DEADLINE}


def test_a_wrong_letter_by_date(inst: Instance) -> None:
    report = check_solution(inst, edited(inst, "R1", letter_by=NEXT_MON))
    assert codes(report) == {V.WRONG_LETTER_BY}


def test_a_wrong_earliest_start_and_free_choice_right(inst: Instance) -> None:
    report = check_solution(inst, edited(inst, "R1", earliest_start=WED, free_choice_right=False))
    assert codes(report) == {V.WRONG_EARLIEST_START, V.WRONG_FREE_CHOICE_RIGHT}


def test_a_missing_answer_by_for_a_frit_valg_offer(inst: Instance) -> None:
    report = check_solution(inst, edited(inst, "R8", answer_by=None))
    assert codes(report) == {V.WRONG_ANSWER_BY}


def test_a_not_bookable_referral_without_a_reason(inst: Instance) -> None:
    report = check_solution(inst, edited(inst, "R9", reason=None))
    assert codes(report) == {V.NOT_BOOKABLE_WITHOUT_REASON}


def test_a_not_bookable_referral_with_a_therapist(inst: Instance) -> None:
    report = check_solution(inst, edited(inst, "R9", therapist_id="T-PT2"))
    assert codes(report) == {V.NOT_BOOKABLE_WITH_SESSION}


def test_a_booked_outcome_without_a_session(inst: Instance) -> None:
    report = check_solution(inst, edited(inst, "R9", outcome=Outcome.ON_TIME, reason=None))
    assert codes(report) == {V.BOOKED_WITHOUT_SESSION}


# --------------------------------------------------------------------------- coverage


def test_a_referral_missing_from_the_solution(inst: Instance) -> None:
    plan = [a for a in solve_by_hand(inst) if a.referral_id != "R3"]
    report = check_solution(inst, solution(inst, plan))
    assert codes(report) == {V.MISSING_REFERRAL}
    assert report.violations[0].referral_id == "R3"


def test_a_referral_twice_in_the_solution(inst: Instance) -> None:
    plan = solve_by_hand(inst)
    report = check_solution(inst, solution(inst, [*plan, plan[2]]))
    assert codes(report) == {V.DUPLICATE_REFERRAL}


def test_a_referral_not_in_the_instance(inst: Instance) -> None:
    plan = solve_by_hand(inst)
    stranger = plan[0].model_copy(update={"referral_id": "R-STRANGER"})
    report = check_solution(inst, solution(inst, [*plan, stranger]))
    assert codes(report) == {V.UNKNOWN_REFERRAL}


def test_a_solution_for_another_planning_date(inst: Instance) -> None:
    sol = solution(inst, solve_by_hand(inst)).model_copy(update={"planning_date": TUE})
    assert codes(check_solution(inst, sol)) == {V.PLANNING_DATE_MISMATCH}


# --------------------------------------------------------------------------- fixed sessions


def test_a_communicated_first_session_moved(inst: Instance) -> None:
    moved = book(inst, "R6", "T-PT2", "S1", at(TUE, 14), fixed=True)
    report = check_solution(inst, with_replaced(inst, moved))
    assert codes(report) == {V.FIXED_BOOKING_MOVED}
    assert "B-R6" in report.violations[0].message


def test_a_communicated_first_session_not_marked_fixed(inst: Instance) -> None:
    report = check_solution(inst, edited(inst, "R6", fixed=False))
    assert codes(report) == {V.FIXED_FLAG_WRONG}


def test_a_new_session_marked_fixed(inst: Instance) -> None:
    report = check_solution(inst, edited(inst, "R1", fixed=True))
    assert codes(report) == {V.FIXED_FLAG_WRONG}


# --------------------------------------------------------------------------- KPIs


def test_a_reported_kpi_that_is_not_true(inst: Instance) -> None:
    sol = solution(inst, solve_by_hand(inst))
    lie = sol.kpis.model_copy(update={"on_time": sol.kpis.on_time + 1})
    report = check_solution(inst, sol.model_copy(update={"kpis": lie}))
    assert report.violations == []
    assert not report.ok
    assert report.kpi_mismatches == [
        f"on_time: reported {sol.kpis.on_time + 1}, recomputed {sol.kpis.on_time}"
    ]


def test_kpi_floats_are_compared_with_a_tolerance(inst: Instance) -> None:
    kpis = compute_kpis(inst, solve_by_hand(inst))
    nudged = kpis.model_copy(
        update={
            "on_time_share": kpis.on_time_share + 1e-9,
            "utilisation": {k: v + 1e-9 for k, v in kpis.utilisation.items()},
        }
    )
    assert compare_kpis(nudged, kpis) == []
    off = kpis.model_copy(
        update={"utilisation": {**kpis.utilisation, "T-PT1": kpis.utilisation["T-PT1"] + 0.01}}
    )
    assert [m.split(":")[0] for m in compare_kpis(off, kpis)] == ["utilisation[T-PT1]"]


# --------------------------------------------------------------------------- scale


def _synthetic(n_referrals: int) -> tuple[Instance, Solution]:
    """`n_referrals` basal PT referrals, each booked in its own hour of some therapist's day."""
    site = _site("S", 200, S1_AT)
    days = [d for d in WorkingCalendar(preset("soenderborg")).working_days(TUE, NEXT_MON)]
    per_day = 7  # sessions a therapist does a day, 08:00–15:00
    n_therapists = -(-n_referrals // (per_day * len(days)))
    therapists = [
        therapist(f"T{k}", days=days, hours=(time(8), time(15)), site_id="S")
        for k in range(n_therapists)
    ]
    referrals = [_referral(f"R{i}") for i in range(n_referrals)]
    inst = make_instance(sites=[site], therapists=therapists, bookings=[], referrals=referrals)
    plan = []
    for i in range(n_referrals):
        slot, hour = divmod(i, per_day)
        day_i, t_i = divmod(slot, n_therapists)
        plan.append(book(inst, f"R{i}", f"T{t_i}", "S", at(days[day_i], 8 + hour)))
    return inst, solution(inst, plan)


def test_a_thousand_referral_solution_is_checked_and_accepted() -> None:
    # How fast is a benchmark's question (every bench run checks its plan); here: correct at size.
    inst, sol = _synthetic(1000)
    report = check_solution(inst, sol)
    assert report.ok, report.violations[:3]


def test_a_clash_deep_in_a_large_solution_is_found() -> None:
    inst, sol = _synthetic(300)
    plan = list(sol.assignments)
    last, before = plan[-1], plan[-2]
    assert before.therapist_id is not None and before.start is not None
    plan[-1] = book(inst, last.referral_id, before.therapist_id, "S", before.start)
    report = check_solution(inst, solution(inst, plan))
    assert codes(report) == {V.THERAPIST_OVERLAP}


# --------------------------------------------------------------------------- CLI


def _files(tmp_path: Path, inst: Instance, sol: Solution) -> tuple[str, str]:
    i, s = tmp_path / "instance.json", tmp_path / "solution.json"
    i.write_text(inst.model_dump_json(indent=2), encoding="utf-8")
    s.write_text(sol.model_dump_json(indent=2), encoding="utf-8")
    return str(i), str(s)


def test_cli_check_ok(inst: Instance, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    i, s = _files(tmp_path, inst, solution(inst, solve_by_hand(inst)))
    assert main(["check", i, s]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: ")
    assert "on time" in out and "7 (77.8%)" in out


def test_cli_check_lists_every_violation_and_a_count(
    inst: Instance, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = [a for a in solve_by_hand(inst) if a.referral_id != "R3"]
    plan = [
        book(inst, "R1", "T-OT1", "S1", at(WED, 10)) if a.referral_id == "R1" else a for a in plan
    ]
    i, s = _files(tmp_path, inst, solution(inst, plan))
    assert main(["check", i, s]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("missing_referral: R3")
    assert lines[1].startswith("wrong_discipline: R1")
    assert lines[-1].startswith("FAILED: 2 violations, 0 KPI mismatches")


def test_cli_check_json(inst: Instance, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    i, s = _files(tmp_path, inst, edited(inst, "R1", end=at(WED, 10, 30)))
    assert main(["check", "--json", i, s]) == 1
    out = capsys.readouterr().out
    assert '"code": "wrong_duration"' in out and '"ok": false' in out


def test_cli_check_unreadable_input_is_a_clear_message(
    inst: Instance, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    i, _ = _files(tmp_path, inst, solution(inst, solve_by_hand(inst)))
    bad = tmp_path / "bad.json"
    bad.write_text('{"assignments": [', encoding="utf-8")
    assert main(["check", i, str(bad)]) == 1
    assert main(["check", i, str(tmp_path / "nope.json")]) == 1
    err = capsys.readouterr().err
    assert "not valid JSON" in err and "no such file" in err
    assert "Traceback" not in err


def test_cli_check_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "only-one-file.json"])
    assert exit_info.value.code == 2


# --------------------------------------------------------------------------- the window with travel
# One definition (rules.eligibility.session_windows) for planner and checker: the time a session
# holds, a home visit's travel both ways included, lies in daytime, the roster and the opening
# hours. Each test breaks exactly one of the three.


def test_an_unknown_site(inst: Instance) -> None:
    report = check_solution(inst, with_replaced(inst, book(inst, "R1", "T-PT1", "S9", at(WED, 9))))
    assert codes(report) == {V.UNKNOWN_SITE}


def test_travel_on_a_session_at_the_site(inst: Instance) -> None:
    report = check_solution(inst, edited(inst, "R1", travel_minutes=10))
    assert codes(report) == {V.TRAVEL_WITHOUT_HOME_VISIT}


def _with_site_hours(open_: time, close: time) -> Instance:
    sites = make_instance().sites
    return make_instance(sites=[_site(s.id, s.rooms, s.coordinates, (open_, close)) for s in sites])


def test_a_session_outside_the_sites_opening_hours() -> None:
    # Daytime from 08:00 and rostered from 08:00, but the site opens at 09:00.
    late_open = _with_site_hours(time(9), time(17))
    moved = book(late_open, "R1", "T-PT1", "S1", at(WED, 8))
    report = check_solution(late_open, with_replaced(late_open, moved))
    assert codes(report) == {V.OUTSIDE_OPENING_HOURS}


def test_a_home_visit_whose_drive_there_starts_before_daytime() -> None:
    # Rostered and open from 07:30; the session at 08:00 is in daytime, the drive there
    # (07:50) is not.
    inst = make_instance()
    early = make_instance(
        therapists=[
            t.model_copy(
                update={"roster": [e.model_copy(update={"start": time(7, 30)}) for e in t.roster]}
            )
            for t in inst.therapists
        ]
    )
    moved = book(early, "R4", "T-PT1", "S1", at(FRI, 8), at_home=True, travel=10)
    report = check_solution(early, with_replaced(early, moved))
    assert codes(report) == {V.OUTSIDE_DAYTIME}


def test_a_home_visit_whose_drive_back_ends_after_the_roster(inst: Instance) -> None:
    # Session 14:25–15:25, back at the site 15:35: daytime (16:00) and opening (17:00) hold,
    # the roster (15:30) does not.
    moved = book(inst, "R4", "T-PT1", "S1", at(FRI, 14, 25), at_home=True, travel=10)
    report = check_solution(inst, with_replaced(inst, moved))
    assert codes(report) == {V.OUTSIDE_ROSTER}


def test_a_home_visit_whose_drive_back_ends_after_the_site_closes() -> None:
    # The site closes at 15:00: session 13:55–14:55, back 15:05.
    early_close = _with_site_hours(time(7, 30), time(15))
    moved = book(early_close, "R4", "T-PT1", "S1", at(FRI, 13, 55), at_home=True, travel=10)
    report = check_solution(early_close, with_replaced(early_close, moved))
    assert codes(report) == {V.OUTSIDE_OPENING_HOURS}


def test_a_home_visit_whose_time_held_fits_keeps_every_rule(inst: Instance) -> None:
    # Session 14:20–15:20, back 15:30: exactly at the end of the roster.
    moved = book(inst, "R4", "T-PT1", "S1", at(FRI, 14, 20), at_home=True, travel=10)
    assert check_solution(inst, with_replaced(inst, moved)).ok


# --------------------------------------------------------------------------- letters and reasons


def test_a_letter_sent_after_the_working_day_before_the_start(inst: Instance) -> None:
    # R1 starts Wednesday: the letter must go out by Tuesday, not by Friday's letter_by.
    report = check_solution(inst, edited(inst, "R1", letter_send_by=FRI))
    assert codes(report) == {V.WRONG_LETTER_SEND_BY}


def test_a_late_start_with_frit_valg_blamed_on_the_citizen(inst: Instance) -> None:
    report = check_solution(inst, edited(inst, "R8", reason=Reason.CITIZEN_POSTPONED))
    assert codes(report) == {V.WRONG_REASON}


def test_frit_valg_claimed_for_a_citizen_unavailable_every_day_to_the_deadline() -> None:
    # Deadline Monday 18 May; the citizen cannot come on any working day up to it (Thursday is
    # a holiday): their own postponement, no frit valg; the target runs from Tuesday 19 May.
    base = make_instance()
    away = [TUE, WED, FRI, NEXT_MON]
    inst = make_instance(referrals=[*base.referrals, _referral("R10", unavailable_dates=away)])
    r10 = book(inst, "R10", "T-PT3", "S2", at(NEXT_MON + timedelta(days=1), 9))
    assert (r10.outcome, r10.free_choice_right) == (Outcome.ON_TIME, False)
    assert r10.deadline == date(2026, 5, 26)
    assert check_solution(inst, solution(inst, [*solve_by_hand(inst), r10])).ok
    claimed = r10.model_copy(update={"free_choice_right": True})
    report = check_solution(inst, solution(inst, [*solve_by_hand(inst), claimed]))
    assert codes(report) == {V.WRONG_FREE_CHOICE_RIGHT}


def test_answer_by_counts_from_when_the_offers_go_out() -> None:
    sent = datetime(2026, 5, 12, 10, 0)
    inst = make_instance(offers_sent_at=sent)
    plan = solve_by_hand(inst)
    r8 = next(a for a in plan if a.referral_id == "R8")
    # The hand plan counts from the planning day's end: wrong once the caller says otherwise.
    report = check_solution(inst, solution(inst, plan))
    assert codes(report) == {V.WRONG_ANSWER_BY}
    fixed = [
        a.model_copy(update={"answer_by": sent + timedelta(hours=72)}) if a is r8 else a
        for a in plan
    ]
    assert check_solution(inst, solution(inst, fixed)).ok


# --------------------------------------------------------------------------- rejections


def rejected(inst: Instance, rid: str, reason: Reason) -> Assignment:
    ref = next(r for r in inst.referrals if r.id == rid)
    cal = WorkingCalendar(inst.policy)
    ld = legal_dates(ref, inst.policy, cal)
    return Assignment(
        referral_id=rid,
        outcome=Outcome.REJECTED,
        earliest_start=ld.earliest_start,
        deadline=ld.deadline,
        free_choice_right=ld.free_choice_right,
        letter_by=ld.letter_by,
        letter_send_by=letter_send_by(ld.letter_by, None, cal),
        reason=reason,
        detail="under 18: the children's team",
    )


def _with_a_minor_under_rebilds_rule() -> Instance:
    base = make_instance()
    policy = base.policy.model_copy(update={"minors_to_childrens_team": True})
    return make_instance(policy=policy, referrals=[*base.referrals, _referral("R10", age=16)])


def test_a_minor_rejected_to_the_childrens_team_keeps_every_rule() -> None:
    inst = _with_a_minor_under_rebilds_rule()
    plan = [*solve_by_hand(inst), rejected(inst, "R10", Reason.CHILDRENS_TEAM)]
    report = check_solution(inst, solution(inst, plan))
    assert report.ok, [str(v) for v in report.violations]
    assert report.kpis.rejected == 1


def test_a_minor_booked_under_rebilds_rule() -> None:
    # Rebild: "Ved træning af børn og unge under 18 år vil opgaven som udgangspunkt varetages af
    # kommunal leverandør, ... i kraft af dennes børneteam."
    inst = _with_a_minor_under_rebilds_rule()
    plan = [*solve_by_hand(inst), book(inst, "R10", "T-PT3", "S2", at(WED, 11))]
    report = check_solution(inst, solution(inst, plan))
    assert codes(report) == {V.REJECTED_REFERRAL_BOOKED}


def test_a_rejected_referral_with_a_therapist() -> None:
    inst = _with_a_minor_under_rebilds_rule()
    bad = rejected(inst, "R10", Reason.CHILDRENS_TEAM).model_copy(update={"therapist_id": "T-PT3"})
    report = check_solution(inst, solution(inst, [*solve_by_hand(inst), bad]))
    assert codes(report) == {V.REJECTED_WITH_SESSION}


def test_a_rejection_with_the_wrong_place(inst: Instance) -> None:
    inst = _with_a_minor_under_rebilds_rule()
    bad = rejected(inst, "R10", Reason.SPECIALISED_AT_HOSPITAL)
    report = check_solution(inst, solution(inst, [*solve_by_hand(inst), bad]))
    assert codes(report) == {V.WRONG_REASON}


def test_a_minor_called_not_bookable_instead_of_rejected() -> None:
    inst = _with_a_minor_under_rebilds_rule()
    bad = rejected(inst, "R10", Reason.CHILDRENS_TEAM).model_copy(
        update={"outcome": Outcome.NOT_BOOKABLE}
    )
    report = check_solution(inst, solution(inst, [*solve_by_hand(inst), bad]))
    assert codes(report) == {V.WRONG_REJECTION}


def test_a_referral_the_scheduler_takes_rejected(inst: Instance) -> None:
    plan = [
        rejected(inst, "R1", Reason.CHILDRENS_TEAM) if a.referral_id == "R1" else a
        for a in solve_by_hand(inst)
    ]
    report = check_solution(inst, solution(inst, plan))
    assert codes(report) == {V.WRONG_REJECTION}


def test_every_violation_code_has_a_test() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    expected = set(re.findall(r"assert codes\([^\n]*\) == \{([^}]*)\}", source))
    named = {name for group in expected for name in re.findall(r"V\.(\w+)", group)}
    untested = [c.name for c in ViolationCode if c.name not in named]
    assert not untested, untested
