"""What the calendars already commit: the planning horizon, and which bookings hold time.

Every module that reads calendars (the planner's free time, real-time proposals, validation,
the checker and the KPIs) asks here which bookings hold a therapist's time and a room, and
which days a first session may be on, so that all of them mean the same.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import date, datetime, timedelta
from typing import Protocol

from scheduler.domain import Assignment, Booking, BookingStatus, Instance
from scheduler.rules.calendar import WorkingCalendar

__all__ = [
    "Commitment",
    "fixing_bookings",
    "holds_time",
    "horizon_days",
    "horizon_window",
    "occupied_interval",
    "planning_window",
    "staying_bookings",
]


def planning_window(planning_date: date, horizon_days: int) -> tuple[date, date]:
    """The first and last calendar day of the planning horizon, both inclusive: from the day
    after the planning date to `horizon_days` after it."""
    return planning_date + timedelta(days=1), planning_date + timedelta(days=horizon_days)


def horizon_window(instance: Instance) -> tuple[date, date]:
    """The first and last calendar day of the instance's planning horizon, both inclusive
    (:func:`planning_window` of its planning date and policy); only the working days in it can
    hold a first session."""
    return planning_window(instance.planning_date, instance.policy.horizon_days)


def horizon_days(instance: Instance, cal: WorkingCalendar) -> list[date]:
    """The working days a first session can be on: from the day after planning to the horizon."""
    return cal.working_days(*horizon_window(instance))


class Commitment(Protocol):
    """Anything booked in a calendar: a :class:`~scheduler.domain.Booking`, or a reader's view
    of one."""

    @property
    def status(self) -> BookingStatus: ...

    @property
    def referral_id(self) -> str | None: ...


def holds_time(booking: Commitment, planned: Container[str]) -> bool:
    """Whether a booking holds its therapist's time (and its room) while `planned` referrals
    are planned: every booking does, except a tentative first session of one of them (it is
    released and planned anew). A tentative booking of a referral outside the batch holds."""
    return not (booking.status is BookingStatus.TENTATIVE and booking.referral_id in planned)


def staying_bookings(instance: Instance) -> list[Booking]:
    """The existing bookings that stay where they are while the instance's referrals are
    planned (:func:`holds_time`)."""
    ids = {r.id for r in instance.referrals}
    return [b for b in instance.bookings if holds_time(b, ids)]


def fixing_bookings(instance: Instance) -> dict[str, list[Booking]]:
    """Per referral of this instance, the communicated bookings that fix its first session."""
    ids = {r.id for r in instance.referrals}
    fixed: dict[str, list[Booking]] = {}
    for b in instance.bookings:
        if b.status is BookingStatus.COMMUNICATED and b.referral_id in ids:
            assert b.referral_id is not None
            fixed.setdefault(b.referral_id, []).append(b)
    return fixed


def occupied_interval(assignment: Assignment) -> tuple[datetime, datetime] | None:
    """The time a new first session blocks its therapist: the session, and for a home visit
    also the travel there before and back after. None when nothing is booked."""
    if assignment.start is None or assignment.end is None:
        return None
    travel = timedelta(minutes=assignment.travel_minutes if assignment.at_home else 0)
    return assignment.start - travel, assignment.end + travel
