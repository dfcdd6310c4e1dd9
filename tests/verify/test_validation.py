"""Checks across an instance: each rule alone, on the tiny Sønderborg week changed a little.

The tiny week (tests/data/tiny-soenderborg.json), planning date Friday 6 March 2026:
sites S-GA (2 rooms, Mon–Thu 07:30–16:00, Fri 07:30–14:00) and S-NB (1 room, Mon–Thu
08:00–15:30); T-PT1 (PT, neuro) rostered at S-GA 9–13 March; T-OT1 (OT, home visits) at S-NB
9–12 March, absent on the 12th; booking B-1 (T-PT1 at S-GA, 9 March 09:00–10:00) and B-2 (R-3's
communicated home visit by T-OT1, 10 March 10:00–11:30); referrals R-1 (basal PT), R-2
(avanceret PT neuro, plan start later on 16 March) and R-3 (basal OT home training).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scheduler.domain.files import parse_instance
from scheduler.verify.validation import (
    PROBLEM_CODES,
    Problem,
    Severity,
    has_errors,
    validate_instance,
)

TINY = Path(__file__).parent.parent / "data" / "tiny-soenderborg.json"


@pytest.fixture
def tiny() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TINY.read_text(encoding="utf-8"))
    return data


def problems(data: dict[str, Any]) -> list[Problem]:
    return validate_instance(parse_instance(data))


def found(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(code, where) of every problem."""
    return [(p.code, p.where) for p in problems(data)]


def booking(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "B-9",
        "therapist_id": "T-PT1",
        "site_id": "S-GA",
        "start": "2026-03-10T13:00",
        "end": "2026-03-10T14:00",
    }
    data.update(fields)
    return data


def test_the_tiny_week_is_clean(tiny: dict[str, Any]) -> None:
    assert problems(tiny) == []


def test_problem_text_and_severity_follow_the_code() -> None:
    problem = Problem(Severity.ERROR, "unknown_site", "bookings[0](B-1).site_id", "no site")
    assert str(problem) == "error: bookings[0](B-1).site_id: no site [unknown_site]"
    assert has_errors([problem])
    assert not has_errors([Problem(Severity.WARNING, "nothing_to_plan", "referrals", "none")])


def test_errors_come_before_warnings(tiny: dict[str, Any]) -> None:
    tiny["referrals"] = tiny["referrals"][:2]  # R-3 goes: B-2's referral_id is unknown (error)
    tiny["referrals"][0]["received_date"] = "2026-03-09"  # after planning (warning)
    severities = [p.severity for p in problems(tiny)]
    assert severities == sorted(severities, key=lambda s: s is not Severity.ERROR)
    assert severities[0] is Severity.ERROR and severities[-1] is Severity.WARNING


def test_every_reported_code_is_listed_with_its_severity(tiny: dict[str, Any]) -> None:
    tiny["bookings"].append(booking(therapist_id="T-X", site_id="S-X", referral_id="R-X"))
    tiny["therapists"][0]["roster"].append(
        {"date": "2026-03-14", "start": "09:00", "end": "10:00", "site_id": "S-GA"}
    )
    for problem in problems(tiny):
        assert PROBLEM_CODES[problem.code] is problem.severity


# --------------------------------------------------------------------------- errors


def test_duplicate_ids_within_a_kind(tiny: dict[str, Any]) -> None:
    tiny["referrals"][1]["id"] = "R-1"
    tiny["sites"][1]["id"] = "S-GA"
    tiny["therapists"][0]["roster"] = [
        {**e, "site_id": "S-GA"} for e in tiny["therapists"][0]["roster"]
    ]
    tiny["therapists"][1]["roster"] = [
        {**e, "site_id": "S-GA"} for e in tiny["therapists"][1]["roster"]
    ]
    result = found(tiny)
    assert ("duplicate_id", "referrals[1](R-1)") in result
    assert ("duplicate_id", "sites[1](S-GA)") in result
    assert [c for c, _ in result].count("duplicate_id") == 2


