"""The domain of almen genoptræning (Sundhedsloven §140): who is referred, who trains them, where.

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
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scheduler.policy import Policy

__all__ = [
    "Absence",
    "Assignment",
    "Booking",
    "BookingStatus",
    "Coordinates",
    "Discipline",
    "Instance",
    "Kpis",
    "Level",
    "ObjectiveWeights",
    "OpeningHours",
    "Outcome",
    "PlanStartKind",
    "Reason",
    "Referral",
    "RosterEntry",
    "Site",
    "Solution",
    "SolveOptions",
    "SolverStats",
    "Therapist",
]

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]

# A Danish CPR number: ddmmyy-xxxx or ddmmyyxxxx. Referral ids must be pseudonymous.
_CPR = re.compile(r"(?<!\d)[0-3]\d[01]\d\d\d-?\d{4}(?!\d)")

# Levels that exist in Danish rehabilitation but are not almen genoptræning: where they belong.
EXCLUDED_LEVELS: dict[str, str] = {
    "specialiseret": (
        "specialiseret genoptræning takes place at the hospital (region), not in the municipality"
    ),
    "specialiseret genoptræning": (
        "specialiseret genoptræning takes place at the hospital (region), not in the municipality"
    ),
    "rehabilitering på specialiseret niveau": (
        "rehabilitering på specialiseret niveau is delivered by external providers, "
        "not by the municipal training unit"
    ),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Discipline(StrEnum):
    """Fysioterapeut (PT) or ergoterapeut (OT)."""

    PT = "PT"
    OT = "OT"


class Level(StrEnum):
    """The level of almen genoptræning the training unit has assigned (visiteret)."""

    BASAL = "basal"
    AVANCERET = "avanceret"


class PlanStartKind(StrEnum):
    """Whether a plan-specified start date asks for an earlier or a later start than 7 days."""

    EARLIER = "earlier"
    LATER = "later"


class BookingStatus(StrEnum):
    """`communicated`: already told to the citizen, frozen. `tentative`: not yet told."""

    COMMUNICATED = "communicated"
    TENTATIVE = "tentative"


class Coordinates(_Model):
    """WGS84 latitude and longitude in degrees."""

    lat: float = Field(ge=54.0, le=58.0, description="Latitude (Denmark: 54–58).")
    lon: float = Field(ge=7.0, le=16.0, description="Longitude (Denmark: 7–16).")


class OpeningHours(_Model):
    """A site's opening hours on one weekday (0 = Monday … 4 = Friday)."""

    weekday: int = Field(ge=0, le=6)
    open: time
    close: time

    @model_validator(mode="after")
    def _ordered(self) -> OpeningHours:
        if self.close <= self.open:
            raise ValueError(f"close {self.close} is not after open {self.open}")
        return self


class Site(_Model):
    """A training site (træningscenter); `rooms` is the number of parallel individual sessions."""

    id: Id
    name: str = Field(min_length=1)
    address: str = ""
    coordinates: Coordinates
    opening_hours: list[OpeningHours] = Field(min_length=1)
    rooms: int = Field(ge=1, le=200)

    def hours_on(self, day: date) -> list[OpeningHours]:
        return [h for h in self.opening_hours if h.weekday == day.weekday()]


class RosterEntry(_Model):
    """One stretch of rostered work: on `date`, from `start` to `end`, based at `site_id`."""

    date: date
    start: time
    end: time
    site_id: Id

    @model_validator(mode="after")
    def _ordered(self) -> RosterEntry:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        return self


class Absence(_Model):
    """A therapist's absence (holiday, course, sickness), both dates inclusive."""

    start: date
    end: date
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Absence:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


class Therapist(_Model):
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


class Booking(_Model):
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
    start: datetime
    end: datetime
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


