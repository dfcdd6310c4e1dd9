"""A rehabilitation course (genoptræningsforløb): what follows the first session.

At the first session the therapist plans the course with the citizen (Sønderborg: "Ved første
fremmøde vil din terapeut i samarbejde med dig planlægge dit genoptræningsforløb"); it runs
individually, as co-training (samtræning), on a hold (a group class with a fixed number of
seats) or virtually, for "op til 3 mdr" (Hjørring). A :class:`Course` says how much therapist
time or which hold seat a course needs; the policy gives defaults per level and discipline
(:attr:`scheduler.domain.policy.Policy.course_defaults`), a referral may override them.

This module imports nothing else of the package, so both the policy and the inputs use it.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Course", "CourseForm"]


class CourseForm(StrEnum):
    """How the course after the first session is delivered.

    `individual` (and co-training, samtræning, which takes the same therapist time) and
    `virtual` are carried by the first session's therapist (continuity); `hold` needs a seat on
    a hold of the course's `hold_type`; `either` takes a hold seat where one is free, else the
    first session's therapist.
    """

    INDIVIDUAL = "individual"
    HOLD = "hold"
    VIRTUAL = "virtual"
    EITHER = "either"


class Course(BaseModel):
    """The course that follows a referral's first session."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    form: CourseForm = CourseForm.INDIVIDUAL
    sessions_per_week: int = Field(default=2, ge=1, le=5)
    weeks: int = Field(default=12, ge=1, le=52)
    minutes_per_session: int = Field(default=45, ge=15, le=240)
    hold_type: str | None = Field(
        default=None, description="The hold (group class) type it needs, e.g. knee-hip, back."
    )

    @model_validator(mode="after")
    def _hold_needs_type(self) -> Course:
        if self.form is CourseForm.HOLD and not self.hold_type:
            raise ValueError("a hold course needs a hold_type")
        return self

    @property
    def weekly_minutes(self) -> int:
        """Therapist minutes one week of the course takes when a therapist carries it."""
        return self.sessions_per_week * self.minutes_per_session

    @property
    def by_therapist(self) -> bool:
        """Whether the first session's therapist may carry it (individual, virtual, either)."""
        return self.form is not CourseForm.HOLD

    @property
    def on_hold(self) -> bool:
        """Whether a hold seat may carry it (hold, or either with a hold type)."""
        return self.form is CourseForm.HOLD or (
            self.form is CourseForm.EITHER and self.hold_type is not None
        )
