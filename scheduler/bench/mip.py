"""A MIP peer of the optimiser: the same decision, solved by HiGHS (`highspy`).

It shows what CP-SAT buys over an off-the-shelf MIP solver on exactly the same problem: the
free gaps and candidate first sessions of :func:`scheduler.planning.problem.prepare` (with the same
`late_days` cut-off as the optimiser), the same priorities, the same KPIs and checker.

Model (all variables binary unless said):

- ``x[c]``: referral takes candidate ``c`` (a gap of a qualified therapist, at the site or at
  home). At most one per referral.
- Per gap, a knapsack: the minutes used (a session, a home visit with travel both ways) add up
  to at most the gap's length. For one therapist in one contiguous gap this is exact: the
  sessions are placed back to back from the gap's start.
- Room-critical site-days (:attr:`Problem.critical <scheduler.planning.problem.Problem.critical>`:
there
  every rostered therapist at once could exceed the rooms) are time-indexed instead. Each
  candidate in a gap there gets one variable per start on a grid of `step_minutes` from the gap
  start (``x[c, s]``, their sum is the candidate's choice). Two families of rows make it exact
  for those starts: per gap and per possible start minute ``t``, at most one of the therapist's
  sessions covers ``t``; per site-day and per start minute ``t`` of a session or of a staying
  booking's room use, the sessions at the site covering ``t`` plus the staying room use at
  ``t`` are at most the rooms. (The most sessions overlap at some session's start, so checking
  the starts suffices.) The grid is a restriction, not a relaxation: every MIP plan is valid,
  but a plan needing an off-grid start in a critical gap is out of reach (CP-SAT places to the
  minute). With the default 15-minute grid, sessions of 15-minute multiples pack back to back.

Courses (when the instance has any, see :mod:`scheduler.planning.courses`): one binary column
``y[o]`` per course option ``o`` (a booked referral's course carried by its first session's
therapist or a hold seat, from a start week), the same constraints as the optimiser's
:func:`scheduler.planning.model.add_course_capacity`: ``y[o]`` at most the sum of the first
session columns that allow it (none for a fixed referral whose course is pending: its first
session is communicated), at most one per referral; per therapist and full week the new first
sessions' minutes plus the weekly minutes of the courses carried at most the week's free
minutes; per hold and week the courses at most the seats left.

Objective, lexicographic in three solves (four with courses), each fixing the previous optimum
(or, when a time limit stopped it, the best value found) as a constraint and warm-started from
the previous plan, so the order is exact with no big-M weights:

1. most referrals on time;
2. least lateness: days past the deadline summed over booked referrals, plus
   :meth:`Problem.unassigned_penalty_days
   <scheduler.planning.problem.Problem.unassigned_penalty_days>`
   for each referral left unbooked (worse than any booking in the horizon);
3. (with courses) most courses that start, a pending fixed referral's course weighing
   :func:`~scheduler.planning.courses.fixed_course_weight` (the optimiser's
   :func:`~scheduler.planning.model.course_objective`);
4. the blended tail with :class:`~scheduler.domain.ObjectiveWeights`: waiting days (from the
   earliest start), travel minutes (the therapist's home-visit driving both ways plus the
   citizen's round trip to the site), avanceret-approved therapists on basal work, and the
   busiest therapist's minutes of new work.

HiGHS starts stage 1 from an earliest-deadline-first greedy plan (:func:`greedy_start`; no
course places), as the optimiser did before its start plan was improved by best fit and
ejection chains (:mod:`scheduler.planning.improve`, not given to the MIP), and the stages share
the time: 60%, 25% and 15% of the time left (with courses 60%, 20%, 10% and 10%), time a stage
does not use flowing on. The time limit covers model building and the HiGHS process's start;
placing, repair and KPIs come after it. Sessions are then placed to the minute: back to back
from the gap start in ordinary gaps, at the chosen grid start in critical ones. As in the
optimiser, a referral left unbooked because its candidates were cut to the first `late_days`
late days then gets the first free slot left in the horizon
(:class:`scheduler.planning.greedy.FreeTime`).

HiGHS runs in a separate Python process: OR-Tools bundles its own, different ``libhighs.so.1``,
and whichever of the two is loaded first makes the other fail to import. The model is built
here (pure Python), solved there, and read back here. HiGHS's presolve is used in stage 1 only:
on the dense rows that keep an earlier priority it can run far past the time limit.
"""

from __future__ import annotations

