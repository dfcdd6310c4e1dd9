"""How many referrals on time does each start plan reach, and how fast? (docs/stage1-parameters.md,
"Ejection chains").

Per instance: the earliest-deadline-first plan (`complete` from nothing), then
:func:`scheduler.planning.improve.most_on_time` (best fit, then ejection chains) with each
neighbourhood setting: chains of at most 1, 2 or 3 displaced referrals, with and without
taking a room held at the site (not only minutes in the same gap). The on-time count and the
seconds of each (after the instance is read and prepared, which all share); every plan is
re-checked to the minute against a fresh `FreeTime`. The solve uses the default (chain 2,
rooms).

Usage: python scripts/start_plan_study.py [--seconds S] FILE...
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from scheduler.domain import Instance
from scheduler.planning.greedy import FreeTime, Plan, complete
from scheduler.planning.improve import most_on_time
from scheduler.planning.problem import Problem, prepare

SETTINGS = [(1, False), (1, True), (2, False), (2, True), (3, True)]


def _on_time(problem: Problem, plan: Plan) -> int:
    return sum(1 for r, (k, _) in plan.items() if problem.candidates[r][k].on_time)


def _exact(problem: Problem, plan: Plan) -> bool:
    free = FreeTime(problem)
    for r, (k, start) in sorted(plan.items(), key=lambda item: item[1][1]):
        cand = problem.candidates[r][k]
        if not free.fits_at(cand, start):
            return False
        free.book(cand, start)
    return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--seconds", type=float, default=30.0, help="per start plan")
    args = parser.parse_args()
    print("load average", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print("instance\tedf\t" + "\t".join(f"chain{c}{'+rooms' if r else ''}" for c, r in SETTINGS))
    for path in args.paths:
        instance = Instance.model_validate_json(path.read_text(encoding="utf-8"))
        problem = prepare(instance)
        cells = [str(_on_time(problem, complete(problem, {})))]
        for chain, rooms in SETTINGS:
            began = time.monotonic()
            plan = most_on_time(problem, seconds=args.seconds, chain=chain, rooms=rooms)
            took = time.monotonic() - began
            if not _exact(problem, plan):
                raise SystemExit(f"{path}: chain {chain} rooms {rooms}: the plan does not fit")
            cells.append(f"{_on_time(problem, plan)} ({took:.2f} s)")
        print(path.stem + "\t" + "\t".join(cells), flush=True)


if __name__ == "__main__":
    main()
