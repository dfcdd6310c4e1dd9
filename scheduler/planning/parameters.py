"""CP-SAT parameters of the solve loop's stages: the one place they are chosen.

Stage 1 (most referrals on time) is a pure assignment model with a knapsack per gap and, in
room-critical gaps, intervals and cumulatives per site and day. On fragmented weeks (thousands
of gaps, many of them room-critical) CP-SAT's default presolve spends its whole time in
probing and symmetry detection, and the search never starts. The settings here were chosen by
measurement (docs/stage1-parameters.md, ``scripts/stage1_study.py``): no symmetry detection
(the model's symmetries are interchangeable therapists' gaps; finding them costs more than
they save within seconds), light probing, and the presolve kept otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping

from ortools.sat.python import cp_model

__all__ = ["STAGE1_SETTINGS", "apply", "stage_parameters"]

Settings = Mapping[str, int | float | bool]
"""CP-SAT parameter names (``sat_parameters.proto``) and values."""

STAGE1_SETTINGS: Settings = {
    "symmetry_level": 0,
    "cp_model_probing_level": 1,
}
"""Stage 1's parameters on top of the solver's common ones (workers, seed, time limit)."""

_LATER_SETTINGS: Settings = {
    "symmetry_level": 0,
}
"""Stages 2 and 3: the same model plus lateness and tail terms; symmetry detection off too."""


def stage_parameters(stage: str) -> Settings:
    """The parameters of a solve stage (``on_time``, ``lateness``, ``tail``)."""
    return STAGE1_SETTINGS if stage == "on_time" else _LATER_SETTINGS


def apply(solver: cp_model.CpSolver, settings: Settings) -> None:
    """Set `settings` on the solver's parameters (unknown names raise AttributeError)."""
    for name, value in settings.items():
        if not hasattr(solver.parameters, name):
            raise AttributeError(f"CP-SAT has no parameter {name!r}")
        setattr(solver.parameters, name, value)