import math
import os
import pickle
import subprocess
import sys
import tempfile
import time as _time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from scheduler.domain import (
    Instance,
    ObjectiveWeights,
    Solution,
    SolverStats,
)
from scheduler.planning.candidates import Candidate
from scheduler.planning.courses import (
    CourseOption,
    Courses,
    fixed_course_weight,
    fixed_options,
    options_for,
)
from scheduler.planning.greedy import FreeTime, book_leftovers, edf_order
from scheduler.planning.plan import Placed, make_solution
from scheduler.planning.problem import Problem, prepare
from scheduler.rules.courses import week_start

__all__ = ["MipModel", "build_mip", "greedy_start", "solve_mip"]

_GRACE_S = 1.0
"""How long past its deadline the HiGHS process may run before it is stopped."""

METHOD = "mip-highs"


@dataclass(frozen=True, slots=True)
class _Column:
    """One decision: `cand` chosen, and in a critical gap also its `start` minute."""

    cand: Candidate
    start: int | None


@dataclass
class MipModel:
    """The MIP: columns with their meaning, rows in CSR form, and the stage objectives.

    Column order: the first sessions (`columns`), the course options (`course_columns`), then
    the busiest therapist's minutes (the last, continuous)."""

    problem: Problem
    columns: list[_Column]
    course_columns: list[CourseOption] = field(default_factory=list)
    row_start: list[int] = field(default_factory=list)
    row_index: list[int] = field(default_factory=list)
    row_value: list[float] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    on_time: list[float] = field(default_factory=list)
    """Stage 1 (maximised): 1 per on-time column."""
    lateness: list[float] = field(default_factory=list)
    """Stage 2 (minimised, without its constant `lateness_offset`)."""
    lateness_offset: float = 0.0
    courses: list[float] = field(default_factory=list)
    """The courses stage (maximised; empty without course columns)."""
    tail: list[float] = field(default_factory=list)
    """The last stage (minimised); the last column is the busiest therapist's minutes."""

    @property
    def num_cols(self) -> int:
        return len(self.columns) + len(self.course_columns) + 1

    def stages(self) -> list[tuple[str, list[float], bool, float]]:
        """(stage name, cost per column, maximise?, share of the time) in priority order."""
        if not self.course_columns:
            return [
                ("on_time", self.on_time, True, 0.6),
                ("lateness", self.lateness, False, 0.25),
                ("tail", self.tail, False, 0.15),
            ]
        return [
            ("on_time", self.on_time, True, 0.6),
            ("lateness", self.lateness, False, 0.2),
            ("courses", self.courses, True, 0.1),
            ("tail", self.tail, False, 0.1),
        ]

    def carried(self, chosen: list[int]) -> Courses:
        """The course places among the `chosen` columns."""
        first = len(self.columns)
        return {
            (o := self.course_columns[j - first]).referral: o
            for j in chosen
            if first <= j < first + len(self.course_columns)
        }

    @property
    def num_rows(self) -> int:
        return len(self.row_lower)

    def add_row(self, terms: dict[int, float], lower: float, upper: float) -> None:
        if not terms:
            return
        self.row_start.append(len(self.row_index))
        for j, coef in terms.items():
            self.row_index.append(j)
            self.row_value.append(coef)
        self.row_lower.append(lower)
        self.row_upper.append(upper)


def _grid(start: int, end: int, length: int, step: int) -> list[int]:
    return list(range(start, end - length + 1, step))


