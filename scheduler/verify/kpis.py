"""The key figures of a plan (:class:`~scheduler.domain.Kpis`), defined once, here.

The optimiser fills :attr:`Solution.kpis <scheduler.domain.Solution.kpis>` with
:func:`compute_kpis`, and the independent checker recomputes them with the same function from
the instance and the assignments alone, so a figure means the same everywhere.

Every figure is derived from *where the first sessions are* (the booked start dates) and the
§140 rules of :mod:`scheduler.rules.legal`, never from the labels a solution puts on them: a
solution
that calls a late start "on time" gets a violation from the checker, not a better KPI.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from scheduler.domain import Assignment, CourseStatus, Instance, Kpis, Outcome
from scheduler.rules.calendar import WorkingCalendar, as_minutes
from scheduler.rules.commitments import (
    fixing_bookings,
    horizon_window,
    occupied_interval,
    staying_bookings,
)
from scheduler.rules.legal import (
    anchor_date,
    exclusion,
    free_choice_right,
    legal_deadline,
    outcome,
)

__all__ = ["calendar_fill", "compute_kpis"]


def _minutes(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds() // 60))


@dataclass(frozen=True, slots=True)
class _Booked:
    assignment: Assignment
    outcome: Outcome
    wait_days: int
    lateness_days: int


def _first_per_referral(
    instance: Instance, assignments: Iterable[Assignment]
) -> dict[str, Assignment]:
    known = {r.id for r in instance.referrals}
    first: dict[str, Assignment] = {}
    for a in assignments:
        if a.referral_id in known and a.referral_id not in first:
            first[a.referral_id] = a
    return first


def compute_kpis(instance: Instance, assignments: Sequence[Assignment]) -> Kpis:
    """The key figures of a plan for `instance` made of `assignments`.

    Each referral of the instance is judged by its first assignment in `assignments`;
    assignments of referrals not in the instance, and repeats, are ignored (the checker reports
    them). A referral is *booked* when its assignment has a start and an end; a referral without
    an assignment counts as not bookable (or rejected). So ``on_time + free_choice_flagged +
    late_no_right + not_bookable + rejected == referrals`` always holds.

    - `referrals`: the referrals in the instance.
    - `booked`: referrals with a first session (start and end).
    - `on_time`: booked with a start date on or before the legal deadline
      (:func:`scheduler.rules.legal.legal_deadline`).
    - `on_time_share`: `on_time / referrals`; 1.0 when there are no referrals.
    - `free_choice_flagged`: booked after the deadline where that gives frit valg
      (:func:`scheduler.rules.legal.free_choice_right`): the LATE_FREE_CHOICE outcomes.
    - `late_no_right`: booked after the deadline without frit valg (citizen postponed, plan
      asked for a later start under a policy that takes frit valg away, chronic course).
    - `not_bookable`: referrals the scheduler takes, without a first session.
    - `rejected`: referrals without a first session that are not for this scheduler
      (:func:`scheduler.rules.legal.exclusion`: a specialiseret level, or under 18 where the
      children's team takes it). One booked anyway counts by its start date; the checker
      reports it.
    - `wait_days_mean`, `wait_days_median`, `wait_days_max`: over booked referrals, calendar
      days from the deadline anchor (:func:`scheduler.rules.legal.anchor_date`: discharge or
      receipt,
      per policy) to the start date; None when nothing is booked.
    - `total_lateness_days`: over booked late referrals (with or without frit valg), the sum of
      calendar days from the deadline to the start date.
    - `home_visits`: booked first sessions in the citizen's home.
    - `travel_minutes_total`: the therapists' driving for those home visits, there and back
      (2 × `travel_minutes` each).
    - `courses_started`, `courses_waiting`: booked referrals whose course the plan starts within
      the course-start days, and those whose course waits for a place (as the assignments say;
      the checker verifies the places against capacity).
    - `tentative_moved`: referrals whose tentative first session the plan moved.
    - `utilisation`: per therapist of the instance, booked minutes / available rostered
      minutes in the horizon (0.0 when there are none). Available rostered minutes: roster
      entries on working days of the horizon (:func:`horizon_window`) on which the therapist is
      not absent. Booked minutes on those days: the existing bookings that stay
      (:func:`staying_bookings`, a communicated first session included once, as its booking)
      plus the new first sessions, a home visit with its travel both ways
      (:func:`occupied_interval`).
    """
    policy = instance.policy
    cal = WorkingCalendar(policy)
    first = _first_per_referral(instance, assignments)

    booked: list[_Booked] = []
    for ref in instance.referrals:
        a = first.get(ref.id)
        if a is None or a.start is None or a.end is None:
            continue
        day = a.start.date()
        deadline = legal_deadline(ref, policy, cal)
        result = outcome(day, deadline, free_choice_right(ref, policy, cal))
        booked.append(
            _Booked(
                assignment=a,
                outcome=result,
                wait_days=(day - anchor_date(ref, policy)).days,
                lateness_days=max(0, (day - deadline).days),
            )
        )

    n = len(instance.referrals)
    booked_ids = {b.assignment.referral_id for b in booked}
    rejected = sum(
        1
        for ref in instance.referrals
        if ref.id not in booked_ids and exclusion(ref, policy) is not None
    )
    on_time = sum(1 for b in booked if b.outcome is Outcome.ON_TIME)
    waits = [b.wait_days for b in booked]
    home = [b.assignment for b in booked if b.assignment.at_home]
    return Kpis(
        referrals=n,
        booked=len(booked),
        on_time=on_time,
        on_time_share=on_time / n if n else 1.0,
        free_choice_flagged=sum(1 for b in booked if b.outcome is Outcome.LATE_FREE_CHOICE),
        late_no_right=sum(1 for b in booked if b.outcome is Outcome.LATE_NO_RIGHT),
        not_bookable=n - len(booked) - rejected,
        rejected=rejected,
        wait_days_mean=statistics.fmean(waits) if waits else None,
        wait_days_median=float(statistics.median(waits)) if waits else None,
        wait_days_max=max(waits) if waits else None,
        total_lateness_days=sum(b.lateness_days for b in booked),
        home_visits=len(home),
        travel_minutes_total=sum(2 * a.travel_minutes for a in home),
        courses_started=sum(1 for b in booked if b.assignment.course_status is CourseStatus.STARTS),
        courses_waiting=sum(1 for b in booked if b.assignment.course_status is CourseStatus.WAITS),
        tentative_moved=sum(1 for a in first.values() if a.tentative_moved),
        utilisation=_utilisation(instance, cal, first),
    )


def _counting(instance: Instance, cal: WorkingCalendar) -> Callable[[str, date], bool]:
    """Whether a therapist's minutes on a day count: a therapist of the instance, on a working
    day of the horizon, not absent."""
    lo, hi = horizon_window(instance)
    therapists = {t.id: t for t in instance.therapists}

    @functools.cache  # thousands of bookings, a few hundred therapist-days
    def counts(therapist_id: str, day: date) -> bool:
        t = therapists.get(therapist_id)
        return (
            t is not None and lo <= day <= hi and cal.is_working_day(day) and not t.is_absent(day)
        )

    return counts


def _rostered_minutes(instance: Instance, counts: Callable[[str, date], bool]) -> dict[str, int]:
    rostered = {t.id: 0 for t in instance.therapists}
    for t in instance.therapists:
        for entry in t.roster:
            if counts(t.id, entry.date):
                rostered[t.id] += as_minutes(entry.end) - as_minutes(entry.start)
    return rostered


def _staying_minutes(instance: Instance, counts: Callable[[str, date], bool]) -> dict[str, int]:
    used = {t.id: 0 for t in instance.therapists}
    for b in staying_bookings(instance):
        if counts(b.therapist_id, b.start.date()):
            used[b.therapist_id] += _minutes(b.start, b.end)
    return used


def _utilisation(
    instance: Instance, cal: WorkingCalendar, first: dict[str, Assignment]
) -> dict[str, float]:
    counts = _counting(instance, cal)
    rostered = _rostered_minutes(instance, counts)
    used = _staying_minutes(instance, counts)
    fixed = fixing_bookings(instance)
    for referral_id, a in first.items():
        span = occupied_interval(a)
        if referral_id in fixed or span is None or a.therapist_id is None:
            continue
        if counts(a.therapist_id, span[0].date()):
            used[a.therapist_id] += _minutes(*span)
    return {tid: (used[tid] / rostered[tid] if rostered[tid] else 0.0) for tid in rostered}


def calendar_fill(instance: Instance) -> float:
    """Share of the therapists' rostered minutes in the horizon already booked by the
    bookings that stay (working days only, absence days left out): how full the calendars are."""
    counts = _counting(instance, WorkingCalendar(instance.policy))
    rostered = sum(_rostered_minutes(instance, counts).values())
    booked = sum(_staying_minutes(instance, counts).values())
    return booked / rostered if rostered else 0.0