def test_a_site_and_a_therapist_may_share_an_id(tiny: dict[str, Any]) -> None:
    tiny["therapists"][0]["id"] = "S-GA"
    tiny["bookings"][0]["therapist_id"] = "S-GA"
    assert "duplicate_id" not in [c for c, _ in found(tiny)]


def test_references_resolve(tiny: dict[str, Any]) -> None:
    tiny["therapists"][0]["roster"][2]["site_id"] = "S-XX"
    tiny["bookings"].append(booking(therapist_id="T-XX", site_id="S-YY", referral_id="R-XX"))
    tiny["referrals"][0]["chosen_site_id"] = "S-ZZ"
    result = found(tiny)
    assert ("unknown_site", "therapists[0](T-PT1).roster[2].site_id") in result
    assert ("unknown_therapist", "bookings[2](B-9).therapist_id") in result
    assert ("unknown_site", "bookings[2](B-9).site_id") in result
    assert ("unknown_referral", "bookings[2](B-9).referral_id") in result
    assert ("unknown_site", "referrals[0](R-1).chosen_site_id") in result


def test_a_referral_has_one_first_session(tiny: dict[str, Any]) -> None:
    tiny["bookings"].append(
        booking(therapist_id="T-OT1", site_id=None, at_home=True, referral_id="R-3")
    )
    assert ("referral_booked_twice", "bookings[2](B-9).referral_id") in found(tiny)


def test_roster_entries_of_one_therapist_do_not_overlap(tiny: dict[str, Any]) -> None:
    roster = tiny["therapists"][0]["roster"]
    roster.append({"date": "2026-03-10", "start": "15:00", "end": "15:30", "site_id": "S-GA"})
    roster.append({"date": "2026-03-11", "start": "15:30", "end": "15:45", "site_id": "S-GA"})
    result = found(tiny)
    assert ("roster_overlap", "therapists[0](T-PT1).roster[5]") in result
    assert [c for c, _ in result].count("roster_overlap") == 1  # touching is fine


def test_split_opening_hours_must_not_overlap(tiny: dict[str, Any]) -> None:
    hours = tiny["sites"][1]["opening_hours"]
    hours.append({"weekday": 0, "open": "15:00", "close": "17:00"})
    hours.append({"weekday": 1, "open": "15:30", "close": "17:00"})  # touching: fine
    result = found(tiny)
    assert result.count(("opening_hours_overlap", "sites[1](S-NB).opening_hours")) == 1


def test_a_first_session_is_not_booked_before_the_plan_arrived(tiny: dict[str, Any]) -> None:
    tiny["bookings"][1]["start"] = "2026-03-05T10:00"
    tiny["bookings"][1]["end"] = "2026-03-05T11:30"
    tiny["therapists"][1]["roster"].append(
        {"date": "2026-03-05", "start": "08:00", "end": "15:00", "site_id": "S-NB"}
    )
    assert found(tiny) == [("booked_before_received", "bookings[1](B-2).start")]


# --------------------------------------------------------------------------- warnings


def test_no_referrals(tiny: dict[str, Any]) -> None:
    tiny["referrals"] = []
    tiny["bookings"] = tiny["bookings"][:1]
    assert found(tiny) == [("nothing_to_plan", "referrals")]


@pytest.mark.parametrize(
    "day",
    ["2026-03-14", "2026-04-03", "2026-12-24"],  # a Saturday, Langfredag, closed 24 December
)
def test_roster_on_a_day_without_training(tiny: dict[str, Any], day: str) -> None:
    tiny["therapists"][0]["roster"].append(
        {"date": day, "start": "09:00", "end": "12:00", "site_id": "S-GA"}
    )
    assert found(tiny) == [("roster_on_closed_day", "therapists[0](T-PT1).roster[5]")]


