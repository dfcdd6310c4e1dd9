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

from scheduler.domain import Level, Outcome, Reason, Referral
from scheduler.domain.policy import PRESETS, DayKind, Policy, Postponement
from scheduler.rules.calendar import WorkingCalendar
from scheduler.rules.legal import (
    anchor_date,
    answer_by,
    citizen_delay,
    earliest_start,
    exclusion,
    free_choice_right,
    legal_dates,
    legal_deadline,
    letter_by,
    letter_send_by,
    no_right_reason,
    offer_sent,
    outcome,
    statutory_deadline,
)
from tests import builders

LAW = Policy()
VEJEN, NAESTVED, REBILD = PRESETS["vejen"], PRESETS["naestved"], PRESETS["rebild"]
SOENDERBORG, HJOERRING = PRESETS["soenderborg"], PRESETS["hjoerring"]


def referral(**fields: Any) -> Referral:
    """A basal PT referral R-1 of a 60-year-old, discharged and received Wednesday 4 March."""
    return builders.referral("R-1", date(2026, 3, 4), **{"age": 60, **fields})


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
        assert free_choice_right(ref, policy, WorkingCalendar(policy)), policy.name
        assert no_right_reason(ref, policy, WorkingCalendar(policy)) is None, policy.name


def test_citizen_postponement_past_the_deadline_takes_free_choice_away_everywhere() -> None:
    # Vejen: "Det gælder dog ikke, hvis borgeren selv udsætter opstarten." Deadline Wed 11 March.
    ref = referral(postponed_to=date(2026, 3, 18))
    for policy in (LAW, *PRESETS.values()):
        assert not free_choice_right(ref, policy, WorkingCalendar(policy)), policy.name
        assert no_right_reason(ref, policy, WorkingCalendar(policy)) is Reason.CITIZEN_POSTPONED, (
            policy.name
        )


def test_plan_later_start_keeps_free_choice_in_law_soenderborg_and_hjoerring_only() -> None:
    ref = referral(plan_start_date=date(2026, 3, 16), plan_start_kind="later")
    for policy in (LAW, SOENDERBORG, HJOERRING):
        assert free_choice_right(ref, policy, WorkingCalendar(policy)), policy.name
    for policy in (REBILD, VEJEN, NAESTVED):
        assert not free_choice_right(ref, policy, WorkingCalendar(policy)), policy.name
        assert no_right_reason(ref, policy, WorkingCalendar(policy)) is Reason.PLAN_LATER_START, (
            policy.name
        )


def test_plan_earlier_start_keeps_free_choice() -> None:
    ref = referral(plan_start_date=date(2026, 3, 6), plan_start_kind="earlier")
    for policy in PRESETS.values():
        assert free_choice_right(ref, policy, WorkingCalendar(policy)), policy.name


def test_chronic_courses_stay_municipal_in_rebild() -> None:
    ref = referral(chronic_course=True)
    assert not free_choice_right(ref, REBILD, WorkingCalendar(REBILD))
    assert free_choice_right(ref, SOENDERBORG, WorkingCalendar(SOENDERBORG))


# --------------------------------------------------------------------------- letter by


def test_letter_within_4_days_of_discharge_in_soenderborg() -> None:
    # "Du vil senest fire dage efter udskrivelsen få tilsendt tidspunktet for opstart":
    # Wed 4 March + 4 = Sun 8 March as the standard states; it goes out on Friday.
    cal = WorkingCalendar(SOENDERBORG)
    ref = referral(discharge_date=date(2026, 3, 4), received_date=date(2026, 3, 5))
    assert letter_by(ref, SOENDERBORG, cal) == date(2026, 3, 8)
    assert letter_send_by(date(2026, 3, 8), None, cal) == date(2026, 3, 6)


def test_rebild_contact_date_counts_calendar_days_even_onto_a_sunday() -> None:
    # "Du vil blive kontaktet af kommunen senest 4 dage efter at Rebild Kommune har modtaget
    # din genoptræningsplan": received Wed 4 March + 4 = Sun 8 March.
    cal = WorkingCalendar(REBILD)
    ref = referral(discharge_date=date(2026, 3, 2), received_date=date(2026, 3, 4))
    assert letter_by(ref, REBILD, cal) == date(2026, 3, 8)
    assert letter_send_by(letter_by(ref, REBILD, cal), None, cal) == date(2026, 3, 6)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (date(2026, 3, 10), date(2026, 3, 6)),  # Tue: the Friday working day of letter_by
        (date(2026, 3, 9), date(2026, 3, 6)),  # Mon: the working day before is Friday
        (date(2026, 3, 6), date(2026, 3, 5)),  # Fri (a plan asking for an earlier start)
        (date(2026, 3, 5), date(2026, 3, 4)),  # Thu
    ],
)
def test_the_letter_goes_out_before_the_booked_start(start: date, expected: date) -> None:
    # Sønderborg: "Du vil senest fire dage efter udskrivelsen få tilsendt tidspunktet for
    # opstart" - the citizen must know the time before the session, so the letter goes out no
    # later than the working day before the start, whatever the standard's date.
    cal = WorkingCalendar(SOENDERBORG)
    assert letter_send_by(date(2026, 3, 8), start, cal) == expected


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