class Referral(_Model):
    """A genoptræningsplan received by the municipality, visiteret to a level and discipline.

    `id` is pseudonymous: a CPR number is rejected. `plan_start_date` with `plan_start_kind`
    is a start date the hospital specified for a health reason; `postponed_to` is the
    citizen's own request to start later (the guarantee then lapses).
    """

    id: Id
    discharge_date: date
    received_date: date
    level: Level
    discipline: Discipline
    specialty: str | None = None
    forloebskode: str | None = None
    plan_start_date: date | None = None
    plan_start_kind: PlanStartKind | None = None
    postponed_to: date | None = None
    unavailable_dates: list[date] = Field(default_factory=list)
    home_training: bool = False
    chosen_site_id: Id | None = None
    location: Coordinates | None = None
    age: int = Field(ge=0, le=130)
    chronic_course: bool = Field(
        default=False,
        description="A chronic-disease course (KOL, heart, diabetes) ordered through the plan.",
    )
    first_session_minutes: int = Field(default=60, ge=15, le=240)

    @field_validator("id")
    @classmethod
    def _not_cpr(cls, value: str) -> str:
        if _CPR.search(value):
            raise ValueError(
                "looks like a CPR number; referral ids must be pseudonymous (never a CPR number)"
            )
        return value

    @field_validator("level", mode="before")
    @classmethod
    def _almen_only(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in EXCLUDED_LEVELS:
            raise ValueError(
                f"level {value!r} is not almen genoptræning and not for this scheduler: "
                f"{EXCLUDED_LEVELS[value.strip().lower()]}"
            )
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


class Instance(_Model):
    """Everything one planning run needs: the policy, resources, calendars and new referrals."""

    name: str = ""
    planning_date: date = Field(
        description="The day the plan is made; the first bookable day is the next working day."
    )
    policy: Policy
    sites: list[Site]
    therapists: list[Therapist]
    bookings: list[Booking] = Field(default_factory=list)
    referrals: list[Referral] = Field(default_factory=list)


# --------------------------------------------------------------------------- solution


class Outcome(StrEnum):
    """What happened to one referral."""

    ON_TIME = "on_time"
    LATE_FREE_CHOICE = "late_free_choice"
    """Booked after the legal deadline: the citizen has the right to frit valg (flag it)."""
    LATE_NO_RIGHT = "late_no_right"
    """Booked after the deadline, but the plan or the citizen moved the date: no frit valg."""
    NOT_BOOKABLE = "not_bookable"


class Reason(StrEnum):
    """Why a referral is not bookable, or late (in the spirit of skipped-shipment codes)."""

    NO_QUALIFIED_THERAPIST = "no_qualified_therapist"
    """No therapist of the discipline (and, for avanceret, the specialty) at all."""
    NO_HOME_VISIT_THERAPIST = "no_home_visit_therapist"
    """Home training required, but no qualified therapist does home visits."""
    CHOSEN_SITE_CLOSED = "chosen_site_closed"
    """The chosen site has no qualified therapist rostered in the horizon."""
    NO_CAPACITY_IN_HORIZON = "no_capacity_in_horizon"
    """Qualified therapists exist, but no free slot remains before the horizon ends."""
    EARLIEST_START_AFTER_HORIZON = "earliest_start_after_horizon"
    """The plan or the citizen asks for a start after the planning horizon."""
    NO_CAPACITY_BY_DEADLINE = "no_capacity_by_deadline"
    """Booked late: every qualified slot before the deadline is taken."""
    DEADLINE_BEFORE_PLANNING = "deadline_before_planning"
    """Booked late: the deadline had passed before the plan could be made."""
    PLAN_LATER_START = "plan_later_start"
    """Udskudt opstart påkrævet som specificeret i GGOP."""
    CITIZEN_POSTPONED = "citizen_postponed"
    """The citizen asked to start later: the guarantee lapsed."""
    EXCLUDED = "excluded"
    """Not for this scheduler under the policy (e.g. under 18 in Rebild: the children's team)."""


class Assignment(_Model):
    """One referral's result: the first session booked (or why not) and its legal dates."""

    referral_id: Id
    outcome: Outcome
    therapist_id: Id | None = None
    site_id: Id | None = Field(
        default=None, description="The room's site, or for a home visit the therapist's base."
    )
    at_home: bool = False
    start: datetime | None = None
    end: datetime | None = None
    travel_minutes: int = Field(
        default=0, ge=0, description="One-way travel for a home visit, before and after."
    )
    earliest_start: date
    deadline: date
    free_choice_right: bool = Field(description="Whether missing the deadline gives frit valg.")
    letter_by: date = Field(description="The date by which the citizen must be told the start.")
    answer_by: datetime | None = Field(
        default=None, description="For a frit valg offer: when the citizen must answer."
    )
    reason: Reason | None = None
    detail: str = ""
    fixed: bool = Field(default=False, description="Taken from a communicated booking.")


class Kpis(_Model):
    """Summary of a solution, computed by :func:`scheduler.kpis.compute_kpis`."""

    referrals: int
    booked: int
    on_time: int
    on_time_share: float
    free_choice_flagged: int
    late_no_right: int
    not_bookable: int
    wait_days_mean: float | None
    wait_days_median: float | None
    wait_days_max: int | None
    total_lateness_days: int
    home_visits: int
    travel_minutes_total: int
    utilisation: dict[str, float] = Field(
        default_factory=dict,
        description="Per therapist: booked minutes / rostered minutes over the horizon.",
    )


class SolverStats(_Model):
    """How the solver did: status, bound and gap on the primary objective, effort."""

    method: str = "cp-sat"
    status: str
    proven_optimal: bool = False
    objective: float | None = Field(
        default=None, description="The first priority's value: referrals on time."
    )
    best_bound: float | None = Field(
        default=None, description="Proven upper bound on referrals on time."
    )
    gap: float | None = Field(
        default=None, description="(bound - objective) / bound on the on-time count."
    )
    on_time_bound: int | None = Field(
        default=None, description="Upper bound on referrals that can start on time."
    )
    wall_time_s: float = 0.0
    first_solution_s: float | None = Field(
        default=None,
        description="Seconds from the start until the first complete feasible plan.",
    )
    variables: int = 0
    constraints: int = 0
    workers: int = 0
    seed: int = 0
    stages: list[dict[str, Any]] = Field(default_factory=list)


class Solution(_Model):
    """The answer of one planning run."""

    instance_name: str = ""
    planning_date: date
    assignments: list[Assignment]
    kpis: Kpis
    stats: SolverStats


# --------------------------------------------------------------------------- solve options


class ObjectiveWeights(_Model):
    """Weights of the objective's lower priorities, blended in the last stage.

    Priorities (1) most referrals on time and (2) least lateness are solved lexicographically in
    their own stages; these weigh (3)–(6) against each other in the final stage. The defaults
    keep the order for realistic instances: a day of waiting (1000) outweighs 99 minutes of
    travel (10/min), one specialist on basal work (100) outweighs 9 minutes of travel, and the
    balance term (1 per minute of the busiest therapist's new work) comes last.
    """

    wait_day: int = Field(default=1000, ge=0, description="Per calendar day of waiting.")
    travel_minute: int = Field(default=10, ge=0, description="Per minute of travel.")
    specialist_on_basal: int = Field(
        default=100, ge=0, description="Per avanceret-approved therapist used for basal work."
    )
    balance_minute: int = Field(
        default=1, ge=0, description="Per minute of new work of the busiest therapist."
    )


class SolveOptions(_Model):
    """How to solve: time, threads, seed, weights."""

    time_limit_s: float = Field(default=30.0, gt=0, le=3600)
    workers: int = Field(default=0, ge=0, le=64, description="CP-SAT workers; 0 = all cores.")
    seed: int = Field(default=0, ge=0)
    weights: ObjectiveWeights = Field(default_factory=ObjectiveWeights)
    late_days: int = Field(
        default=5,
        ge=1,
        le=60,
        description="Late candidates kept per referral: the first N days past the deadline.",
    )
