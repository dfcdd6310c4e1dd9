"""The Danish working calendar: weekdays that are not public holidays or closed days; and the
minutes of a day, the unit every free stretch and session is measured in.

Public holidays come from the maintained `holidays` package (Nytårsdag, Skærtorsdag,
Langfredag, 2. påskedag, Kristi Himmelfartsdag, 2. pinsedag, 1. and 2. juledag; Store Bededag
only until 2023, when it was abolished); imported with this module, so the first plan of a
process does not pay for loading the package's country tables. Grundlovsdag, 24 and 31
December are policy settings.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache

from holidays.countries.denmark import Denmark

from scheduler.domain.policy import DayKind, Policy

__all__ = ["WorkingCalendar", "as_minutes", "at_minutes"]


def as_minutes(t: time) -> int:
    """Minutes since midnight (seconds dropped)."""
    return t.hour * 60 + t.minute


def at_minutes(day: date, minutes: int) -> datetime:
    """The moment `minutes` after midnight of `day`."""
    return datetime.combine(day, time(0)) + timedelta(minutes=minutes)


_REMEMBERED_DAYS = 4096
"""Days a :class:`WorkingCalendar` remembers (about eleven years)."""


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(Denmark(years=year).keys())  # type: ignore[no-untyped-call]


class WorkingCalendar:
    """Which days training can happen on, and day arithmetic over them, under one policy."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._closed = frozenset(policy.closed_days)
        self._working: dict[date, bool] = {}
        """Days already asked about (ProposeSlots asks about the same few dozen days in every
        call on a held calendar); bounded by :data:`_REMEMBERED_DAYS`."""

    def is_public_holiday(self, day: date) -> bool:
        if day in _public_holidays(day.year):
            return True
        if day.month == 6 and day.day == 5 and self.policy.grundlovsdag_closed:
            return True
        if day.month == 12 and day.day == 24 and self.policy.christmas_eve_closed:
            return True
        return day.month == 12 and day.day == 31 and self.policy.new_years_eve_closed

    def is_working_day(self, day: date) -> bool:
        """A weekday that is neither a public holiday nor one of the policy's closed days."""
        known = self._working.get(day)
        if known is not None:
            return known
        working = day.weekday() < 5 and not self.is_public_holiday(day) and day not in self._closed
        if len(self._working) < _REMEMBERED_DAYS:
            self._working[day] = working
        return working

    def last_working_day_on_or_before(self, day: date) -> date:
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def next_working_day_on_or_after(self, day: date) -> date:
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after `day` (n = 0: `day` itself)."""
        while n > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def add_days(self, day: date, n: int, kind: DayKind) -> date:
        """`n` days after `day`, counting calendar days or working days."""
        if kind is DayKind.WEEKDAYS:
            return self.add_working_days(day, n)
        return day + timedelta(days=n)

    def working_days(self, first: date, last: date) -> list[date]:
        """The working days from `first` to `last`, both inclusive."""
        days: list[date] = []
        day = first
        while day <= last:
            if self.is_working_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days

    def daytime(self, day: date) -> tuple[datetime, datetime]:
        """The daytime window (policy `day_start`–`day_end`) of a day."""
        return (
            datetime.combine(day, self.policy.day_start),
            datetime.combine(day, self.policy.day_end),
        )
