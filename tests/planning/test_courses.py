"""Courses after the first session, on tiny hand-built weeks: therapist weeks, hold seats,
continuity, waiting reasons, the stability of tentative first sessions, and the checker.

Every solution is re-verified by the independent checker.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from scheduler.api.calendars import calendars_from_proto
from scheduler.api.convert import instance_to_proto
from scheduler.bench.baseline import solve_edf
from scheduler.domain import (
    Booking,
    BookingStatus,
    Course,
    CourseForm,
    CourseStatus,
    Hold,
    HoldSession,
    HoldWeek,
    Instance,
    Outcome,
    Reason,
    Referral,
    Site,
    Solution,
    SolveOptions,
    Therapist,
)
from scheduler.domain.policy import PRESETS
from scheduler.planning.calendar_index import CalendarDelta, index_calendar
from scheduler.planning.courses import allocate, options_for
from scheduler.planning.problem import prepare
from scheduler.planning.propose import propose_slots, rank_slots
from scheduler.planning.solve import solve
from scheduler.rules.commitments import holds_time
from scheduler.rules.courses import (
    full_weeks,
    promised_courses,
    start_weeks,
    weekly_free_minutes,
)
from scheduler.verify.checker import ViolationCode, check_solution
from tests import builders

FRIDAY = date(2026, 11, 27)  # planning date; horizon 28 Nov – 25 Dec
WEEKS = [date(2026, 11, 30) + timedelta(days=7 * w) for w in range(4)]
WEEK1 = [WEEKS[0] + timedelta(days=i) for i in range(5)]
ALL_DAYS = [w + timedelta(days=i) for w in WEEKS for i in range(5)]
POLICY = PRESETS["soenderborg"].model_copy(update={"course_start_days": 7})
TWO_WEEKS = Course(sessions_per_week=2, weeks=2, minutes_per_session=60)


def site(holds: list[Hold] | None = None) -> Site:
    return builders.site(holds=holds or [])


def therapist(id_: str) -> Therapist:
    return builders.therapist(id_, days=ALL_DAYS, hours=(time(8), time(15)))


def referral(id_: str, discharge: date = FRIDAY, **kw: Any) -> Referral:
    return builders.referral(id_, discharge, **{"course": TWO_WEEKS, **kw})


def booking(id_: str, therapist_id: str, day: date, start: int, end: int, **kw: Any) -> Booking:
    return builders.booking(id_, therapist_id, day, time(start), time(end), **kw)


def busy_weeks(therapist_id: str, weeks: list[date], free_hours: int = 0) -> list[Booking]:
    """Book a therapist's 08–15 days in `weeks` full, leaving the first `free_hours` hours of
    each Monday free."""
    out = []
    for w in weeks:
        for i in range(5):
            day = w + timedelta(days=i)
            start = 8 + (free_hours if i == 0 else 0)
            if start < 15:
                out.append(booking(f"busy-{therapist_id}-{day}", therapist_id, day, start, 15))
    return out


def instance(
    therapists: list[Therapist],
    referrals: list[Referral],
    bookings: list[Booking] | None = None,
    holds: list[Hold] | None = None,
) -> Instance:
    return builders.instance(
        therapists,
        referrals,
        bookings,
        sites=[site(holds)],
        policy=POLICY,
        planning_date=FRIDAY,
        name="courses",
    )


def run(inst: Instance) -> Solution:
    solution = solve(inst, SolveOptions(time_limit_s=10, workers=1, seed=1))
    report = check_solution(inst, solution)
    assert report.ok, report.violations
    return solution


def by_id(solution: Solution) -> dict[str, Any]:
    return {a.referral_id: a for a in solution.assignments}


def hold(seats: int = 1, **kw: Any) -> Hold:
    fields: dict[str, Any] = {
        "id": "knee1",
        "type": "knee-hip",
        "discipline": "PT",
        "sessions": [
            HoldSession(weekday=1, start=time(10)),
            HoldSession(weekday=3, start=time(10)),
        ],
        "seats": seats,
    }
    fields.update(kw)
    return Hold(**fields)


# ----------------------------------------------------------------------------- rules


def test_weeks_and_start_weeks_follow_the_horizon_and_the_policy() -> None:
    inst = instance([therapist("T1")], [])
    assert full_weeks(inst) == WEEKS
    assert start_weeks(date(2026, 12, 2), POLICY) == [WEEKS[1]]
    longer = POLICY.model_copy(update={"course_start_days": 14})
    assert start_weeks(date(2026, 12, 4), longer) == [WEEKS[1], WEEKS[2]]


def test_weekly_free_minutes_subtract_staying_bookings_not_closed_days() -> None:
    inst = instance([therapist("T1")], [], busy_weeks("T1", [WEEKS[1]], free_hours=2))
    free = weekly_free_minutes(inst)
    assert free[("T1", WEEKS[0])] == 5 * 7 * 60
    assert free[("T1", WEEKS[1])] == 2 * 60
    # 24 and 25 December are closed days in the Sønderborg preset.
    assert free[("T1", WEEKS[3])] == 3 * 7 * 60


def test_policy_default_course_applies_without_course_data() -> None:
    inst = instance([therapist("T1")], [referral("R1", course=None)])
    problem = prepare(inst)
    assert problem.courses[0] == POLICY.course_defaults["basal"]


# --------------------------------------------------------------------- add_course_capacity


def test_a_full_therapist_week_makes_the_second_course_wait() -> None:
    # One therapist; after week 1 only 3 free hours a week: one 2 x 60 min course fits.
    inst = instance(
        [therapist("T1")],
        [referral("R1"), referral("R2")],
        busy_weeks("T1", WEEKS[1:], free_hours=3),
    )
    solution = run(inst)
    a = by_id(solution)
    statuses = sorted(x.course_status for x in a.values())
    assert statuses == [CourseStatus.STARTS, CourseStatus.WAITS]
    waiting = next(x for x in a.values() if x.course_status is CourseStatus.WAITS)
    assert waiting.course_reason is Reason.COURSE_THERAPIST_FULL
    started = next(x for x in a.values() if x.course_status is CourseStatus.STARTS)
    assert started.course_therapist_id == started.therapist_id == "T1"
    assert started.course_start == WEEKS[1] and started.course_weeks_planned == 2
    assert solution.kpis.courses_started == 1 and solution.kpis.courses_waiting == 1


def test_first_sessions_go_to_the_therapist_who_can_carry_the_course() -> None:
    # T1 is listed first and free in week 1 only; T2 has free weeks. A course-blind first
    # free slot puts both first sessions with T1 and both courses wait; the optimiser keeps
    # both on time and gives both courses a place, with T2 (continuity).
    inst = instance(
        [therapist("T1"), therapist("T2")],
        [referral("R1"), referral("R2")],
        busy_weeks("T1", WEEKS[1:]),
    )
    problem = prepare(inst)
    greedy = {r: problem.candidates[r][0] for r in range(2)}
    assert all(problem.gaps[c.gap].therapist == 0 for c in greedy.values())
    assert allocate(problem, greedy) == {}
    solution = run(inst)
    assert solution.kpis.on_time == 2 and solution.kpis.courses_started == 2
    for a in solution.assignments:
        assert a.therapist_id == a.course_therapist_id == "T2"
    # The bench's course-blind earliest-deadline-first greedy: on time, but courses wait.
    edf = solve_edf(inst)
    assert check_solution(inst, edf).ok and edf.stats.method == "edf-greedy"
    assert (edf.kpis.on_time, edf.kpis.courses_started, edf.kpis.courses_waiting) == (2, 0, 2)


def test_hold_seats_are_kept_and_a_missing_hold_type_is_the_reason() -> None:
    knee = Course(form=CourseForm.HOLD, hold_type="knee-hip", weeks=2)
    back = Course(form=CourseForm.HOLD, hold_type="back", weeks=2)
    inst = instance(
        [therapist("T1")],
        [referral("R1", course=knee), referral("R2", course=knee), referral("R3", course=back)],
        holds=[hold(seats=2, taken=[HoldWeek(week_start=WEEKS[2], taken=1)])],
    )
    a = by_id(run(inst))
    on_hold = [x for x in a.values() if x.course_hold_id == "knee1"]
    assert len(on_hold) == 1 and on_hold[0].course_status is CourseStatus.STARTS
    assert on_hold[0].course_therapist_id is None
    knee_waiting = [x for x in (a["R1"], a["R2"]) if x.course_status is CourseStatus.WAITS]
    assert [x.course_reason for x in knee_waiting] == [Reason.COURSE_HOLD_FULL]
    assert a["R3"].course_status is CourseStatus.WAITS
    assert a["R3"].course_reason is Reason.COURSE_NO_HOLD


def test_either_form_takes_a_hold_seat_or_the_therapist() -> None:
    # T1 has room for one course a week after week 1; the hold has one seat: both start.
    either = Course(form=CourseForm.EITHER, hold_type="knee-hip", weeks=2, minutes_per_session=60)
    inst = instance(
        [therapist("T1")],
        [referral("R1", course=either), referral("R2", course=either)],
        busy_weeks("T1", WEEKS[1:], free_hours=3),
        holds=[hold(seats=1)],
    )
    a = by_id(run(inst))
    owners = sorted((x.course_hold_id or "", x.course_therapist_id or "") for x in a.values())
    assert owners == [("", "T1"), ("knee1", "")]


def test_a_closed_hold_admits_only_in_its_intake_weeks() -> None:
    knee = Course(form=CourseForm.HOLD, hold_type="knee-hip", weeks=2)
    inst = instance(
        [therapist("T1")],
        [referral("R1", course=knee)],
        holds=[hold(seats=5, rolling_admission=False, intake_weeks=[WEEKS[3]])],
    )
    problem = prepare(inst)
    assert options_for(problem, 0, problem.candidates[0][0]) == []
    a = by_id(run(inst))
    assert a["R1"].course_status is CourseStatus.WAITS


def test_a_policy_without_course_defaults_plans_first_sessions_only() -> None:
    # Backward compatibility: no course data and no defaults behave as before courses.
    policy = POLICY.model_copy(update={"course_defaults": {}})
    inst = instance([therapist("T1")], [referral("R1", course=None)]).model_copy(
        update={"policy": policy}
    )
    solution = run(inst)
    assert solution.assignments[0].course_status is CourseStatus.NONE
    assert [s["stage"] for s in solution.stats.stages][:3] == ["on_time", "lateness", "courses"]
    assert solution.kpis.courses_started == solution.kpis.courses_waiting == 0


def test_course_weeks_beyond_the_horizon_are_reported_not_planned() -> None:
    long_course = Course(weeks=12)
    inst = instance([therapist("T1")], [referral("R1", course=long_course)])
    a = by_id(run(inst))["R1"]
    assert a.course_status is CourseStatus.STARTS
    assert (a.course_weeks_planned, a.course_weeks_beyond) == (3, 9)


def test_proposals_rank_a_therapist_who_can_carry_the_course_first_and_say_so() -> None:
    # T1 (listed first) has no free weeks after week 1; T2 has: T2's slot ranks first.
    inst = instance(
        [therapist("T1"), therapist("T2")], [referral("R1")], busy_weeks("T1", WEEKS[1:])
    )
    proposals = propose_slots(inst, "R1", 60)
    monday = [p for p in proposals if p.start.date() == WEEK1[0]]
    owners = [p.therapist_id for p in monday]
    assert owners[0] == "T2" and "T1" in owners
    assert owners == sorted(owners, key=lambda t: t != "T2")  # every T2 slot before T1's
    assert "can carry the course from 2026-12-07" in monday[0].why
    assert "the course would wait" in monday[owners.index("T1")].why


# ------------------------------------------------------------------------------ checker


def test_checker_catches_an_overcommitted_week_a_broken_continuity_and_full_holds() -> None:
    inst = instance(
        [therapist("T1"), therapist("T2")],
        [referral("R1"), referral("R2")],
        busy_weeks("T1", WEEKS[1:], free_hours=3) + busy_weeks("T2", WEEKS[1:]),
    )
    solution = run(inst)
    waiting = next(a for a in solution.assignments if a.course_status is CourseStatus.WAITS)
    forced = waiting.model_copy(
        update={
            "course_status": CourseStatus.STARTS,
            "course_reason": None,
            "course_therapist_id": waiting.therapist_id,
            "course_start": WEEKS[1],
            "course_weeks_planned": 2,
        }
    )
    bad = solution.model_copy(
        update={"assignments": [forced if a is waiting else a for a in solution.assignments]}
    )
    codes = check_solution(inst, bad).codes()
    assert ViolationCode.THERAPIST_WEEK_OVERCOMMITTED in codes
    other = "T2" if waiting.therapist_id == "T1" else "T1"
    swapped = forced.model_copy(update={"course_therapist_id": other})
    bad = solution.model_copy(
        update={"assignments": [swapped if a is waiting else a for a in solution.assignments]}
    )
    assert ViolationCode.COURSE_OWNER_WRONG in check_solution(inst, bad).codes()

    knee = Course(form=CourseForm.HOLD, hold_type="knee-hip", weeks=2)
    inst = instance(
        [therapist("T1")],
        [referral("R1", course=knee), referral("R2", course=knee)],
        holds=[hold()],
    )
    solution = run(inst)
    waiting = next(a for a in solution.assignments if a.course_status is CourseStatus.WAITS)
    forced = waiting.model_copy(
        update={
            "course_status": CourseStatus.STARTS,
            "course_reason": None,
            "course_hold_id": "knee1",
            "course_start": WEEKS[1],
            "course_weeks_planned": 2,
        }
    )
    bad = solution.model_copy(
        update={"assignments": [forced if a is waiting else a for a in solution.assignments]}
    )
    assert ViolationCode.HOLD_SEATS_EXCEEDED in check_solution(inst, bad).codes()


# ---------------------------------------------------------------------- keep promises


def test_an_on_time_tentative_first_session_stays_where_it_is() -> None:
    # Without the stability term the wait term would pull it to Monday.
    held = booking("tent", "T1", WEEK1[3], 10, 11, status=BookingStatus.TENTATIVE, referral_id="R1")
    inst = instance([therapist("T1")], [referral("R1")], [held])
    solution = run(inst)
    a = by_id(solution)["R1"]
    assert (a.start, a.therapist_id) == (held.start, "T1")
    assert not a.tentative_moved and solution.kpis.tentative_moved == 0


def test_a_tentative_first_session_moves_when_that_gets_another_referral_on_time() -> None:
    # T1 is free Monday 10–11 and Tuesday 10–11 only. R2's deadline is Monday; R1 holds
    # Monday tentatively but could start Tuesday, still on time.
    free = {WEEK1[0]: 10, WEEK1[1]: 10}
    bookings = [
        b
        for day in WEEK1
        for b in (
            [booking(f"am-{day}", "T1", day, 8, free[day]), booking(f"pm-{day}", "T1", day, 11, 15)]
            if day in free
            else [booking(f"all-{day}", "T1", day, 8, 15)]
        )
    ]
    held = booking("tent", "T1", WEEK1[0], 10, 11, status=BookingStatus.TENTATIVE, referral_id="R1")
    inst = instance(
        [therapist("T1")],
        [referral("R1"), referral("R2", discharge=date(2026, 11, 23))],
        [*bookings, held],
    )
    solution = run(inst)
    a = by_id(solution)
    assert solution.kpis.on_time == 2
    assert a["R2"].start == held.start
    assert a["R1"].tentative_moved and "another referral on time" in a["R1"].moved_detail
    assert solution.kpis.tentative_moved == 1


def test_a_tentative_booking_of_a_referral_outside_the_batch_holds_its_time() -> None:
    outside = booking(
        "tent", "T1", WEEK1[0], 10, 11, status=BookingStatus.TENTATIVE, referral_id="X"
    )
    assert holds_time(outside, {"R1"}) and not holds_time(outside, {"X"})
    # T1's week 1 is full but for Monday 10–11, which the outside tentative booking holds.
    bookings = [booking("am", "T1", WEEK1[0], 8, 10), booking("pm", "T1", WEEK1[0], 11, 15)]
    bookings += [booking(f"all-{d}", "T1", d, 8, 15) for d in WEEK1[1:]]
    inst = instance([therapist("T1")], [referral("R1")], [*bookings, outside])
    a = by_id(run(inst))["R1"]
    assert a.start is not None and a.start.date() > WEEK1[-1]


# ------------------------------------------------- courses promised with a communicated start
#
# Sønderborg: "Ved første fremmøde vil din terapeut i samarbejde med dig planlægge dit
# genoptræningsforløb". A first session already communicated to the citizen, still to come,
# carries that promise: its course needs a place as much as a new referral's, and it was made
# first, so it takes its place first. A first session already held had its course planned
# there: that course is in the calendars (bookings, seats taken), not planned again.


def told(referral_id: str, day: date, therapist_id: str = "T1") -> Booking:
    """The communicated first session of `referral_id` on `day`, 10–11."""
    return booking(f"first-{referral_id}", therapist_id, day, 10, 11, referral_id=referral_id)


def test_a_communicated_first_session_still_to_come_gets_its_course_before_new_ones() -> None:
    # T1 has room for one 2 x 60 min course a week after week 1. R1's first session (Tuesday)
    # was communicated; R2 is new and its first session is earlier (Monday). The greedy order
    # of first sessions would give the course place to R2; the promise to R1 comes first.
    inst = instance(
        [therapist("T1")],
        [referral("R1"), referral("R2")],
        [told("R1", WEEK1[1]), *busy_weeks("T1", WEEKS[1:], free_hours=3)],
    )
    problem = prepare(inst)
    assert problem.pending == {0: (0, WEEK1[1])}
    for solution in (run(inst), solve_edf(inst)):
        assert check_solution(inst, solution).ok
        a = by_id(solution)
        assert a["R1"].fixed and a["R1"].start == datetime.combine(WEEK1[1], time(10))
        assert a["R1"].course_status is CourseStatus.STARTS
        assert (a["R1"].course_therapist_id, a["R1"].course_start) == ("T1", WEEKS[1])
        assert a["R2"].outcome is Outcome.ON_TIME
        assert a["R2"].course_status is CourseStatus.WAITS
        assert a["R2"].course_reason is Reason.COURSE_THERAPIST_FULL
        assert (solution.kpis.courses_started, solution.kpis.courses_waiting) == (1, 1)


def test_a_promised_course_that_cannot_fit_waits_and_nothing_is_unbooked_for_it() -> None:
    # T1's weeks after week 1 are full: R1's promised course waits, with its reason; R1 keeps
    # its communicated first session and R2 its on-time one.
    inst = instance(
        [therapist("T1")],
        [referral("R1"), referral("R2")],
        [told("R1", WEEK1[1]), *busy_weeks("T1", WEEKS[1:])],
    )
    a = by_id(run(inst))
    assert a["R1"].fixed and a["R1"].course_status is CourseStatus.WAITS
    assert a["R1"].course_reason is Reason.COURSE_THERAPIST_FULL
    assert a["R2"].outcome is Outcome.ON_TIME and a["R2"].start is not None


def test_a_promised_hold_course_takes_the_last_seat_before_a_new_one() -> None:
    knee = Course(form=CourseForm.HOLD, hold_type="knee-hip", weeks=2)
    inst = instance(
        [therapist("T1")],
        [referral("R1", course=knee), referral("R2", course=knee)],
        [told("R1", WEEK1[1])],
        holds=[hold(seats=1)],
    )
    a = by_id(run(inst))
    assert (a["R1"].course_status, a["R1"].course_hold_id) == (CourseStatus.STARTS, "knee1")
    assert a["R1"].course_therapist_id is None
    assert (a["R2"].course_status, a["R2"].course_reason) == (
        CourseStatus.WAITS,
        Reason.COURSE_HOLD_FULL,
    )


def test_a_communicated_first_session_already_held_has_its_course_in_the_calendars() -> None:
    # R1 was seen on Thursday, before the planning date: its course was planned then, so it
    # takes no new place; R2's course gets T1's one free course place.
    thursday = FRIDAY - timedelta(days=1)
    inst = instance(
        [therapist("T1")],
        [referral("R1", discharge=thursday - timedelta(days=3)), referral("R2")],
        [told("R1", thursday), *busy_weeks("T1", WEEKS[1:], free_hours=3)],
    )
    assert prepare(inst).pending == {}
    a = by_id(run(inst))
    assert a["R1"].fixed and a["R1"].course_status is CourseStatus.NONE
    assert a["R2"].course_status is CourseStatus.STARTS


def test_proposals_count_the_promised_courses_first() -> None:
    # T1 has room for one course a week after week 1, T2 none. With R1's course promised
    # with T1 (first session communicated, still to come), a slot with T1 cannot carry R2's
    # course; with R1's first session already held it can.
    weeks = busy_weeks("T1", WEEKS[1:], free_hours=3) + busy_weeks("T2", WEEKS[1:])

    def monday_why(first: Booking, discharge: date) -> str:
        inst = instance(
            [therapist("T1"), therapist("T2")],
            [referral("R1", discharge=discharge), referral("R2")],
            [first, *weeks],
        )
        proposals = propose_slots(inst, "R2", 40)
        # The calendars read straight from a request message count the same promises.
        from_message = calendars_from_proto(instance_to_proto(inst))
        assert from_message.promised == promised_courses(inst)
        assert rank_slots(from_message, inst.referrals[1], 40) == proposals
        return next(
            p.why for p in proposals if p.therapist_id == "T1" and p.start.date() == WEEK1[0]
        )

    thursday = FRIDAY - timedelta(days=1)
    assert "the course would wait" in monday_why(told("R1", WEEK1[2]), FRIDAY)
    held = monday_why(told("R1", thursday), thursday - timedelta(days=3))
    assert "this therapist's weeks can carry the course from 2026-12-07" in held


def test_very_large_weeks_place_courses_on_the_plans_first_sessions(monkeypatch: Any) -> None:
    # Above the size limit the courses stage decides course places on stage 2's first
    # sessions only (a small exact model), and says it did not search the full candidates.
    import scheduler.planning.solve as solve_module

    monkeypatch.setattr(solve_module, "_COURSES_ON_PLAN", 0)
    inst = instance(
        [therapist("T1"), therapist("T2")],
        [referral("R1"), referral("R2"), referral("R3")],
        [told("R1", WEEK1[1]), *busy_weeks("T1", WEEKS[1:], free_hours=3)],
    )
    solution = run(inst)
    stage = next(s for s in solution.stats.stages if s["stage"] == "courses")
    assert stage["proven"] and not stage["full_candidates"]
    assert "tail" not in [s["stage"] for s in solution.stats.stages]
    a = by_id(solution)
    assert (a["R1"].course_status, a["R1"].course_therapist_id) == (CourseStatus.STARTS, "T1")
    assert solution.kpis.courses_started == sum(
        x.course_status is CourseStatus.STARTS for x in a.values()
    )


def test_a_held_calendar_counts_a_promise_added_by_a_delta() -> None:
    # The held calendar (PutCalendar, then UpdateCalendar) answers as the plain calendars do:
    # R1's first session communicated by an update takes T1's course place from R2's slots;
    # an update that touches no first session keeps the promises worked out.
    weeks = busy_weeks("T1", WEEKS[1:], free_hours=3) + busy_weeks("T2", WEEKS[1:])
    inst = instance([therapist("T1"), therapist("T2")], [referral("R1"), referral("R2")], weeks)
    index = index_calendar(inst)
    r2 = inst.referrals[1]

    def t1_monday(calendars: Any) -> str:
        return next(
            p.why
            for p in rank_slots(calendars, r2, 40)
            if p.therapist_id == "T1" and p.start.date() == WEEK1[0]
        )

    assert "can carry the course" in t1_monday(index.calendars())
    promised = index.apply(CalendarDelta(bookings_added=[told("R1", WEEK1[2])]))
    assert promised.promised() == tuple(promised_courses(promised.instance))
    assert "the course would wait" in t1_monday(promised.calendars())
    other = promised.apply(CalendarDelta(bookings_added=[booking("x", "T2", WEEK1[4], 8, 9)]))
    assert other._promised and other.promised() == promised.promised()
