"""CP-SAT parameters of the solve loop's stages: the one place they are chosen.

Stage 1 (most referrals on time) is a pure assignment model with a knapsack per gap and, in
room-critical gaps, intervals and cumulatives per site and day. On fragmented weeks (thousands
of gaps, many of them room-critical) CP-SAT's default presolve spends its whole time in
probing and symmetry detection, and the search never starts. The settings here were chosen by
measurement (docs/stage1-parameters.md, ``scripts/stage1_study.py``): no symmetry detection
(the model's symmetries are interchangeable therapists' gaps; finding them costs more than
they save within seconds); on large models also no probing and a single presolve round.
"""

from __future__ import annotations

from collections.abc import Mapping

from ortools.sat.python import cp_model

__all__ = [
    "LARGE_STAGE1",
    "LARGE_STAGE1_SETTINGS",
    "STAGE1_SETTINGS",
    "apply",
    "stage_parameters",
]

Settings = Mapping[str, int | float | bool]
"""CP-SAT parameter names (``sat_parameters.proto``) and values."""

STAGE1_SETTINGS: Settings = {
    "symmetry_level": 0,
}
"""Stage 1's parameters on top of the solver's common ones (workers, seed, time limit), for
models up to :data:`LARGE_STAGE1` variables: no symmetry detection, the presolve otherwise
CP-SAT's. On the København weeks (2,000-4,500 variables, fragmented or not) it proved the
on-time count in 0.1-1.5 s, against 0.1-2.1 s with the defaults."""

LARGE_STAGE1 = 20_000
"""Stage-1 variables above which the presolve is cut short (:data:`LARGE_STAGE1_SETTINGS`)."""

LARGE_STAGE1_SETTINGS: Settings = {
    "symmetry_level": 0,
    "cp_model_probing_level": 0,
    "max_presolve_iterations": 1,
}
"""Stage 1 on large models: also no probing and one presolve round. On the 1,000-referral
stress week (48k variables) the default presolve did not end within 20 s (no solution, not
even the hinted one); with these the first solution came at 4 s and the bound was 462 against
the flow bound's 529. On the small København weeks they were slower to prove (5.4 s against
1.5 s on koebenhavn-085), hence the size rule."""

_LATER_SETTINGS: Settings = {
    "symmetry_level": 0,
    "cp_model_probing_level": 2,
    "max_presolve_iterations": 3,
}
"""The later stages on models up to :data:`LARGE_STAGE1` variables: symmetry detection off
too; probing and presolve rounds at CP-SAT's defaults, set explicitly since the stages share
one solver object. Above that size they get :data:`LARGE_STAGE1_SETTINGS` too: on the
1,000-referral stress week (60k variables, 2 December, load 4) the lateness stage with the
default presolve found no plan in its 23 s (not even the hinted one), so the courses stage was
never reached; with the large settings it found one (gap to its bound 10%)."""


def stage_parameters(stage: str, variables: int = 0) -> Settings:
    """The parameters of a solve stage (``on_time``, ``lateness``, ``courses``, ``tail``) on a
    model with `variables` decision variables."""
    if variables > LARGE_STAGE1:
        return LARGE_STAGE1_SETTINGS
    if stage != "on_time":
        return _LATER_SETTINGS
    return {**STAGE1_SETTINGS, "cp_model_probing_level": 2, "max_presolve_iterations": 3}


def apply(solver: cp_model.CpSolver, settings: Settings) -> None:
    """Set `settings` on the solver's parameters (unknown names raise AttributeError)."""
    for name, value in settings.items():
        if not hasattr(solver.parameters, name):
            raise AttributeError(f"CP-SAT has no parameter {name!r}")
        setattr(solver.parameters, name, value)