def test_roster_on_a_policy_closed_day(tiny: dict[str, Any]) -> None:
    tiny["policy"] = {"preset": "soenderborg", "closed_days": ["2026-03-11"]}
    assert found(tiny) == [
        ("roster_on_closed_day", "therapists[0](T-PT1).roster[2]"),
        ("roster_on_closed_day", "therapists[1](T-OT1).roster[2]"),
    ]


def test_roster_within_the_sites_opening_hours(tiny: dict[str, Any]) -> None:
    roster = tiny["therapists"][0]["roster"]
    roster[4]["end"] = "15:00"  # Friday: S-GA closes at 14:00
    tiny["therapists"][1]["roster"][0]["start"] = "07:45"  # S-NB opens at 08:00
    result = found(tiny)
    assert result == [
        ("roster_outside_opening_hours", "therapists[0](T-PT1).roster[4]"),
        ("roster_outside_opening_hours", "therapists[1](T-OT1).roster[0]"),
    ]


def test_roster_at_a_site_closed_that_weekday(tiny: dict[str, Any]) -> None:
    tiny["therapists"][0]["roster"][4]["site_id"] = "S-NB"  # S-NB is closed on Fridays
    (problem,) = problems(tiny)
    assert problem.code == "roster_outside_opening_hours"
    assert "(closed)" in problem.message


def test_a_roster_entry_on_an_absence_day_is_normal(tiny: dict[str, Any]) -> None:
    # T-OT1 is rostered on 12 March and absent that day (the tiny week has it so).
    assert any(e["date"] == "2026-03-12" for e in tiny["therapists"][1]["roster"])
    assert problems(tiny) == []


def test_a_therapist_with_no_roster_ahead(tiny: dict[str, Any]) -> None:
    tiny["therapists"][1]["absences"] = [{"start": "2026-03-09", "end": "2026-03-20"}]
    tiny["bookings"] = tiny["bookings"][:1]
    tiny["referrals"] = tiny["referrals"][:2]
    assert found(tiny) == [("no_roster_ahead", "therapists[1](T-OT1)")]


def test_bookings_within_the_roster_and_not_during_an_absence(tiny: dict[str, Any]) -> None:
    tiny["bookings"].append(booking(id="B-7", start="2026-03-09T15:00", end="2026-03-09T16:00"))
    tiny["bookings"].append(
        booking(
            id="B-8",
            therapist_id="T-OT1",
            site_id="S-NB",
            start="2026-03-12T09:00",
            end="2026-03-12T10:00",
        )
    )
    assert found(tiny) == [
        ("booking_outside_roster", "bookings[2](B-7)"),
        ("booking_during_absence", "bookings[3](B-8)"),
    ]


def test_a_home_visit_uses_no_room(tiny: dict[str, Any]) -> None:
    tiny["bookings"][1]["site_id"] = "S-NB"
    assert found(tiny) == [("home_booking_with_site", "bookings[1](B-2).site_id")]


def test_tentative_is_for_first_sessions(tiny: dict[str, Any]) -> None:
    tiny["bookings"][0]["status"] = "tentative"
    assert found(tiny) == [("tentative_without_referral", "bookings[0](B-1).status")]


def test_a_therapist_double_booked(tiny: dict[str, Any]) -> None:
    tiny["bookings"].append(booking(start="2026-03-09T09:30", end="2026-03-09T10:30"))
    tiny["bookings"].append(booking(id="B-10", start="2026-03-09T10:30", end="2026-03-09T11:00"))
    (problem,) = problems(tiny)
    assert (problem.code, problem.where) == ("therapist_double_booked", "bookings[2](B-9)")
    assert "bookings[0](B-1)" in problem.message


def test_a_tentative_first_session_holds_no_time(tiny: dict[str, Any]) -> None:
    tiny["bookings"][1]["status"] = "tentative"
    tiny["bookings"].append(
        booking(
            therapist_id="T-OT1",
            site_id=None,
            at_home=True,
            start="2026-03-10T10:30",
            end="2026-03-10T11:00",
        )
    )
    assert problems(tiny) == []


