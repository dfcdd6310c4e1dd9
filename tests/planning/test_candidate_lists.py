"""Compact candidate lists: the same candidates as candidates_for, made on access."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from scheduler.planning.candidate_lists import (
    CandidateList,
    fitting,
    gaps_and_lengths,
    on_time_count,
    scan,
)
from scheduler.planning.candidates import candidates_for, time_order
from scheduler.planning.problem import prepare
from tests.builders import (
    MONDAY,
    SITE_B,
    WEEKDAYS,
    booking,
    due_on,
    instance,
    referral,
    site,
    therapist,
)

WED = MONDAY + timedelta(days=2)


def _mixed_week():  # type: ignore[no-untyped-def]
    """Two sites, home visits, specialists, a chosen site, unavailable days, lunch breaks."""
    therapists = [
        therapist("T1"),
        therapist("T2", site_id="B", home_visits=True),
        therapist("T3", specialties=["neuro"], home_visits=True),
        therapist("T4", discipline="OT", site_id="B"),
    ]
    bookings = [
        booking(f"B{d}", "T1", day, time(11), time(12)) for d, day in enumerate(WEEKDAYS)
    ] + [booking("B9", "T2", WED, time(9), time(13), site_id="B")]
    referrals = [
        due_on("R1", WED),
        due_on("R2", MONDAY, chosen_site_id="B"),
        referral("R3", home_training=True, location=SITE_B),
        due_on("R4", WED, unavailable_dates=[MONDAY + timedelta(days=1)]),
        due_on("R5", WED, discipline="OT"),
        due_on("R6", MONDAY, level="avanceret", specialty="neuro"),
    ]
    return instance(
        therapists, referrals, bookings, sites=[site(), site("B", where=SITE_B, rooms=1)]
    )


@pytest.mark.parametrize("late_days", [None, 0, 1, 2])
def test_the_lists_hold_exactly_the_candidates_candidates_for_makes(late_days: int | None) -> None:
    inst = _mixed_week()
    problem = prepare(inst, late_days=late_days)
    in_order = sorted(problem.gaps, key=time_order)
    for r in range(len(inst.referrals)):
        cands = problem.candidates[r]
        expected = candidates_for(inst, r, problem.dates[r], in_order, late_days)
        assert isinstance(cands, CandidateList)
        assert list(cands) == expected
        assert [cands[k] for k in range(len(cands))] == expected
        assert cands[-1:] == expected[-1:]
        assert cands[-1] == expected[-1]  # once made, by its own index too
        assert cands == expected
        assert on_time_count(cands) == on_time_count(expected) == sum(c.on_time for c in expected)
        assert list(scan(cands)) == list(scan(expected))
        assert [list(x) for x in gaps_and_lengths(cands, 2)] == [
            list(x) for x in gaps_and_lengths(expected, 2)
        ]
        assert list(scan(cands)) == [(k, c.gap, c.length) for k, c in enumerate(expected)]
    # The mix reaches every path: home visits, a chosen site, a late cut, an unavailable day.
    assert any(c.at_home for c in problem.candidates[2])
    assert {problem.gaps[c.gap].site for c in problem.candidates[1]} == {1}
    assert MONDAY + timedelta(days=1) not in {c.day for c in problem.candidates[3]}
    assert problem.cut[1] == (late_days is not None)


def test_fitting_skips_gaps_without_the_minutes_left() -> None:
    inst = _mixed_week()
    problem = prepare(inst)
    for r in (0, 2):
        cands = problem.candidates[r]
        plain = list(cands)
        left = [g.length for g in problem.gaps]
        left[plain[0].gap] = plain[0].length - 1
        expected = [k for k, c in enumerate(plain) if left[c.gap] >= c.length]
        assert list(fitting(cands, left)) == list(fitting(plain, left)) == expected
        assert list(fitting(cands, left, 3)) == [k for k in expected if k < 3]


def test_a_candidate_asked_for_twice_is_the_same_object_and_out_of_range_raises() -> None:
    cands = prepare(_mixed_week()).candidates[0]
    assert cands[0] is cands[0]
    with pytest.raises(IndexError):
        cands[len(cands)]
