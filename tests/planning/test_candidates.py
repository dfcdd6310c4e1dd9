"""Candidates: the gaps a referral's first session fits into, and why there are none."""

from __future__ import annotations

from datetime import time, timedelta

from scheduler.domain import ObjectiveWeights, Reason
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


def test_candidates_are_in_time_order_and_marked_on_time_by_the_deadline() -> None:
    inst = instance([therapist("T1")], [due_on("R1", WED)])
    cands = prepare(inst).candidates[0]
    assert [c.day for c in cands] == WEEKDAYS
    assert [c.on_time for c in cands] == [True, True, True, False, False]
    assert [c.lateness_days for c in cands] == [0, 0, 0, 1, 2]
    # Waits count from the anchor (discharge), as the KPIs count them.
    assert [c.wait_days for c in cands] == [5, 6, 7, 8, 9]


def test_no_candidate_before_the_earliest_start_or_on_an_unavailable_day() -> None:
    ref = due_on("R1", WED, unavailable_dates=[MONDAY + timedelta(days=1)], postponed_to=MONDAY)
    cands = prepare(instance([therapist("T1")], [ref])).candidates[0]
    assert MONDAY + timedelta(days=1) not in [c.day for c in cands]


def test_a_home_visit_uses_the_session_and_the_travel_both_ways() -> None:
    ref = referral("R1", home_training=True, location=SITE_B)
    cand = prepare(instance([therapist("T1", home_visits=True)], [ref])).candidates[0][0]
    assert cand.at_home and cand.travel > 0
    assert cand.length == ref.first_session_minutes + 2 * cand.travel
    assert cand.citizen_travel == 0


def test_a_chosen_site_keeps_only_its_gaps() -> None:
    inst = instance(
        [therapist("T1"), therapist("T2", site_id="B")],
        [referral("R1", chosen_site_id="B")],
        sites=[site(), site("B", where=SITE_B)],
    )
    problem = prepare(inst)
    assert {problem.gaps[c.gap].site for c in problem.candidates[0]} == {1}


def test_late_days_cuts_late_candidates_but_keeps_every_on_time_one() -> None:
    inst = instance([therapist("T1")], [due_on("R1", MONDAY)])
    cands = prepare(inst, late_days=2).candidates[0]
    assert [c.day for c in cands] == WEEKDAYS[:3]


def test_a_gap_too_short_is_no_candidate() -> None:
    inst = instance(
        [therapist("T1", days=[MONDAY], hours=(time(8), time(9)))],
        [referral("R1", first_session_minutes=90)],
    )
    problem = prepare(inst)
    assert problem.candidates[0] == []
    assert problem.unbookable[0][0] is Reason.NO_CAPACITY_IN_HORIZON


def test_why_unbookable_names_the_cause() -> None:
    inst = instance(
        [therapist("T1")],
        [
            referral("R-ot", discipline="OT"),
            referral("R-neuro", level="avanceret", specialty="neuro"),
            referral("R-home", home_training=True, location=SITE_B),
            referral("R-site", chosen_site_id="B"),
            referral(
                "R-later", plan_start_date=MONDAY + timedelta(days=90), plan_start_kind="later"
            ),
        ],
        sites=[site(), site("B", where=SITE_B)],
    )
    reasons = {inst.referrals[r].id: why for r, (why, _) in prepare(inst).unbookable.items()}
    assert reasons == {
        "R-ot": Reason.NO_QUALIFIED_THERAPIST,
        "R-neuro": Reason.NO_QUALIFIED_THERAPIST,
        "R-home": Reason.NO_HOME_VISIT_THERAPIST,
        "R-site": Reason.CHOSEN_SITE_CLOSED,
        "R-later": Reason.EARLIEST_START_AFTER_HORIZON,
    }


def test_tail_cost_weighs_waits_travel_and_specialists() -> None:
    inst = instance(
        [therapist("T-neuro", specialties=("neuro",))],
        [referral("R1", location=SITE_B)],
        bookings=[booking("B1", "T-neuro", MONDAY, time(8), time(9))],
    )
    cand = prepare(inst).candidates[0][0]
    assert cand.specialist_on_basal and cand.citizen_travel > 0
    weights = ObjectiveWeights(wait_day=1000, travel_minute=10, specialist_on_basal=100)
    assert cand.tail_cost(weights) == 1000 * cand.wait_days + 10 * cand.citizen_travel + 100
    assert cand.tail_cost(ObjectiveWeights(wait_day=0, travel_minute=0)) == 100
