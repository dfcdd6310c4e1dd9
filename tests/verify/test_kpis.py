"""KPIs on a hand-computed example: every figure counted on paper first.

Planning Monday 11 May 2026 under the law's policy with a 7-day horizon: Tuesday 12 to Monday
18 May, where Thursday 14 May is Kristi Himmelfartsdag.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from scheduler.domain import (
    Absence,
    Assignment,
    BookingStatus,
    Coordinates,
    Discipline,
    Instance,
    Level,
    Outcome,
    Reason,
    Referral,
)
from scheduler.domain.policy import Policy
from scheduler.rules.calendar import WorkingCalendar
from scheduler.rules.commitments import horizon_window, staying_bookings
from scheduler.rules.legal import legal_dates, letter_send_by
from scheduler.verify.kpis import compute_kpis
from tests.builders import booking, instance, referral, site, therapist

MON = date(2026, 5, 11)
TUE, WED, THU, FRI = (MON + timedelta(days=n) for n in (1, 2, 3, 4))


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm))


def _referral(rid: str, **extra: Any) -> Referral:
    return referral(rid, MON, **{"age": 60, **extra})


def _instance(referrals: list[Referral] | None = None) -> Instance:
    ta = therapist(
        "TA",
        home_visits=True,
        roster=[
            (TUE, 8, 12),  # 240 min
            (WED, 8, 12),  # 240 min
            (THU, 8, 12),  # a holiday: not counted
            (FRI, 8, 12),  # absent: not counted
            (MON + timedelta(days=8), 8, 12),  # after
        ],
        site_id="S1",
        absences=[Absence(start=FRI, end=FRI)],
    )
    tb = therapist("TB", discipline=Discipline.OT, days=[])  # never rostered
    bookings = [
        booking("B1", "TA", TUE, time(8), time(9), site_id="S1"),
        # R2's tentative slot: released, not counted.
        booking(
            "B2",
            "TA",
            WED,
            time(11),
            time(12),
            site_id="S1",
            status=BookingStatus.TENTATIVE,
            referral_id="R2",
        ),
        # R3's communicated first session: counted once, as this booking.
        booking("B3", "TA", TUE, time(11), time(11, 30), site_id="S1", referral_id="R3"),
        # After the horizon: not counted.
        booking("B4", "TA", MON + timedelta(days=8), time(8), time(9), site_id=None),
    ]
    if referrals is None:
        referrals = [
            _referral("R1", home_training=True, location=Coordinates(lat=55.0, lon=10.0)),
            # Discharged Friday 1 May: deadline Friday 8 May, before planning; frit valg.
            _referral("R2", discharge_date=date(2026, 5, 1), received_date=date(2026, 5, 4)),
            _referral("R3", first_session_minutes=30),
            # Statutory deadline Mon 4 May; the citizen postponed past it, to Tue 5 May: the
            # target counts from then (Tue 12 May), no frit valg.
            _referral(
                "R4",
                discharge_date=date(2026, 4, 27),
                received_date=date(2026, 4, 28),
                postponed_to=date(2026, 5, 5),
            ),
            _referral("R5", level=Level.AVANCERET, specialty="børn"),
            _referral("R6"),  # no assignment at all
        ]
    s1 = site("S1", 2, Coordinates(lat=55.0, lon=9.9), (time(8), time(16)), name="S1")
    return instance(
        [ta, tb],
        referrals,
        bookings,
        sites=[s1],
        policy=Policy(horizon_days=7),
        planning_date=MON,
        name="",
    )


def _assignment(
    inst: Instance, rid: str, outcome: Outcome, start: datetime | None = None, **extra: object
) -> Assignment:
    ref = next(r for r in inst.referrals if r.id == rid)
    cal = WorkingCalendar(inst.policy)
    ld = legal_dates(ref, inst.policy, cal)
    data: dict[str, object] = {
        "referral_id": rid,
        "outcome": outcome,
        "earliest_start": ld.earliest_start,
        "deadline": ld.deadline,
        "free_choice_right": ld.free_choice_right,
        "letter_by": ld.letter_by,
        "letter_send_by": letter_send_by(ld.letter_by, start.date() if start else None, cal),
    }
    if start is not None:
        minutes = ref.first_session_minutes
        data |= {"therapist_id": "TA", "site_id": "S1", "start": start}
        data["end"] = start + timedelta(minutes=minutes)
    return Assignment.model_validate({**data, **extra})


def _plan(inst: Instance) -> list[Assignment]:
    return [
        _assignment(inst, "R1", Outcome.ON_TIME, at(TUE, 9, 30), at_home=True, travel_minutes=15),
        _assignment(inst, "R2", Outcome.LATE_FREE_CHOICE, at(WED, 9)),
        _assignment(inst, "R3", Outcome.ON_TIME, at(TUE, 11), fixed=True),
        _assignment(inst, "R4", Outcome.LATE_NO_RIGHT, at(WED, 10)),
        _assignment(inst, "R5", Outcome.NOT_BOOKABLE, reason=Reason.NO_QUALIFIED_THERAPIST),
    ]


def test_the_hand_computed_example() -> None:
    inst = _instance()
    kpis = compute_kpis(inst, _plan(inst))
    assert kpis.referrals == 6
    assert kpis.booked == 4  # R1, R2, R3, R4
    assert kpis.on_time == 2  # R1, R3
    assert kpis.on_time_share == pytest.approx(2 / 6)
    assert kpis.free_choice_flagged == 1  # R2
    assert kpis.late_no_right == 1  # R4
    assert kpis.not_bookable == 2  # R5, and R6 which has no assignment
    # Waits from discharge: R1 1, R2 12 (1 → 13 May), R3 1, R4 16 (27 Apr → 13 May).
    assert kpis.wait_days_mean == pytest.approx(7.5)
    assert kpis.wait_days_median == pytest.approx(6.5)
    assert kpis.wait_days_max == 16
    # Both late ones start 13 May: R2 5 days after its deadline of 8 May, R4 1 after 12 May.
    assert kpis.total_lateness_days == 6
    assert kpis.home_visits == 1
    assert kpis.travel_minutes_total == 30
    # TA: B1 60 + B3 30 + R1 90 (60 + 2×15 travel) + R2 60 + R4 60 = 300 of 480 rostered
    # (Tuesday and Wednesday; the holiday, the absence day and the day after the horizon
    # do not count, nor B2 that is released, nor B4 after the horizon).
    assert kpis.utilisation == {"TA": pytest.approx(300 / 480), "TB": 0.0}


def test_rejected_referrals_are_counted_apart_from_not_bookable_ones() -> None:
    refs = [
        _referral("R1"),
        _referral("R2", level="genoptræning på specialiseret niveau"),
        _referral("R3", level="rehabilitering på specialiseret niveau"),
    ]
    inst = _instance(refs)
    kpis = compute_kpis(inst, [])
    assert (kpis.rejected, kpis.not_bookable, kpis.booked) == (2, 1, 0)
    # One booked anyway counts by its start (the checker reports it), not as rejected.
    booked = _assignment(inst, "R2", Outcome.ON_TIME, at(TUE, 9))
    kpis = compute_kpis(inst, [booked])
    assert (kpis.rejected, kpis.not_bookable, kpis.on_time) == (1, 1, 1)


def test_the_figures_follow_the_start_dates_not_the_labels() -> None:
    inst = _instance()
    plan = _plan(inst)
    mislabelled = [
        a.model_copy(update={"outcome": Outcome.ON_TIME}) if a.referral_id == "R2" else a
        for a in plan
    ]
    assert compute_kpis(inst, mislabelled) == compute_kpis(inst, plan)


def test_repeated_and_unknown_assignments_are_ignored() -> None:
    inst = _instance()
    plan = _plan(inst)
    stranger = plan[1].model_copy(update={"referral_id": "R-STRANGER"})
    repeat = plan[0].model_copy(update={"start": at(WED, 8), "end": at(WED, 9)})
    assert compute_kpis(inst, [*plan, stranger, repeat]) == compute_kpis(inst, plan)


def test_the_outcome_counts_add_up_to_the_referrals() -> None:
    inst = _instance()
    kpis = compute_kpis(inst, _plan(inst)[:2])
    assert (kpis.on_time, kpis.free_choice_flagged, kpis.late_no_right) == (1, 1, 0)
    total = (
        kpis.on_time
        + kpis.free_choice_flagged
        + kpis.late_no_right
        + kpis.not_bookable
        + kpis.rejected
    )
    assert total == kpis.referrals == 6


def test_no_referrals_is_all_on_time_with_no_waits() -> None:
    kpis = compute_kpis(_instance(referrals=[]), [])
    assert (kpis.referrals, kpis.booked, kpis.on_time_share) == (0, 0, 1.0)
    assert (kpis.wait_days_mean, kpis.wait_days_median, kpis.wait_days_max) == (None,) * 3
    # Without referrals B2 is not released: it stays and counts (60 + 60 + 30 of 480).
    assert kpis.utilisation["TA"] == pytest.approx(150 / 480)


def test_the_horizon_and_the_bookings_that_stay() -> None:
    inst = _instance()
    assert horizon_window(inst) == (TUE, MON + timedelta(days=7))
    assert [b.id for b in staying_bookings(inst)] == ["B1", "B3", "B4"]
