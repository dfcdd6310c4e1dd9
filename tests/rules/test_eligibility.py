"""Who may take a referral, and the window a session (with its travel) must fit in."""

from __future__ import annotations

from datetime import time, timedelta

from scheduler.domain import OpeningHours
from scheduler.domain.policy import PRESETS
from scheduler.rules.eligibility import (
    competent,
    opening_stretches,
    qualifies,
    roster_windows,
    session_windows,
)
from tests.builders import MONDAY, SITE_B, referral, site, therapist

POLICY = PRESETS["soenderborg"]


def test_basal_is_for_every_therapist_of_the_discipline() -> None:
    # DOMAIN.md: "basal ... any authorised physiotherapist or occupational therapist".
    ref = referral("R1")
    assert competent(therapist("T-pt"), ref)
    assert competent(therapist("T-neuro", specialties=("neuro",)), ref)
    assert not competent(therapist("T-ot", discipline="OT"), ref)


def test_avanceret_only_for_a_therapist_approved_for_the_specialty() -> None:
    ref = referral("R1", level="avanceret", specialty="neuro")
    assert competent(therapist("T1", specialties=("neuro",)), ref)
    assert not competent(therapist("T2", specialties=("kræft",)), ref)
    assert not competent(therapist("T3"), ref)


def test_home_training_needs_a_therapist_who_does_home_visits() -> None:
    ref = referral("R1", home_training=True, location=SITE_B)
    assert competent(therapist("T1"), ref)
    assert not qualifies(therapist("T1"), ref)
    assert qualifies(therapist("T2", home_visits=True), ref)


def test_the_window_is_the_roster_clipped_to_daytime_and_opening_hours() -> None:
    # The site opens 09:00-17:00, the policy's daytime ends before 17:00.
    s = site(hours=(time(9), time(17)))
    windows = session_windows(POLICY, s, MONDAY, 7 * 60, 17 * 60)
    assert windows == [(9 * 60, min(17 * 60, POLICY.day_end.hour * 60 + POLICY.day_end.minute))]


def test_split_opening_hours_give_two_windows_and_a_closed_site_none() -> None:
    s = site().model_copy(
        update={
            "opening_hours": [
                OpeningHours(weekday=0, open=time(8), close=time(12)),
                OpeningHours(weekday=0, open=time(13), close=time(16)),
            ]
        }
    )
    assert opening_stretches(s, MONDAY) == [(480, 720), (780, 960)]
    assert session_windows(POLICY, s, MONDAY, 8 * 60, 15 * 60) == [(480, 720), (780, 900)]
    tuesday_closed = MONDAY + timedelta(days=1)
    assert session_windows(POLICY, s, tuesday_closed, 8 * 60, 15 * 60) == []


def test_touching_opening_hours_merge() -> None:
    s = site().model_copy(
        update={
            "opening_hours": [
                OpeningHours(weekday=0, open=time(8), close=time(12)),
                OpeningHours(weekday=0, open=time(12), close=time(16)),
            ]
        }
    )
    assert opening_stretches(s, MONDAY) == [(480, 960)]


def test_roster_windows_read_the_entry() -> None:
    t = therapist("T1", hours=(time(8), time(15, 30)))
    assert roster_windows(POLICY, site(), t.roster[0]) == [(480, 930)]


def test_a_home_visit_holds_its_travel_inside_the_window() -> None:
    # A 60-minute visit with 20 minutes' drive each way holds 100 minutes: 13:20-15:00 fits,
    # 13:30-15:10 (the drive back past closing) does not, nor 07:50-09:30 (the drive there
    # before the policy's daytime at 08:00).
    windows = session_windows(POLICY, site(hours=(time(7), time(15))), MONDAY, 7 * 60, 16 * 60)

    def fits(lo: int, hi: int) -> bool:
        return any(w_lo <= lo and hi <= w_hi for w_lo, w_hi in windows)

    assert fits(13 * 60 + 20, 15 * 60)
    assert not fits(13 * 60 + 30, 15 * 60 + 10)
    assert not fits(7 * 60 + 50, 9 * 60 + 30)
