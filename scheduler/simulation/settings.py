"""What one simulation run is: the settings `scheduler simulate` takes and SubmitSimulate stores.

:class:`SimulationSettings` validates them (a known profile and strategies, positive weeks and
time limit) and runs them (:meth:`SimulationSettings.run`); the CLI and the batch job both go
through it, so a stored simulation job gives what ``scheduler simulate`` gives with the same
settings and seed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from scheduler.bench.profiles import PROFILES
from scheduler.rules.calendar import WorkingCalendar
from scheduler.simulation.engine import (
    DEFAULT_START,
    FanOut,
    ProgressFn,
    SimulationResult,
    simulate,
)
from scheduler.simulation.profile import SimulationProfile, simulation_profile
from scheduler.simulation.strategies import STRATEGIES

__all__ = ["SimulationSettings"]


class SimulationSettings(BaseModel):
    """One simulation: a municipality profile (with overrides), measured weeks, a seed, the
    strategies, and the CP-SAT settings of the optimising strategies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile: str
    weeks: int = Field(default=13, ge=1)
    seed: int = Field(default=1, ge=0)
    strategies: list[str] = Field(default_factory=lambda: list(STRATEGIES), min_length=1)
    time_limit_s: float = Field(default=3.0, gt=0)
    workers: int = Field(default=1, ge=0)
    burn_in_weeks: int | None = Field(default=None, ge=0)
    therapists: int | None = Field(default=None, ge=1)
    referrals_per_week: float | None = Field(default=None, ge=0)

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        if value not in PROFILES:
            raise ValueError(f"unknown profile {value!r}; known: {', '.join(PROFILES)}")
        return value

    @field_validator("strategies")
    @classmethod
    def _known_strategies(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in STRATEGIES]
        if unknown:
            raise ValueError(
                f"unknown strategy {', '.join(unknown)}; known: {', '.join(STRATEGIES)}"
            )
        if len(set(value)) != len(value):
            raise ValueError("a strategy is named twice")
        return value

    def simulation_profile(self) -> SimulationProfile:
        """The profile with the overrides given."""
        overrides: dict[str, Any] = {
            key: value
            for key, value in (
                ("burn_in_weeks", self.burn_in_weeks),
                ("therapists", self.therapists),
                ("referrals_per_week", self.referrals_per_week),
            )
            if value is not None
        }
        return simulation_profile(self.profile, **overrides)

    def phase_days(self) -> tuple[list[date], list[date]]:
        """The working days of the burn-in, and those measured (each strategy runs them)."""
        profile = self.simulation_profile()
        cal = WorkingCalendar(profile.municipality.policy)
        measure = DEFAULT_START + timedelta(weeks=profile.burn_in_weeks)
        burn = cal.working_days(DEFAULT_START, measure - timedelta(days=1))
        return list(burn), list(
            cal.working_days(measure, measure + timedelta(weeks=self.weeks, days=-1))
        )

    def day_counts(self) -> tuple[int, int]:
        """(working days of the burn-in, working days measured per strategy)."""
        burn, measured = self.phase_days()
        return len(burn), len(measured)

    def describe(self) -> str:
        """One line: profile, weeks, seed, strategies."""
        return f"simulate {self.profile} {self.weeks}w seed={self.seed} {','.join(self.strategies)}"

    def run(
        self, progress: ProgressFn | None = None, fan_out: FanOut | None = None
    ) -> SimulationResult:
        """Simulate (see :func:`scheduler.simulation.simulate`). `progress` is called after
        every simulated working day; an exception it raises ends the simulation."""
        return simulate(
            self.simulation_profile(),
            self.weeks,
            self.seed,
            self.strategies,
            time_limit_s=self.time_limit_s,
            workers=self.workers,
            progress=progress,
            fan_out=fan_out,
        )
