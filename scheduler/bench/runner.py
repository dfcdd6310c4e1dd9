"""Running the benchmark: each method on each instance in its own process, every plan checked.

For each instance and method (:data:`METHODS`: ``cpsat`` = :func:`scheduler.planning.solve.solve`,
``edf`` = :func:`scheduler.bench.baseline.solve_edf` (course-blind earliest deadline first),
``baseline`` = :func:`scheduler.bench.baseline.solve_baseline`, ``mip`` =
:func:`scheduler.bench.mip.solve_mip`) :func:`run_bench` runs the method in a fresh Python process
that imports only what the method needs, so that the wall time and the peak memory belong to
that method alone. Peak memory is the high-water mark of that process's resident memory, or
of a process it ran (the MIP's HiGHS process): the interpreter, the libraries the method
imports, and its model. Every solution is checked by the independent checker
(:func:`scheduler.verify.checker.check_solution`) in the parent; a run that fails the check, or
crashes, makes the benchmark fail.

The reports (table, CSV, JSON, plots) are :mod:`scheduler.bench.report`.

*Calendar load* is the share of the therapists' rostered minutes in the horizon (working days,
not absent) that the staying bookings already fill, before any new referral is planned
(:func:`scheduler.verify.kpis.calendar_fill`). A manifest entry's nominal load (what the generator
aimed for) is kept beside it.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scheduler.domain import Instance, Solution, SolveOptions
from scheduler.verify.kpis import calendar_fill

__all__ = [
    "METHODS",
    "BenchCase",
    "BenchResult",
    "run_bench",
    "run_method",
]

METHODS: tuple[str, ...] = ("cpsat", "baseline", "edf", "mip")
"""Method names in report order."""


@dataclass(frozen=True)
class BenchCase:
    """One instance to benchmark, with where it came from."""

    name: str
    instance: Instance
    profile: str = ""
    nominal_load: float | None = None
    source: str = ""


@dataclass
class BenchResult:
    """One method on one instance: the KPIs, how the solver did, the effort, the check."""

    instance: str
    profile: str
    referrals: int
    therapists: int
    nominal_load: float | None
    calendar_load: float
    method: str
    solver: str = ""
    on_time: int = 0
    on_time_share: float = 0.0
    free_choice: int = 0
    late_no_right: int = 0
    not_bookable: int = 0
    wait_days_mean: float | None = None
    total_lateness_days: int = 0
    courses_started: int = 0
    courses_waiting: int = 0
    status: str = ""
    proven_optimal: bool = False
    gap: float | None = None
    on_time_bound: int | None = None
    time_s: float = 0.0
    first_solution_s: float | None = None
    peak_mb: float = 0.0
    valid: bool = False
    violations: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def load(self) -> float:
        """The load a plot uses: the nominal one where known, else the measured one."""
        return self.nominal_load if self.nominal_load is not None else self.calendar_load


# --------------------------------------------------------------------------- running


Method = Callable[[Instance, float, int], Solution]
"""A method: (instance, time limit in seconds, workers) -> solution."""


def _method(method: str) -> Method:
    """The method's solve function, its modules imported (so that importing them, a second
    or more on a busy machine, is not counted in the method's time)."""
    if method == "cpsat":
        from scheduler.planning.solve import solve

        return lambda instance, limit, workers: solve(
            instance, SolveOptions(time_limit_s=limit, workers=workers, seed=0)
        )
    if method == "baseline":
        from scheduler.bench.baseline import solve_baseline

        return lambda instance, limit, workers: solve_baseline(instance)
    if method == "edf":
        from scheduler.bench.baseline import solve_edf

        return lambda instance, limit, workers: solve_edf(instance)
    if method == "mip":
        from scheduler.bench.mip import solve_mip

        return lambda instance, limit, workers: solve_mip(instance, limit, threads=max(1, workers))
    raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")


def _own_peak_kib() -> int:
    """This process's peak resident memory in KiB since it started its program.

    Linux's ``ru_maxrss`` of a process started by fork and exec also counts its parent's memory
    at the fork, so the kernel's per-program high-water mark (VmHWM) is read where it exists.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss // 1024 if sys.platform == "darwin" else rss  # macOS reports bytes


def _peak_mb() -> float:
    """Peak resident memory of this process or of a process it ran (the HiGHS process)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if sys.platform == "darwin":
        children //= 1024
    return max(_own_peak_kib(), children) / 1024


def _child_main(
    method: str, instance_path: str, result_path: str, limit: str, workers: str
) -> None:
    """Entry point of a method's process: solve, then write the solution, time and peak memory
    (or the error) as JSON to `result_path`."""
    out: dict[str, Any]
    try:
        instance = Instance.model_validate_json(Path(instance_path).read_text(encoding="utf-8"))
        run = _method(method)
        began = time.perf_counter()
        solution = run(instance, float(limit), int(workers))
        elapsed = time.perf_counter() - began
        out = {"solution": solution.model_dump(mode="json"), "time_s": elapsed}
    except Exception as exc:  # report any failure to the parent instead of dying silently
        out = {"error": f"{type(exc).__name__}: {exc}", "time_s": 0.0}
    out["peak_mb"] = _peak_mb()
    Path(result_path).write_text(json.dumps(out), encoding="utf-8")


