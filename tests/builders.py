"""Small builders of tiny hand-made weeks, shared by every test module (see ``conftest.py``).

A test says what matters and leaves the rest to defaults: one training site open 07:00–17:00 on
weekdays, PT therapists working 08:00–15:30 at it, basal PT referrals of a 70-year-old,
the Sønderborg policy (7 calendar days from discharge). The default week is the week of
Monday 30 November 2026, planned on the Friday before.

- :func:`site`, :func:`shift` (one roster entry), :func:`therapist` (with :func:`free_hours`
  for a therapist whose only free time is given), :func:`booking`, :func:`referral` and
  :func:`due_on` (a referral whose legal deadline is a given day), :func:`instance`;
- :func:`fill_day` and :func:`full_week_but`: calendars already full except where said;
- :func:`solve_checked`: solve with one worker and a fixed seed, and assert that the
  independent checker accepts the plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from scheduler.domain import (
    Absence,
    Booking,
    Coordinates,
    Hold,
    Instance,
    OpeningHours,
    Referral,
    RosterEntry,
    Site,
    Solution,
    SolveOptions,
    Therapist,
)
from scheduler.domain.policy import PRESETS, Policy
from scheduler.planning.solve import solve
from scheduler.verify.checker import check_solution

__all__ = [
    "FRIDAY_BEFORE",
    "MONDAY",
    "SITE_A",
    "SITE_B",
    "WEEKDAYS",
    "booking",
    "by_id",
    "due_on",
    "fill_day",
    "free_hours",
    "full_week_but",
    "instance",
    "referral",
    "shift",
    "site",
    "solve_checked",
    "therapist",
]

MONDAY = date(2026, 11, 30)
FRIDAY_BEFORE = MONDAY - timedelta(days=3)
WEEKDAYS = [MONDAY + timedelta(days=i) for i in range(5)]
SITE_A = Coordinates(lat=54.91, lon=9.79)
SITE_B = Coordinates(lat=55.05, lon=9.74)


def site(
    id_: str = "A",
    rooms: int = 4,
    where: Coordinates = SITE_A,
    hours: tuple[time, time] | Mapping[int, tuple[time, time]] = (time(7), time(17)),
    *,
    name: str | None = None,
    holds: Sequence[Hold] = (),
) -> Site:
    """A training site open `hours` on every weekday (or, given ``{weekday: (open, close)}``,
    on those weekdays only; Monday is 0), named `name` (default: "Site <id>"), running
    `holds`."""
    week = hours if isinstance(hours, Mapping) else dict.fromkeys(range(5), hours)
    return Site(
        id=id_,
        name=name if name is not None else f"Site {id_}",
        coordinates=where,
        opening_hours=[OpeningHours(weekday=d, open=o, close=c) for d, (o, c) in week.items()],
        rooms=rooms,
        holds=list(holds),
    )


def shift(day: date, start: time | int, end: time | int, site_id: str = "A") -> RosterEntry:
    """A roster entry: at `site_id` on `day` from `start` to `end` (an int is a whole hour)."""
    return RosterEntry(date=day, start=_time(start), end=_time(end), site_id=site_id)


def therapist(
    id_: str,
    *,
    discipline: str = "PT",
    specialties: Sequence[str] = (),
    days: Sequence[date] | None = None,
    hours: tuple[time, time] = (time(8), time(15, 30)),
    site_id: str = "A",
    home_visits: bool = False,
    roster: Iterable[RosterEntry | tuple[date, time | int, time | int]] | None = None,
    absences: Sequence[Absence] = (),
) -> Therapist:
    """A therapist rostered `hours` at `site_id` on `days` (default: the week's weekdays).

    `roster` replaces that regular week with given stretches: roster entries, or
    ``(day, start, end)`` at `site_id` (start and end as times or whole hours).
    """
    if roster is None:
        entries = [
            shift(d, hours[0], hours[1], site_id) for d in (days if days is not None else WEEKDAYS)
        ]
    else:
        entries = [e if isinstance(e, RosterEntry) else shift(*e, site_id=site_id) for e in roster]
    return Therapist.model_validate(
        {
            "id": id_,
            "discipline": discipline,
            "specialties": list(specialties),
            "roster": entries,
            "home_visits": home_visits,
            "absences": list(absences),
        }
    )


def _time(t: time | int) -> time:
    return t if isinstance(t, time) else time(t)


def referral(
    id_: str, discharge: date = FRIDAY_BEFORE, *, received: date | None = None, **fields: Any
) -> Referral:
    """A basal PT referral of a 70-year-old, received on `received` (default: the day of
    discharge); any other field is given by keyword."""
    data: dict[str, Any] = {
        "id": id_,
        "discharge_date": discharge,
        "received_date": received if received is not None else discharge,
        "level": "basal",
        "discipline": "PT",
        "age": 70,
    }
    data.update(fields)
    return Referral.model_validate(data)


def due_on(id_: str, day: date, **fields: Any) -> Referral:
    """A referral whose legal deadline is `day` (a working day) under a policy that counts 7
    calendar days from discharge (the law's count, and the default policy): discharged a week
    before."""
    return referral(id_, day - timedelta(days=7), **fields)


def booking(
    id_: str, therapist_id: str, day: date, start: time, end: time, **fields: Any
) -> Booking:
    """A booking of `therapist_id` on `day` from `start` to `end`, in a room at site A (or at
    ``site_id=...``; ``site_id=None`` for one outside every site, which takes no room)."""
    return Booking.model_validate(
        {
            "id": id_,
            "therapist_id": therapist_id,
            "site_id": fields.pop("site_id", "A"),
            "start": datetime.combine(day, start),
            "end": datetime.combine(day, end),
            **fields,
        }
    )


def instance(
    therapists: list[Therapist],
    referrals: list[Referral],
    bookings: list[Booking] | None = None,
    sites: list[Site] | None = None,
    policy: Policy | None = None,
    planning_date: date = FRIDAY_BEFORE,
    *,
    name: str = "tiny",
    **fields: Any,
) -> Instance:
    """A week planned on `planning_date` under `policy` (default: Sønderborg's); any other
    field of the instance (``offers_sent_at``) is given by keyword."""
    return Instance(
        name=name,
        planning_date=planning_date,
        policy=policy or PRESETS["soenderborg"],
        sites=sites or [site()],
        therapists=therapists,
        bookings=bookings or [],
        referrals=referrals,
        **fields,
    )


def fill_day(therapist_id: str, day: date, free: tuple[time, time] | None = None) -> list[Booking]:
    """Hourly bookings from 08:00 to 15:00 on a day, leaving `free` open."""
    out = []
    for hour in range(8, 15):
        start = time(hour)
        if free and free[0] <= start < free[1]:
            continue
        out.append(
            booking(f"fill-{therapist_id}-{day}-{hour}", therapist_id, day, start, time(hour + 1))
        )
    return out


def full_week_but(
    therapist_id: str, free: Mapping[date, tuple[time, time]], days: Iterable[date] = WEEKDAYS
) -> list[Booking]:
    """A week of hourly bookings 08:00–15:00, leaving open the given hours of the given days."""
    return [b for day in days for b in fill_day(therapist_id, day, free.get(day))]


def free_hours(
    id_: str, free: Mapping[date, tuple[time, time]], **fields: Any
) -> tuple[Therapist, list[Booking]]:
    """A therapist rostered every weekday whose only free time is `free` (08:00–15:00 booked
    elsewhere; 15:00–15:30 stays free too): the therapist and the bookings that fill the week."""
    return therapist(id_, **fields), full_week_but(id_, free)


def solve_checked(inst: Instance, time_limit: float = 5.0) -> Solution:
    """Solve deterministically (one worker, seed 1) and assert the checker accepts the plan."""
    solution = solve(inst, SolveOptions(time_limit_s=time_limit, workers=1, seed=1))
    report = check_solution(inst, solution)
    assert report.ok, [str(v) for v in report.violations] + report.kpi_mismatches
    return solution


def by_id(solution: Solution) -> dict[str, Any]:
    """A solution's assignments by referral id."""
    return {a.referral_id: a for a in solution.assignments}
