"""What a simulated municipality looks like over time: volumes, rates and course settings.

A :class:`SimulationProfile` wraps one of the generator's municipality profiles
(:data:`scheduler.bench.profiles.PROFILES`: sites, inhabitants, referrals a week, therapists,
policy) with the rates of the referral stream and of the calendars over time. Every rate is a
field with its default and where it comes from, so ``docs/simulation.md`` and the code say the
same; :func:`simulation_profile` takes overrides (the tests shrink a municipality with them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from scheduler.bench.profiles import PROFILES, Profile

__all__ = ["SIMULATION_PROFILES", "SimulationProfile", "simulation_profile"]


@dataclass(frozen=True)
class SimulationProfile:
    """One municipality over time. Defaults are documented in ``docs/simulation.md``."""

    municipality: Profile
    referrals_per_week: float
    """New plans a week (DOMAIN.md: ~27 per 1,000 inhabitants a year)."""
    therapists: int
    weekday_weights: tuple[float, float, float, float, float] = (1.3, 1.05, 1.0, 0.95, 0.7)
    """Relative arrivals Monday–Friday: weekend discharges arrive on Monday, fewer on Friday."""
    within_a_day: float = 0.82
    """Share of plans received on the day of discharge or the day after (DOMAIN.md)."""
    late_receipt_days: tuple[int, int] = (2, 6)
    """The others: received this many days (uniform) after discharge."""
    avanceret_share: float = 0.25
    home_share: float = 0.10
    chosen_site_share: float = 0.20
    plan_later_share: float = 0.06
    """Plan-specified later start (10–21 days after discharge)."""
    plan_earlier_share: float = 0.02
    """Plan-specified earlier start (a day inside the 7 days)."""
    postponed_share: float = 0.05
    """The citizen asks to start 10–30 days after receipt."""
    unavailable_share: float = 0.10
    """The citizen cannot come on one or two of the first ten working days."""
    course_share: float = 0.70
    """Share of citizens whose course continues individually with the first therapist (the
    rest: holds, virtual training, or no course after the first session)."""
    course_weeks: tuple[int, int] = (4, 10)
    """Course length in weeks (uniform); Hjørring: about two sessions a week up to 3 months."""
    course_sessions_per_week: int = 2
    course_session_minutes: int = 45
    other_work_share: float = 0.25
    """Share of each rostered day held by documentation, meetings and hold classes (a block at
    the end of the day): time no first session or course session can use."""
    sick_rate: float = 0.012
    """Chance a therapist falls ill on a working day (a spell then lasts `sick_days`)."""
    sick_days: tuple[int, int] = (1, 4)
    burn_in_weeks: int = 8
    """Weeks simulated from empty calendars (with the manual strategy) before measuring."""


def simulation_profile(name: str, **overrides: Any) -> SimulationProfile:
    """The simulation profile of a generator profile `name`, with `overrides` of any field.

    Raises KeyError for an unknown name, TypeError for an unknown field.
    """
    if name not in PROFILES:
        raise KeyError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")
    base = PROFILES[name]
    profile = SimulationProfile(
        municipality=base, referrals_per_week=float(base.referrals), therapists=base.therapists
    )
    return replace(profile, **overrides)


SIMULATION_PROFILES: tuple[str, ...] = ("vejen", "naestved", "rebild", "soenderborg", "hjoerring")
"""The seed municipalities (the standards in the project's seeds); others in PROFILES work too."""
