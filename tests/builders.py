"""Small builders of tiny hand-made weeks, shared by every test module (see ``conftest.py``).

A test says what matters and leaves the rest to defaults: one training site open 07:00–17:00 on
weekdays, PT therapists working 08:00–15:30 at it, basal PT referrals of a 70-year-old,
the Sønderborg policy (7 calendar days from discharge). The default week is the week of
Monday 30 November 2026, planned on the Friday before.

- :func:`site`, :func:`therapist` (with :func:`free_hours` for a therapist whose only free time
  is given), :func:`booking`, :func:`referral` and :func:`due_on` (a referral whose legal
  deadline is a given day), :func:`instance`;
- :func:`fill_day` and :func:`full_week_but`: calendars already full except where said;
- :func:`solve_checked`: solve with one worker and a fixed seed, and assert that the
  independent checker accepts the plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from scheduler.domain import (
    Booking,
    Coordinates,
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
    hours: tuple[time, time] = (time(7), time(17)),
) -> Site:
    """A training site open `hours` on every weekday."""
    return Site(
        id=id_,
        name=f"Site {id_}",
        coordinates=where,
        opening_hours=[OpeningHours(weekday=d, open=hours[0], close=hours[1]) for d in range(5)],
        rooms=rooms,
    )


def therapist(
    id_: str,
    *,
    discipline: str = "PT",
    specialties: tuple[str, ...] = (),
    days: Sequence[date] | None = None,
    hours: tuple[time, time] = (time(8), time(15, 30)),
    site_id: str = "A",
    home_visits: bool = False,
) -> Therapist:
    """A therapist rostered `hours` at `site_id` on `days` (default: the week's weekdays)."""
    return Therapist.model_validate(
        {
            "id": id_,
            "discipline": discipline,
            "specialties": list(specialties),
            "roster": [
                RosterEntry(date=d, start=hours[0], end=hours[1], site_id=site_id)
                for d in (days if days is not None else WEEKDAYS)
            ],
            "home_visits": home_visits,
        }
    )


def referral(id_: str, discharge: date = FRIDAY_BEFORE, **fields: Any) -> Referral:
    """A basal PT referral of a 70-year-old, received on the day of discharge."""
    data: dict[str, Any] = {
        "id": id_,
        "discharge_date": discharge,
        "received_date": discharge,
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
    """A booking of `therapist_id` on `day` from `start` to `end`, in a room at site A."""
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
) -> Instance:
    """A week planned on `planning_date` under `policy` (default: Sønderborg's)."""
    return Instance(
        name="tiny",
        planning_date=planning_date,
        policy=policy or PRESETS["soenderborg"],
        sites=sites or [site()],
        therapists=therapists,
        bookings=bookings or [],
        referrals=referrals,
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
