"""The stages' CP-SAT parameters: real parameter names, set on the solver."""

from __future__ import annotations

import pytest
from ortools.sat.python import cp_model

from scheduler.planning.parameters import (
    LARGE_MODEL,
    LIGHT_PRESOLVE,
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


def test_stage_one_turns_symmetry_detection_and_probing_off_at_every_size() -> None:
    small, large = stage_parameters("on_time", 100), stage_parameters("on_time", LARGE_MODEL + 1)
    assert small == large == LIGHT_PRESOLVE
    assert small["symmetry_level"] == small["cp_model_probing_level"] == 0
    assert small["max_presolve_iterations"] == 1


def test_later_stages_cut_presolve_on_large_models_only() -> None:
    assert stage_parameters("lateness", LARGE_MODEL + 1) == LIGHT_PRESOLVE
    small = stage_parameters("lateness", LARGE_MODEL)
    assert small["symmetry_level"] == 0
    assert small["max_presolve_iterations"] > LIGHT_PRESOLVE["max_presolve_iterations"]


def test_settings_do_not_leak_from_one_stage_into_the_next() -> None:
    # The stages share one solver: every name a stage sets, the others set too.
    names = [set(stage_parameters(s, n)) for s, n in [("on_time", 10**6), ("lateness", 0)]]
    assert names[0] <= names[1]


def test_an_unknown_parameter_is_refused() -> None:
    with pytest.raises(AttributeError, match="no_such_parameter"):
        apply(cp_model.CpSolver(), {"no_such_parameter": 1})