def build_mip(
    problem: Problem, weights: ObjectiveWeights | None = None, step_minutes: int = 15
) -> MipModel:
    """The MIP of `problem`: columns, rows and the three stage objectives."""
    weights = weights or ObjectiveWeights()
    inst = problem.instance
    inf = math.inf
    columns: list[_Column] = []
    for cands in problem.candidates:
        for cand in cands:
            gap = problem.gaps[cand.gap]
            if gap.index in problem.critical:
                for s in _grid(gap.start, gap.end, cand.length, step_minutes):
                    columns.append(_Column(cand, s))
            else:
                columns.append(_Column(cand, None))
    course_columns = _course_columns(problem, columns)
    model = MipModel(
        problem=problem, columns=columns, course_columns=[o for o, _ in course_columns]
    )
    busiest = len(columns) + len(course_columns)

    by_referral: dict[int, dict[int, float]] = defaultdict(dict)
    by_gap: dict[int, dict[int, float]] = defaultdict(dict)
    timed_in_gap: dict[int, list[int]] = defaultdict(list)
    timed_at_site: dict[tuple[int, date], list[int]] = defaultdict(list)
    by_therapist: dict[int, dict[int, float]] = defaultdict(dict)
    for j, col in enumerate(columns):
        cand = col.cand
        gap = problem.gaps[cand.gap]
        by_referral[cand.referral][j] = 1.0
        by_gap[cand.gap][j] = float(cand.length)
        by_therapist[gap.therapist][j] = float(cand.length)
        if col.start is not None:
            timed_in_gap[cand.gap].append(j)
            if not cand.at_home:
                timed_at_site[(gap.site, gap.day)].append(j)

    # At most one first session per referral.
    for terms in by_referral.values():
        model.add_row(terms, -inf, 1.0)
    # A therapist's sessions fit their free stretch, back to back.
    for g, terms in by_gap.items():
        model.add_row(terms, -inf, float(problem.gaps[g].length))

    def covering(cols: list[int], t: int) -> dict[int, float]:
        out: dict[int, float] = {}
        for j in cols:
            start = columns[j].start
            assert start is not None
            if start <= t < start + columns[j].cand.length:
                out[j] = 1.0
        return out

    # Critical gaps, time-indexed: a therapist does one thing at a time.
    for cols in timed_in_gap.values():
        for t in sorted({start for j in cols if (start := columns[j].start) is not None}):
            terms = covering(cols, t)
            if len(terms) > 1:
                model.add_row(terms, -inf, 1.0)
    # Critical site-days: sessions at the site plus staying room use never exceed the rooms.
    for (site, day), cols in timed_at_site.items():
        load = problem.room_load.get((site, day), [])
        rooms = inst.sites[site].rooms
        points = {columns[j].start for j in cols if columns[j].start is not None}
        points |= {s for s, _ in load}
        for t in sorted(p for p in points if p is not None):
            terms = covering(cols, t)
            free = rooms - sum(1 for s, e in load if s <= t < e)
            if len(terms) > max(free, 0):
                model.add_row(terms, -inf, float(max(free, 0)))
    _course_rows(model, [links for _, links in course_columns])
    # The busiest therapist's new minutes (a continuous column) bound every therapist's.
    for terms in by_therapist.values():
        row = dict(terms)
        row[busiest] = -1.0
        model.add_row(row, -inf, 0.0)

    offset = 0.0
    for r, cands in enumerate(problem.candidates):
        if cands:
            offset += problem.unassigned_penalty_days(r)
    model.lateness_offset = offset
    for col in columns:
        cand = col.cand
        model.on_time.append(1.0 if cand.on_time else 0.0)
        model.lateness.append(
            float(cand.lateness_days - problem.unassigned_penalty_days(cand.referral))
        )
        model.tail.append(float(cand.tail_cost(weights)))
    heavy = float(fixed_course_weight(problem))
    for option in model.course_columns:
        model.on_time.append(0.0)
        model.lateness.append(0.0)
        model.tail.append(0.0)
        model.courses.append(heavy if option.referral in problem.pending else 1.0)
    model.on_time.append(0.0)
    model.lateness.append(0.0)
    model.tail.append(float(weights.balance_minute))
    if model.course_columns:
        model.courses = [0.0] * len(columns) + model.courses + [0.0]
    return model


def _course_columns(
    problem: Problem, columns: list[_Column]
) -> list[tuple[CourseOption, list[int] | None]]:
    """Every course option, with the first-session columns that allow it (None for a pending
    fixed referral's: its first session is communicated), as
    :func:`scheduler.planning.model.add_course_capacity` links them."""
    by_group: dict[tuple[int, int, date], list[int]] = defaultdict(list)
    first: dict[tuple[int, int, date], Candidate] = {}
    for j, col in enumerate(columns):
        cand = col.cand
        key = (cand.referral, problem.gaps[cand.gap].therapist, cand.day)
        by_group[key].append(j)
        first.setdefault(key, cand)
    links: dict[CourseOption, list[int] | None] = {}
    for r in problem.pending:
        for option in fixed_options(problem, r):
            links[option] = None
    for key, cols in by_group.items():
        for option in options_for(problem, key[0], first[key]):
            linked = links.setdefault(option, [])
            assert linked is not None
            linked.extend(cols)
    return list(links.items())