def test_no_more_bookings_at_a_site_than_rooms(tiny: dict[str, Any]) -> None:
    # S-NB has one room. On 16 March: T-OT1 09:00-10:00 and T-PT1 09:30-10:30 (two at once),
    # then T-PT1 10:30-11:00 (alone again).
    for therapist in tiny["therapists"]:
        therapist["roster"].append(
            {"date": "2026-03-16", "start": "08:00", "end": "15:00", "site_id": "S-NB"}
        )
    tiny["bookings"] += [
        booking(
            id="B-5",
            therapist_id="T-OT1",
            site_id="S-NB",
            start="2026-03-16T09:00",
            end="2026-03-16T10:00",
        ),
        booking(
            id="B-6",
            therapist_id="T-PT1",
            site_id="S-NB",
            start="2026-03-16T09:30",
            end="2026-03-16T10:30",
        ),
        booking(
            id="B-7",
            therapist_id="T-PT1",
            site_id="S-NB",
            start="2026-03-16T10:30",
            end="2026-03-16T11:00",
        ),
    ]
    (problem,) = problems(tiny)
    assert (problem.code, problem.where) == ("site_overbooked", "bookings[3](B-6)")
    assert "2 bookings at site 'S-NB' at 2026-03-16 09:30, but it has 1 room(s)" in problem.message


def test_back_to_back_bookings_share_a_room(tiny: dict[str, Any]) -> None:
    tiny["sites"][0]["rooms"] = 1
    tiny["bookings"].append(booking(id="B-3", start="2026-03-09T10:00", end="2026-03-09T11:00"))
    assert problems(tiny) == []


def test_a_booked_first_session_fits_its_referral(tiny: dict[str, Any]) -> None:
    tiny["therapists"][0]["home_visits"] = True
    tiny["bookings"].append(
        booking(
            therapist_id="T-PT1",
            site_id="S-GA",
            referral_id="R-2",
            start="2026-03-16T09:00",
            end="2026-03-16T10:00",
        )
    )
    tiny["therapists"][0]["roster"].append(
        {"date": "2026-03-16", "start": "08:00", "end": "15:30", "site_id": "S-GA"}
    )
    tiny["referrals"][1]["chosen_site_id"] = "S-NB"
    tiny["bookings"][1]["therapist_id"] = "T-PT1"  # R-3 is OT
    tiny["bookings"][1]["start"] = "2026-03-11T10:00"
    tiny["bookings"][1]["end"] = "2026-03-11T11:30"
    messages = [p.message for p in problems(tiny) if p.code == "referral_booking_mismatch"]
    assert len(messages) == 2, messages
    assert "referral 'R-3': therapist 'T-PT1' is PT, the referral needs OT" in messages
    assert "referral 'R-2': at site 'S-GA', but the citizen chose 'S-NB'" in messages


def test_a_booked_first_session_at_home_or_not(tiny: dict[str, Any]) -> None:
    tiny["bookings"][1]["at_home"] = False
    tiny["bookings"][1]["site_id"] = "S-NB"
    (problem,) = problems(tiny)
    assert problem.code == "referral_booking_mismatch"
    assert "needs home training" in problem.message


def test_a_booked_avanceret_session_needs_the_specialty(tiny: dict[str, Any]) -> None:
    tiny["therapists"].append({**tiny["therapists"][0], "id": "T-PT2", "specialties": []})
    tiny["therapists"][2]["roster"] = [
        {"date": "2026-03-16", "start": "08:00", "end": "15:30", "site_id": "S-GA"}
    ]
    tiny["bookings"].append(
        booking(
            therapist_id="T-PT2",
            referral_id="R-2",
            start="2026-03-16T09:00",
            end="2026-03-16T10:00",
        )
    )
    (problem,) = problems(tiny)
    assert problem.code == "referral_booking_mismatch"
    assert "not approved for avanceret 'neuro'" in problem.message


