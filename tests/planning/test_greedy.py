"""The greedy engine: exact first free slots, earliest deadline first, completion and repair."""

from __future__ import annotations

from datetime import time, timedelta

from scheduler.bench.generator import generate
from scheduler.planning.candidates import Candidate
from scheduler.planning.greedy import FreeTime, book_leftovers, complete, edf_order, fill_edf
from scheduler.planning.plan import Placed
from scheduler.planning.problem import prepare
from tests.builders import MONDAY, due_on, fill_day, free_hours, instance, site, therapist

TUE, WED, THU = (MONDAY + timedelta(days=i) for i in (1, 2, 3))


def test_free_time_books_back_to_back_and_then_refuses() -> None:
    t, bookings = free_hours("T1", {MONDAY: (time(9), time(11))})
    inst = instance([t], [due_on("R1", WED), due_on("R2", WED)], bookings)
    problem = prepare(inst)
    free = FreeTime(problem)
    cand = problem.candidates[0][0]
    assert (cand.day, free.earliest_start(cand)) == (MONDAY, 9 * 60)
    free.book(cand, 9 * 60)
    other = problem.candidates[1][0]
    assert free.earliest_start(other) == 10 * 60
    free.book(other, 10 * 60)
    assert free.earliest_start(problem.candidates[0][0]) is None


def test_rooms_are_checked_to_the_minute_in_critical_gaps() -> None:
    # One room, two therapists free 09-10 on Monday only: one session at a time.
    only_monday = {"days": [MONDAY], "hours": (time(8), time(15))}
    inst = instance(
        [therapist("T1", **only_monday), therapist("T2", **only_monday)],  # type: ignore[arg-type]
        [due_on("R1", WED), due_on("R2", WED)],
        fill_day("T1", MONDAY, (time(9), time(10))) + fill_day("T2", MONDAY, (time(9), time(10))),
        sites=[site(rooms=1)],
    )
    problem = prepare(inst)
    free = FreeTime(problem)
    found = free.first_free(problem.candidates[0])
    assert found is not None
    free.book(*found)
    assert free.first_free(problem.candidates[1]) is None


def test_edf_order_is_most_urgent_first() -> None:
    inst = instance(
        [therapist("T1")], [due_on("R-late", THU), due_on("R-soon", TUE), due_on("R-mid", WED)]
    )
    assert edf_order(prepare(inst)) == [1, 2, 0]


def test_fill_edf_gives_the_only_slot_to_the_most_urgent() -> None:
    # One free hour on Monday: the referral due first gets it.
    t, bookings = free_hours("T1", {MONDAY: (time(9), time(10))})
    inst = instance([t], [due_on("R-later", THU), due_on("R-urgent", MONDAY)], bookings)
    problem = prepare(inst)
    plan: dict[int, tuple[int, int]] = {}
    fill_edf(problem, FreeTime(problem), plan, on_time_only=True)
    assert 1 in plan and problem.candidates[1][plan[1][0]].day == MONDAY


def test_complete_keeps_what_is_planned_and_books_the_rest() -> None:
    inst = instance([therapist("T1")], [due_on("R1", WED), due_on("R2", WED)])
    problem = prepare(inst)
    last = len(problem.candidates[0]) - 1
    start = problem.gaps[problem.candidates[0][last].gap].start
    plan = complete(problem, {0: (last, start)})
    assert plan[0] == (last, start)
    assert problem.candidates[1][plan[1][0]].on_time


def test_book_leftovers_reaches_days_past_the_late_cut() -> None:
    # Free only on Thursday; the referral is due Monday and its late candidates are cut to 1 day
    # (Tuesday, full): the repair finds Thursday.
    t, bookings = free_hours("T1", {THU: (time(9), time(10))})
    inst = instance([t], [due_on("R1", MONDAY)], bookings)
    problem = prepare(inst, late_days=1)
    placed: Placed = {}
    assert book_leftovers(problem, placed) == 1
    assert placed[0][0].day == THU


def _first_fit_by_minutes(free: FreeTime, cand: Candidate) -> int | None:
    """The earliest start found by trying every minute of the gap (the definition)."""
    problem = free.problem
    gap = problem.gaps[cand.gap]
    rooms = problem.instance.sites[gap.site].rooms
    binding = not cand.at_home and cand.gap in problem.critical
    spans = free.rooms_in_use((gap.site, gap.day))
    for start in range(gap.start, gap.end - cand.length + 1):
        end = start + cand.length
        if any(s < end and start < e for s, e in free.in_gap[cand.gap]):
            continue
        if binding and any(
            sum(1 for s, e in spans if s <= m < e) >= rooms for m in range(start, end)
        ):
            continue
        return start
    return None


def test_earliest_start_is_the_first_free_minute_on_a_generated_week() -> None:
    inst = generate("vejen", 7, referrals=25, load=0.9, fragmentation=0.6)
    problem = prepare(inst)
    assert problem.critical  # rooms bind somewhere, so the room check is exercised
    free = FreeTime(problem)
    checked = 0
    for r in edf_order(problem):
        for cand in problem.candidates[r][:6]:
            assert free.earliest_start(cand) == _first_fit_by_minutes(free, cand)
            checked += 1
        found = free.first_free(problem.candidates[r])
        if found is not None:
            free.book(*found)
    assert checked > 50
