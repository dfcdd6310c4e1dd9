"""Free time: gaps between the bookings that stay, and the gaps where rooms can bind."""

from __future__ import annotations

from datetime import time, timedelta

from scheduler.domain import Absence
from scheduler.planning.free_time import critical_gaps, free_gaps, free_stretches
from scheduler.rules.calendar import WorkingCalendar
from scheduler.rules.commitments import horizon_days
from tests.builders import MONDAY, booking, instance, referral, site, therapist


def _gaps(inst):  # type: ignore[no-untyped-def]
    days = horizon_days(inst, WorkingCalendar(inst.policy))
    return free_gaps(inst, days, {s.id: i for i, s in enumerate(inst.sites)})


def test_free_stretches_subtract_busy_spans() -> None:
    assert free_stretches((480, 930), [(540, 600), (590, 660)]) == [(480, 540), (660, 930)]
    assert free_stretches((480, 600), [(400, 700)]) == []
    assert free_stretches((480, 600), []) == [(480, 600)]


def test_a_gap_is_the_roster_minus_the_bookings_that_stay() -> None:
    inst = instance(
        [therapist("T1", days=[MONDAY])],
        [referral("R1")],
        bookings=[booking("B1", "T1", MONDAY, time(9), time(10))],
    )
    gaps, room_load = _gaps(inst)
    assert [(g.day, g.start, g.end) for g in gaps] == [(MONDAY, 480, 540), (MONDAY, 600, 930)]
    assert room_load == {(0, MONDAY): [(540, 600)]}


def test_no_gap_on_an_absence_day_or_outside_the_horizon() -> None:
    t = therapist("T1", days=[MONDAY, MONDAY + timedelta(days=1), MONDAY + timedelta(days=60)])
    t = t.model_copy(update={"absences": [Absence(start=MONDAY, end=MONDAY)]})
    gaps, _ = _gaps(instance([t], [referral("R1")]))
    assert [g.day for g in gaps] == [MONDAY + timedelta(days=1)]


def test_a_tentative_first_session_of_the_batch_leaves_its_time_free() -> None:
    inst = instance(
        [therapist("T1", days=[MONDAY])],
        [referral("R1")],
        bookings=[
            booking("B1", "T1", MONDAY, time(9), time(10), status="tentative", referral_id="R1")
        ],
    )
    gaps, _ = _gaps(inst)
    assert [(g.start, g.end) for g in gaps] == [(480, 930)]


def test_gaps_are_critical_only_where_rooms_could_run_out() -> None:
    # One room; two therapists free at once: both gaps could meet a full site.
    one_room = instance(
        [therapist("T1", days=[MONDAY]), therapist("T2", days=[MONDAY])],
        [referral("R1")],
        sites=[site(rooms=1)],
    )
    gaps, load = _gaps(one_room)
    assert critical_gaps(one_room, gaps, load) == {g.index for g in gaps}
    # Two rooms: never more than two sessions at once, nothing is critical.
    two_rooms = one_room.model_copy(update={"sites": [site(rooms=2)]})
    gaps, load = _gaps(two_rooms)
    assert critical_gaps(two_rooms, gaps, load) == set()