def test_offers_count_as_sent_at_the_end_of_the_planning_day_unless_the_caller_says() -> None:
    # Sønderborg: "senest 72 timer efter, du har modtaget tilbud om opstart af genoptræning":
    # the 72 hours run from when the offer goes out.
    assert offer_sent(date(2026, 3, 9), SOENDERBORG) == datetime(2026, 3, 9, 16, 0)
    sent = datetime(2026, 3, 10, 9, 15)
    assert offer_sent(date(2026, 3, 9), SOENDERBORG, sent) == sent
    assert answer_by(SOENDERBORG, offer_sent(date(2026, 3, 9), SOENDERBORG, sent)) == datetime(
        2026, 3, 13, 9, 15
    )


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
    # Rebild: "Ved træning af børn og unge under 18 år vil opgaven som udgangspunkt varetages
    # af kommunal leverandør, ... i kraft af dennes børneteam."
    rejected = exclusion(referral(age=17), REBILD)
    assert rejected is not None
    assert rejected[0] is Reason.CHILDRENS_TEAM and "children's team" in rejected[1]
    assert exclusion(referral(age=18), REBILD) is None
    assert exclusion(referral(age=17), SOENDERBORG) is None


@pytest.mark.parametrize(
    ("wording", "level", "reason", "where"),
    [
        ("specialiseret", Level.SPECIALISERET, Reason.SPECIALISED_AT_HOSPITAL, "hospital"),
        (
            "Specialiseret genoptræning",
            Level.SPECIALISERET,
            Reason.SPECIALISED_AT_HOSPITAL,
            "hospital",
        ),
        (
            "genoptræning på  specialiseret niveau",
            Level.SPECIALISERET,
            Reason.SPECIALISED_AT_HOSPITAL,
            "hospital",
        ),
        (
            "rehabilitering på specialiseret niveau",
            Level.REHABILITERING_SPECIALISERET,
            Reason.SPECIALISED_REHAB_EXTERNAL,
            "external providers",
        ),
    ],
)
def test_specialised_levels_are_rejected_with_where_they_belong(
    wording: str, level: Level, reason: Reason, where: str
) -> None:
    # Vejen: "Borgere, der er henvist til genoptræning på specialiseret niveau, modtager
    # genoptræning på sygehuset"; for rehabilitering på specialiseret niveau
    # "Rehabiliteringen varetages af eksterne aktører".
    ref = referral(level=wording)
    assert ref.level is level and not ref.level.almen
    for policy in (LAW, *PRESETS.values()):
        rejected = exclusion(ref, policy)
        assert rejected is not None and rejected[0] is reason and where in rejected[1]


def test_an_unknown_level_is_still_an_error() -> None:
    with pytest.raises(ValidationError, match="level"):
        referral(level="ekstra")


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
    assert dates.letter_by == date(2026, 3, 7)  # Tue 3 March + 4 = Sat, as the standard states
    assert dates.rejected is None


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
    assert not free_choice_right(ref, REBILD, WorkingCalendar(REBILD))
    assert free_choice_right(ref, SOENDERBORG, WorkingCalendar(SOENDERBORG))


# --------------------------------------------------------------------------- the citizen's own date


def test_a_wish_the_plan_already_rules_out_postpones_nothing() -> None:
    # "Angiver genoptræningsplanen, at genoptræningen af sundhedsfaglige grunde først bør
    # opstartes på et senere tidspunkt end udskrivningstidspunktet, regnes fristen dog fra dette
    # tidspunkt": the days run from the plan's date; a citizen's earlier wish changes nothing.
    ref = referral(
        plan_start_date=date(2026, 3, 16), plan_start_kind="later", postponed_to=date(2026, 3, 12)
    )
    for policy in (LAW, SOENDERBORG, HJOERRING):
        cal = WorkingCalendar(policy)
        assert legal_deadline(ref, policy, cal) == date(2026, 3, 23), policy.name
        assert citizen_delay(ref, policy, cal) is None
        assert free_choice_right(ref, policy, cal), policy.name
    for policy in (REBILD, VEJEN, NAESTVED):
        cal = WorkingCalendar(policy)
        assert no_right_reason(ref, policy, cal) is Reason.PLAN_LATER_START, policy.name


