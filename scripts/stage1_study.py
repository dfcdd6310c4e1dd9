"""The stage-1 parameter study (docs/stage1-parameters.md): stage 1 built as the solve loop
builds it (sure-on-time referrals left out, the greedy plan as hint), solved under each
setting, with time to first solution, on-time count, bound, proven or not.

Usage: python scripts/stage1_study.py [--time-limit S] [--workers N] INSTANCE.json ...
Prints one line per instance and setting (tab-separated) and the load average first.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from ortools.sat.python import cp_model

from scheduler.domain import Instance, ObjectiveWeights
from scheduler.planning.bounds import on_time_flow_bound, sure_on_time
from scheduler.planning.greedy import complete
from scheduler.planning.model import build_model
from scheduler.planning.parameters import apply
from scheduler.planning.problem import prepare
from scheduler.planning.solve import _apply_hint, _first_stage, _hint, _starts

SETTINGS: dict[str, dict[str, int | float | bool]] = {
    "default": {},
    "symmetry0": {"symmetry_level": 0},
    "symmetry0+probing1": {"symmetry_level": 0, "cp_model_probing_level": 1},
    "symmetry0+probing0": {"symmetry_level": 0, "cp_model_probing_level": 0},
    "symmetry0+lin0": {"symmetry_level": 0, "linearization_level": 0},
    "symmetry0+lin2": {"symmetry_level": 0, "linearization_level": 2},
    "no-presolve": {"cp_model_presolve": False},
    "symmetry0+probing0+presolve-light": {
        "symmetry_level": 0,
        "cp_model_probing_level": 0,
        "max_presolve_iterations": 1,
    },
    "light+interleave": {
        "symmetry_level": 0,
        "cp_model_probing_level": 0,
        "max_presolve_iterations": 1,
        "interleave_search": True,
    },
    "light+full1": {
        "symmetry_level": 0,
        "cp_model_probing_level": 0,
        "max_presolve_iterations": 1,
        "num_full_subsolvers": 1,
    },
}


class _First(cp_model.CpSolverSolutionCallback):
    def __init__(self) -> None:
        super().__init__()
        self.began = time.monotonic()
        self.first: float | None = None

    def on_solution_callback(self) -> None:
        if self.first is None:
            self.first = time.monotonic() - self.began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated setting names")
    args = parser.parse_args()
    print("load average", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    names = args.only.split(",") if args.only else list(SETTINGS)
    print(
        "instance\tsetting\tcontested\tgreedy\tfirst_s\ton_time\tbound\tflow_bound\tstatus\twall_s"
    )
    for path in args.paths:
        problem = prepare(Instance.model_validate_json(path.read_text(encoding="utf-8")))
        plan = complete(problem, {})
        sure = sure_on_time(problem)
        flow = len(sure) + on_time_flow_bound(problem, sure)
        keys, _ = _first_stage(problem, sure, plan)
        contested = {
            r: p for r, p in plan.items() if r not in sure and problem.candidates[r][p[0]].on_time
        }
        greedy = len(sure) + len(contested)
        for name in names:
            fsm = build_model(problem, ObjectiveWeights(), None, courses=False, keys=keys)
            fsm.model.maximize(fsm.objectives.on_time)
            _apply_hint(fsm, _hint(contested), None, _starts(contested))
            solver = cp_model.CpSolver()
            solver.parameters.num_workers = args.workers
            solver.parameters.random_seed = 0
            solver.parameters.max_time_in_seconds = args.time_limit
            apply(solver, SETTINGS[name])
            callback = _First()
            status = solver.solve(fsm.model, callback)
            found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
            on_time = len(sure) + round(solver.objective_value) if found else None
            bound = len(sure) + int(solver.best_objective_bound + 1e-6) if found else None
            first = "-" if callback.first is None else f"{callback.first:.2f}"
            print(
                f"{path.stem}\t{name}\t{len(fsm.x)}\t{greedy}\t{first}\t{on_time}\t{bound}\t"
                f"{flow}\t{solver.status_name(status)}\t{solver.wall_time:.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
