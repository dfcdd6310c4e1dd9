"""Courses after the first session: which course a referral has, its weeks, who may carry it.

One owner for each fact the planner, the checker and proposals share:

- :func:`course_for`: the referral's own course, else the policy's default for its discipline
  and level (None: no course is planned);
- :func:`week_start`, :func:`full_weeks`: ISO weeks (by their Monday); only weeks whose five
  weekdays all lie in the horizon are planned, later course weeks are reported, not planned;
- :func:`start_weeks`: the weeks a course may start in: after the first session's week and no
  later than `policy.course_start_days` after the first session;
- :func:`course_weeks`: the weeks a course runs from its start;
- :func:`hold_fits`: whether a hold can take a referral's course;
- :func:`course_pending`: whether the course after a communicated first session still needs a
  place in this plan (the first session is still to come); :func:`promised_courses` lists
  those courses of an instance;
- :func:`weekly_free_minutes`: per therapist and full week, the minutes a first session or a
  course could use: session windows of the roster on working, non-absent days minus the
  bookings that stay.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from scheduler.domain import Booking, Course, Hold, Instance, Referral
from scheduler.domain.policy import Policy
from scheduler.rules.calendar import WorkingCalendar, as_minutes
from scheduler.rules.commitments import fixing_bookings, horizon_window, staying_bookings
from scheduler.rules.eligibility import roster_windows

__all__ = [
    "PromisedCourse",
    "course_for",
    "course_pending",
    "course_weeks",
    "courses_promised",
    "full_weeks",
    "hold_fits",
    "promised_courses",
    "start_weeks",
    "week_start",
    "weekly_free_minutes",
]


def course_for(referral: Referral, policy: Policy) -> Course | None:
    """The referral's course: its own, else the policy's default for `<discipline>/<level>`,
    else for `<level>`; None when neither exists."""
    if referral.course is not None:
        return referral.course
    defaults = policy.course_defaults
    return defaults.get(
        f"{referral.discipline.value}/{referral.level.value}",
        defaults.get(referral.level.value),
    )


def week_start(day: date) -> date:
    """The Monday of `day`'s ISO week."""
    return day - timedelta(days=day.weekday())


def full_weeks(instance: Instance) -> list[date]:
    """The Mondays of the weeks whose Monday to Friday all lie in the horizon."""
    lo, hi = horizon_window(instance)
    monday = week_start(lo)
    if monday < lo:
        monday += timedelta(days=7)
    out: list[date] = []
    while monday + timedelta(days=4) <= hi:
        out.append(monday)
        monday += timedelta(days=7)
    return out


def start_weeks(first_day: date, policy: Policy) -> list[date]:
    """The weeks (Mondays) a course may start in after a first session on `first_day`: after
    its week, on or before `policy.course_start_days` after it."""
    monday = week_start(first_day) + timedelta(days=7)
    last = first_day + timedelta(days=policy.course_start_days)
    out: list[date] = []
    while monday <= last:
        out.append(monday)
        monday += timedelta(days=7)
    return out


def course_weeks(start: date, course: Course) -> list[date]:
    """The Mondays of the weeks a course starting in the week of `start` runs."""
    return [start + timedelta(days=7 * i) for i in range(course.weeks)]


def hold_fits(hold: Hold, referral: Referral, course: Course) -> bool:
    """Whether a seat on `hold` can carry the referral's course: a hold course (or `either`)
    of the hold's type, discipline and level."""
    return (
        course.on_hold
        and hold.type == course.hold_type
        and hold.discipline is referral.discipline
        and referral.level in hold.levels
    )


def course_pending(first_day: date, planning_date: date) -> bool:
    """Whether the course after a communicated (fixed) first session on `first_day` still needs
    a place when planning on `planning_date`.

    The course is planned at the first session (Sønderborg: "Ved første fremmøde vil din
    terapeut i samarbejde med dig planlægge dit genoptræningsforløb"). A first session after the
    planning date is still to come, so its course is not yet in any calendar: the plan must
    keep a therapist's weekly minutes or a hold seat for it, before new referrals get theirs.
    A first session on or before the planning date has been held: its course was planned there
    and is in the calendars already (course bookings, seats taken on holds), not planned again.
    """
    return first_day > planning_date


@dataclass(frozen=True, slots=True)
class PromisedCourse:
    """The course of a referral fixed by a communicated first session still to come."""

    referral: Referral
    course: Course
    first_day: date
    therapist_id: str
    """The communicated first session's therapist: the carrier of a therapist-carried course."""


def promised_courses(instance: Instance) -> list[PromisedCourse]:
    """The courses still to place after communicated first sessions
    (:func:`course_pending`), earliest first session first (then referral id). A referral with
    several communicated bookings counts its last one, as the planner does."""
    by_id = {r.id: r for r in instance.referrals}
    fixing = fixing_bookings(instance)
    return courses_promised(
        [(by_id[rid], bookings[-1]) for rid, bookings in fixing.items()],
        instance.policy,
        instance.planning_date,
    )


def courses_promised(
    fixed: Iterable[tuple[Referral, Booking]], policy: Policy, planning_date: date
) -> list[PromisedCourse]:
    """:func:`promised_courses` from each fixed referral and its (last) communicated first
    session, for readers that do not hold a whole instance."""
    out: list[PromisedCourse] = []
    for ref, booking in fixed:
        course = course_for(ref, policy)
        day = booking.start.date()
        if course is not None and course_pending(day, planning_date):
            out.append(PromisedCourse(ref, course, day, booking.therapist_id))
    return sorted(out, key=lambda p: (p.first_day, p.referral.id))


def _covered(spans: list[tuple[int, int]], lo: int, hi: int) -> int:
    """Minutes of [lo, hi) covered by the union of `spans`."""
    covered, cursor = 0, lo
    for s, e in sorted(spans):
        s, e = max(s, cursor), min(e, hi)
        if s < e:
            covered += e - s
            cursor = e
    return covered


def weekly_free_minutes(instance: Instance) -> dict[tuple[str, date], int]:
    """Per (therapist id, Monday of a full week of the horizon): the free minutes of the
    therapist's session windows on working days they are not absent, after the bookings
    that stay. Weeks with no free minute are left out."""
    cal = WorkingCalendar(instance.policy)
    weeks = set(full_weeks(instance))
    sites = {s.id: s for s in instance.sites}
    busy: dict[tuple[str, date], list[tuple[int, int]]] = defaultdict(list)
    for b in staying_bookings(instance):
        busy[(b.therapist_id, b.start.date())].append(
            (as_minutes(b.start.time()), as_minutes(b.end.time()))
        )
    free: dict[tuple[str, date], int] = defaultdict(int)
    for t in instance.therapists:
        for entry in t.roster:
            day = entry.date
            monday = week_start(day)
            site = sites.get(entry.site_id)
            if (
                monday not in weeks
                or site is None
                or not cal.is_working_day(day)
                or t.is_absent(day)
            ):
                continue
            for lo, hi in roster_windows(instance.policy, site, entry):
                free[(t.id, monday)] += hi - lo - _covered(busy[(t.id, day)], lo, hi)
    return {key: minutes for key, minutes in free.items() if minutes > 0}
