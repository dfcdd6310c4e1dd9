"""How to solve: time, threads, seed, and the weights of the objective's lower priorities."""

from __future__ import annotations

from pydantic import Field

from scheduler.domain.inputs import DomainModel

__all__ = ["ObjectiveWeights", "SolveOptions"]


class ObjectiveWeights(DomainModel):
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