def _course_rows(model: MipModel, links: list[list[int] | None]) -> None:
    """The course rows: link, one place per referral, therapist weeks, hold seats."""
    problem, inf = model.problem, math.inf
    first = len(model.columns)
    per_referral: dict[int, dict[int, float]] = defaultdict(dict)
    therapist_week: dict[tuple[int, date], dict[int, float]] = defaultdict(dict)
    hold_week: dict[tuple[int, date], dict[int, float]] = defaultdict(dict)
    for i, (option, linked) in enumerate(zip(model.course_columns, links, strict=True)):
        j = first + i
        if linked is not None:
            model.add_row({j: 1.0, **{k: -1.0 for k in linked}}, -inf, 0.0)
        per_referral[option.referral][j] = 1.0
        for week in option.weeks:
            if option.therapist is not None:
                therapist_week[(option.therapist, week)][j] = float(option.load)
            else:
                assert option.hold is not None
                hold_week[(option.hold, week)][j] = 1.0
    for terms in per_referral.values():
        if len(terms) > 1:
            model.add_row(terms, -inf, 1.0)
    # First sessions of a week count against the same free minutes as the courses.
    sessions: dict[tuple[int, date], dict[int, float]] = defaultdict(dict)
    for j, col in enumerate(model.columns):
        cand = col.cand
        key = (problem.gaps[cand.gap].therapist, week_start(cand.day))
        if key in therapist_week:
            sessions[key][j] = float(cand.length)
    for key, terms in therapist_week.items():
        model.add_row(
            {**terms, **sessions.get(key, {})}, -inf, float(problem.week_free.get(key, 0))
        )
    for (h, week), terms in hold_week.items():
        hold = problem.holds[h][1]
        left = max(0, hold.seats - hold.taken_in(week))
        if len(terms) > left:
            model.add_row(terms, -inf, float(left))


@dataclass(frozen=True)
class _HighsJob:
    """What the HiGHS process needs: the matrix, the three objectives, the limits."""

    num_cols: int
    row_start: list[int]
    row_index: list[int]
    row_value: list[float]
    row_lower: list[float]
    row_upper: list[float]
    objectives: list[tuple[str, list[float], bool, float]]
    """(stage name, cost per column, maximise?, share of the time) in priority order."""
    start: list[float]
    """A feasible plan to start from."""
    deadline: float
    """`time.time()` by which every stage must be done."""
    threads: int
    seed: int


@dataclass(frozen=True)
class _HighsResult:
    stages: list[dict[str, Any]]
    chosen: list[int]
    """Columns at 1 in the best plan (the greedy start if HiGHS found none)."""


