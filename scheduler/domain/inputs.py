"""The inputs of one planning run: sites, therapists and their calendars, new referrals.

Danish words kept where they are the domain's own:

- *genoptræningsplan* (GOP): the rehabilitation plan a hospital sends to the citizen's
  municipality; here a :class:`Referral`.
- *basal* / *avanceret*: the two levels of almen (general) rehabilitation. Basal can be done by
  any authorised therapist of the discipline; avanceret only by one approved for the specialty.
- *frit valg*: the citizen's right to choose a KL-contracted private provider when the
  municipality cannot start on time.

All times are local Danish wall-clock times without a time zone. All models forbid unknown
fields, so a typo in an instance file is an error rather than silently ignored data.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from scheduler.domain.course import Course, CourseForm
from scheduler.domain.policy import Policy
from scheduler.domain.wallclock import Day, LocalDateTime, LocalTime

__all__ = [
    "LEVEL_WORDINGS",
    "MAX_ID_LENGTH",
    "Absence",
    "Booking",
    "BookingStatus",
    "Coordinates",
    "Course",
    "CourseForm",
    "Day",
    "Discipline",
    "DomainModel",
    "Hold",
    "HoldSession",
    "HoldWeek",
    "Id",
    "Instance",
    "Level",
    "LocalDateTime",
    "LocalTime",
    "OpeningHours",
    "PlanStartKind",
    "Referral",
    "RosterEntry",
    "Site",
    "Therapist",
    "id_tag",
    "quotable_id",
    "quote_id",
]

# A Danish CPR number: ddmmyy-xxxx or ddmmyyxxxx. Every id must be pseudonymous.
_CPR = re.compile(r"(?<!\d)[0-3]\d[01]\d\d\d-?\d{4}(?!\d)")
_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
_ID = re.compile(_ID_PATTERN)
MAX_ID_LENGTH = 64
"""Longest id (site, therapist, booking, referral) accepted anywhere."""


def _not_cpr(value: str) -> str:
    if _CPR.search(value):
        raise ValueError("looks like a CPR number; ids must be pseudonymous (never a CPR number)")
    return value


Id = Annotated[
    str,
    Field(min_length=1, max_length=MAX_ID_LENGTH, pattern=_ID_PATTERN),
    AfterValidator(_not_cpr),
]
"""A pseudonymous id: at most 64 letters, digits and ``_.:-``, never CPR-shaped."""


def quotable_id(value: object) -> bool:
    """Whether `value` may be quoted in an error or a log: a well-formed, pseudonymous id."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_ID_LENGTH
        and _ID.match(value) is not None
        and _CPR.search(value) is None
    )


def id_tag(value: str) -> str:
    """An id for a field path such as ``referrals[3](r-17)``: itself if :func:`quotable_id`,
    else ``?``."""
    return value if quotable_id(value) else "?"


def quote_id(value: object) -> str:
    """`value` quoted for an error text or a log line if it is a pseudonymous id of bounded
    length (:func:`quotable_id`), else a fixed placeholder: no CPR number or oversized text is
    ever echoed."""
    return repr(value) if quotable_id(value) else "<withheld: not a pseudonymous id>"


# The seeds' own wordings of the levels (lower case, spaces collapsed), by the level they name.
# Only basal and avanceret are almen genoptræning; the others are parsed so that a referral at
# such a level is rejected with its own outcome instead of failing the whole instance.
LEVEL_WORDINGS: dict[str, str] = {
    "specialiseret": "specialiseret",
    "specialiseret genoptræning": "specialiseret",
    "genoptræning på specialiseret niveau": "specialiseret",
    "rehabilitering på specialiseret niveau": "rehabilitering_specialiseret",
    "specialiseret rehabilitering": "rehabilitering_specialiseret",
}


