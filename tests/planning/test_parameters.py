"""The stages' CP-SAT parameters: real parameter names, set on the solver."""

from __future__ import annotations

import pytest
from ortools.sat.python import cp_model

from scheduler.planning.parameters import (
    LARGE_STAGE1,
    LARGE_STAGE1_SETTINGS,
    apply,
    stage_parameters,
)


@pytest.mark.parametrize(
    ("stage", "variables"), [("on_time", 10), ("on_time", 10**6), ("lateness", 10), ("tail", 10)]
)
def test_every_stage_setting_is_a_cp_sat_parameter(stage: str, variables: int) -> None:
    solver = cp_model.CpSolver()
    settings = stage_parameters(stage, variables)
    apply(solver, settings)
    for name, value in settings.items():
        assert getattr(solver.parameters, name) == value


def test_stage_one_turns_symmetry_detection_off_and_cuts_presolve_on_large_models() -> None:
    small, large = stage_parameters("on_time", 100), stage_parameters("on_time", LARGE_STAGE1 + 1)
    assert small["symmetry_level"] == large["symmetry_level"] == 0
    assert large == LARGE_STAGE1_SETTINGS
    assert small["max_presolve_iterations"] > large["max_presolve_iterations"]


def test_later_stages_cut_presolve_on_large_models_too() -> None:
    assert stage_parameters("lateness", LARGE_STAGE1 + 1) == LARGE_STAGE1_SETTINGS
    small = stage_parameters("lateness", LARGE_STAGE1)
    assert small["max_presolve_iterations"] > LARGE_STAGE1_SETTINGS["max_presolve_iterations"]


def test_settings_do_not_leak_from_one_stage_into_the_next() -> None:
    # The stages share one solver: every name a stage sets, the others set too.
    names = [set(stage_parameters(s, n)) for s, n in [("on_time", 10**6), ("lateness", 0)]]
    assert names[0] <= names[1]


def test_an_unknown_parameter_is_refused() -> None:
    with pytest.raises(AttributeError, match="no_such_parameter"):
        apply(cp_model.CpSolver(), {"no_such_parameter": 1})