def test_one_specialty_spelled_one_way(tiny: dict[str, Any]) -> None:
    tiny["therapists"][1]["specialties"] = ["Neuro "]
    (problem,) = problems(tiny)
    assert problem.code == "specialty_variants"
    assert "'Neuro' (T-OT1)" in problem.message and "'neuro' (T-PT1)" in problem.message


@pytest.mark.parametrize(
    ("specialty", "suggestion"), [("Neuro", "neuro"), ("neuro-", "neuro"), ("nuero", "neuro")]
)
def test_a_misspelled_specialty_is_named_with_a_suggestion(
    tiny: dict[str, Any], specialty: str, suggestion: str
) -> None:
    tiny["referrals"][1]["specialty"] = specialty
    (problem,) = problems(tiny)
    assert (problem.code, problem.where) == ("specialty_spelling", "referrals[1](R-2).specialty")
    assert problem.message.endswith(f"did you mean {suggestion!r}?")


def test_no_qualified_therapist(tiny: dict[str, Any]) -> None:
    tiny["referrals"][1]["specialty"] = "hjerte-lunge"
    tiny["referrals"][0]["discipline"] = "OT"
    tiny["therapists"][1]["discipline"] = "PT"  # no OT left at all
    tiny["bookings"] = tiny["bookings"][:1]
    tiny["referrals"] = tiny["referrals"][:2]
    assert found(tiny) == [
        ("no_qualified_therapist", "referrals[0](R-1)"),
        ("no_qualified_therapist", "referrals[1](R-2).specialty"),
    ]


def test_home_training_needs_a_therapist_who_does_home_visits(tiny: dict[str, Any]) -> None:
    tiny["therapists"][1]["home_visits"] = False
    assert found(tiny) == [("no_home_visit_therapist", "referrals[2](R-3)")]


def test_minors_are_named_where_the_policy_sends_them_elsewhere(tiny: dict[str, Any]) -> None:
    tiny["referrals"][0]["age"] = 16
    assert problems(tiny) == []  # Sønderborg takes them
    tiny["policy"] = "rebild"
    (problem,) = problems(tiny)
    assert (problem.code, problem.where) == ("excluded_referral", "referrals[0](R-1)")
    assert "children's team" in problem.message


def test_a_plan_received_after_the_planning_date(tiny: dict[str, Any]) -> None:
    tiny["referrals"][0]["received_date"] = "2026-03-07"
    assert found(tiny) == [("received_after_planning", "referrals[0](R-1).received_date")]


def test_an_earlier_plan_start_that_cannot_be_met(tiny: dict[str, Any]) -> None:
    # R-1 received Thu 5 March: the earliest start is Fri 6 March.
    tiny["referrals"][0] |= {"plan_start_date": "2026-03-05", "plan_start_kind": "earlier"}
    assert found(tiny) == [("plan_start_unreachable", "referrals[0](R-1).plan_start_date")]
    tiny["referrals"][0]["plan_start_date"] = "2026-03-06"
    assert problems(tiny) == []


def test_a_later_plan_start_that_is_not_later(tiny: dict[str, Any]) -> None:
    # R-2 discharged Thu 5 March: ordinarily due Thu 12 March.
    tiny["referrals"][1]["plan_start_date"] = "2026-03-12"
    assert found(tiny) == [("plan_later_not_later", "referrals[1](R-2).plan_start_date")]
    tiny["referrals"][1]["plan_start_date"] = "2026-03-13"
    assert problems(tiny) == []


def test_a_first_session_longer_than_the_day(tiny: dict[str, Any]) -> None:
    tiny["policy"] = {"preset": "soenderborg", "day_start": "09:00", "day_end": "11:00"}
    tiny["referrals"][0]["first_session_minutes"] = 121
    tiny["referrals"][1]["first_session_minutes"] = 120
    assert found(tiny) == [("session_longer_than_day", "referrals[0](R-1).first_session_minutes")]
