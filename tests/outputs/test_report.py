"""The report's content without a browser: what the view holds, and that the page is
self-contained and shows citizens by pseudonymous id only."""

from __future__ import annotations

import re

from scheduler.domain import Instance, Reason, Solution
from scheduler.outputs.report import REASON_TEXT, render_report, report_view


def test_every_reason_has_danish_and_english_text() -> None:
    assert set(REASON_TEXT) == set(Reason)
    assert all(da and en and da != en for da, en in REASON_TEXT.values())


def test_the_view_places_sessions_bookings_and_travel(mixed: tuple[Instance, Solution]) -> None:
    view = report_view(*mixed)
    bars = [
        (row.therapist_id, bar)
        for day in view.days
        for s in day.sites
        for row in s.rows
        for bar in row.bars
    ]
    sessions = {bar.label: bar for _, bar in bars if bar.kind == "session"}
    assert set(sessions) == {"R-1", "R-3", "R-4"}
    assert sessions["R-4"].outcome == "late_free_choice"
    assert [b for _, b in bars if b.kind == "travel"]  # R-3's home visit, both ways
    assert [b for _, b in bars if b.kind == "booking"]  # B-1 stays; B-2 is R-3's session
    for _, bar in bars:
        assert bar.left >= 0 and bar.left + bar.width <= 100.001
    assert [r["referral_id"] for r in view.free_choice] == ["R-4"]
    assert view.free_choice[0]["answer_by"] and view.free_choice[0]["send_by"]
    overdue = {r["referral_id"]: r["overdue"] for r in view.sessions}
    assert overdue == {"R-1": "", "R-3": "", "R-4": "overdue"}  # due 2026-03-03
    (nb,) = view.not_bookable
    assert nb["referral_id"] == "R-2" and nb["reason_da"] and nb["reason_en"]


def test_the_page_loads_nothing_and_holds_no_citizen_data(
    mixed: tuple[Instance, Solution],
) -> None:
    instance, _ = mixed
    html = render_report(*mixed)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script src" not in html and "<link" not in html
    assert "@import" not in html and "url(" not in html
    for referral in instance.referrals:
        assert referral.id in html
    # no citizen's age or home coordinates
    r3 = next(r for r in instance.referrals if r.id == "R-3")
    assert r3.location is not None and str(r3.location.lat) not in html
