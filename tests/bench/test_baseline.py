"""The first-come-first-served baseline: today's practice, under every rule the optimiser obeys.

Calendar: Monday 3 March 2025 is the planning day; no holidays that week or the next. Under
the law's policy a plan received on day D can start from the next working day, and is due 7
calendar days after discharge (the working day on or before).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from scheduler.bench.baseline import arrival_order, solve_baseline
from scheduler.bench.generator import generate
from scheduler.domain import (
    Booking,
    Coordinates,
    Instance,
    Outcome,
    Reason,
    Referral,
    Site,
    SolveOptions,
    Therapist,
)
from scheduler.domain.policy import Policy
from scheduler.planning.solve import solve
from scheduler.verify.checker import check_solution
from tests import builders

PLANNING = date(2025, 3, 3)  # a Monday
TUE, WED, THU = date(2025, 3, 4), date(2025, 3, 5), date(2025, 3, 6)
SITE_AT = Coordinates(lat=55.5, lon=9.5)


def site(rooms: int = 1) -> Site:
    return builders.site("S", rooms, SITE_AT, (time(8), time(16)), name="Træningscenter")


def therapist(tid: str, *stretches: tuple[date, int, int], **fields: Any) -> Therapist:
    return builders.therapist(tid, roster=stretches, site_id="S", **fields)


def referral(rid: str, discharged: date, received: date, **fields: Any) -> Referral:
    return builders.referral(rid, discharged, received=received, **fields)


def instance(
    therapists: list[Therapist],
    referrals: list[Referral],
    rooms: int = 1,
    bookings: list[Booking] | None = None,
) -> Instance:
    return builders.instance(therapists, referrals, bookings, [site(rooms)], Policy(), PLANNING)


def fcfs_trap() -> Instance:
    """One hour free on Tuesday and one on Thursday. R1 arrived first and is due Friday; R2
    arrived a day later and is due Wednesday: only Tuesday keeps R2 on time."""
    return instance(
        [therapist("T1", (TUE, 8, 9), (THU, 8, 9))],
        [
            referral("R1", date(2025, 3, 2), date(2025, 3, 2)),  # due Fri 7 March
            referral("R2", date(2025, 2, 26), date(2025, 3, 3)),  # due Wed 5 March
        ],
    )


def by_id(solution: Any) -> dict[str, Any]:
    return {a.referral_id: a for a in solution.assignments}


def test_arrival_order_is_received_then_discharged_then_id() -> None:
    inst = instance(
        [therapist("T1", (TUE, 8, 9))],
        [
            referral("C", date(2025, 3, 1), date(2025, 3, 3)),
            referral("B", date(2025, 2, 28), date(2025, 3, 3)),
            referral("A", date(2025, 3, 1), date(2025, 3, 3)),
            referral("D", date(2025, 3, 2), date(2025, 3, 2)),
        ],
    )
    assert [inst.referrals[i].id for i in arrival_order(inst)] == ["D", "B", "A", "C"]


def test_fcfs_earlier_referral_takes_the_only_slot_the_later_one_needs() -> None:
    inst = fcfs_trap()
    solution = solve_baseline(inst)
    got = by_id(solution)
    assert got["R1"].start == datetime(2025, 3, 4, 8, 0)
    assert got["R1"].outcome is Outcome.ON_TIME
    assert got["R2"].start == datetime(2025, 3, 6, 8, 0)
    assert got["R2"].outcome is Outcome.LATE_FREE_CHOICE
    assert got["R2"].reason is Reason.DEADLINE_SLOTS_TAKEN  # R1 took the free slot
    assert solution.kpis.on_time == 1
    assert solution.stats.method == "baseline-fcfs"
    assert check_solution(inst, solution).ok


def test_optimiser_meets_the_deadline_fcfs_misses() -> None:
    inst = fcfs_trap()
    baseline = solve_baseline(inst)
    optimised = solve(inst, SolveOptions(time_limit_s=5, workers=1, seed=0))
    assert check_solution(inst, optimised).ok
    assert optimised.kpis.on_time == 2 > baseline.kpis.on_time
    assert by_id(optimised)["R2"].start == datetime(2025, 3, 4, 8, 0)


def test_earliest_day_then_earliest_minute_then_first_therapist() -> None:
    # T2 is free earlier on Tuesday than T1; T3 only on Wednesday at 08:00.
    inst = instance(
        [
            therapist("T3", (WED, 8, 9)),
            therapist("T1", (TUE, 10, 12)),
            therapist("T2", (TUE, 9, 12)),
        ],
        [referral("R1", date(2025, 3, 2), date(2025, 3, 2))],
        rooms=3,
    )
    a = by_id(solve_baseline(inst))["R1"]
    assert (a.therapist_id, a.start) == ("T2", datetime(2025, 3, 4, 9, 0))


def test_sessions_pack_back_to_back_around_bookings() -> None:
    meeting = builders.booking("B1", "T1", TUE, time(9), time(9, 30), site_id=None)
    inst = instance(
        [therapist("T1", (TUE, 8, 12))],
        [referral(f"R{k}", date(2025, 3, 2), date(2025, 3, 2)) for k in range(1, 5)],
        bookings=[meeting],
    )
    solution = solve_baseline(inst)
    starts = sorted(a.start for a in solution.assignments if a.start is not None)
    # 08:00 fits one hour before the meeting; 09:30 and 10:30 after it; the fourth goes late.
    assert starts == [datetime(2025, 3, 4, h, m) for h, m in ((8, 0), (9, 30), (10, 30))]
    assert solution.kpis.not_bookable == 1
    assert check_solution(inst, solution).ok


def test_a_full_room_pushes_the_session_to_when_a_room_is_free() -> None:
    # One room, two therapists free 08-10 on Tuesday, and a group session 08:00-08:45 in it.
    group = builders.booking("G1", "T9", TUE, time(8), time(8, 45), site_id="S")
    inst = instance(
        [
            therapist("T1", (TUE, 8, 10)),
            therapist("T2", (TUE, 8, 10)),
            therapist("T9", (TUE, 8, 9), discipline="OT"),
        ],
        [referral(f"R{k}", date(2025, 3, 2), date(2025, 3, 2)) for k in (1, 2)],
    )
    inst = inst.model_copy(update={"bookings": [group]})
    solution = solve_baseline(inst)
    got = by_id(solution)
    assert got["R1"].start == datetime(2025, 3, 4, 8, 45)
    # The room is busy until 09:45, too late for an hour before the rosters end at 10:00.
    assert got["R2"].outcome is Outcome.NOT_BOOKABLE
    assert check_solution(inst, solution).ok


def test_home_visit_includes_travel_both_ways() -> None:
    inst = instance(
        [therapist("T1", (TUE, 8, 10), home_visits=True)],
        [
            referral(
                "R1",
                date(2025, 3, 2),
                date(2025, 3, 2),
                home_training=True,
                location=Coordinates(lat=55.6, lon=9.5),
            )
        ],
    )
    solution = solve_baseline(inst)
    a = by_id(solution)["R1"]
    assert a.at_home and a.travel_minutes > 0
    # The therapist leaves the site at 08:00: the session starts after the drive.
    assert a.start == datetime(2025, 3, 4, 8, 0) + timedelta(minutes=a.travel_minutes)
    assert check_solution(inst, solution).ok


def test_communicated_booking_stays_and_blocks_its_time() -> None:
    first = builders.booking("B1", "T1", TUE, time(8), time(9), site_id="S", referral_id="R1")
    inst = instance(
        [therapist("T1", (TUE, 8, 10))],
        [
            referral("R1", date(2025, 3, 1), date(2025, 3, 1)),
            referral("R2", date(2025, 3, 2), date(2025, 3, 2)),
        ],
        bookings=[first],
    )
    solution = solve_baseline(inst)
    got = by_id(solution)
    assert got["R1"].fixed and got["R1"].start == datetime(2025, 3, 4, 8, 0)
    assert got["R2"].start == datetime(2025, 3, 4, 9, 0)
    assert check_solution(inst, solution).ok


def test_no_qualified_therapist_is_not_bookable_with_reason() -> None:
    inst = instance(
        [therapist("T1", (TUE, 8, 10))],
        [referral("R1", date(2025, 3, 2), date(2025, 3, 2), discipline="OT")],
    )
    a = by_id(solve_baseline(inst))["R1"]
    assert a.outcome is Outcome.NOT_BOOKABLE
    assert a.reason is Reason.NO_QUALIFIED_THERAPIST


@pytest.mark.parametrize(("profile", "load"), [("vejen", 0.85), ("soenderborg", 0.95)])
def test_baseline_on_generated_instances_passes_the_checker(profile: str, load: float) -> None:
    inst = generate(profile, 3, load=load)
    solution = solve_baseline(inst)
    report = check_solution(inst, solution)
    assert report.ok, [str(v) for v in report.violations[:5]] + report.kpi_mismatches
    assert solution.kpis.referrals == len(inst.referrals)