def run_method(
    method: str, instance: Instance, time_limit_s: float, workers: int
) -> tuple[Solution | None, float, float, str]:
    """Run one method on one instance in a fresh Python process.

    Returns (solution or None, seconds of solving, peak MB of the process, error text). The
    process imports only what the method needs (a multiprocessing 'spawn' child would also
    re-import the caller's main module, e.g. the whole CLI with OR-Tools, into every run).
    """
    with tempfile.TemporaryDirectory(prefix="scheduler-bench-") as tmp:
        instance_path, result_path = Path(tmp, "instance.json"), Path(tmp, "result.json")
        instance_path.write_text(instance.model_dump_json(), encoding="utf-8")
        code = (
            "import sys; from scheduler.bench.runner import _child_main; _child_main(*sys.argv[1:])"
        )
        argv = [sys.executable, "-c", code, method, str(instance_path), str(result_path)]
        argv += [repr(time_limit_s), str(workers)]
        # The solvers keep their own time limits; this only guards against a hung process.
        deadline = 4 * time_limit_s + 300
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=deadline, check=False
            )
        except subprocess.TimeoutExpired:
            return None, deadline, 0.0, f"no answer within {deadline:.0f} s"
        if not result_path.exists():
            tail = done.stderr.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
            return None, 0.0, 0.0, f"the process failed: {tail[0]}"
        out = json.loads(result_path.read_text(encoding="utf-8"))
    if "error" in out:
        return None, out["time_s"], out["peak_mb"], str(out["error"])
    solution = Solution.model_validate(out["solution"])
    return solution, float(out["time_s"]), float(out["peak_mb"]), ""


def _result(
    case: BenchCase,
    method: str,
    solution: Solution | None,
    elapsed: float,
    peak: float,
    error: str,
    load: float,
) -> BenchResult:
    from scheduler.verify.checker import check_solution

    inst = case.instance
    res = BenchResult(
        instance=case.name,
        profile=case.profile,
        referrals=len(inst.referrals),
        therapists=len(inst.therapists),
        nominal_load=case.nominal_load,
        calendar_load=round(load, 4),
        method=method,
        time_s=round(elapsed, 3),
        peak_mb=round(peak, 1),
        error=error,
    )
    if solution is None:
        res.status = "ERROR"
        return res
    k, st = solution.kpis, solution.stats
    res.solver = st.method
    res.on_time = k.on_time
    res.on_time_share = k.on_time_share
    res.free_choice = k.free_choice_flagged
    res.late_no_right = k.late_no_right
    res.not_bookable = k.not_bookable
    res.wait_days_mean = k.wait_days_mean
    res.total_lateness_days = k.total_lateness_days
    res.courses_started = k.courses_started
    res.courses_waiting = k.courses_waiting
    res.status = st.status
    res.proven_optimal = st.proven_optimal
    res.gap = st.gap
    res.on_time_bound = st.on_time_bound
    res.first_solution_s = st.first_solution_s
    report = check_solution(inst, solution)
    res.valid = report.ok
    res.violations = [str(v) for v in report.violations] + list(report.kpi_mismatches)
    return res


def run_bench(
    cases: Sequence[BenchCase],
    methods: Sequence[str] = METHODS,
    time_limit_s: float = 30.0,
    workers: int = 0,
    progress: Callable[[str], None] | None = None,
    ray_address: str | None = None,
) -> list[BenchResult]:
    """Run every method on every case, each in its own process, and check every solution.

    With `ray_address` (``auto``, ``local`` or a cluster address) the runs go to a Ray cluster
    all at once (:mod:`scheduler.bench.fanout`); the results are the same, in the same order.
    """
    from scheduler.bench.fanout import Job, run_jobs

    total = len(cases) * len(methods)
    jobs = [
        (case, Job(method, case.instance, time_limit_s, workers))
        for case in cases
        for method in methods
    ]
    loads: dict[int, float] = {}
    results: list[BenchResult] = []
    if progress is not None and ray_address is not None:
        progress(f"{total} runs sent to Ray ({ray_address})")

    def local(job: Job) -> tuple[Solution | None, float, float, str]:
        if progress is not None:
            name = jobs[len(results)][0].name
            progress(f"[{len(results) + 1}/{total}] {name} {job.method} ...")
        return run_method(job.method, job.instance, job.time_limit_s, job.workers)

    outcomes = run_jobs([job for _, job in jobs], local, ray_address)
    for (case, job), (solution, elapsed, peak, error) in zip(jobs, outcomes, strict=True):
        if id(case) not in loads:
            loads[id(case)] = calendar_fill(case.instance)
        res = _result(case, job.method, solution, elapsed, peak, error, loads[id(case)])
        results.append(res)
        if progress is not None:
            progress(_progress_line(len(results), total, res))
    return results


def _progress_line(n: int, total: int, res: BenchResult) -> str:
    head = f"[{n}/{total}] {res.instance} {res.method} ... {res.time_s:.1f}s"
    if res.error:
        return f"{head} ERROR {res.error}"
    check = "valid" if res.valid else f"INVALID ({len(res.violations)} violations)"
    return (
        f"{head} on-time {res.on_time}/{res.referrals} free-choice {res.free_choice} "
        f"not-bookable {res.not_bookable} {res.status} {res.peak_mb:.0f} MB {check}"
    )
