"""Stage 1 split into independent parts; parts the greedy plan solves are proven without a
search."""

from __future__ import annotations

from datetime import time, timedelta

from scheduler.planning.bounds import sure_on_time
from scheduler.planning.greedy import complete
from scheduler.planning.problem import prepare
from scheduler.planning.solve import _first_stage
from scheduler.planning.stage1 import components, split
from tests.builders import (
    MONDAY,
    WEEKDAYS,
    booking,
    due_on,
    free_hours,
    instance,
    site,
    solve_checked,
)

WED = MONDAY + timedelta(days=2)


def _one_free_hour_each(rooms: int, ot_site: str = "B"):  # type: ignore[no-untyped-def]
    """A PT and an OT therapist, each free 09-10 on Monday only; two PT and two OT referrals
    due Wednesday compete for each hour."""
    free = {MONDAY: (time(9), time(10))}
    pt, pt_bookings = free_hours("T1", free)
    ot, at_a = free_hours("T2", free, discipline="OT", site_id=ot_site)
    ot_bookings = [b.model_copy(update={"site_id": ot_site}) for b in at_a]
    refs = [
        due_on("R1", WED),
        due_on("R2", WED),
        due_on("R3", WED, discipline="OT"),
        due_on("R4", WED, discipline="OT"),
    ]
    # Afternoons free too after 15:00 (free_hours leaves 15:00-15:30): fill them.
    late = [
        booking(f"L-{t}-{d}", t, day, time(15), time(15, 30), site_id=s)
        for d, day in enumerate(WEEKDAYS)
        for t, s in (("T1", "A"), ("T2", ot_site))
    ]
    sites = [site("A", rooms=rooms), site("B", rooms=rooms)]
    return instance([pt, ot], refs, pt_bookings + ot_bookings + late, sites=sites)


def _keys(inst):  # type: ignore[no-untyped-def]
    problem = prepare(inst)
    plan = complete(problem, {})
    sure = sure_on_time(problem)
    keys, _ = _first_stage(problem, sure, plan)
    return problem, plan, sure, keys


def test_pt_and_ot_share_no_therapist_so_they_are_separate_parts() -> None:
    problem, _, _, keys = _keys(_one_free_hour_each(rooms=4))
    parts = components(problem, keys)
    assert len(parts) == 2
    disciplines = [
        {problem.instance.referrals[r].discipline.value for r, _ in part} for part in parts
    ]
    assert sorted(map(sorted, disciplines)) == [["OT"], ["PT"]]


def test_a_room_both_disciplines_may_need_at_once_joins_them() -> None:
    # Both therapists at site A with one room: the 09-10 hour is room-critical.
    problem, _, _, keys = _keys(_one_free_hour_each(rooms=1, ot_site="A"))
    assert len(components(problem, keys)) == 1


def test_parts_the_greedy_plan_solves_are_closed_by_their_flow_bound() -> None:
    problem, plan, sure, keys = _keys(_one_free_hour_each(rooms=4))
    result = split(problem, keys, sure, plan)
    # One referral of each discipline can be on time and the greedy plan has both.
    assert result.flow == 2
    assert result.closed_parts == result.parts == 2
    assert result.open_keys == []
    assert len(result.closed) == 2


def test_a_week_the_greedy_plan_solves_is_proven_without_a_search() -> None:
    solution = solve_checked(_one_free_hour_each(rooms=4))
    first = solution.stats.stages[0]
    assert first["stage"] == "on_time" and first["status"] == "OPTIMAL"
    assert first["solved_by_flow_bound"] == 2 and first["parts"] == 2
    assert first["wall_time_s"] == 0.0
    assert solution.stats.on_time_proven
    assert solution.kpis.on_time == 2
