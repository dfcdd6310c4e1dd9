"""The domain: what a planning run reads and what it answers. Imports nothing else of the package.

- :mod:`~scheduler.domain.inputs`: sites, therapists, rosters, bookings, referrals, the instance;
- :mod:`~scheduler.domain.plan`: the answer: assignments, outcomes and reasons, KPIs, stats;
- :mod:`~scheduler.domain.options`: solve options and objective weights;
- :mod:`~scheduler.domain.policy`: the municipal policy settings and the five seed presets;
- :mod:`~scheduler.domain.files`: reading and writing instance, solution and policy files.

The names below are re-exported so that ``from scheduler.domain import Instance`` works.
"""

from __future__ import annotations

from scheduler.domain.inputs import (
    LEVEL_WORDINGS,
    Absence,
    Booking,
    BookingStatus,
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
from scheduler.domain.options import ObjectiveWeights, SolveOptions
from scheduler.domain.plan import (
    Assignment,
    CourseStatus,
    Kpis,
    Outcome,
    Reason,
    Solution,
    SolverStats,
)
from scheduler.domain.policy import Policy

__all__ = [
    "LEVEL_WORDINGS",
    "Absence",
    "Assignment",
    "Booking",
    "BookingStatus",
    "Coordinates",
    "Course",
    "CourseForm",
    "CourseStatus",
    "Discipline",
    "Hold",
    "HoldSession",
    "HoldWeek",
    "Instance",
    "Kpis",
    "Level",
    "ObjectiveWeights",
    "OpeningHours",
    "Outcome",
    "PlanStartKind",
    "Policy",
    "Reason",
    "Referral",
    "RosterEntry",
    "Site",
    "Solution",
    "SolveOptions",
    "SolverStats",
    "Therapist",
]
