"""The §140 rules, each on hand-worked dates from the seed municipalities' quality standards.

Calendar used below (2026): March 2 is a Monday. Easter: Skærtorsdag Thu 2 April, Langfredag
Fri 3 April, 2. påskedag Mon 6 April. Store Bededag would have been Fri 1 May 2026 (abolished
from 2024); in 2023 it was Fri 5 May. Grundlovsdag is Fri 5 June 2026; 24 December is a
Thursday.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from scheduler.domain import Outcome, Reason, Referral
from scheduler.domain.policy import PRESETS, DayKind, Policy
from scheduler.rules.calendar import WorkingCalendar
from scheduler.rules.legal import (
    anchor_date,
    answer_by,
    earliest_start,
    exclusion,
    free_choice_right,
    legal_dates,
    legal_deadline,
    letter_by,
    no_right_reason,
    outcome,
)

LAW = Policy()
VEJEN, NAESTVED, REBILD = PRESETS["vejen"], PRESETS["naestved"], PRESETS["rebild"]
SOENDERBORG, HJOERRING = PRESETS["soenderborg"], PRESETS["hjoerring"]


def referral(**fields: Any) -> Referral:
    data: dict[str, Any] = {
        "id": "R-1",
        "discharge_date": date(2026, 3, 4),
        "received_date": date(2026, 3, 4),
        "level": "basal",
        "discipline": "PT",
        "age": 60,
    }
    data.update(fields)
    return Referral.model_validate(data)


def deadline(ref: Referral, policy: Policy) -> date:
    return legal_deadline(ref, policy, WorkingCalendar(policy))


# --------------------------------------------------------------------------- anchor


def test_anchor_is_discharge_in_law_and_received_in_rebild_and_hjoerring() -> None:
    ref = referral(discharge_date=date(2026, 3, 2), received_date=date(2026, 3, 4))
    for policy in (LAW, VEJEN, NAESTVED, SOENDERBORG):
        assert anchor_date(ref, policy) == date(2026, 3, 2), policy.name
    for policy in (REBILD, HJOERRING):
        assert anchor_date(ref, policy) == date(2026, 3, 4), policy.name


# --------------------------------------------------------------------------- legal deadline


@pytest.mark.parametrize(
    ("discharge", "expected", "why"),
    [
        (date(2026, 3, 4), date(2026, 3, 11), "Wed + 7 = Wed, a working day"),
        (date(2026, 3, 7), date(2026, 3, 13), "Sat + 7 = Sat: the Friday before"),
        (date(2026, 3, 1), date(2026, 3, 6), "Sun + 7 = Sun: the Friday before"),
        (date(2026, 3, 26), date(2026, 4, 1), "Thu + 7 = Skærtorsdag: the Wednesday before"),
        (date(2026, 3, 27), date(2026, 4, 1), "Fri + 7 = Langfredag, Skærtorsdag before it"),
        (date(2026, 3, 30), date(2026, 4, 1), "Mon + 7 = 2. påskedag: back over all of Easter"),
        (date(2026, 4, 24), date(2026, 5, 1), "Store Bededag is abolished from 2024"),
        (date(2023, 4, 28), date(2023, 5, 4), "Store Bededag 2023 was still a holiday"),
        (date(2026, 12, 17), date(2026, 12, 23), "24 December is closed by default"),
        (date(2026, 12, 18), date(2026, 12, 23), "Fri + 7 = 1. juledag: back over the 24th"),
        (date(2026, 5, 29), date(2026, 6, 5), "Grundlovsdag is open by default"),
    ],
)
def test_deadline_is_the_last_working_day_within_7_days_of_discharge(
    discharge: date, expected: date, why: str
) -> None:
    ref = referral(discharge_date=discharge, received_date=discharge)
    assert deadline(ref, SOENDERBORG) == expected, why


def test_deadline_before_grundlovsdag_when_the_policy_closes_it() -> None:
    ref = referral(discharge_date=date(2026, 5, 29), received_date=date(2026, 5, 29))
    closed = Policy(grundlovsdag_closed=True)
    assert deadline(ref, closed) == date(2026, 6, 4)


def test_deadline_skips_a_policy_closed_day() -> None:
    ref = referral(discharge_date=date(2026, 3, 4), received_date=date(2026, 3, 4))
    assert deadline(ref, Policy(closed_days=[date(2026, 3, 11)])) == date(2026, 3, 10)


def test_deadline_counts_from_receipt_in_rebild_and_hjoerring() -> None:
    # Discharged Monday, plan received Wednesday.
    ref = referral(discharge_date=date(2026, 3, 2), received_date=date(2026, 3, 4))
    assert deadline(ref, SOENDERBORG) == date(2026, 3, 9)
    assert deadline(ref, VEJEN) == date(2026, 3, 9)
    assert deadline(ref, REBILD) == date(2026, 3, 11)
    assert deadline(ref, HJOERRING) == date(2026, 3, 11)


def test_deadline_in_weekdays_when_the_policy_counts_weekdays() -> None:
    ref = referral(discharge_date=date(2026, 3, 5), received_date=date(2026, 3, 5))
    weekdays = Policy(deadline_days=5, deadline_day_kind=DayKind.WEEKDAYS)
    # Thu 5 March + 5 weekdays: Fri 6, Mon 9, Tue 10, Wed 11, Thu 12.
    assert deadline(ref, weekdays) == date(2026, 3, 12)


def test_plan_later_start_moves_the_deadline_to_7_days_after_it() -> None:
    ref = referral(plan_start_date=date(2026, 3, 16), plan_start_kind="later")
    for policy in (LAW, SOENDERBORG, REBILD, HJOERRING):
        assert deadline(ref, policy) == date(2026, 3, 23), policy.name


def test_plan_earlier_start_must_be_met_when_it_comes_first() -> None:
    ref = referral(
        discharge_date=date(2026, 3, 2),
        received_date=date(2026, 3, 2),
        plan_start_date=date(2026, 3, 4),
        plan_start_kind="earlier",
    )
    assert deadline(ref, SOENDERBORG) == date(2026, 3, 4)


def test_plan_earlier_start_on_a_saturday_means_the_friday_before() -> None:
    ref = referral(
        discharge_date=date(2026, 3, 2),
        received_date=date(2026, 3, 2),
        plan_start_date=date(2026, 3, 7),
        plan_start_kind="earlier",
    )
    assert deadline(ref, SOENDERBORG) == date(2026, 3, 6)


def test_plan_earlier_start_after_the_7_days_does_not_extend_them() -> None:
    ref = referral(
        discharge_date=date(2026, 3, 2),
        received_date=date(2026, 3, 2),
        plan_start_date=date(2026, 3, 20),
        plan_start_kind="earlier",
    )
    assert deadline(ref, SOENDERBORG) == date(2026, 3, 9)


def test_citizen_postponement_moves_the_deadline_to_7_days_after_the_request() -> None:
    ref = referral(postponed_to=date(2026, 3, 18))
    assert deadline(ref, SOENDERBORG) == date(2026, 3, 25)


# --------------------------------------------------------------------------- earliest start


@pytest.mark.parametrize(
    ("received", "notice", "expected"),
    [
        (date(2026, 3, 5), 1, date(2026, 3, 6)),  # Thu: the next working day
        (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Fri: over the weekend
        (date(2026, 3, 6), 0, date(2026, 3, 6)),  # no notice: the same day
        (date(2026, 3, 7), 0, date(2026, 3, 9)),  # received on a Saturday
        (date(2026, 3, 7), 1, date(2026, 3, 9)),  # received on a Saturday, one day's notice
        (date(2026, 4, 1), 1, date(2026, 4, 7)),  # over Easter
        (date(2026, 3, 5), 3, date(2026, 3, 10)),  # Fri, Mon, Tue
    ],
)
def test_earliest_start_is_after_the_notice_in_working_days(
    received: date, notice: int, expected: date
) -> None:
    ref = referral(discharge_date=received, received_date=received)
    policy = Policy(min_notice_days=notice)
    assert earliest_start(ref, policy, WorkingCalendar(policy)) == expected


def test_earliest_start_is_not_before_a_plan_later_start() -> None:
    ref = referral(plan_start_date=date(2026, 3, 16), plan_start_kind="later")
    assert earliest_start(ref, LAW, WorkingCalendar(LAW)) == date(2026, 3, 16)


def test_earliest_start_ignores_a_plan_earlier_start() -> None:
    ref = referral(plan_start_date=date(2026, 3, 10), plan_start_kind="earlier")
    assert earliest_start(ref, LAW, WorkingCalendar(LAW)) == date(2026, 3, 5)


def test_earliest_start_is_the_citizens_requested_date_or_the_next_working_day() -> None:
    cal = WorkingCalendar(LAW)
    assert earliest_start(referral(postponed_to=date(2026, 3, 18)), LAW, cal) == date(2026, 3, 18)
    # A Saturday request: the Monday after.
    assert earliest_start(referral(postponed_to=date(2026, 3, 21)), LAW, cal) == date(2026, 3, 23)


def test_earliest_start_takes_the_latest_of_plan_and_citizen() -> None:
    ref = referral(
        plan_start_date=date(2026, 3, 16),
        plan_start_kind="later",
        postponed_to=date(2026, 3, 12),
    )
    assert earliest_start(ref, LAW, WorkingCalendar(LAW)) == date(2026, 3, 16)


# --------------------------------------------------------------------------- frit valg


def test_free_choice_when_nothing_moved_the_date() -> None:
    ref = referral()
    for policy in PRESETS.values():
        assert free_choice_right(ref, policy), policy.name
        assert no_right_reason(ref, policy) is None, policy.name


def test_citizen_postponement_takes_free_choice_away_everywhere() -> None:
    ref = referral(postponed_to=date(2026, 3, 18))
    for policy in (LAW, *PRESETS.values()):
        assert not free_choice_right(ref, policy), policy.name
        assert no_right_reason(ref, policy) is Reason.CITIZEN_POSTPONED, policy.name


def test_plan_later_start_keeps_free_choice_in_law_soenderborg_and_hjoerring_only() -> None:
    ref = referral(plan_start_date=date(2026, 3, 16), plan_start_kind="later")
    for policy in (LAW, SOENDERBORG, HJOERRING):
        assert free_choice_right(ref, policy), policy.name
    for policy in (REBILD, VEJEN, NAESTVED):
        assert not free_choice_right(ref, policy), policy.name
        assert no_right_reason(ref, policy) is Reason.PLAN_LATER_START, policy.name


def test_plan_earlier_start_keeps_free_choice() -> None:
    ref = referral(plan_start_date=date(2026, 3, 6), plan_start_kind="earlier")
    for policy in PRESETS.values():
        assert free_choice_right(ref, policy), policy.name


def test_chronic_courses_stay_municipal_in_rebild() -> None:
    ref = referral(chronic_course=True)
    assert not free_choice_right(ref, REBILD)
    assert free_choice_right(ref, SOENDERBORG)


# --------------------------------------------------------------------------- letter by


def test_letter_within_4_days_of_discharge_in_soenderborg() -> None:
    # Wed 4 March + 4 = Sun 8 March: the letter must go out on Friday.
    ref = referral(discharge_date=date(2026, 3, 4), received_date=date(2026, 3, 5))
    assert letter_by(ref, SOENDERBORG, WorkingCalendar(SOENDERBORG)) == date(2026, 3, 6)


def test_contact_within_4_days_of_receipt_in_rebild() -> None:
    ref = referral(discharge_date=date(2026, 3, 3), received_date=date(2026, 3, 5))
    assert letter_by(ref, REBILD, WorkingCalendar(REBILD)) == date(2026, 3, 9)


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (date(2026, 3, 5), date(2026, 3, 10)),  # Thu: Fri, Mon, Tue
        (date(2026, 4, 1), date(2026, 4, 9)),  # Wed before Easter: Tue, Wed, Thu after it
        (date(2026, 3, 7), date(2026, 3, 11)),  # Sat: Mon, Tue, Wed
    ],
)
def test_contact_within_3_weekdays_of_receipt_in_hjoerring(received: date, expected: date) -> None:
    ref = referral(discharge_date=received, received_date=received)
    assert letter_by(ref, HJOERRING, WorkingCalendar(HJOERRING)) == expected


# --------------------------------------------------------------------------- answer by


def test_free_choice_answer_within_72_hours_in_soenderborg() -> None:
    offer = datetime(2026, 3, 9, 10, 30)
    assert answer_by(SOENDERBORG, offer) == datetime(2026, 3, 12, 10, 30)


def test_no_answer_deadline_where_the_policy_sets_none() -> None:
    for policy in (LAW, VEJEN, NAESTVED, REBILD, HJOERRING):
        assert answer_by(policy, datetime(2026, 3, 9, 10, 30)) is None, policy.name


# --------------------------------------------------------------------------- outcome


@pytest.mark.parametrize(
    ("start", "right", "expected"),
    [
        (date(2026, 3, 10), True, Outcome.ON_TIME),
        (date(2026, 3, 11), True, Outcome.ON_TIME),  # on the deadline itself
        (date(2026, 3, 11), False, Outcome.ON_TIME),
        (date(2026, 3, 12), True, Outcome.LATE_FREE_CHOICE),
        (date(2026, 3, 12), False, Outcome.LATE_NO_RIGHT),
    ],
)
def test_outcome(start: date, right: bool, expected: Outcome) -> None:
    assert outcome(start, date(2026, 3, 11), right) is expected


# --------------------------------------------------------------------------- exclusion


def test_children_go_to_the_childrens_team_in_rebild() -> None:
    reason = exclusion(referral(age=17), REBILD)
    assert reason is not None and "children's team" in reason
    assert exclusion(referral(age=18), REBILD) is None
    assert exclusion(referral(age=17), SOENDERBORG) is None


@pytest.mark.parametrize(
    "level",
    ["specialiseret", "Specialiseret genoptræning", "rehabilitering på specialiseret niveau"],
)
def test_specialised_levels_are_rejected_with_where_they_belong(level: str) -> None:
    with pytest.raises(ValidationError, match="not for this scheduler"):
        referral(level=level)


# --------------------------------------------------------------------------- all at once


def test_legal_dates_collects_every_rule() -> None:
    ref = referral(
        discharge_date=date(2026, 3, 2),
        received_date=date(2026, 3, 3),
        plan_start_date=date(2026, 3, 16),
        plan_start_kind="later",
    )
    dates = legal_dates(ref, REBILD, WorkingCalendar(REBILD))
    assert dates.anchor == date(2026, 3, 3)
    assert dates.earliest_start == date(2026, 3, 16)
    assert dates.deadline == date(2026, 3, 23)
    assert dates.free_choice_right is False
    assert dates.no_right_reason is Reason.PLAN_LATER_START
    assert dates.letter_by == date(2026, 3, 6)  # Tue 3 March + 4 = Sat: the Friday before


@settings(max_examples=300, deadline=None)
@given(
    discharge=st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 12, 31)),
    delay=st.integers(min_value=0, max_value=5),
    name=st.sampled_from(sorted(PRESETS)),
)
def test_deadline_is_the_last_working_day_on_or_before_the_due_day(
    discharge: date, delay: int, name: str
) -> None:
    policy = PRESETS[name]
    cal = WorkingCalendar(policy)
    ref = referral(discharge_date=discharge, received_date=discharge + timedelta(days=delay))
    due = anchor_date(ref, policy) + timedelta(days=policy.deadline_days)
    found = legal_deadline(ref, policy, cal)
    assert found <= due
    assert cal.is_working_day(found)
    assert not any(
        cal.is_working_day(found + timedelta(days=k)) for k in range(1, (due - found).days + 1)
    )
    assert cal.is_working_day(earliest_start(ref, policy, cal))


def test_discharged_friday_in_soenderborg_latest_start_is_the_following_friday() -> None:
    friday = date(2026, 3, 6)
    ref = referral(discharge_date=friday, received_date=friday)
    assert deadline(ref, SOENDERBORG) == date(2026, 3, 13)


def test_rebild_plan_says_start_after_14_days_no_free_choice() -> None:
    ref = referral(
        discharge_date=date(2026, 3, 2),
        received_date=date(2026, 3, 3),
        plan_start_date=date(2026, 3, 16),
        plan_start_kind="later",
    )
    assert not free_choice_right(ref, REBILD)
    assert free_choice_right(ref, SOENDERBORG)