@pytest.mark.parametrize("wish", [date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11)])
def test_a_postponement_inside_the_guarantee_keeps_deadline_and_free_choice(wish: date) -> None:
    # Vejen: "Hvis fristen ikke kan overholdes, har borgeren ret til at vælge en privat
    # leverandør. ... Det gælder dog ikke, hvis borgeren selv udsætter opstarten." A wish for a
    # day on or before the deadline (Wed 11 March) is not what makes a start late.
    ref = referral(postponed_to=wish)
    for policy in (LAW, *PRESETS.values()):
        cal = WorkingCalendar(policy)
        assert earliest_start(ref, policy, cal) == wish
        assert legal_deadline(ref, policy, cal) == date(2026, 3, 11), policy.name
        assert citizen_delay(ref, policy, cal) is None
        assert free_choice_right(ref, policy, cal), policy.name


def test_a_postponement_to_the_weekend_after_the_deadline_counts() -> None:
    # Discharged Fri 6 March: deadline Fri 13 March. A wish for Sat 14 March means Monday: the
    # citizen's own wish makes the start late; the target counts from the requested date.
    ref = referral(
        discharge_date=date(2026, 3, 6),
        received_date=date(2026, 3, 6),
        postponed_to=date(2026, 3, 14),
    )
    cal = WorkingCalendar(VEJEN)
    assert statutory_deadline(ref, VEJEN, cal) == date(2026, 3, 13)
    assert citizen_delay(ref, VEJEN, cal) == (Reason.CITIZEN_POSTPONED, date(2026, 3, 14))
    assert legal_deadline(ref, VEJEN, cal) == date(2026, 3, 20)  # Sat 21 March: the Friday
    assert not free_choice_right(ref, VEJEN, cal)


def test_the_strict_reading_lets_any_postponement_take_free_choice_away() -> None:
    # Policy setting for a municipality that reads "selv udsætter opstarten" as any wish.
    strict = Policy(citizen_postponement=Postponement.ANY)
    cal = WorkingCalendar(strict)
    ref = referral(postponed_to=date(2026, 3, 10))
    assert legal_deadline(ref, strict, cal) == date(2026, 3, 17)
    assert no_right_reason(ref, strict, cal) is Reason.CITIZEN_POSTPONED
    # A wish the notice period already rules out still postpones nothing.
    early = referral(postponed_to=date(2026, 3, 5))
    assert citizen_delay(early, strict, cal) is None


def test_unavailable_on_every_working_day_to_the_deadline_is_the_citizens_own_postponement() -> (
    None
):
    # "Days the citizen cannot come work the same way" (Vejen: "Det gælder dog ikke, hvis
    # borgeren selv udsætter opstarten"): earliest Thu 5 March, deadline Wed 11 March.
    days = [date(2026, 3, d) for d in (5, 6, 9, 10, 11)]
    ref = referral(unavailable_dates=days)
    cal = WorkingCalendar(LAW)
    assert citizen_delay(ref, LAW, cal) == (Reason.CITIZEN_UNAVAILABLE, date(2026, 3, 12))
    assert legal_deadline(ref, LAW, cal) == date(2026, 3, 19)
    assert not free_choice_right(ref, LAW, cal)
    assert no_right_reason(ref, LAW, cal) is Reason.CITIZEN_UNAVAILABLE


def test_one_available_day_before_the_deadline_keeps_the_guarantee() -> None:
    days = [date(2026, 3, d) for d in (5, 6, 9, 11)]  # Tue 10 March is free
    ref = referral(unavailable_dates=days)
    cal = WorkingCalendar(LAW)
    assert citizen_delay(ref, LAW, cal) is None
    assert legal_deadline(ref, LAW, cal) == date(2026, 3, 11)
    assert free_choice_right(ref, LAW, cal)


def test_a_calendar_answers_alike_from_its_memory_and_remembers_a_bounded_number_of_days() -> None:
    # ProposeSlots asks one held calendar about the same days in every call: the answers it
    # keeps are the ones it worked out (holidays and a policy's closed days included), and a
    # caller asking about ever new days does not grow it without end.
    policy = Policy(grundlovsdag_closed=True, closed_days=[date(2026, 3, 11)])
    held = WorkingCalendar(policy)
    days = [date(2025, 12, 1) + timedelta(days=i) for i in range(500)]
    first = [held.is_working_day(d) for d in days]
    again = [held.is_working_day(d) for d in days]
    fresh = [WorkingCalendar(policy).is_working_day(d) for d in days]
    assert first == again == fresh
    assert not held.is_working_day(date(2026, 4, 3))  # Langfredag
    assert not held.is_working_day(date(2026, 6, 5))  # Grundlovsdag, closed by the policy
    assert not held.is_working_day(date(2026, 3, 11))  # a closed day
    assert held._working[date(2026, 4, 3)] is False  # answered from its memory
    for i in range(10_000):
        held.is_working_day(date(2000, 1, 1) + timedelta(days=i))
    assert len(held._working) <= 4096
