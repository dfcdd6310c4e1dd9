"""How to solve: time, threads, seed, and the weights of the objective's lower priorities."""

from __future__ import annotations

from pydantic import Field

from scheduler.domain.inputs import DomainModel

__all__ = ["ObjectiveWeights", "SolveOptions"]


class ObjectiveWeights(DomainModel):
    """Weights of the objective's lower priorities, blended in the last stage.

    Priorities (1) most referrals on time, (2) least lateness and (3) most courses that can
    start are solved lexicographically in their own stages; these weigh the rest against each
    other in the final stage. Moving an on-time tentative first session (1,000,000) outweighs
    every realistic sum of the others (stability); a day of waiting (1000) outweighs 99 minutes of
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
    moved_tentative: int = Field(
        default=1_000_000,
        ge=0,
        description=(
            "Per on-time tentative first session moved: the stability term. Larger than any "
            "realistic sum of the other tail terms, so a promised time moves only for the "
            "earlier stages (another referral on time, less lateness, a course place)."
        ),
    )


class SolveOptions(DomainModel):
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
