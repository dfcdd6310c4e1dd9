"""The solve loop: prepare, build, solve the priorities in stages, read back a Solution.

Stages (lexicographic): (1) maximise referrals on time; (2) keeping that count, minimise
lateness (unbooked counting as later than anything in the horizon); (3) keeping both, minimise
the weighted tail (waits, travel, specialists on basal work, busiest therapist). Each stage
starts from the previous stage's solution as a hint; stage 1 from an earliest-deadline-first
greedy plan. Stage 1 gets most of the time: it is the legal one, and its bound is the gap we
report. Referrals the model could not book in their first late days are then given the
earliest free time left (repair), so no capacity in the horizon goes unused.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from scheduler.domain import Assignment, Instance, Solution, SolveOptions, SolverStats
from scheduler.kpis import compute_kpis
from scheduler.model import FirstSessionModel, Key, build_model
from scheduler.slots import Candidate, Problem, candidates_for, prepare

__all__ = ["Progress", "solve"]

_STAGES = (("on_time", 0.6), ("lateness", 0.25), ("tail", 0.15))
"""Stages in priority order, with their share of the time limit (unused time flows on)."""


@dataclass(frozen=True)
class Progress:
    """One progress event while solving."""

    elapsed_s: float
    stage: str
    on_time: int | None
    on_time_bound: int | None
    objective: float | None
    bound: float | None
    gap: float | None


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(
        self,
        fsm: FirstSessionModel,
        stage: str,
        started: float,
        on_progress: Callable[[Progress], None] | None,
        on_time_bound: int | None,
    ) -> None:
        super().__init__()
        self._on_time_vars = [var for key, var in fsm.x.items() if fsm.candidate(key).on_time]
        self._stage = stage
        self._started = started
        self._on_progress = on_progress
        self._on_time_bound = on_time_bound

    def on_solution_callback(self) -> None:
        if self._on_progress is None:
            return
        on_time = sum(self.boolean_value(v) for v in self._on_time_vars)
        bound = self.best_objective_bound
        objective = self.objective_value
        on_time_bound = int(bound + 1e-6) if self._stage == "on_time" else self._on_time_bound
        self._on_progress(
            Progress(
                elapsed_s=time.monotonic() - self._started,
                stage=self._stage,
                on_time=on_time,
                on_time_bound=on_time_bound,
                objective=objective,
                bound=bound,
                gap=_gap(objective, bound),
            )
        )


def _gap(value: float | None, bound: float | None) -> float | None:
    if value is None or bound is None:
        return None
    return abs(bound - value) / max(1.0, abs(bound))


def _greedy_hint(problem: Problem) -> dict[Key, int]:
    """Earliest deadline first, each referral into its earliest gap with room left (a hint:
    rooms are not checked, CP-SAT repairs what does not fit)."""
    left = {g.index: g.length for g in problem.gaps}
    order = sorted(
        (r for r, c in enumerate(problem.candidates) if c),
        key=lambda r: (problem.dates[r].deadline, len(problem.candidates[r])),
    )
    hint: dict[Key, int] = {}
    for r in order:
        for k, cand in enumerate(problem.candidates[r]):
            if left[cand.gap] >= cand.length:
                left[cand.gap] -= cand.length
                hint[(r, k)] = 1
                break
    return hint


def _apply_hint(fsm: FirstSessionModel, chosen: dict[Key, int]) -> None:
    fsm.model.clear_hints()  # type: ignore[no-untyped-call]
    for key, var in fsm.x.items():
        fsm.model.add_hint(var, chosen.get(key, 0))


_STATUS = {
    cp_model.OPTIMAL: "OPTIMAL",
    cp_model.FEASIBLE: "FEASIBLE",
    cp_model.INFEASIBLE: "INFEASIBLE",
    cp_model.MODEL_INVALID: "MODEL_INVALID",
    cp_model.UNKNOWN: "UNKNOWN",
}


def _place(
    fsm: FirstSessionModel, chosen: dict[Key, int], starts: dict[Key, int]
) -> dict[int, tuple[Candidate, int]]:
    """Start minute per booked referral: the solver's where exact, else packed in the gap."""
    problem = fsm.problem
    placed: dict[int, tuple[Candidate, int]] = {}
    per_gap: dict[int, list[Key]] = defaultdict(list)
    for key, value in chosen.items():
        if not value:
            continue
        if key in starts:
            placed[key[0]] = (fsm.candidate(key), starts[key])
        else:
            per_gap[fsm.candidate(key).gap].append(key)
    for g, keys in per_gap.items():
        cursor = problem.gaps[g].start
        for key in sorted(keys, key=lambda k: (problem.dates[k[0]].deadline, k[0])):
            cand = fsm.candidate(key)
            placed[key[0]] = (cand, cursor)
            cursor += cand.length
    return placed


def _repair(problem: Problem, placed: dict[int, tuple[Candidate, int]]) -> int:
    """Book referrals the model left unbooked (their candidates were cut to the first late
    days) into the earliest free time left anywhere in the horizon, outside room-critical
    site-days (where rooms would need the exact model). Returns how many were booked."""
    used_until = {g.index: g.start for g in problem.gaps}
    for cand, start in placed.values():
        used_until[cand.gap] = max(used_until[cand.gap], start + cand.length)
    repaired = 0
    for r, cands in enumerate(problem.candidates):
        if r in placed or not cands:
            continue
        for cand in candidates_for(problem.instance, r, problem.dates[r], problem.gaps, None):
            gap = problem.gaps[cand.gap]
            start = used_until[cand.gap]
            if problem.critical.get((gap.site, gap.day), False) or start + cand.length > gap.end:
                continue
            placed[r] = (cand, start)
            used_until[cand.gap] = start + cand.length
            repaired += 1
            break
    return repaired


