"""The generator's fragmentation setting: off gives the calendars of before, on cuts them."""

from __future__ import annotations

import pytest

from scheduler.bench.generator import GeneratorError, generate
from scheduler.planning.problem import prepare


def test_no_fragmentation_is_the_default_calendar() -> None:
    plain = generate("vejen", 3, referrals=10, load=0.85)
    zero = generate("vejen", 3, referrals=10, load=0.85, fragmentation=0.0)
    assert zero.bookings == plain.bookings
    assert [s.rooms for s in zero.sites] == [s.rooms for s in plain.sites]


def test_fragmentation_makes_more_shorter_gaps_and_scarcer_rooms() -> None:
    plain = generate("vejen", 3, referrals=10, load=0.85)
    cut = generate("vejen", 3, referrals=10, load=0.85, fragmentation=0.8)
    assert sum(s.rooms for s in cut.sites) < sum(s.rooms for s in plain.sites)
    plain_gaps, cut_gaps = prepare(plain).gaps, prepare(cut).gaps
    assert len(cut_gaps) > len(plain_gaps)
    mean = [sum(g.length for g in gaps) / len(gaps) for gaps in (plain_gaps, cut_gaps)]
    assert mean[1] < mean[0]
    assert "fragmentation=0.8" in cut.name


def test_fragmentation_out_of_range_is_refused() -> None:
    with pytest.raises(GeneratorError, match="fragmentation"):
        generate("vejen", 3, fragmentation=1.5)
