"""CP-SAT parameters of the solve loop's stages: the one place they are chosen.

Stage 1 (most referrals on time) is a pure assignment model with a knapsack per gap and, in
room-critical gaps, intervals and cumulatives per site and day. On fragmented weeks (thousands
of gaps, many of them room-critical) CP-SAT's default presolve spends its whole time in
probing and symmetry detection, and the search never starts. The settings here were chosen by
measurement (docs/stage1-parameters.md, ``scripts/stage1_study.py``,
``scripts/stage1_proof_times.py``): no symmetry detection (the model's symmetries are
interchangeable therapists' gaps; finding them costs more than they save within seconds), no
probing and a single presolve round.
"""

from __future__ import annotations

from collections.abc import Mapping

from ortools.sat.python import cp_model

__all__ = [
    "LARGE_MODEL",
    "LIGHT_PRESOLVE",
    "STAGE1_SETTINGS",
    "apply",
    "stage_parameters",
]

Settings = Mapping[str, int | float | bool]
"""CP-SAT parameter names (``sat_parameters.proto``) and values."""

LIGHT_PRESOLVE: Settings = {
    "symmetry_level": 0,
    "cp_model_probing_level": 0,
    "max_presolve_iterations": 1,
}
"""No symmetry detection, no probing, one presolve round. On the 1,000-referral stress week
(48k stage-1 variables) the default presolve did not end within 20 s (no solution, not even
the hinted one); with these the first solution came at 4 s."""

STAGE1_SETTINGS: Settings = LIGHT_PRESOLVE
"""Stage 1 at every size. Until the model got the rooms certainly in use
(:func:`scheduler.planning.model.add_room_capacity`), the small København weeks proved faster
with CP-SAT's presolve (symmetry off only); with them, CP-SAT's bound is tight after its first
LP and the presolve's probing only delays the search: from the start of ``solve``,
koebenhavn-085 proven at 1.31 s against 2.65 s, koebenhavn-fragmented-085 1.33 s against
1.87 s, the other five weeks alike or faster (2 December, load 1.2-1.5)."""

LARGE_MODEL = 20_000
"""Variables above which the later stages get :data:`LIGHT_PRESOLVE` too."""

_LATER_SETTINGS: Settings = {
    "symmetry_level": 0,
    "cp_model_probing_level": 2,
    "max_presolve_iterations": 3,
}
"""The later stages on models up to :data:`LARGE_MODEL` variables: symmetry detection off
too; probing and presolve rounds at CP-SAT's defaults, set explicitly since the stages share
one solver object. Above that size they get :data:`LIGHT_PRESOLVE`: on the 1,000-referral
stress week (60k variables, 2 December, load 4) the lateness stage with the default presolve
found no plan in its 23 s (not even the hinted one), so the courses stage was never reached;
with the light presolve it found one (gap to its bound 10%)."""


def stage_parameters(stage: str, variables: int = 0) -> Settings:
    """The parameters of a solve stage (``on_time``, ``lateness``, ``courses``, ``tail``) on a
    model with `variables` decision variables."""
    if stage == "on_time":
        return STAGE1_SETTINGS
    return LIGHT_PRESOLVE if variables > LARGE_MODEL else _LATER_SETTINGS


def apply(solver: cp_model.CpSolver, settings: Settings) -> None:
    """Set `settings` on the solver's parameters (unknown names raise AttributeError)."""
    for name, value in settings.items():
        if not hasattr(solver.parameters, name):
            raise AttributeError(f"CP-SAT has no parameter {name!r}")
        setattr(solver.parameters, name, value)
