"""What one planning run answers: per referral an :class:`Assignment` (or why not), KPIs, stats."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from scheduler.domain.inputs import DomainModel, Id

__all__ = ["Assignment", "CourseStatus", "Kpis", "Outcome", "Reason", "Solution", "SolverStats"]


class Outcome(StrEnum):
    """What happened to one referral."""

    ON_TIME = "on_time"
    LATE_FREE_CHOICE = "late_free_choice"
    """Booked after the legal deadline: the citizen has the right to frit valg (flag it)."""
    LATE_NO_RIGHT = "late_no_right"
    """Booked after the deadline, but the plan or the citizen moved the date: no frit valg."""
    NOT_BOOKABLE = "not_bookable"
    """Almen genoptræning, but no first session fits in the horizon; the reason says why."""
    REJECTED = "rejected"
    """Not for this scheduler (a specialiseret level, or under 18 where the children's team
    takes it): the reason says where it belongs; no session is booked."""


class Reason(StrEnum):
    """Why a referral is late, not bookable, or rejected; each names the real cause (in the
    spirit of the KL Gateway's status reasons)."""

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
    """Booked late: on the days the citizen could come up to the deadline, no qualified
    therapist had a free slot long enough."""
    DEADLINE_SLOTS_TAKEN = "deadline_slots_taken"
    """Booked late: free qualified slots on days the citizen could come existed up to the
    deadline, but the plan gave them to other referrals (it maximises on-time starts overall)."""
    CITIZEN_UNAVAILABLE_ON_FREE_DAYS = "citizen_unavailable_on_free_days"
    """Booked late: the only free qualified slots up to the deadline were on days the citizen
    said they could not come. The citizen could come on other days, so frit valg remains."""
    EARLIEST_START_AFTER_DEADLINE = "earliest_start_after_deadline"
    """Booked late: the plan arrived too late (receipt plus notice) to start by the deadline."""
    DEADLINE_BEFORE_PLANNING = "deadline_before_planning"
    """Booked late: the deadline had passed before the plan could be made."""
    PLAN_LATER_START = "plan_later_start"
    """Udskudt opstart påkrævet som specificeret i GGOP."""
    CITIZEN_POSTPONED = "citizen_postponed"
    """The citizen asked to start after the deadline: the guarantee lapsed (Vejen: "Det gælder
    dog ikke, hvis borgeren selv udsætter opstarten")."""
    CITIZEN_UNAVAILABLE = "citizen_unavailable"
    """The citizen cannot come on any working day up to the deadline: their own postponement,
    the guarantee lapsed."""
    SPECIALISED_AT_HOSPITAL = "specialised_at_hospital"
    """Rejected: genoptræning på specialiseret niveau takes place at the hospital."""
    SPECIALISED_REHAB_EXTERNAL = "specialised_rehab_external"
    """Rejected: rehabilitering på specialiseret niveau is delivered by external providers."""
    CHILDRENS_TEAM = "childrens_team"
    """Rejected: under 18 goes to the municipal children's team (Rebild)."""
    COURSE_THERAPIST_FULL = "course_therapist_full"
    """The course waits: its therapist's weeks are full within the course-start days."""
    COURSE_HOLD_FULL = "course_hold_full"
    """The course waits: every matching hold is full (or closed to intake) in those weeks."""
    COURSE_NO_HOLD = "course_no_hold"
    """The course waits: no site runs a hold of its type for its discipline and level."""


class CourseStatus(StrEnum):
    """What the plan says of the course after a booked first session."""

    NONE = "none"
    """No course: the referral is not booked, or the policy plans no courses."""
    STARTS = "starts"
    """A therapist or a hold seat carries it from `course_start`, within the course-start days."""
    WAITS = "waits"
    """Booked, but no course place within the course-start days: a waiting list (see reason)."""
    BEYOND_HORIZON = "beyond_horizon"
    """It would start after the horizon's last full week: reported, not planned."""


class Assignment(DomainModel):
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
    letter_by: date = Field(
        description=(
            "The date the standard states for telling the citizen the start (or contacting "
            "them), counted as the standard counts; it may fall on a weekend."
        )
    )
    letter_send_by: date = Field(
        description=(
            "The working day the letter must go out: on or before letter_by and before the "
            "working day of the booked start."
        )
    )
    answer_by: datetime | None = Field(
        default=None, description="For a frit valg offer: when the citizen must answer."
    )
    reason: Reason | None = None
    detail: str = ""
    fixed: bool = Field(default=False, description="Taken from a communicated booking.")
    course_status: CourseStatus = CourseStatus.NONE
    course_therapist_id: Id | None = Field(
        default=None, description="Who carries an individual or virtual course (continuity)."
    )
    course_hold_id: Id | None = Field(default=None, description="The hold a seat is held on.")
    course_start: date | None = Field(default=None, description="Monday of its first week.")
    course_weeks_planned: int = Field(
        default=0, ge=0, description="Course weeks inside the horizon, held by the plan."
    )
    course_weeks_beyond: int = Field(
        default=0, ge=0, description="Course weeks after the horizon: reported, not planned."
    )
    course_reason: Reason | None = Field(default=None, description="Why the course waits.")
    tentative_moved: bool = Field(
        default=False, description="Its tentative first session was moved by this plan."
    )
    moved_detail: str = Field(default="", description="Why the tentative session moved.")


class Kpis(DomainModel):
    """Summary of a solution, computed by :func:`scheduler.verify.kpis.compute_kpis`."""

    referrals: int
    booked: int
    on_time: int
    on_time_share: float
    free_choice_flagged: int
    late_no_right: int
    not_bookable: int
    rejected: int = Field(
        default=0, description="Referrals not for this scheduler (outcome `rejected`)."
    )
    wait_days_mean: float | None
    wait_days_median: float | None
    wait_days_max: int | None
    total_lateness_days: int
    home_visits: int
    travel_minutes_total: int
    courses_started: int = Field(default=0, description="Booked referrals whose course starts.")
    courses_waiting: int = Field(default=0, description="Booked referrals whose course waits.")
    tentative_moved: int = Field(default=0, description="Tentative first sessions moved.")
    utilisation: dict[str, float] = Field(
        default_factory=dict,
        description="Per therapist: booked minutes / rostered minutes over the horizon.",
    )


class SolverStats(DomainModel):
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
    on_time_proven: bool = Field(
        default=False, description="The on-time count equals its proven upper bound."
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


class Solution(DomainModel):
    """The answer of one planning run."""

    instance_name: str = ""
    planning_date: date
    assignments: list[Assignment]
    kpis: Kpis
    stats: SolverStats