class DomainModel(BaseModel):
    """Base of every domain model: unknown fields forbidden, frozen, strings stripped."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Discipline(StrEnum):
    """Fysioterapeut (PT) or ergoterapeut (OT)."""

    PT = "PT"
    OT = "OT"


class Level(StrEnum):
    """The level the hospital referred to and the training unit assigned (visiteret).

    Basal and avanceret are the two levels of almen genoptræning, the only ones this scheduler
    books. The two specialiseret levels are recognised so that such a referral gets the outcome
    `rejected` with where it belongs (:func:`scheduler.rules.legal.exclusion`), never an error
    that stops the batch.
    """

    BASAL = "basal"
    AVANCERET = "avanceret"
    SPECIALISERET = "specialiseret"
    """Genoptræning på specialiseret niveau: takes place at the hospital (the region)."""
    REHABILITERING_SPECIALISERET = "rehabilitering_specialiseret"
    """Rehabilitering på specialiseret niveau: delivered by external providers."""

    @property
    def almen(self) -> bool:
        """Whether the level is almen genoptræning (basal or avanceret)."""
        return self in (Level.BASAL, Level.AVANCERET)


class PlanStartKind(StrEnum):
    """Whether a plan-specified start date asks for an earlier or a later start than 7 days."""

    EARLIER = "earlier"
    LATER = "later"


class BookingStatus(StrEnum):
    """`communicated`: already told to the citizen, frozen. `tentative`: not yet told."""

    COMMUNICATED = "communicated"
    TENTATIVE = "tentative"


class Coordinates(DomainModel):
    """WGS84 latitude and longitude in degrees."""

    lat: float = Field(ge=54.0, le=58.0, description="Latitude (Denmark: 54–58).")
    lon: float = Field(ge=7.0, le=16.0, description="Longitude (Denmark: 7–16).")


class OpeningHours(DomainModel):
    """A site's opening hours on one weekday (0 = Monday … 4 = Friday)."""

    weekday: int = Field(ge=0, le=6)
    open: LocalTime
    close: LocalTime

    @model_validator(mode="after")
    def _ordered(self) -> OpeningHours:
        if self.close <= self.open:
            raise ValueError(f"close {self.close} is not after open {self.open}")
        return self


class HoldSession(DomainModel):
    """One weekly session of a hold: weekday (0 = Monday), start time, minutes."""

    weekday: int = Field(ge=0, le=4)
    start: LocalTime
    minutes: int = Field(default=60, ge=15, le=240)


class HoldWeek(DomainModel):
    """The seats of a hold already taken by ongoing courses in the ISO week from `week_start`
    (a Monday)."""

    week_start: Day
    taken: int = Field(ge=0)

    @field_validator("week_start")
    @classmethod
    def _monday(cls, value: date) -> date:
        if value.weekday() != 0:
            raise ValueError(f"week_start {value} is not a Monday")
        return value


class Hold(DomainModel):
    """A hold (group class) a site runs every week, e.g. knee-hip, back, neuro, heart-lung.

    A citizen on a hold takes one seat in every week of their course. With `rolling_admission`
    a course may join in any week; otherwise only in the weeks of `intake_weeks` (Mondays).
    `taken` gives the seats ongoing courses already hold per week (weeks not listed: none).
    The hold's sessions are expected in its therapist's calendar as bookings; the planner adds
    no time for them.
    """

    id: Id
    type: str = Field(min_length=1)
    discipline: Discipline
    levels: list[Level] = Field(default_factory=lambda: [Level.BASAL], min_length=1)
    therapist_id: Id | None = None
    sessions: list[HoldSession] = Field(min_length=1)
    seats: int = Field(ge=1, le=100)
    rolling_admission: bool = True
    intake_weeks: list[Day] = Field(default_factory=list)
    taken: list[HoldWeek] = Field(default_factory=list)

    def taken_in(self, week_start: date) -> int:
        """Seats ongoing courses hold in the week from `week_start`."""
        return sum(w.taken for w in self.taken if w.week_start == week_start)

    def admits(self, week_start: date) -> bool:
        """Whether a course may join in the week from `week_start`."""
        return self.rolling_admission or week_start in self.intake_weeks


class Site(DomainModel):
    """A training site (træningscenter); `rooms` is the number of parallel individual sessions;
    `holds` the group classes it runs."""

    id: Id
    name: str = Field(min_length=1)
    address: str = ""
    coordinates: Coordinates
    opening_hours: list[OpeningHours] = Field(min_length=1)
    rooms: int = Field(ge=1, le=200)
    holds: list[Hold] = Field(default_factory=list)

    def hours_on(self, day: date) -> list[OpeningHours]:
        return [h for h in self.opening_hours if h.weekday == day.weekday()]


class RosterEntry(DomainModel):
    """One stretch of rostered work: on `date`, from `start` to `end`, based at `site_id`."""

    date: Day
    start: LocalTime
    end: LocalTime
    site_id: Id

    @model_validator(mode="after")
    def _ordered(self) -> RosterEntry:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        return self


class Absence(DomainModel):
    """A therapist's absence (holiday, course, sickness), both dates inclusive."""

    start: Day
    end: Day
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Absence:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