def solve(
    instance: Instance,
    options: SolveOptions | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> Solution:
    """Plan every referral's first session. `stop.set()` from another thread ends the search
    promptly; the best plan found so far is returned, marked as not proven."""
    options = options or SolveOptions()
    started = time.monotonic()
    problem = prepare(instance, late_days=options.late_days)
    fsm = build_model(problem, options.weights)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = options.workers
    solver.parameters.random_seed = options.seed
    solver.parameters.log_search_progress = False
    stop = stop or threading.Event()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if stop.wait(0.05):
                solver.stop_search()
                return

    watcher = threading.Thread(target=watch, name="solve-stop-watcher", daemon=True)
    watcher.start()

    hint = _greedy_hint(problem)
    chosen: dict[Key, int] = {}
    """The best verified plan so far (none until a stage finds one)."""
    starts: dict[Key, int] = {}
    stages: list[dict[str, Any]] = []
    status_name = "OPTIMAL"
    proven = True
    on_time_value: int | None = None
    on_time_bound: int | None = None
    objective: float | None = None
    bound: float | None = None
    try:
        for position, (stage, share) in enumerate(_STAGES):
            if stop.is_set():
                proven = False
                status_name = "STOPPED"
                break
            if not fsm.x:
                break
            expr = getattr(fsm.objectives, stage)
            if stage == "on_time":
                fsm.model.maximize(expr)
            else:
                fsm.model.minimize(expr)
            _apply_hint(fsm, chosen or hint)
            elapsed = time.monotonic() - started
            remaining = max(0.05, options.time_limit_s - elapsed)
            later = sum(s for _, s in _STAGES[position:])
            solver.parameters.max_time_in_seconds = remaining * share / later
            callback = _Callback(fsm, stage, started, on_progress, on_time_bound)
            status = solver.solve(fsm.model, callback)
            name = _STATUS.get(status, "UNKNOWN")
            stage_info: dict[str, Any] = {
                "stage": stage,
                "status": name,
                "wall_time_s": round(solver.wall_time, 3),
            }
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                value = solver.objective_value
                stage_bound = solver.best_objective_bound
                stage_info.update(objective=value, bound=stage_bound)
                chosen = {key: int(solver.boolean_value(var)) for key, var in fsm.x.items()}
                starts = {key: int(solver.value(var)) for key, var in fsm.start.items()}
                int_value = round(value)
                if stage == "on_time":
                    on_time_value = int_value
                    on_time_bound = int(stage_bound + 1e-6)
                    objective, bound = value, stage_bound
                    fsm.model.add(expr >= int_value)
                else:
                    fsm.model.add(expr <= int_value)
                if status != cp_model.OPTIMAL:
                    proven = False
                    status_name = "FEASIBLE"
            else:
                # No solution in the time given: keep the previous stage's plan.
                proven = False
                status_name = "FEASIBLE" if stages else name
            stages.append(stage_info)
            if on_progress is not None:
                on_progress(
                    Progress(
                        elapsed_s=time.monotonic() - started,
                        stage=stage,
                        on_time=on_time_value,
                        on_time_bound=on_time_bound,
                        objective=stage_info.get("objective"),
                        bound=stage_info.get("bound"),
                        gap=_gap(stage_info.get("objective"), stage_info.get("bound")),
                    )
                )
        if stop.is_set() and status_name != "STOPPED":
            proven = False
            status_name = "STOPPED"
    finally:
        done.set()
        watcher.join()

    placed = _place(fsm, chosen, starts)
    repaired = _repair(problem, placed)
    assignments: list[Assignment] = []
    for r in range(len(instance.referrals)):
        if r in problem.fixed:
            assignments.append(problem.fixed_assignment(r))
        elif r in placed:
            cand, start = placed[r]
            assignments.append(problem.assignment(r, cand, start))
        else:
            assignments.append(problem.assignment(r, None, None))
    if not fsm.x:
        status_name, proven = "OPTIMAL", True
        on_time_value = on_time_bound = 0
        objective = bound = 0.0
    stats = SolverStats(
        method="cp-sat",
        status=status_name,
        proven_optimal=proven,
        objective=objective,
        best_bound=bound,
        gap=_gap(objective, bound),
        on_time_bound=(on_time_bound or 0) + _fixed_on_time(assignments),
        wall_time_s=round(time.monotonic() - started, 3),
        variables=len(fsm.model.proto.variables),
        constraints=len(fsm.model.proto.constraints),
        workers=options.workers,
        seed=options.seed,
        stages=[*stages, {"stage": "repair", "booked": repaired}],
    )
    return Solution(
        instance_name=instance.name,
        planning_date=instance.planning_date,
        assignments=assignments,
        kpis=compute_kpis(instance, assignments),
        stats=stats,
    )


def _fixed_on_time(assignments: list[Assignment]) -> int:
    return sum(1 for a in assignments if a.fixed and a.outcome.value == "on_time")
