"""The stages' CP-SAT parameters: real parameter names, set on the solver."""

from __future__ import annotations

import pytest
from ortools.sat.python import cp_model

from scheduler.planning.parameters import STAGE1_SETTINGS, apply, stage_parameters


@pytest.mark.parametrize("stage", ["on_time", "lateness", "tail"])
def test_every_stage_setting_is_a_cp_sat_parameter(stage: str) -> None:
    solver = cp_model.CpSolver()
    settings = stage_parameters(stage)
    apply(solver, settings)
    for name, value in settings.items():
        assert getattr(solver.parameters, name) == value


def test_stage_one_turns_symmetry_detection_off() -> None:
    assert stage_parameters("on_time") is STAGE1_SETTINGS
    assert STAGE1_SETTINGS["symmetry_level"] == 0


def test_an_unknown_parameter_is_refused() -> None:
    with pytest.raises(AttributeError, match="no_such_parameter"):
        apply(cp_model.CpSolver(), {"no_such_parameter": 1})
