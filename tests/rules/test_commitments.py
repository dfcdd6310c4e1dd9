"""The planning horizon and which bookings hold time."""

from __future__ import annotations

from datetime import date, time, timedelta

from scheduler.domain import BookingStatus
from scheduler.rules.calendar import WorkingCalendar
from scheduler.rules.commitments import (
    fixing_bookings,
    holds_time,
    horizon_days,
    horizon_window,
    planning_window,
    staying_bookings,
)
from tests.builders import FRIDAY_BEFORE, MONDAY, booking, instance, referral, therapist


def test_the_horizon_starts_the_day_after_planning() -> None:
    first, last = planning_window(date(2026, 11, 27), 28)
    assert first == date(2026, 11, 28) and last == date(2026, 12, 25)


def test_horizon_days_are_the_working_days_of_the_window() -> None:
    inst = instance([therapist("T1")], [referral("R1")])
    days = horizon_days(inst, WorkingCalendar(inst.policy))
    assert days[0] == MONDAY
    assert all(d.weekday() < 5 for d in days)
    assert days[-1] <= horizon_window(inst)[1]
    assert date(2026, 12, 25) not in days  # 1. juledag


def test_a_tentative_first_session_of_a_referral_in_the_batch_is_released() -> None:
    tentative = booking(
        "B1", "T1", MONDAY, time(9), time(10), status=BookingStatus.TENTATIVE, referral_id="R1"
    )
    assert not holds_time(tentative, {"R1"})
    # A tentative booking of a referral outside the batch holds its time.
    assert holds_time(tentative, {"R2"})
    communicated = tentative.model_copy(update={"status": BookingStatus.COMMUNICATED})
    assert holds_time(communicated, {"R1"})


def test_staying_and_fixing_bookings() -> None:
    inst = instance(
        [therapist("T1")],
        [referral("R1"), referral("R2")],
        bookings=[
            booking("B1", "T1", MONDAY, time(8), time(9)),
            booking("B2", "T1", MONDAY, time(9), time(10), status="tentative", referral_id="R1"),
            booking("B3", "T1", MONDAY, time(10), time(11), referral_id="R2"),
            booking("B4", "T1", MONDAY, time(11), time(12), status="tentative", referral_id="X"),
        ],
    )
    assert [b.id for b in staying_bookings(inst)] == ["B1", "B3", "B4"]
    assert {k: [b.id for b in v] for k, v in fixing_bookings(inst).items()} == {"R2": ["B3"]}
    assert FRIDAY_BEFORE + timedelta(days=1) == horizon_window(inst)[0]