class Therapist(DomainModel):
    """An authorised therapist. Every therapist can do basal work in their discipline;
    avanceret only in the `specialties` they are approved for."""

    id: Id
    name: str = ""
    discipline: Discipline
    specialties: list[str] = Field(default_factory=list)
    roster: list[RosterEntry] = Field(default_factory=list)
    absences: list[Absence] = Field(default_factory=list)
    home_visits: bool = False

    def is_absent(self, day: date) -> bool:
        return any(a.covers(day) for a in self.absences)


class Booking(DomainModel):
    """An existing entry in a therapist's calendar: an ongoing course session, a meeting,
    or a first session already planned.

    Every booking stays exactly where it is. `site_id` is the room it occupies (None: off-site,
    e.g. a home visit or a meeting, using no room). `referral_id` marks the first session of a
    referral in this instance: a `communicated` one fixes that referral's start; a `tentative`
    one is released and the referral planned anew (the old slot is only a hint).
    """

    id: Id
    therapist_id: Id
    site_id: Id | None = None
    start: LocalDateTime
    end: LocalDateTime
    status: BookingStatus = BookingStatus.COMMUNICATED
    referral_id: Id | None = None
    at_home: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Booking:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        if self.end.date() != self.start.date():
            raise ValueError("a booking must start and end on the same day")
        return self


class Referral(DomainModel):
    """A genoptræningsplan received by the municipality, visiteret to a level and discipline.

    `id` is pseudonymous: a CPR number is rejected. `plan_start_date` with `plan_start_kind`
    is a start date the hospital specified for a health reason; `postponed_to` is the
    citizen's own request to start later, and `unavailable_dates` the days they cannot come
    (whether these take the guarantee away is :func:`scheduler.rules.legal.citizen_delay`).
    `level` accepts the seeds' wordings (:data:`LEVEL_WORDINGS`); a specialiseret level is
    parsed, and the referral rejected by the planner, never an error that stops the batch.
    """

    id: Id
    discharge_date: Day
    received_date: Day
    level: Level
    discipline: Discipline
    specialty: str | None = None
    forloebskode: str | None = None
    plan_start_date: Day | None = None
    plan_start_kind: PlanStartKind | None = None
    postponed_to: Day | None = None
    unavailable_dates: list[Day] = Field(default_factory=list)
    home_training: bool = False
    chosen_site_id: Id | None = None
    location: Coordinates | None = None
    age: int = Field(ge=0, le=130)
    chronic_course: bool = Field(
        default=False,
        description="A chronic-disease course (KOL, heart, diabetes) ordered through the plan.",
    )
    first_session_minutes: int = Field(default=60, ge=15, le=240)
    course: Course | None = Field(
        default=None,
        description="The course after the first session; None: the policy's default.",
    )

    @field_validator("level", mode="before")
    @classmethod
    def _level_wording(cls, value: Any) -> Any:
        """Accept the seeds' own wordings of the levels (see :data:`LEVEL_WORDINGS`)."""
        if isinstance(value, str):
            key = " ".join(value.split()).lower()
            return LEVEL_WORDINGS.get(key, key)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Referral:
        problems: list[str] = []
        if self.received_date < self.discharge_date:
            problems.append(
                f"received_date {self.received_date} is before discharge_date {self.discharge_date}"
            )
        if self.level is Level.AVANCERET and not self.specialty:
            problems.append("an avanceret referral needs a specialty")
        if (self.plan_start_date is None) != (self.plan_start_kind is None):
            problems.append("plan_start_date and plan_start_kind go together")
        if self.home_training and self.location is None:
            problems.append("home training needs the citizen's location")
        if self.home_training and self.chosen_site_id is not None:
            problems.append("home training and a chosen site exclude each other")
        if self.postponed_to is not None and self.postponed_to < self.received_date:
            problems.append("postponed_to is before the plan was received")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Instance(DomainModel):
    """Everything one planning run needs: the policy, resources, calendars and new referrals."""

    name: str = ""
    planning_date: Day = Field(
        description="The day the plan is made; the first bookable day is the next working day."
    )
    policy: Policy
    sites: list[Site]
    therapists: list[Therapist]
    bookings: list[Booking] = Field(default_factory=list)
    referrals: list[Referral] = Field(default_factory=list)
    offers_sent_at: LocalDateTime | None = Field(
        default=None,
        description=(
            "When this run's frit valg offers go out to citizens; the answer-by time counts from "
            "it. None: at the end of the planning day (the policy's day_end)."
        ),
    )

    @model_validator(mode="after")
    def _offers_after_planning(self) -> Instance:
        if self.offers_sent_at is not None and self.offers_sent_at.date() < self.planning_date:
            raise ValueError(
                f"offers_sent_at {self.offers_sent_at} is before the planning date "
                f"{self.planning_date}"
            )
        return self
