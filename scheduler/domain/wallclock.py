"""Dates and times as the domain accepts them: local wall-clock values, never a zone or a number.

A time with a zone (``08:00Z``), a date-time with an offset (``2026-03-02T08:00+01:00``) or a
number where a date or time belongs (pydantic would read it as seconds or a Unix time) is a
field error naming the field, not a guess and not a traceback later, when an aware value meets
a naive one.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

__all__ = ["Day", "LocalDateTime", "LocalTime"]


def _not_a_number(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("must be text (a date as 2026-03-02, a time as 08:00), not a number")
    return value


def _no_zone(value: time | datetime) -> time | datetime:
    if value.tzinfo is not None:
        raise ValueError(
            "must be local wall-clock time without a zone or offset (e.g. 08:00 or "
            "2026-03-02T08:00); the policy's time zone applies"
        )
    return value


LocalTime = Annotated[time, BeforeValidator(_not_a_number), AfterValidator(_no_zone)]
"""A wall-clock time of day, no zone (08:00): a number or an offset is an error, not a guess."""
LocalDateTime = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_no_zone)]
"""A local date and time, no zone (2026-03-02T08:00)."""
Day = Annotated[date, BeforeValidator(_not_a_number)]
"""A calendar date (2026-03-02), never a number."""
