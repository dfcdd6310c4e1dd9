"""The referral stream: which genoptræningsplaner arrive on which working day.

Drawn once per seed, before any strategy runs, so every strategy meets exactly the same
citizens. Per working day the number of plans is Poisson with the profile's weekly volume
spread by its weekday pattern; per plan (rates in :class:`SimulationProfile`):

- discharge: the day of receipt or the day before for `within_a_day` of the plans (82%), else
  2–6 days before; a weekend receipt is impossible (plans are read on working days);
- discipline PT 65% / OT 35%; avanceret with a specialty some therapist of the discipline is
  approved for (`avanceret_share`), else basal; home training (`home_share`, only if a therapist
  of the discipline and specialty does home visits), else a chosen site (`chosen_site_share`,
  among the sites where a therapist who may take the plan works);
- first session 60 minutes (80%), 45 (8%) or 90 (12%); age 18–96, mostly old;
- a plan-specified later start (10–21 days after discharge) or earlier start (a day inside the
  7 days), a citizen's postponement (10–30 days after receipt), days the citizen cannot come;
- the course that follows: its length in weeks, or 0 when it does not continue individually
  with the first therapist (holds, virtual training, no course).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, timedelta

from scheduler.domain import Discipline, Level, PlanStartKind, Referral, Site, Therapist
from scheduler.rules.calendar import WorkingCalendar
from scheduler.rules.eligibility import qualifies
from scheduler.rules.legal import earliest_start, legal_deadline
from scheduler.simulation.profile import SimulationProfile

__all__ = ["Arrival", "referral_stream"]


@dataclass(frozen=True)
class Arrival:
    """A plan as it arrives, with what the simulation needs to know about its course."""

    referral: Referral
    course_weeks: int
    """Weeks of individual course with the first therapist after the first session; 0: none."""


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; means here are at most a few hundred a day)."""
    if mean <= 0:
        return 0
    if mean > 500:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _covered(therapists: Sequence[Therapist], discipline: Discipline, home: bool) -> list[str]:
    return sorted(
        {
            sp
            for t in therapists
            if t.discipline is discipline and (t.home_visits or not home)
            for sp in t.specialties
        }
    )


def _one(
    rid: str,
    received: date,
    profile: SimulationProfile,
    sites: Sequence[Site],
    therapists: Sequence[Therapist],
    staff_at: Mapping[str, AbstractSet[str]],
    cal: WorkingCalendar,
    rng: random.Random,
) -> Arrival:
    policy = profile.municipality.policy
    if rng.random() < profile.within_a_day:
        lag = rng.choice((0, 1))
    else:
        lag = rng.randint(*profile.late_receipt_days)
    discharge = received - timedelta(days=lag)
    discipline = Discipline.PT if rng.random() < 0.65 else Discipline.OT
    age = min(96, max(18, round(rng.triangular(18, 96, 76))))
    home = rng.random() < profile.home_share and bool(
        [t for t in therapists if t.discipline is discipline and t.home_visits]
    )
    specialty: str | None = None
    if rng.random() < profile.avanceret_share:
        options = _covered(therapists, discipline, home)
        if home and not options:
            home, options = False, _covered(therapists, discipline, False)
        if options:
            specialty = rng.choice(options)
    location = None
    if home:
        site = rng.choice(list(sites))
        km, bearing = 6.0 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        lat = site.coordinates.lat + km * math.cos(bearing) / 111.0
        lon = site.coordinates.lon + km * math.sin(bearing) / (
            111.32 * math.cos(math.radians(site.coordinates.lat))
        )
        location = {"lat": round(lat, 4), "lon": round(lon, 4)}
    choose = not home and len(sites) > 1 and rng.random() < profile.chosen_site_share
    first_ten = cal.working_days(received + timedelta(days=1), received + timedelta(days=16))[:10]
    unavailable = (
        sorted(rng.sample(first_ten, min(len(first_ten), rng.randint(1, 2))))
        if rng.random() < profile.unavailable_share
        else []
    )
    referral = Referral.model_validate(
        {
            "id": rid,
            "discharge_date": discharge,
            "received_date": received,
            "level": Level.AVANCERET if specialty else Level.BASAL,
            "discipline": discipline,
            "specialty": specialty,
            "home_training": home,
            "location": location,
            "age": age,
            "unavailable_dates": unavailable,
            "first_session_minutes": rng.choices((60, 45, 90), weights=(80, 8, 12))[0],
        }
    )
    if choose:
        # A citizen chooses among the sites where someone who may take the plan works.
        open_sites = [
            s.id
            for s in sites
            if any(qualifies(t, referral) for t in therapists if t.id in staff_at.get(s.id, ()))
        ]
        if open_sites:
            referral = referral.model_copy(update={"chosen_site_id": rng.choice(open_sites)})
    draw = rng.random()
    if draw < profile.plan_later_share:
        later = discharge + timedelta(days=rng.randint(10, 21))
        referral = referral.model_copy(
            update={
                "plan_start_date": cal.next_working_day_on_or_after(later),
                "plan_start_kind": PlanStartKind.LATER,
            }
        )
    elif draw < profile.plan_later_share + profile.plan_earlier_share:
        first = earliest_start(referral, policy, cal)
        ordinary = legal_deadline(referral, policy, cal)
        inside = cal.working_days(first, ordinary - timedelta(days=1))
        if inside:
            referral = referral.model_copy(
                update={
                    "plan_start_date": rng.choice(inside),
                    "plan_start_kind": PlanStartKind.EARLIER,
                }
            )
    elif draw < profile.plan_later_share + profile.plan_earlier_share + profile.postponed_share:
        wish = received + timedelta(days=rng.randint(10, 30))
        referral = referral.model_copy(
            update={"postponed_to": cal.next_working_day_on_or_after(wish)}
        )
    weeks = rng.randint(*profile.course_weeks) if rng.random() < profile.course_share else 0
    return Arrival(referral=referral, course_weeks=weeks)


def referral_stream(
    profile: SimulationProfile,
    sites: Sequence[Site],
    therapists: Sequence[Therapist],
    staff_at: Mapping[str, AbstractSet[str]],
    days: Sequence[date],
    rng: random.Random,
) -> dict[date, list[Arrival]]:
    """Per working day in `days`, the plans received that day, in order of arrival.
    `staff_at`: per site, the therapists rostered there on some weekday (a chosen site is one
    where someone who may take the plan works)."""
    cal = WorkingCalendar(profile.municipality.policy)
    weights = profile.weekday_weights
    per_day = profile.referrals_per_week / sum(weights)
    stream: dict[date, list[Arrival]] = {}
    count = 0
    for day in days:
        arrivals: list[Arrival] = []
        for _ in range(_poisson(rng, per_day * weights[day.weekday()])):
            count += 1
            arrivals.append(
                _one(f"R-{count:05d}", day, profile, sites, therapists, staff_at, cal, rng)
            )
        stream[day] = arrivals
    return stream