def _solve_stages(
    job: _HighsJob, checkpoint: Callable[[_HighsResult], None] | None = None
) -> _HighsResult:
    """The lexicographic solves (runs in the HiGHS process, see :func:`_run_highs`); the plan
    so far goes to `checkpoint` before stage 1 and after each stage."""
    import highspy
    import numpy as np

    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", max(1, job.threads))
    h.setOptionValue("random_seed", job.seed)
    # Every objective is integral: a gap below 1 proves optimality.
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.999)
    n = job.num_cols
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = len(job.row_lower)
    lp.col_cost_ = np.zeros(n)
    lp.col_lower_ = np.zeros(n)
    upper = np.ones(n)
    upper[-1] = highspy.kHighsInf
    lp.col_upper_ = upper
    lp.row_lower_ = np.array(job.row_lower, dtype=float)
    lp.row_upper_ = np.array(job.row_upper, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = len(job.row_lower)
    lp.a_matrix_.start_ = np.array([*job.row_start, len(job.row_index)], dtype=np.int32)
    lp.a_matrix_.index_ = np.array(job.row_index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(job.row_value, dtype=float)
    integrality = [highspy.HighsVarType.kInteger] * n
    integrality[-1] = highspy.HighsVarType.kContinuous
    lp.integrality_ = integrality
    h.passModel(lp)
    columns = np.arange(n, dtype=np.int32)
    names = {
        highspy.HighsModelStatus.kOptimal: "OPTIMAL",
        highspy.HighsModelStatus.kTimeLimit: "TIME_LIMIT",
        highspy.HighsModelStatus.kInterrupt: "INTERRUPTED",
        highspy.HighsModelStatus.kMemoryLimit: "MEMORY_LIMIT",
    }
    stages: list[dict[str, Any]] = []
    values: Any = np.array(job.start, dtype=float)

    def result() -> _HighsResult:
        chosen = [int(j) for j in np.flatnonzero(values[:-1] > 0.5)]
        return _HighsResult(stages=[dict(s) for s in stages], chosen=chosen)

    if checkpoint is not None:
        checkpoint(result())
    for position, (name, cost, maximise, weight) in enumerate(job.objectives):
        left = job.deadline - _time.time()
        if position and left < 0.05:
            break
        # Each stage gets its share of the time left; time a stage does not use flows on.
        share = left * weight / sum(w for *_, w in job.objectives[position:])
        stage_began = _time.perf_counter()
        costs = np.array(cost, dtype=float)
        h.changeColsCost(n, columns, costs)
        h.changeObjectiveSense(
            highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
        )
        h.setOptionValue("time_limit", max(0.05, share))
        # HiGHS presolve on the dense rows that keep earlier priorities can run far past the
        # time limit (it does not look at the clock there); later stages start from a plan.
        h.setOptionValue("presolve", "choose" if position == 0 else "off")
        h.setSolution(n, columns, values)
        h.run()
        model_status = h.getModelStatus()
        info = h.getInfo()
        stage: dict[str, Any] = {
            "stage": name,
            "status": names.get(model_status, h.modelStatusToString(model_status).upper()),
            "objective": None,
            "bound": None,
        }
        if info.primal_solution_status == 2:  # a feasible plan exists
            values = np.array(h.getSolution().col_value)
            objective = float(info.objective_function_value)
            bound = float(info.mip_dual_bound)
            stage["objective"] = objective
            stage["bound"] = bound if np.isfinite(bound) else None
            # Keep this priority at the value reached while optimising the next ones.
            value = float(round(objective))
            lower, upper_ = (value, highspy.kHighsInf) if maximise else (-highspy.kHighsInf, value)
            h.addRow(lower, upper_, n, columns, costs)
        stage["time_s"] = round(_time.perf_counter() - stage_began, 3)
        stages.append(stage)
        if checkpoint is not None:
            checkpoint(result())
        if stage["objective"] is None:
            break
    return result()


def greedy_start(model: MipModel, step_minutes: int = 15) -> list[float]:
    """A feasible plan to start HiGHS from, the optimiser's first plan before its improvement:
    earliest deadline first, each referral into its first free slot among the model's columns
    (rooms checked; in room-critical gaps only on the grid, which the improved plan's starts
    need not be on)."""
    problem = model.problem
    column: dict[tuple[Candidate, int | None], int] = {
        (col.cand, col.start): j for j, col in enumerate(model.columns)
    }
    free = FreeTime(problem)
    values = [0.0] * model.num_cols
    load: dict[int, int] = defaultdict(int)
    for r in edf_order(problem):
        for cand in problem.candidates[r]:
            gap = problem.gaps[cand.gap]
            timed = gap.index in problem.critical
            start = free.earliest_start(cand, step_minutes if timed else None)
            if start is None:
                continue
            free.book(cand, start)
            values[column[(cand, start if timed else None)]] = 1.0
            load[gap.therapist] += cand.length
            break
    values[-1] = float(max(load.values(), default=0))
    return values


def _highs_main(job_path: str, result_path: str) -> None:
    """Entry point of the HiGHS process: read the job, solve, and keep the plan so far in
    `result_path` (pickles; replaced atomically after each stage)."""
    with open(job_path, "rb") as f:
        job = pickle.load(f)

    def checkpoint(result: _HighsResult) -> None:
        partial = result_path + ".part"
        with open(partial, "wb") as f:
            pickle.dump(result, f)
        os.replace(partial, result_path)

    _solve_stages(job, checkpoint)


def _run_highs(job: _HighsJob) -> _HighsResult:
    """Run HiGHS in a fresh Python process that imports nothing but this module's needs.

    OR-Tools ships its own, different ``libhighs.so.1``: whichever of the two is loaded first
    makes the other fail to import, so highspy never enters a process that may use CP-SAT.
    HiGHS looks at its clock only now and then (a stage has been seen to run seconds past its
    limit), so the process is stopped at the deadline plus a short grace, and the plan of the
    last finished stage is used.
    """
    with tempfile.TemporaryDirectory(prefix="scheduler-mip-") as tmp:
        job_path, result_path = Path(tmp, "job.pickle"), Path(tmp, "result.pickle")
        with job_path.open("wb") as f:
            pickle.dump(job, f)
        code = "import sys; from scheduler.bench.mip import _highs_main; _highs_main(*sys.argv[1:])"
        stopped = False
        try:
            done = subprocess.run(
                [sys.executable, "-c", code, str(job_path), str(result_path)],
                capture_output=True,
                text=True,
                timeout=max(0.0, job.deadline - _time.time()) + _GRACE_S,
                check=False,
            )
            failure = done.stderr.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        except subprocess.TimeoutExpired:
            stopped, failure = True, ["stopped at the time limit before a first plan"]
        if not result_path.exists() or (not stopped and done.returncode != 0):
            raise RuntimeError(f"HiGHS failed: {failure[0]}")
        with result_path.open("rb") as f:
            result: _HighsResult = pickle.load(f)
    if stopped:
        names = [name for name, *_ in job.objectives]
        result.stages.append(
            {
                "stage": names[min(len(result.stages), len(names) - 1)],
                "status": "STOPPED",
                "objective": None,
                "bound": None,
                "time_s": None,
            }
        )
    return result


def _place(model: MipModel, chosen: list[int]) -> Placed:
    """Exact minutes: back to back from the gap start, or the chosen grid start."""
    placed: Placed = {}
    used: dict[int, int] = defaultdict(int)
    sessions = [j for j in chosen if j < len(model.columns)]
    for j in sorted(sessions, key=lambda j: (model.columns[j].cand.gap, j)):
        col = model.columns[j]
        gap = model.problem.gaps[col.cand.gap]
        if col.start is not None:
            placed[col.cand.referral] = (col.cand, col.start)
        else:
            placed[col.cand.referral] = (col.cand, gap.start + used[gap.index])
            used[gap.index] += col.cand.length
    return placed


def solve_mip(
    instance: Instance,
    time_limit_s: float,
    threads: int = 1,
    *,
    seed: int = 0,
    late_days: int = 5,
    weights: ObjectiveWeights | None = None,
    step_minutes: int = 15,
) -> Solution:
    """Plan all referrals with HiGHS, lexicographically (see the module docstring)."""
    began = _time.perf_counter()
    problem = prepare(instance, late_days=late_days)
    model = build_mip(problem, weights, step_minutes)
    result = _run_highs(
        _HighsJob(
            num_cols=model.num_cols,
            row_start=model.row_start,
            row_index=model.row_index,
            row_value=model.row_value,
            row_lower=model.row_lower,
            row_upper=model.row_upper,
            objectives=model.stages(),
            start=greedy_start(model, step_minutes),
            deadline=_time.time() + max(0.1, time_limit_s - (_time.perf_counter() - began)),
            threads=threads,
            seed=seed,
        )
    )
    stages = result.stages
    for stage in stages:
        if stage["stage"] == "lateness":
            for key in ("objective", "bound"):
                if stage[key] is not None:
                    stage[key] += model.lateness_offset
        obj, bnd = stage["objective"], stage["bound"]
        stage["gap"] = None if obj is None or bnd is None else abs(obj - bnd) / max(1.0, abs(obj))
    placed = _place(model, result.chosen)
    repaired = book_leftovers(problem, placed)

    # Per stage, as the CP-SAT loop reports it: proven, and on the full candidate set (late
    # candidates cut to the first days make the later stages partial).
    for stage in stages:
        stage["proven"] = stage["status"] == "OPTIMAL"
        stage["full_candidates"] = stage["stage"] == "on_time" or not any(problem.cut)
    on_time_proven = bool(stages) and stages[0]["status"] == "OPTIMAL"
    planned = len(model.stages())
    optimal = len(stages) == planned and all(s["proven"] and s["full_candidates"] for s in stages)
    if not stages or stages[0]["objective"] is None:
        status = "NO_SOLUTION"  # the plan is the greedy start's
    elif len(stages) == planned and all(s["status"] == "OPTIMAL" for s in stages):
        status = "OPTIMAL"
    else:
        status = "FEASIBLE"
    first = stages[0] if stages else {"objective": None, "bound": None}
    objective, bound = first["objective"], first["bound"]
    fixed_on_time = sum(
        1 for r, b in problem.fixed.items() if b.start.date() <= problem.dates[r].deadline
    )
    return make_solution(
        problem,
        placed,
        SolverStats(
            method=METHOD,
            status=status,
            proven_optimal=optimal,
            on_time_proven=on_time_proven,
            objective=objective,
            best_bound=bound,
            gap=None if objective is None or bound is None else first["gap"],
            on_time_bound=None if bound is None else int(bound + 1e-6) + fixed_on_time,
            wall_time_s=round(_time.perf_counter() - began, 3),
            variables=model.num_cols,
            constraints=model.num_rows,
            workers=threads,
            seed=seed,
            stages=[*stages, {"stage": "repair", "booked": repaired}],
        ),
        # The MIP's course places where its courses stage ran (None: placed greedily); the
        # repaired referrals get places greedily from what is left.
        model.carried(result.chosen) if len(stages) > 2 and model.course_columns else None,
    )
