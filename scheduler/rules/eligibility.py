"""Who may take a referral, and the window a first session (with its travel) must fit in.

- :func:`competent`: the therapist's discipline, and for avanceret the approved specialty;
- :func:`qualifies`: competent, and for home training a therapist who does home visits;
- :func:`session_windows`: the stretches of a roster entry a session may use: the roster,
  clipped to the policy's daytime and to one of the site's opening-hours stretches that day.

A first session at a site lies inside one window; a home visit's time held (travel there, the
session, travel back) lies inside one window of the therapist's base site. The planner builds its
free time from these windows, and the checker verifies a plan against them.
"""

from __future__ import annotations

from datetime import date

from scheduler.domain import Level, Referral, RosterEntry, Site, Therapist
from scheduler.domain.policy import Policy
from scheduler.rules.calendar import as_minutes

__all__ = [
    "competent",
    "opening_stretches",
    "qualifies",
    "roster_windows",
    "session_windows",
]


def competent(therapist: Therapist, referral: Referral) -> bool:
    """Whether the therapist has the referral's discipline and, for avanceret, is approved for
    its specialty (every therapist can do basal work in their discipline)."""
    if therapist.discipline is not referral.discipline:
        return False
    return referral.level is Level.BASAL or referral.specialty in therapist.specialties


def qualifies(therapist: Therapist, referral: Referral) -> bool:
    """Whether a therapist may do the referral's first session (ignoring place and time):
    competent, and for home training one who does home visits."""
    return competent(therapist, referral) and (therapist.home_visits or not referral.home_training)


def opening_stretches(site: Site, day: date) -> list[tuple[int, int]]:
    """The site's opening hours on `day` in minutes since midnight, merged where they touch."""
    spans = sorted((as_minutes(h.open), as_minutes(h.close)) for h in site.hours_on(day))
    merged: list[tuple[int, int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def session_windows(
    policy: Policy, site: Site, day: date, start: int, end: int
) -> list[tuple[int, int]]:
    """The stretches (minutes since midnight) of a roster stretch `start`–`end` at `site` on
    `day` that a first session may use, with a home visit's travel: inside daytime and inside
    one of the site's opening-hours stretches. Empty when the site is closed."""
    lo = max(start, as_minutes(policy.day_start))
    hi = min(end, as_minutes(policy.day_end))
    out: list[tuple[int, int]] = []
    for o_lo, o_hi in opening_stretches(site, day):
        w_lo, w_hi = max(lo, o_lo), min(hi, o_hi)
        if w_lo < w_hi:
            out.append((w_lo, w_hi))
    return out


def roster_windows(policy: Policy, site: Site, entry: RosterEntry) -> list[tuple[int, int]]:
    """:func:`session_windows` of one roster entry."""
    return session_windows(policy, site, entry.date, as_minutes(entry.start), as_minutes(entry.end))
