"""The solve loop: prepare, plan greedily, solve the priorities in stages, read back a Solution.

1. An exact earliest-deadline-first greedy plan (therapist time and rooms checked to the
   minute): the first solution within a second or two, the fallback, and stage 1's hint. Given
   a ``hint`` (the assignments of an earlier plan of the same instance, e.g. the best plan a
   killed batch job had found), its first sessions that still fit are kept and completed
   greedily (:mod:`scheduler.planning.hint`), and the better of that plan and the greedy one
   (more on time, then fewer late days) is the start instead; ``SolverStats.stages`` then
   begins with a ``hint`` entry saying how many hinted bookings were kept and whether it was
   used. Then best fit and ejection (:mod:`scheduler.planning.improve`, at most a tenth of the
   time left) look for a start plan with more referrals on time; the better one is the start
   (progress stage ``improved``).
2. Stage 1 maximises referrals on time on the on-time candidates alone (a much smaller model;
   its bound is the gap we report). The better of it and the greedy plan is kept.
3. Stage 2 keeps that count and minimises lateness (unbooked counting as later than anything
   in the horizon); referrals on time so far stay among their on-time candidates.
4. Stage 3 (courses) keeps both and maximises the courses that can start within the policy's
   course-start days after their first session (a therapist's week or a hold seat free, see
   :mod:`scheduler.planning.courses`); a course without a place waits, it never costs a first
   session. Its variables join the model only now (they never change stages 1-2).
5. Stage 4 keeps all three and minimises the weighted tail: moving an on-time tentative first
   session (the stability term, weighted above everything else in it), waits, travel,
   specialists on basal work, the busiest therapist's load.
6. Referrals left unbooked because their candidates were cut to the first late days get the
   first free time left anywhere in the horizon, so no capacity goes unused.

Each stage gets a share of the time left and starts from the previous plan as a hint; a stage
that finds nothing in its time leaves the previous plan standing. Each stage's entry in
``SolverStats.stages`` says whether it was proven (``proven``) and whether it searched its full
candidate set (``full_candidates``: stage 1 may search each referral's earliest on-time
candidates only on huge weeks; stages 2-4 keep referrals on time at on-time candidates, and late
candidates are cut to the first ``late_days`` days). ``proven_optimal`` holds only when every
stage was proven on its full candidate set; ``on_time_proven`` when the on-time count equals
its bound.

``on_plan``, if given, receives the first sessions of each new best plan (the start plan and
the plan after each stage) as Assignments, without courses or KPIs: a caller can keep the best
plan so far (a batch job's checkpoint) and give it back as a later solve's hint.

One wall-clock :class:`~scheduler.planning.budget.Budget` covers the whole solve (preparation,
greedy, model building, bounds, stages, repair, KPIs; for the service, from the request's
arrival). Every phase asks it whether to go on, so a `stop` or a spent budget ends the work
within a fraction of a second and returns the best plan so far, marked not proven.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from scheduler.domain import Assignment, Instance, Reason, Solution, SolveOptions, SolverStats
from scheduler.planning.bounds import on_time_flow_bound, sure_on_time
from scheduler.planning.budget import Budget, BudgetExpired
from scheduler.planning.candidate_lists import fitting, on_time_count
from scheduler.planning.candidates import Candidate
from scheduler.planning.courses import Courses, allocate
from scheduler.planning.greedy import Plan, book_leftovers, complete
from scheduler.planning.heap import LongLived, give_back_free_memory, long_lived
from scheduler.planning.hint import HintReport, better, plan_from_hint, quality
from scheduler.planning.improve import most_on_time
from scheduler.planning.model import (
    FirstSessionModel,
    Key,
    add_course_capacity,
    build_course_model,
    build_model,
    course_objective,
    set_objective,
)
from scheduler.planning.parameters import apply as apply_parameters
from scheduler.planning.parameters import stage_parameters
from scheduler.planning.plan import Placed, booked_assignments, make_solution
from scheduler.planning.problem import Problem, prepare
from scheduler.planning.stage1 import split as split_stage1

__all__ = [
    "FINISH_SHARE_MAX",
    "PlanFn",
    "Progress",
    "finish_cpu_s",
    "finish_reserve",
    "solve",
]

PlanFn = Callable[[list[Assignment]], None]
"""Receives the first sessions of each new best plan (see :func:`solve`'s ``on_plan``)."""


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
    """Reports each improving CP-SAT solution as progress."""

    def __init__(self, run: _Run, fsm: FirstSessionModel, stage: str) -> None:
        super().__init__()
        self._on_time_vars = [var for key, var in fsm.x.items() if fsm.candidate(key).on_time]
        self._run = run
        self._stage = stage

    def on_solution_callback(self) -> None:
        offset = self._run.stage_offset
        on_time = sum(self.boolean_value(v) for v in self._on_time_vars) + offset
        bound = self.best_objective_bound
        on_time_bound = int(bound + 1e-6) + offset if self._stage == "on_time" else None
        self._run.emit(self._stage, on_time, on_time_bound, self.objective_value, bound)


def _gap(value: float | None, bound: float | None) -> float | None:
    if value is None or bound is None:
        return None
    return abs(bound - value) / max(1.0, abs(bound))


def _hint(plan: Plan) -> dict[Key, int]:
    return {(r, k): 1 for r, (k, _) in plan.items()}


def _on_time(problem: Problem, plan: Plan) -> int:
    return sum(1 for r, (k, _) in plan.items() if problem.candidates[r][k].on_time)


def _starts(plan: Plan) -> dict[Key, int]:
    return {(r, k): start for r, (k, start) in plan.items()}


def _apply_hint(
    fsm: FirstSessionModel,
    chosen: dict[Key, int],
    courses: Courses | None = None,
    starts: dict[Key, int] | None = None,
) -> None:
    """Hint a plan: its candidates, course places and (in room-critical gaps) start minutes,
    so the hint is complete and CP-SAT need not repair it (unchosen sessions' starts are
    hinted at their earliest minute)."""
    fsm.model.clear_hints()  # type: ignore[no-untyped-call]
    carried = set((courses or {}).values())
    starts = starts or {}
    hinted = [(var.index, chosen.get(key, 0)) for key, var in fsm.x.items()]
    hinted += [(var.index, int(option in carried)) for option, var in fsm.y.items()]
    for key, var in fsm.start.items():
        value = starts.get(key) if chosen.get(key) else None
        hinted.append((var.index, var.proto.domain[0] if value is None else value))
    # Written to the proto in two appends (CpModel.add_hint costs microseconds per variable;
    # every variable here is a positive reference, which is all add_hint would add).
    hint = fsm.model.proto.solution_hint
    hint.vars.extend([index for index, _ in hinted])
    hint.values.extend([value for _, value in hinted])


_STATUS = {
    cp_model.OPTIMAL: "OPTIMAL",
    cp_model.FEASIBLE: "FEASIBLE",
    cp_model.INFEASIBLE: "INFEASIBLE",
    cp_model.MODEL_INVALID: "MODEL_INVALID",
    cp_model.UNKNOWN: "UNKNOWN",
}


@dataclass
class _Run:
    """The solve loop's state: the best verified plan so far and what is known of it."""

    started: float
    options: SolveOptions
    budget: Budget
    on_progress: Callable[[Progress], None] | None
    on_plan: PlanFn | None = None
    hinted: bool = False
    """The start plan came from a hint: a stage-1 plan with no more on time does not replace
    it when it is later (the hint may be a finished plan's, better than stage 1's completion)."""
    chosen: dict[Key, int] = field(default_factory=dict)
    courses: Courses = field(default_factory=dict)
    final_courses: Courses | None = None
    """The course places of the plan `_optimise` returns (None: none chosen by CP-SAT)."""
    starts: dict[Key, int] = field(default_factory=dict)
    stages: list[dict[str, Any]] = field(default_factory=list)
    proven: bool = True
    status: str = "OPTIMAL"
    on_time: int | None = None
    on_time_bound: int | None = None
    objective: float | None = None
    bound: float | None = None

    fixed_on_time: int = 0
    """Referrals on time through a communicated booking: added to every on-time count."""
    stage_offset: int = 0
    """Referrals on time for sure and left out of the stage's model: added to its counts."""

    def emit(
        self,
        stage: str,
        on_time: int | None,
        on_time_bound: int | None,
        objective: float | None,
        bound: float | None,
    ) -> None:
        """Report progress; on-time counts include the fixed referrals."""
        if self.on_progress is None:
            return
        if on_time_bound is None:
            on_time_bound = self.on_time_bound
        self.on_progress(
            Progress(
                elapsed_s=time.monotonic() - self.started,
                stage=stage,
                on_time=None if on_time is None else on_time + self.fixed_on_time,
                on_time_bound=None if on_time_bound is None else on_time_bound + self.fixed_on_time,
                objective=objective,
                bound=bound,
                gap=_gap(objective, bound),
            )
        )

    def publish(self, problem: Problem, plan: Plan) -> None:
        """Hand a new best plan's first sessions to `on_plan` (if any)."""
        if self.on_plan is not None:
            self.on_plan(booked_assignments(problem, _sessions(problem, plan)))

    def stopped(self) -> bool:
        """Whether the budget is spent (marking the plan not proven, STOPPED on a stop)."""
        if not self.budget.expired():
            return False
        self.proven = False
        self.status = "STOPPED" if self.budget.stop.is_set() else "FEASIBLE"
        return True

    def remaining(self) -> float:
        return max(0.0, self.budget.remaining())

    def stage(
        self,
        solver: cp_model.CpSolver,
        fsm: FirstSessionModel,
        name: str,
        share: float,
        hint: dict[Key, int],
        course_hint: Courses | None = None,
        full_candidates: bool = True,
        hint_starts: dict[Key, int] | None = None,
    ) -> bool:
        """Solve one stage; keep its plan if it found one; fix its objective for later
        stages. Returns whether a plan was found."""
        if self.stopped():
            return False
        # The stage starts: progress says which search runs now, before its first solution.
        self.emit(name, self.on_time, self.on_time_bound, None, None)
        set_objective(fsm.model, getattr(fsm.objectives, name), name in ("on_time", "courses"))
        _apply_hint(fsm, hint, course_hint, self.starts if hint_starts is None else hint_starts)
        apply_parameters(solver, stage_parameters(name, len(fsm.x)))
        give_back_free_memory()  # what the stage before freed (heap.py)
        solver.parameters.max_time_in_seconds = max(0.01, self.remaining() * share)
        callback = _Callback(self, fsm, name)
        status = solver.solve(fsm.model, callback)
        info: dict[str, Any] = {
            "stage": name,
            "status": _STATUS.get(status, "UNKNOWN"),
            "wall_time_s": round(solver.wall_time, 3),
            "variables": len(fsm.model.proto.variables),
            "constraints": len(fsm.model.proto.constraints),
            "proven": status == cp_model.OPTIMAL,
            "full_candidates": full_candidates,
        }
        self.stages.append(info)
        found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        if not found:
            # The plan from before this stage (at worst the greedy one) stands.
            self.proven = False
            self.status = "FEASIBLE"
            return False
        value, bound = solver.objective_value, solver.best_objective_bound
        info.update(objective=value, bound=bound)
        self.chosen = {key: int(solver.boolean_value(var)) for key, var in fsm.x.items()}
        self.starts = {key: int(solver.value(var)) for key, var in fsm.start.items()}
        self.courses = {
            option.referral: option for option, var in fsm.y.items() if solver.boolean_value(var)
        }
        if name == "on_time":
            offset = self.stage_offset
            self.on_time, self.on_time_bound = round(value) + offset, int(bound + 1e-6) + offset
            self.objective, self.bound = value + offset, bound + offset
        if status != cp_model.OPTIMAL:
            self.proven = False
            self.status = "FEASIBLE"
        self.emit(name, self.on_time, self.on_time_bound, value, bound)
        return True


_STAGE1_LIMIT = 60_000
"""On-time candidates above which stage 1 searches each referral's earliest ones only."""


def _first_stage(problem: Problem, sure: dict[int, int], plan: Plan) -> tuple[list[Key], bool]:
    """The candidates of stage 1, and whether that is a restriction.

    Exactly the on-time candidates of the referrals not on time for sure, unless there are more
    than `_STAGE1_LIMIT` of them: then each referral keeps its earliest on-time candidates (as
    many as fit the limit, at least 25) and its planned one. CP-SAT then searches a model it can
    handle, but its bound holds for that model only, so the reported bound is the flow bound.
    """
    counts = {
        r: n
        for r, cands in enumerate(problem.candidates)
        if r not in sure and (n := on_time_count(cands))
    }
    if sum(counts.values()) <= _STAGE1_LIMIT:
        return [(r, k) for r, n in counts.items() for k in range(n)], False
    planned = {r: k for r, (k, _) in plan.items()}
    keep = max(25, _STAGE1_LIMIT // max(1, len(counts)))
    keys: list[Key] = []
    for r, n in counts.items():
        keys.extend((r, k) for k in range(min(n, keep)))
        if keep <= (p := planned.get(r, -1)) < n:
            keys.append((r, p))
    return keys, True


_FULL_MODEL_LIMIT = 60_000
"""Candidates above which stages 2 and 3 keep on-time referrals at their planned slot."""


def _later_stages(problem: Problem, plan: Plan) -> tuple[list[Key], bool]:
    """The candidates of stages 2 and 3, and whether that is a restriction.

    Referrals on time in the plan stay among their on-time candidates (no trading one on-time
    start for another); the rest may take any candidate. On very large weeks (more than
    `_FULL_MODEL_LIMIT` candidates that way) an on-time referral keeps only its planned slot,
    and the others only candidates in gaps the pinned sessions leave time in (no other gap can
    take them); if that is still more than the limit, each keeps its earliest such ones (as
    many as fit the limit, at least 25) and its planned one. This bounds memory and model
    building; the stages then search a restricted model.
    """
    on_time = {r: k for r, (k, _) in plan.items() if problem.candidates[r][k].on_time}
    size = sum(
        on_time_count(cands) if r in on_time else len(cands)
        for r, cands in enumerate(problem.candidates)
    )
    keys: list[Key] = []
    if size <= _FULL_MODEL_LIMIT:
        for r, cands in enumerate(problem.candidates):
            n = on_time_count(cands) if r in on_time else len(cands)
            keys.extend((r, k) for k in range(n))
        return keys, False
    left = [g.length for g in problem.gaps]
    for r, k in on_time.items():
        cand = problem.candidates[r][k]
        left[cand.gap] -= cand.length
    movable: dict[int, list[int]] = {}
    for r, cands in enumerate(problem.candidates):
        if r not in on_time and cands:
            planned = plan.get(r, (-1, 0))[0]
            movable[r] = [k for k in fitting(cands, left) if k != planned]
            if planned >= 0:
                movable[r].append(planned)
    if len(on_time) + sum(map(len, movable.values())) > _FULL_MODEL_LIMIT:
        keep = max(25, (_FULL_MODEL_LIMIT - len(on_time)) // max(1, len(movable)))
        for r, ks in movable.items():
            planned = plan.get(r, (-1, 0))[0]
            movable[r] = ks[:keep] + ([planned] if planned in ks[keep:] else [])
    for r in range(len(problem.candidates)):
        if r in on_time:
            keys.append((r, on_time[r]))
        elif r in movable:
            keys.extend((r, k) for k in sorted(movable[r]))
    return keys, True


def _place(fsm: FirstSessionModel, chosen: dict[Key, int], starts: dict[Key, int]) -> Plan:
    """The plan of a CP-SAT solution: the solver's start where exact, else packed back to
    back from the gap's start (exact: the gap's knapsack guarantees they fit)."""
    problem = fsm.problem
    plan: Plan = {}
    per_gap: dict[int, list[Key]] = defaultdict(list)
    for key, value in chosen.items():
        if not value:
            continue
        if key in starts:
            plan[key[0]] = (key[1], starts[key])
        else:
            per_gap[fsm.candidate(key).gap].append(key)
    for g, keys in per_gap.items():
        cursor = problem.gaps[g].start
        for key in sorted(keys, key=lambda k: (problem.dates[k[0]].deadline, k[0])):
            plan[key[0]] = (key[1], cursor)
            cursor += fsm.candidate(key).length
    return plan


def _sessions(problem: Problem, plan: Plan) -> Placed:
    return {r: (problem.candidates[r][k], start) for r, (k, start) in plan.items()}


_FINISH_CPU_S = 0.1
"""CPU seconds between the budget's end and the start of the answer, whatever the size: the stop
reaching the phase that runs (the watcher looks every 20 ms; CP-SAT stops; a model builder or
greedy loop reaches its next check) and the repair step."""
_FINISH_CPU_S_PER_REFERRAL = 3e-4
_FINISH_CPU_S_PER_BOOKING = 1e-5
"""CPU seconds, per referral and per booking, of what runs after the budget ends whatever it
says: the end of preparation (every referral's legal dates, the weekly free minutes: 0.13 s
for a København week), and the answer (assignments with course places, KPIs over every
booking). Measured with ``scripts/bench_service.py --only finish`` and a profile of
``prepare`` with a spent budget: København (340 referrals, 12,565 bookings) 0.04-0.15 s for
the answer, a 1,000-referral stress week (31,668 bookings) 0.18 s, Vejen (300, 1,477)
0.05 s; kept above the largest."""
_REPAIR_CPU_S_PER_REFERRAL = 5e-4
"""CPU seconds per referral kept for the repair (:func:`~scheduler.planning.greedy.book_leftovers`,
the first free time anywhere in the horizon for referrals whose candidates were cut): it took
0.14 s on the 1,000-referral stress week (226 booked) on a quiet machine; kept at 3.5 times that,
since a repair cut short leaves referrals unbooked that had free time (105 of that week, when it
ran on the search's budget at a load of 3). It runs after the search, on the kept-back time."""
FINISH_SHARE_MAX = 0.5
"""The most of the time limit kept back for finishing, however starved the process."""


def _answer_cpu_s(instance: Instance) -> float:
    return (
        _FINISH_CPU_S
        + _FINISH_CPU_S_PER_REFERRAL * len(instance.referrals)
        + _FINISH_CPU_S_PER_BOOKING * len(instance.bookings)
    )


def finish_cpu_s(instance: Instance) -> float:
    """CPU seconds of what a solve of `instance` does after its budget ends, whatever happens
    (the stop taking effect, the end of preparation, the repair, the answer with its KPIs): a
    solve whose budget is spent when it starts still takes this long to return its plan."""
    return _answer_cpu_s(instance) + _REPAIR_CPU_S_PER_REFERRAL * len(instance.referrals)


def finish_reserve(instance: Instance, limit_s: float, pace: float = 1.0) -> float:
    """Seconds kept back from a `limit_s` budget for what comes after it ends: the
    :func:`finish_cpu_s` times the `pace` (wall seconds per CPU second,
    :meth:`Budget.note_pace`), at most :data:`FINISH_SHARE_MAX` of the limit (0 without a
    limit)."""
    if limit_s == float("inf"):
        return 0.0
    return min(pace * finish_cpu_s(instance), FINISH_SHARE_MAX * limit_s)


def solve(
    instance: Instance,
    options: SolveOptions | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    budget: Budget | None = None,
    *,
    hint: Sequence[Assignment] | None = None,
    on_plan: PlanFn | None = None,
) -> Solution:
    """Plan every referral's first session within one wall-clock budget.

    `hint`: the assignments of an earlier plan of the same instance; its first sessions that
    still fit are kept, completed greedily, and the solve starts from that plan where it is at
    least as good as the greedy one (never infeasible: sessions that no longer fit are
    dropped). `on_plan` receives the first sessions of each new best plan (see the module).

    Without `budget` the budget is `options.time_limit_s` from now; with one, it is cut to
    `options.time_limit_s` from the budget's start. `stop.set()` (or the budget's own stop)
    from another thread, or the budget running out, ends the work promptly: the best plan found
    so far is returned, marked as not proven. When the budget is abandoned too (nobody will read
    the plan: the client has gone), :class:`BudgetExpired` is raised instead of making it.
    """
    with long_lived() as heap:
        return _solve(instance, options, on_progress, stop, budget, heap, hint, on_plan)


def _solve(
    instance: Instance,
    options: SolveOptions | None,
    on_progress: Callable[[Progress], None] | None,
    stop: threading.Event | None,
    budget: Budget | None,
    heap: LongLived,
    hint: Sequence[Assignment] | None,
    on_plan: PlanFn | None,
) -> Solution:
    options = options or SolveOptions()
    if budget is None:
        budget = Budget(options.time_limit_s, stop=stop)
    else:
        if stop is not None and stop is not budget.stop:
            raise ValueError("pass the stop event inside the budget, not beside it")
        budget.limit_to(options.time_limit_s)
    # The answer (assignments, KPIs over every booking) is made after the work stops: leave it
    # its time inside the limit, scaled by how starved the process is. The pace is measured
    # again after the greedy plan (preparing and the greedy only compute, in this thread).
    limit_s = budget.limit_s

    def keep_back() -> None:
        budget.limit_to(limit_s - finish_reserve(instance, limit_s, budget.note_pace()))

    keep_back()
    stop = budget.stop
    run = _Run(
        started=time.monotonic(),
        options=options,
        budget=budget,
        on_progress=on_progress,
        on_plan=on_plan,
    )
    problem = prepare(instance, late_days=options.late_days, budget=budget)
    heap.settle()  # the prepared problem lives as long as the solve
    run.fixed_on_time = sum(
        1 for r, b in problem.fixed.items() if b.start.date() <= problem.dates[r].deadline
    )
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = options.workers
    solver.parameters.random_seed = options.seed
    done = threading.Event()

    def watch() -> None:
        # Keep stopping until the loop ends: a stop (or a spent budget) between two searches
        # must also end the next one. Looks every 20 ms, and ends within 20 ms of `done`.
        while not done.wait(0.02):
            if budget.expired():
                solver.stop_search()

    watcher = threading.Thread(target=watch, name="solve-stop-watcher", daemon=True)
    watcher.start()
    size = {"variables": 0, "constraints": 0}
    plan: Plan = {}
    first_solution_s = 0.0
    hinted: HintReport | None = None
    try:
        # A greedy plan first: feasible at once, the fallback, and stage 1's hint.
        plan = complete(problem, {}, budget)
        if hint is not None:
            # The caller's earlier plan, repaired and completed: the start if not worse.
            from_hint, hinted = plan_from_hint(problem, hint, budget)
            if better(problem, from_hint, plan):
                plan, run.hinted = from_hint, True
                hinted = HintReport(hinted.bookings, hinted.kept, used=True)
        keep_back()
        first_solution_s = round(time.monotonic() - run.started, 3)
        run.on_time = _on_time(problem, plan)
        run.objective = float(run.on_time)
        run.emit("hint" if run.hinted else "greedy", run.on_time, None, None, None)
        run.publish(problem, plan)
        if not run.stopped():
            # Stage 1 decides only the contested referrals: the others are on time for sure.
            # With the flow bound over the contested ones, the most any plan has on time.
            sure = sure_on_time(problem)
            flow = on_time_flow_bound(problem, sure)
            plan = _improve_start(run, problem, plan, len(sure) + flow)
            if not run.stopped():
                plan = _optimise(run, solver, problem, plan, size, sure, flow)
    except BudgetExpired:
        pass  # the best plan so far stands
    finally:
        done.set()
        watcher.join()
    if stop.is_set():
        run.proven, run.status = False, "STOPPED"

    budget.check_abandoned()  # the answer below costs the most after a stop: skip it
    placed = _sessions(problem, plan)
    # The repair runs on its share of the kept-back time: up to the limit less the answer's.
    answer = min(budget.pace * _answer_cpu_s(instance), FINISH_SHARE_MAX * limit_s)
    repair_budget = Budget(limit_s - answer, stop=stop, clock=budget.clock, started=budget.started)
    repaired = book_leftovers(problem, placed, repair_budget)
    repair_done = not repair_budget.expired()
    if not repair_done:
        # Say so where it shows: these may have had free time the repair did not reach.
        for r, cands in enumerate(problem.candidates):
            if cands and r not in placed:
                problem.unbookable.setdefault(r, _NOT_REACHED)
    stages_proven = bool(run.stages) and all(
        s.get("proven", s.get("status") == "OPTIMAL") and s.get("full_candidates", True)
        for s in run.stages
    )
    stats = SolverStats(
        method="cp-sat",
        status=run.status,
        proven_optimal=run.proven and stages_proven,
        on_time_proven=(
            run.on_time is not None and run.on_time == run.on_time_bound and not stop.is_set()
        ),
        objective=None if run.objective is None else run.objective + run.fixed_on_time,
        best_bound=None if run.bound is None else run.bound + run.fixed_on_time,
        gap=_gap(run.objective, run.bound),
        on_time_bound=None if run.on_time_bound is None else run.on_time_bound + run.fixed_on_time,
        wall_time_s=round(time.monotonic() - run.started, 3),
        first_solution_s=first_solution_s,
        variables=size["variables"],
        constraints=size["constraints"],
        workers=options.workers,
        seed=options.seed,
        stages=[
            *([] if hinted is None else [hinted.as_stage()]),
            *run.stages,
            {"stage": "repair", "booked": repaired, "finished": repair_done},
        ],
    )
    courses = run.final_courses
    if courses is not None:
        # Keep the CP-SAT course places of referrals still booked; the repaired ones get
        # places greedily from what is left (make_solution re-checks every place).
        courses = {r: o for r, o in courses.items() if r in placed or r in problem.pending}
    return make_solution(problem, placed, stats, courses)


_NOT_REACHED = (
    Reason.NO_CAPACITY_IN_HORIZON,
    "not booked: the solve ended (time limit or stop) before the search for a free slot reached it",
)
"""The reason of a referral left unbooked by a repair the time limit cut short."""


_COURSES_ON_PLAN = 20_000
"""Variables of the later stages' model (first sessions, their starts, the links) above which
the courses stage decides course places on stage 2's first sessions only
(:func:`_courses_on_plan`). Counted on the whole model, not the first-session variables alone:
since the later stages keep late referrals to gaps with time left, the 1,000-referral week has
fewer than 20,000 of those but 25,000 variables, and the full course model (47,000 variables)
found nothing in its seconds there."""


_IMPROVE_SHARE = 0.1
"""The most of the time left that the start plan's improvement may take."""


def _improve_start(run: _Run, problem: Problem, plan: Plan, bound: int) -> Plan:
    """The start plan, or a better one from best fit and ejection
    (:func:`~scheduler.planning.improve.most_on_time`, completed greedily): more on time, then
    fewer late days. Stage 1's search starts from it. The ejection stops once `bound`
    referrals are on time (no plan has more): a plan that starts there only gets best fit,
    which may still have fewer late days."""
    improved = complete(
        problem,
        most_on_time(problem, run.budget, _IMPROVE_SHARE * run.remaining(), target=bound),
        run.budget,
    )
    if run.budget.expired() or not quality(problem, improved) > quality(problem, plan):
        return plan
    run.on_time = _on_time(problem, improved)
    run.objective = float(run.on_time)
    run.emit("improved", run.on_time, None, None, None)
    run.publish(problem, improved)
    return improved


def _courses_on_plan(run: _Run, solver: cp_model.CpSolver, problem: Problem, plan: Plan) -> None:
    """The courses stage of a very large week: the course places that fit the plan's first
    sessions, optimised exactly on those (:func:`~scheduler.planning.model.build_course_model`;
    not on the full candidate set). The full model with course places (100k variables at 1,000
    referrals) found no plan in the seconds left; this one is a few options per referral. The
    tail stage is left out: it could move first sessions away from their course places."""
    fsm = build_course_model(problem, [(r, k) for r, (k, _) in plan.items()])
    greedy = allocate(problem, _candidates(problem, plan))
    if run.stage(solver, fsm, "courses", 1.0, _hint(plan), greedy, full_candidates=False):
        run.final_courses = dict(run.courses)


def _candidates(problem: Problem, plan: Plan) -> dict[int, Candidate]:
    return {r: problem.candidates[r][k] for r, (k, _) in plan.items()}


def _optimise(
    run: _Run,
    solver: cp_model.CpSolver,
    problem: Problem,
    plan: Plan,
    size: dict[str, int],
    sure: dict[int, int],
    flow: int,
) -> Plan:
    """Stages 1–3 from the greedy `plan`; returns the best plan. `sure`: the referrals on
    time for sure (:func:`~scheduler.planning.bounds.sure_on_time`), `flow` the flow bound
    over the others. Every step asks the budget; once it is spent (model building raises
    :class:`BudgetExpired`) the plan reached so far is returned."""
    budget = run.budget
    options = run.options
    best = plan
    try:
        budget.check()
        keys, restricted = _first_stage(problem, sure, plan)
        # Independent parts the greedy plan already solves (by their flow bounds) keep it.
        parts = split_stage1(problem, keys, sure, plan, flow)
        budget.check()
        kept = {**{(r, k): 1 for r, k in sure.items()}, **_hint(parts.closed)}
        run.stage_offset = len(sure) + len(parts.closed)
        first = build_model(
            problem,
            options.weights,
            None,
            budget,
            courses=False,
            keys=parts.open_keys,
            all_objectives=False,
        )
        del keys
        if first.x:
            greedy_on_time = run.on_time or 0
            contested = {
                r: p
                for r, p in plan.items()
                if r not in sure and problem.candidates[r][p[0]].on_time
            }
            # On very large weeks the later stages keep on-time referrals at their slots and
            # the courses stage is quick (_courses_on_plan): stage 1 gets more of the time.
            share = 0.7 if len(first.x) > _COURSES_ON_PLAN else 0.6
            found = run.stage(
                solver, first, "on_time", share, _hint(contested), hint_starts=_starts(contested)
            )
            if found and (run.on_time or 0) >= greedy_on_time:
                chosen = {**run.chosen, **kept}
                starts = {**run.starts, **parts.closed_starts}
                candidate = complete(problem, _place(first, chosen, starts), budget)
                # A budget spent while completing must not lose bookings the greedy plan had;
                # a hinted start with as many on time and fewer late days stays.
                if run.hinted and not better(problem, candidate, best):
                    run.on_time = greedy_on_time
                    run.objective = float(greedy_on_time)
                elif not budget.expired() or len(candidate) >= len(best):
                    best = candidate
                    run.publish(problem, best)
                else:
                    run.on_time = greedy_on_time
                    run.objective = float(greedy_on_time)
            else:
                run.on_time = greedy_on_time
                run.objective = float(greedy_on_time)
        else:
            # Every referral that can be on time is so for sure or in a part the greedy plan
            # solves: stage 1 is solved.
            run.on_time = run.on_time_bound = run.stage_offset
            run.objective = run.bound = float(run.stage_offset)
            run.stages.append({"stage": "on_time", "status": "OPTIMAL", "wall_time_s": 0.0})
            run.emit("on_time", run.on_time, run.on_time_bound, run.objective, run.bound)
            candidate = complete(problem, _place(first, kept, parts.closed_starts), budget)
            if not run.hinted or better(problem, candidate, best):
                best = candidate
                run.publish(problem, best)
        if run.stages and run.stages[-1]["stage"] == "on_time":
            run.stages[-1].update(
                sure_on_time=len(sure),
                restricted=restricted,
                full_candidates=not restricted,
                parts=parts.parts,
                solved_by_flow_bound=parts.closed_parts,
            )
        run.stage_offset = 0
        del first  # free the stage-1 model before building the full one
        if not run.stopped():
            # A flow bound CP-SAT may not have reached in its time (rooms and lengths
            # relaxed); the only valid one when stage 1 searched a restricted model.
            relaxed = len(sure) + flow
            if restricted or run.on_time_bound is None or run.on_time_bound > relaxed:
                run.on_time_bound, run.bound = relaxed, float(relaxed)
        if run.on_time_bound != run.on_time:
            run.proven, run.status = False, "FEASIBLE"
        if run.stopped():
            return best
        # Course places join the model after stage 2 (they never change stages 1-2), so a
        # search cut short early does not pay for building them.
        keys, later_restricted = _later_stages(problem, best)
        full = build_model(problem, options.weights, None, budget, courses=False, keys=keys)
        del keys
        size.update(
            variables=len(full.model.proto.variables),
            constraints=len(full.model.proto.constraints),
        )
        later_full = (
            not later_restricted
            and not any(problem.cut)
            and not any(
                r in best
                and problem.candidates[r][best[r][0]].on_time
                and on_time_count(cands) < len(cands)
                for r, cands in enumerate(problem.candidates)
            )
        )
        if full.x and not run.stopped():
            full.model.add(full.objectives.on_time >= (run.on_time or 0))
            on_plan = len(full.model.proto.variables) > _COURSES_ON_PLAN
            share = 0.9 if on_plan else 0.6  # the courses stage on the plan is quick
            if run.stage(
                solver, full, "lateness", share, _hint(best), None, later_full, _starts(best)
            ):
                best = _place(full, run.chosen, run.starts)
                run.publish(problem, best)
                if not run.stopped() and on_plan:
                    _courses_on_plan(run, solver, problem, best)
                elif not run.stopped():
                    full.model.add(full.objectives.lateness <= round(run.stages[-1]["objective"]))
                    full.y = add_course_capacity(full.model, problem, full.x, full.cands)
                    full.objectives.courses = course_objective(problem, full.y)
                    budget.check()
                    greedy_courses = allocate(problem, _candidates(problem, best))
                    if run.stage(
                        solver, full, "courses", 0.5, run.chosen, greedy_courses, later_full
                    ):
                        best = _place(full, run.chosen, run.starts)
                        run.final_courses = dict(run.courses)
                        run.publish(problem, best)
                        if not run.stopped():
                            full.model.add(
                                full.objectives.courses >= round(run.stages[-1]["objective"])
                            )
                            if run.stage(
                                solver, full, "tail", 1.0, run.chosen, run.final_courses, later_full
                            ):
                                best = _place(full, run.chosen, run.starts)
                                run.final_courses = dict(run.courses)
                                run.publish(problem, best)
            elif on_plan and not run.stopped():
                _courses_on_plan(run, solver, problem, best)
    except BudgetExpired:
        run.stopped()
    return best
