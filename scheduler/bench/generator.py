"""Deterministic, realistic instances: the five seed municipalities, Aarhus, København, stress.

:func:`generate` builds a weekly planning batch for one municipality *profile*: its policy
preset, its training sites, therapists with rosters and absences, calendars already filled with
ongoing courses to a given `load`, and the week's new referrals (genoptræningsplaner). The same
profile and seed always give the same instance: one :class:`random.Random` seeded with `seed`
drives everything (it seeds one sub-stream per part, so that e.g. a different `load` changes the
calendars but not the therapists or the referrals).

Sizes follow the national volumes (Folketinget, SUU spm. 568, 2021-22): about 27 almen plans per
1,000 inhabitants a year, e.g. ~25 a week in Vejen, ~40 in Sønderborg, ~190 in Aarhus, ~340 in
København; roughly one therapist per two weekly referrals.

What the calendars look like (every booking `communicated`, so it stays fixed):

- therapists are PT or OT (about 60/40); about 30% are approved for one or two avanceret
  specialties, about 30% do home visits;
- rosters on the working days of the horizon (no weekends or holidays): mostly 08:00–15:30
  (Friday 15:00) at the home site, some part-time (four days a week, or short days), some with a
  fixed weekday at another site; no roster entry on a day of absence (holiday weeks, course
  days, known sickness);
- bookings on a 15-minute grid inside the rosters, never overlapping: individual sessions of
  30/45/60 minutes and group sessions in a room, and off-site (no room, `site_id` null) a
  weekly team meeting, documentation and conferences, and for therapists with a car home
  visits: about a third of the bookings are off-site. The booked minutes fill the rostered
  minutes to `load`, slightly fuller in the first weeks, and leave the free time fragmented
  (many 15–45 minute gaps, some of an hour or more);
- a site has rooms for about 0.6–0.9 of the therapists based there, so rooms sometimes bind at
  the busiest hours; the existing bookings never use more rooms than a site has (a session that
  would is done as office work instead);
- courses (:class:`CourseMix`, a profile setting): each referral gets a course (individual,
  hold, virtual or either, 6–12 weeks, 1–2 sessions a week of 45–60 minutes); the main sites
  (and some others) run holds of the mix's types with 8–12 seats, already 60–100% taken by
  ongoing courses each week. The calendars' fill stands for the ongoing courses.

The profiles themselves (municipalities, their sites and sizes) are data in
:mod:`scheduler.bench.profiles`; the benchmark families regenerated from this generator by seed
are :mod:`scheduler.bench.manifest`.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from scheduler.bench.profiles import PROFILES, CourseMix, Profile, SiteSpec, small_room
from scheduler.domain import (
    Absence,
    Booking,
    Coordinates,
    Course,
    CourseForm,
    Discipline,
    Hold,
    HoldSession,
    HoldWeek,
    Instance,
    Level,
    OpeningHours,
    PlanStartKind,
    Referral,
    RosterEntry,
    Site,
    Therapist,
)
from scheduler.rules.calendar import WorkingCalendar
from scheduler.rules.legal import earliest_start, legal_deadline

__all__ = [
    "DEFAULT_PLANNING_DATE",
    "MAX_FILL",
    "GeneratorError",
    "generate",
    "instance_json",
]

DEFAULT_PLANNING_DATE = date(2026, 11, 27)
"""A Friday: the weekly batch is planned at the end of the week for the weeks ahead."""

_GRID = 15  # minutes: bookings start and end on a quarter-hour grid
MAX_FILL = 0.97
"""No therapist-day is booked fuller than this; the highest `load` the generator accepts."""
_SLOTS_PER_DAY = 24 * 60 // _GRID


class GeneratorError(ValueError):
    """A profile or a parameter the generator cannot use; the message says why."""


# --------------------------------------------------------------------------- specialties

# Avanceret specialties a therapist of each discipline may be approved for, with how often an
# avanceret referral of that discipline names each ("børn" only for citizens under 18).
_SPECIALTIES: dict[Discipline, tuple[tuple[str, float], ...]] = {
    Discipline.PT: (
        ("ortopædkirurgi", 0.40),
        ("neuro", 0.28),
        ("hjerte-lunge", 0.17),
        ("kræft", 0.15),
        ("børn", 0.0),
    ),
    Discipline.OT: (
        ("neuro", 0.50),
        ("håndkirurgi", 0.30),
        ("kræft", 0.20),
        ("børn", 0.0),
    ),
}
# Specialties no therapist is ever approved for: about 1 avanceret referral in 60 names one.
_UNCOVERED_SPECIALTIES = ("amputation", "brandskader", "lymfødem")
_UNCOVERED_RATE = 1 / 60

_FIRST_NAMES = (
    "Anne", "Mette", "Lars", "Jens", "Hanne", "Louise", "Mads", "Camilla", "Søren", "Pia",
    "Rasmus", "Line", "Kasper", "Sofie", "Morten", "Maria", "Henrik", "Julie", "Anders", "Trine",
    "Peter", "Marianne", "Thomas", "Helle", "Christian", "Lene", "Niels", "Karina", "Jesper",
    "Birgitte", "Emma", "Frederik", "Ida", "Jonas", "Katrine", "Mikkel", "Nanna", "Oliver",
    "Signe", "Troels",
)  # fmt: skip
_INITIALS = "ABCDEFGHIJKLMNOPRSTVØ"


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class _Params:
    profile: Profile
    seed: int
    referrals: int
    therapists: int
    sites: int
    load: float
    avanceret_share: float
    home_share: float
    planning_date: date
    receipt_days: int
    name: str
    fragmentation: float = 0.0


def _check_params(
    profile: str,
    seed: int,
    referrals: int | None,
    therapists: int | None,
    sites: int | None,
    load: float | None,
    avanceret_share: float | None,
    home_share: float | None,
    planning_date: date | None,
    receipt_days: int | None = None,
    fragmentation: float | None = None,
) -> _Params:
    if profile not in PROFILES:
        known = ", ".join(PROFILES)
        raise GeneratorError(f"unknown profile {profile!r}; known: {known}")
    prof = PROFILES[profile]
    problems: list[str] = []

    def bounded(name: str, value: float | None, low: float, high: float) -> None:
        if value is not None and not low <= value <= high:
            problems.append(f"{name} must be between {low} and {high}, got {value}")

    if isinstance(seed, bool) or not isinstance(seed, int):
        problems.append(f"seed must be an integer, got {seed!r}")
    bounded("referrals", referrals, 0, 20_000)
    bounded("therapists", therapists, 1, 5_000)
    bounded("sites", sites, 1, 200)
    bounded("load", load, 0.0, MAX_FILL)
    bounded("avanceret_share", avanceret_share, 0.0, 1.0)
    bounded("home_share", home_share, 0.0, 1.0)
    bounded("receipt_days", receipt_days, 1, 20)
    bounded("fragmentation", fragmentation, 0.0, 1.0)
    n_therapists = prof.therapists if therapists is None else therapists
    n_sites = prof.default_sites if sites is None else sites
    if not problems and n_sites > n_therapists:
        problems.append(
            f"{n_sites} sites need at least as many therapists (one based at each), "
            f"got {n_therapists}"
        )
    if problems:
        raise GeneratorError("; ".join(problems))
    overrides = [
        f"{key}={value}"
        for key, value in (
            ("referrals", referrals),
            ("therapists", therapists),
            ("sites", sites),
            ("load", load),
            ("avanceret_share", avanceret_share),
            ("home_share", home_share),
            ("planning_date", planning_date),
            ("receipt_days", receipt_days),
            ("fragmentation", fragmentation),
        )
        if value is not None
    ]
    return _Params(
        profile=prof,
        seed=seed,
        referrals=prof.referrals if referrals is None else referrals,
        therapists=n_therapists,
        sites=n_sites,
        load=prof.load if load is None else load,
        avanceret_share=0.25 if avanceret_share is None else avanceret_share,
        home_share=0.10 if home_share is None else home_share,
        planning_date=DEFAULT_PLANNING_DATE if planning_date is None else planning_date,
        receipt_days=prof.receipt_days if receipt_days is None else receipt_days,
        name=" ".join([f"{profile}-week seed={seed}", *overrides]),
        fragmentation=fragmentation or 0.0,
    )


# --------------------------------------------------------------------------- helpers


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def _at(day: date, minutes: int) -> datetime:
    return datetime.combine(day, _clock(minutes))


def _weighted(rng: random.Random, items: Sequence[tuple[str, float]]) -> str:
    names = [n for n, _ in items]
    weights = [w for _, w in items]
    return rng.choices(names, weights=weights)[0]


def _offset(lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
    """The point `km` kilometres from (lat, lon) in direction `bearing` (radians)."""
    return (
        lat + km * math.cos(bearing) / 111.0,
        lon + km * math.sin(bearing) / (111.32 * math.cos(math.radians(lat))),
    )


def _allocate(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split over `weights` (largest remainder), at least one each."""
    n = len(weights)
    counts = [1] * n
    rest = total - n
    scale = sum(weights)
    exact = [rest * w / scale for w in weights]
    for i, x in enumerate(exact):
        counts[i] += int(x)
    order = sorted(range(n), key=lambda i: (-(exact[i] - int(exact[i])), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


# --------------------------------------------------------------------------- sites


def _site_specs(params: _Params, rng: random.Random) -> list[SiteSpec]:
    specs = list(params.profile.sites[: params.sites])
    main = params.profile.sites[0]
    for k in range(len(specs) + 1, params.sites + 1):
        lat, lon = _offset(main.lat, main.lon, rng.uniform(3.0, 12.0), rng.uniform(0, 2 * math.pi))
        specs.append(
            small_room(
                f"{params.profile.name}-{k}", f"Træningslokale {k}", "", round(lat, 4),
                round(lon, 4),
            )
        )  # fmt: skip
    return specs


def _opening_hours(spec: SiteSpec) -> list[OpeningHours]:
    return [
        OpeningHours(
            weekday=weekday,
            open=spec.opens,
            close=spec.friday_closes if weekday == 4 else spec.closes,
        )
        for weekday in range(5)
    ]


# --------------------------------------------------------------------------- therapists


@dataclass
class _Staff:
    """A therapist while being generated."""

    id: str
    name: str
    discipline: Discipline
    home_site: int
    specialties: list[str]
    home_visits: bool
    roster: list[tuple[date, int, int, int]]  # day, start minute, end minute, site index
    absences: list[Absence]


def _staff(
    params: _Params, specs: Sequence[SiteSpec], rng: random.Random, days: Sequence[date]
) -> list[_Staff]:
    n = params.therapists
    per_site = _allocate(n, [s.weight for s in specs])
    home_sites = [i for i, count in enumerate(per_site) for _ in range(count)]
    width = max(3, len(str(n)))
    staff: list[_Staff] = []
    for k, site in enumerate(home_sites, start=1):
        staff.append(
            _Staff(
                id=f"T-{k:0{width}d}",
                name=f"{rng.choice(_FIRST_NAMES)} {rng.choice(_INITIALS)}.",
                discipline=Discipline.PT if rng.random() < 0.6 else Discipline.OT,
                home_site=site,
                specialties=[],
                home_visits=rng.random() < 0.3,
                roster=[],
                absences=[],
            )
        )
    if n >= 2 and len({s.discipline for s in staff}) == 1:
        # Every training unit has both disciplines.
        odd = staff[rng.randrange(n)]
        odd.discipline = Discipline.OT if odd.discipline is Discipline.PT else Discipline.PT
    _approve_specialties(staff, rng)
    for discipline in Discipline:
        members = [s for s in staff if s.discipline is discipline]
        if members and not any(s.home_visits for s in members):
            rng.choice(members).home_visits = True
    for member in staff:
        _roster(member, specs, rng, days)
    return staff


def _approve_specialties(staff: Sequence[_Staff], rng: random.Random) -> None:
    """About 30% approved for one or two avanceret specialties, the common ones covered first."""
    for discipline in Discipline:
        members = [s for s in staff if s.discipline is discipline]
        if not members:
            continue
        count = min(len(members), max(1, round(0.3 * len(members))))
        approved = rng.sample(members, count)
        menu = _SPECIALTIES[discipline]
        for k, member in enumerate(approved):
            # The first specialists cover the specialties in order of demand, then at random.
            first = menu[k][0] if k < len(menu) else _weighted(rng, menu[:-1])
            member.specialties = [first]
            if rng.random() < 0.3:
                others = [(s, w + 0.05) for s, w in menu if s != first]
                member.specialties.append(_weighted(rng, others))
            member.specialties.sort()


def _absences(member: _Staff, rng: random.Random, days: Sequence[date]) -> set[date]:
    """A holiday week (8%), a course of one or two days (10%) or known sickness (4%)."""
    draw = rng.random()
    weeks = sorted({d - timedelta(days=d.weekday()) for d in days})
    block: list[date] = []
    reason = ""
    if draw < 0.08 and len(weeks) >= 3:
        monday = rng.choice(weeks[1:])
        block = [d for d in days if monday <= d < monday + timedelta(days=7)]
        reason = "ferie"
    elif 0.08 <= draw < 0.18:
        first = rng.randrange(len(days))
        block = list(days[first : first + rng.choice((1, 1, 2))])
        reason = "kursus"
    elif 0.18 <= draw < 0.22:
        block = list(days[: rng.randint(1, 3)])
        reason = "sygdom"
    if not block or len(block) >= len(days):
        return set()
    member.absences.append(Absence(start=block[0], end=block[-1], reason=reason))
    return set(block)


def _roster(
    member: _Staff, specs: Sequence[SiteSpec], rng: random.Random, days: Sequence[date]
) -> None:
    """Mostly full time (7.5 hours, Friday 7), some four days a week or short days; a few
    work one fixed weekday at another site; nothing on days of absence."""
    begin = 8 * 60 if rng.random() < 0.85 else 8 * 60 + 30
    kind = rng.random()
    day_off = rng.randrange(5) if kind < 0.15 else None
    short = rng.choice((300, 330, 390)) if 0.15 <= kind < 0.25 else None
    away_site: int | None = None
    away_weekday = -1
    if len(specs) > 1 and rng.random() < 0.12:
        away_site = rng.choice([i for i in range(len(specs)) if i != member.home_site])
        away_weekday = rng.randrange(5)
    absent = _absences(member, rng, days)
    for day in days:
        weekday = day.weekday()
        if weekday == day_off or day in absent:
            continue
        site = away_site if away_site is not None and weekday == away_weekday else member.home_site
        spec = specs[site]
        length = short if short is not None else (420 if weekday == 4 else 450)
        start = max(begin, _minutes(spec.opens))
        end = min(start + length, _minutes(spec.friday_closes if weekday == 4 else spec.closes))
        member.roster.append((day, start, end, site))


# --------------------------------------------------------------------------- bookings

_Item = tuple[int, str]  # minutes, kind: "room" (individual or group), "home", "office"


def _day_targets(
    lengths: Sequence[int], fractions: Sequence[float], load: float, rng: random.Random
) -> list[int]:
    """Booked minutes per therapist-day: about `load` overall, a little fuller in the first
    weeks (courses are booked ahead), jittered, on the grid and at most 97% of a day."""
    raw = [max(0.02, load * (1.06 - 0.12 * f) * rng.gauss(1.0, 0.10)) for f in fractions]
    total = sum(lengths)
    scale = 1.0
    for _ in range(8):
        booked = sum(min(MAX_FILL, r * scale) * n for r, n in zip(raw, lengths, strict=True))
        if booked <= 0:
            break
        scale *= load * total / booked
    return [
        _GRID * round(min(MAX_FILL, r * scale) * n / _GRID)
        for r, n in zip(raw, lengths, strict=True)
    ]


def _day_items(
    minutes: int, member: _Staff, meeting: bool, rng: random.Random, fragmentation: float = 0.0
) -> list[_Item]:
    """The day's bookings, in no order yet; the team meeting (if any) first. With
    `fragmentation`, that share of the individual sessions are short (30 minutes), so the
    free time is cut into more, shorter pieces."""
    items: list[_Item] = []
    left = minutes
    if meeting and left >= 30:
        length = min(rng.choice((30, 45, 60)), left)
        items.append((length, "office"))
        left -= length
    options: tuple[int, ...]
    while left >= 30:
        draw = rng.random()
        if draw < 0.10:
            kind, options = "room", (60, 90)  # a group session (hold)
        elif member.home_visits and draw < 0.35:
            kind, options = "home", (60, 75, 90)  # travel included
        elif draw < (0.55 if member.home_visits else 0.40):
            kind, options = "office", (30, 45, 60)  # documentation, conference, meeting
        else:
            kind, options = "room", (30, 45, 45, 60, 60, 60)  # an individual session
            if fragmentation and rng.random() < fragmentation:
                options = (30,)
        fitting = [o for o in options if o <= left]
        if fitting:
            length = rng.choice(fitting)
        else:
            kind, length = "room", left if left <= 60 else 30
        items.append((length, kind))
        left -= length
    if left:
        items.append((left, "office"))  # a quarter of an hour's phone follow-up
    return items


def _arrangement(
    items: Sequence[_Item],
    pinned: bool,
    begin: int,
    length: int,
    rng: random.Random,
    fragmentation: float = 0.0,
) -> list[tuple[int, int, str]]:
    """The items in random order with the free time cut into random gaps between them:
    (start minute, minutes, kind). A pinned first item stays at the start of the day. With
    `fragmentation`, that share of the days cut their free time into as many gaps as fit."""
    pinned = pinned and bool(items)  # an empty day (load 0) has no meeting to pin
    movable = list(items[1:] if pinned else items)
    rng.shuffle(movable)
    order = [items[0], *movable] if pinned else movable
    units = (length - sum(m for m, _ in order)) // _GRID
    positions = list(range(1 if pinned else 0, len(order) + 1))
    gaps: dict[int, int] = {}
    if units > 0:
        # Mostly gaps of 15-45 minutes, now and then an hour or more.
        upper = min(len(positions), max(1, math.ceil(units / 2.5)))
        k = rng.randint(min(upper, max(1, math.ceil(units / 6))), upper)
        if fragmentation and rng.random() < fragmentation:
            k = min(len(positions), units)
        cuts = sorted(rng.sample(range(1, units), k - 1))
        parts = [b - a for a, b in zip([0, *cuts], [*cuts, units], strict=True)]
        for position, part in zip(rng.sample(positions, k), parts, strict=True):
            gaps[position] = part * _GRID
    placed: list[tuple[int, int, str]] = []
    t = begin
    for index, (minutes, kind) in enumerate(order):
        t += gaps.get(index, 0)
        placed.append((t, minutes, kind))
        t += minutes
    return placed


def _room_conflicts(placed: Sequence[tuple[int, int, str]], used: list[int], rooms: int) -> int:
    return sum(
        1
        for start, minutes, kind in placed
        if kind == "room"
        and any(used[s] >= rooms for s in range(start // _GRID, (start + minutes) // _GRID))
    )


def _bookings(
    staff: Sequence[_Staff],
    site_ids: Sequence[str],
    rooms: Sequence[int],
    days: Sequence[date],
    load: float,
    rng: random.Random,
    fragmentation: float = 0.0,
) -> list[Booking]:
    position = {day: i / max(1, len(days) - 1) for i, day in enumerate(days)}
    meeting_day = [rng.randrange(5) for _ in site_ids]
    shifts = [(member, entry) for member in staff for entry in member.roster]
    targets = _day_targets(
        [end - start for _, (_, start, end, _) in shifts],
        [position[day] for _, (day, _, _, _) in shifts],
        load,
        rng,
    )
    by_day: dict[date, list[int]] = {}
    for index, (_, (day, _, _, _)) in enumerate(shifts):
        by_day.setdefault(day, []).append(index)
    raw: list[tuple[str, int, datetime, datetime, str]] = []
    for day in days:
        used = {site: [0] * _SLOTS_PER_DAY for site in range(len(site_ids))}
        order = by_day.get(day, [])
        rng.shuffle(order)
        for index in order:
            member, (_, start, end, site) = shifts[index]
            meeting = day.weekday() == meeting_day[site] and site == member.home_site
            items = _day_items(targets[index], member, meeting, rng, fragmentation)
            best: list[tuple[int, int, str]] = []
            best_conflicts = -1
            for _ in range(8):
                placed = _arrangement(items, meeting, start, end - start, rng, fragmentation)
                conflicts = _room_conflicts(placed, used[site], rooms[site])
                if best_conflicts < 0 or conflicts < best_conflicts:
                    best, best_conflicts = placed, conflicts
                if conflicts == 0:
                    break
            for at, minutes, kind in best:
                slots = range(at // _GRID, (at + minutes) // _GRID)
                if kind == "room" and any(used[site][s] >= rooms[site] for s in slots):
                    kind = "office"  # no room free: the time goes to documentation instead
                if kind == "room":
                    for s in slots:
                        used[site][s] += 1
                raw.append(
                    (member.id, index, _at(day, at), _at(day, at + minutes), kind)
                )  # fmt: skip
    raw.sort(key=lambda b: (b[0], b[2]))
    width = max(5, len(str(len(raw))))
    return [
        Booking(
            id=f"B-{k:0{width}d}",
            therapist_id=therapist_id,
            site_id=site_ids[shifts[index][1][3]] if kind == "room" else None,
            start=start,
            end=end,
            at_home=kind == "home",
        )
        for k, (therapist_id, index, start, end, kind) in enumerate(raw, start=1)
    ]


# --------------------------------------------------------------------------- referrals


def _receipt_days(planning_date: date, n: int, cal: WorkingCalendar) -> list[date]:
    """The last `n` working days up to the planning date: when the batch's plans came in."""
    days = [cal.last_working_day_on_or_before(planning_date)]
    while len(days) < n:
        days.append(cal.last_working_day_on_or_before(days[-1] - timedelta(days=1)))
    return days


def _referral_specialty(
    discipline: Discipline, age: int, options: Sequence[str], rng: random.Random
) -> str:
    if rng.random() < _UNCOVERED_RATE:
        return rng.choice(_UNCOVERED_SPECIALTIES)
    if age < 18:
        return "børn"
    menu = [(s, w) for s, w in _SPECIALTIES[discipline] if w > 0]
    offered = [(s, w) for s, w in menu if s in options] or menu
    return _weighted(rng, offered)


def _home_location(site: Site, profile: Profile, rng: random.Random) -> Coordinates:
    """A citizen's home within about 12 km of a site, inland: somewhere on the way towards
    another of the municipality's sites, a few kilometres to either side."""
    here = site.coordinates
    others = [s for s in profile.sites if (s.lat, s.lon) != (here.lat, here.lon)]
    lat, lon = here.lat, here.lon
    if others:
        there = rng.choice(others)
        north = (there.lat - here.lat) * 111.0
        east = (there.lon - here.lon) * 111.32 * math.cos(math.radians(here.lat))
        km = min(12.0, math.hypot(north, east)) * rng.random()
        lat, lon = _offset(lat, lon, km, math.atan2(east, north))
    lat, lon = _offset(lat, lon, 3.0 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi))
    return Coordinates(lat=round(lat, 4), lon=round(lon, 4))


def _referrals(
    params: _Params,
    sites: Sequence[Site],
    based: Sequence[int],
    staff: Sequence[_Staff],
    days: Sequence[date],
    cal: WorkingCalendar,
    rng: random.Random,
) -> list[Referral]:
    policy = params.profile.policy
    receipt_days = _receipt_days(params.planning_date, params.receipt_days, cal)
    covered: dict[tuple[Discipline, bool], list[str]] = {}
    for discipline in Discipline:
        for home in (False, True):
            covered[discipline, home] = sorted(
                {
                    sp
                    for s in staff
                    if s.discipline is discipline and (s.home_visits or not home)
                    for sp in s.specialties
                }
            )
    width = max(4, len(str(params.referrals)))
    referrals: list[Referral] = []
    for k in range(1, params.referrals + 1):
        received = rng.choice(receipt_days)
        # 82% of plans are sent within a day of discharge, the rest 2-6 days later.
        lag = rng.choice((0, 1)) if rng.random() < 0.82 else rng.randint(2, 6)
        discharge = received - timedelta(days=lag)
        discipline = Discipline.PT if rng.random() < 0.65 else Discipline.OT
        minor = not policy.minors_to_childrens_team and rng.random() < 0.01
        age = rng.randint(16, 17) if minor else min(95, max(18, round(rng.triangular(18, 96, 76))))
        home = rng.random() < params.home_share
        avanceret = rng.random() < params.avanceret_share
        specialty: str | None = None
        if avanceret:
            if home and not covered[discipline, True]:
                home = False  # no specialist of the discipline does home visits
            specialty = _referral_specialty(discipline, age, covered[discipline, home], rng)
        location: Coordinates | None = None
        chosen: str | None = None
        if home:
            site = sites[rng.choices(range(len(sites)), weights=based)[0]]
            location = _home_location(site, params.profile, rng)
        elif len(sites) > 1 and rng.random() < 0.20:
            chosen = sites[rng.choices(range(len(sites)), weights=based)[0]].id
        minutes = rng.choices((60, 45, 90), weights=(80, 8, 12))[0]
        chronic = rng.random() < 0.04
        unavailable = (
            sorted(rng.sample(list(days[:10]), min(len(days[:10]), rng.randint(1, 3))))
            if rng.random() < 0.12
            else []
        )
        referral = Referral(
            id=f"R-{k:0{width}d}",
            discharge_date=discharge,
            received_date=received,
            level=Level.AVANCERET if avanceret else Level.BASAL,
            discipline=discipline,
            specialty=specialty,
            unavailable_dates=unavailable,
            home_training=home,
            chosen_site_id=chosen,
            location=location,
            age=age,
            chronic_course=chronic,
            first_session_minutes=minutes,
        )
        referrals.append(_moved_start(referral, params, cal, rng))
    return referrals


def _moved_start(
    referral: Referral, params: _Params, cal: WorkingCalendar, rng: random.Random
) -> Referral:
    """About 8% have a plan-specified start (mostly 10-21 days later, some earlier), about 5%
    asked to start later themselves."""
    policy = params.profile.policy
    draw = rng.random()
    if draw < 0.08:
        ordinary = legal_deadline(referral, policy, cal)
        first = earliest_start(referral, policy, cal)
        if rng.random() < 0.75 or first >= ordinary:
            later = max(
                referral.discharge_date + timedelta(days=rng.randint(10, 21)),
                ordinary + timedelta(days=rng.randint(1, 3)),
            )
            update: dict[str, Any] = {
                "plan_start_date": cal.next_working_day_on_or_after(later),
                "plan_start_kind": PlanStartKind.LATER,
            }
        else:
            update = {
                "plan_start_date": rng.choice(cal.working_days(first, ordinary - timedelta(1))),
                "plan_start_kind": PlanStartKind.EARLIER,
            }
        return referral.model_copy(update=update)
    if draw < 0.13:
        postponed = params.planning_date + timedelta(days=rng.randint(10, 30))
        return referral.model_copy(
            update={"postponed_to": cal.next_working_day_on_or_after(postponed)}
        )
    return referral


# --------------------------------------------------------------------------- generate


def generate(
    profile: str,
    seed: int,
    *,
    referrals: int | None = None,
    therapists: int | None = None,
    sites: int | None = None,
    load: float | None = None,
    avanceret_share: float | None = None,
    home_share: float | None = None,
    planning_date: date | None = None,
    receipt_days: int | None = None,
    fragmentation: float | None = None,
) -> Instance:
    """A week's planning batch for a municipality profile, the same for the same arguments.

    `profile` is one of :data:`PROFILES`; every other argument left out takes the profile's
    default: its weekly referrals, therapists and sites, calendar `load` (booked share of the
    rostered minutes), avanceret share 0.25, home-training share 0.10, planning date
    :data:`DEFAULT_PLANNING_DATE`, and `receipt_days`: the plans of the batch were received over
    that many working days up to the planning date (the profile's, 1 unless it asks for a
    backlog: a batch of plans received over a whole week holds plans already due by the time it
    is planned, which is a property of weekly planning, not of the method compared). The
    instance's name records the profile, seed and overrides.

    `fragmentation` (0 to 1) makes harder calendars: that share of the individual sessions
    short, that share of the days with their free time cut into as many gaps as fit, and rooms
    scarcer (down to half the usual share of the therapists based at a site at 1), so more gaps
    can meet a full site. 0 gives exactly the calendars of before.
    Raises :class:`GeneratorError` for an unknown profile or a parameter out of range.
    """
    params = _check_params(
        profile,
        seed,
        referrals,
        therapists,
        sites,
        load,
        avanceret_share,
        home_share,
        planning_date,
        receipt_days,
        fragmentation,
    )
    policy = params.profile.policy
    cal = WorkingCalendar(policy)
    days = cal.working_days(
        params.planning_date + timedelta(days=1),
        params.planning_date + timedelta(days=policy.horizon_days),
    )
    if not days:
        raise GeneratorError(f"no working day in the horizon after {params.planning_date}")
    main = random.Random(seed)
    site_rng, staff_rng, booking_rng, referral_rng, course_rng = (
        random.Random(main.getrandbits(64)) for _ in range(5)
    )

    specs = _site_specs(params, site_rng)
    staff = _staff(params, specs, staff_rng, days)
    based = [sum(1 for s in staff if s.home_site == i) for i in range(len(specs))]
    scarce = 1.0 - 0.5 * params.fragmentation
    rooms = [max(1, math.ceil(site_rng.uniform(0.6, 0.9) * scarce * n)) for n in based]
    site_models = [
        Site(
            id=spec.id,
            name=spec.name,
            address=spec.address,
            coordinates=Coordinates(lat=spec.lat, lon=spec.lon),
            opening_hours=_opening_hours(spec),
            rooms=rooms[i],
            holds=_holds(params.profile.courses, spec.id, days, course_rng)
            if i < 2 or course_rng.random() < 0.3
            else [],
        )
        for i, spec in enumerate(specs)
    ]
    site_ids = [spec.id for spec in specs]
    bookings = _bookings(
        staff, site_ids, rooms, days, params.load, booking_rng, params.fragmentation
    )
    therapist_models = [
        Therapist(
            id=member.id,
            name=member.name,
            discipline=member.discipline,
            specialties=member.specialties,
            roster=[
                RosterEntry(date=day, start=_clock(start), end=_clock(end), site_id=site_ids[site])
                for day, start, end, site in member.roster
            ],
            absences=member.absences,
            home_visits=member.home_visits,
        )
        for member in staff
    ]
    referral_models = _with_courses(
        _referrals(params, site_models, based, staff, days, cal, referral_rng),
        params.profile.courses,
        course_rng,
    )
    return Instance(
        name=params.name,
        planning_date=params.planning_date,
        policy=policy,
        sites=site_models,
        therapists=therapist_models,
        bookings=bookings,
        referrals=referral_models,
    )


# --------------------------------------------------------------------------- courses


def _holds(mix: CourseMix, site_id: str, days: Sequence[date], rng: random.Random) -> list[Hold]:
    """The holds a site runs: each hold type of the mix with probability 1/2, two sessions a
    week, seats from the mix, already filled by ongoing courses to a share of the seats."""
    mondays = sorted({d - timedelta(days=d.weekday()) for d in days})
    out: list[Hold] = []
    for discipline, kind in mix.hold_types:
        if rng.random() >= 0.5:
            continue
        seats = rng.randint(*mix.seats)
        first = rng.randint(0, 2)
        out.append(
            Hold(
                id=f"{site_id}-{kind}",
                type=kind,
                discipline=discipline,
                levels=[Level.BASAL, Level.AVANCERET] if kind == "neuro" else [Level.BASAL],
                sessions=[
                    HoldSession(weekday=first, start=time(10), minutes=60),
                    HoldSession(weekday=first + 2, start=time(10), minutes=60),
                ],
                seats=seats,
                taken=[
                    HoldWeek(week_start=m, taken=min(seats, round(seats * rng.uniform(*mix.taken))))
                    for m in mondays
                ],
            )
        )
    return out


def _with_courses(referrals: list[Referral], mix: CourseMix, rng: random.Random) -> list[Referral]:
    """The referrals with their courses drawn from the mix (form, length, sessions, minutes;
    a hold course a hold type of its discipline)."""
    out: list[Referral] = []
    for ref in referrals:
        kinds = [k for d, k in mix.hold_types if d is ref.discipline]
        u = rng.random()
        if u < mix.hold_share and kinds:
            form = CourseForm.HOLD
        elif u < mix.hold_share + mix.either_share and kinds:
            form = CourseForm.EITHER
        elif u < mix.hold_share + mix.either_share + mix.virtual_share:
            form = CourseForm.VIRTUAL
        else:
            form = CourseForm.INDIVIDUAL
        course = Course(
            form=form,
            weeks=rng.choice(mix.weeks),
            sessions_per_week=rng.choice(mix.sessions_per_week),
            minutes_per_session=rng.choice(mix.minutes),
            hold_type=rng.choice(kinds) if form in (CourseForm.HOLD, CourseForm.EITHER) else None,
        )
        out.append(ref.model_copy(update={"course": course}))
    return out


# --------------------------------------------------------------------------- JSON


def _format(value: Any, depth: int) -> str:
    compact = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if not isinstance(value, dict | list) or not value or (depth >= 2 and len(compact) <= 300):
        return compact
    pad = " " * (depth + 1)
    if isinstance(value, dict):
        lines = [
            f"{pad}{json.dumps(k, ensure_ascii=False)}: {_format(v, depth + 1)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(lines) + "\n" + " " * depth + "}"
    lines = [pad + _format(v, depth + 1) for v in value]
    return "[\n" + ",\n".join(lines) + "\n" + " " * depth + "]"


def instance_json(instance: Instance) -> str:
    """The instance as compact, readable JSON: one line per booking, roster entry and short
    record; fields at their default left out, except the policy, which is written in full."""
    data = instance.model_dump(mode="json", exclude_defaults=True)
    data["policy"] = instance.policy.model_dump(mode="json")
    return _format(data, 0) + "\n"
