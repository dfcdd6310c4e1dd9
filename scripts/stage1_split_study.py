"""Stage 1 as one model or part by part (docs/stage1-parameters.md, "Decomposition").

Per instance: stage 1 built as the solve loop builds it (sure-on-time referrals left out, the
greedy plan as a complete hint) and solved whole, then each independent part
(:func:`scheduler.planning.stage1.components`) solved alone, with the part's greedy on-time
count and flow bound (equal: the part is proven without a search). Prints, per model: build
seconds, solve wall seconds, status, on-time count and bound (of the contested referrals).

Usage: python scripts/stage1_split_study.py [--time-limit S] [--workers N] INSTANCE.json ...
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
from scheduler.planning.model import Key, build_model
from scheduler.planning.parameters import apply, stage_parameters
from scheduler.planning.problem import Problem, prepare
from scheduler.planning.solve import _apply_hint, _first_stage, _hint, _starts
from scheduler.planning.stage1 import components


def _solve(
    problem: Problem, keys: list[Key], plan: dict[int, tuple[int, int]], workers: int, limit: float
) -> str:
    began = time.monotonic()
    fsm = build_model(problem, ObjectiveWeights(), None, courses=False, keys=keys)
    built = time.monotonic() - began
    fsm.model.maximize(fsm.objectives.on_time)
    _apply_hint(fsm, _hint(plan), None, _starts(plan))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = 0
    solver.parameters.max_time_in_seconds = limit
    apply(solver, stage_parameters("on_time", len(fsm.x)))
    status = solver.solve(fsm.model)
    return (
        f"build {built:.2f} s, solve {solver.wall_time:.2f} s, {solver.status_name(status)}, "
        f"{solver.objective_value:.0f} / {solver.best_objective_bound:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print("load average", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    for path in args.paths:
        problem = prepare(Instance.model_validate_json(path.read_text(encoding="utf-8")))
        plan = complete(problem, {})
        sure = sure_on_time(problem)
        keys, _ = _first_stage(problem, sure, plan)
        contested = {
            r: p for r, p in plan.items() if r not in sure and problem.candidates[r][p[0]].on_time
        }
        whole = _solve(problem, keys, contested, args.workers, args.time_limit)
        print(f"{path.stem}: whole ({len(keys)} candidates): {whole}", flush=True)
        everyone = set(range(len(problem.candidates)))
        for part in components(problem, keys):
            refs = {r for r, _ in part}
            greedy = sum(1 for r in refs if r in contested)
            flow = on_time_flow_bound(problem, everyone - refs)
            alone = _solve(problem, part, contested, args.workers, args.time_limit)
            print(
                f"  part of {len(refs)} referrals ({len(part)} candidates): greedy {greedy}, "
                f"flow bound {flow}: {alone}",
                flush=True,
            )


if __name__ == "__main__":
    main()
