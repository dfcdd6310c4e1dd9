"""Fan-out of independent solves: in this process's children by default, on Ray when asked.

Each benchmark run (one method on one instance) is independent of the others, so they can run
anywhere and come back in any order; the results are put back in the order of the jobs, so a
run on a Ray cluster reports exactly what a local run reports. On Ray each job still runs the
method in a fresh Python process on the worker (:func:`scheduler.bench.runner.run_method`), so
its time and peak memory belong to that method alone. Ray is optional (``scheduler[ray]``) and
imported only here, only when asked; the core never imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from scheduler.domain import Instance, Solution

__all__ = ["Job", "Outcome", "connect_ray", "ray_fan_out", "run_jobs"]


@dataclass(frozen=True)
class Job:
    """One independent solve: a method on an instance, with its limits."""

    method: str
    instance: Instance
    time_limit_s: float
    workers: int


Outcome = tuple[Solution | None, float, float, str]
"""What :func:`scheduler.bench.runner.run_method` returns: solution, seconds, peak MB, error."""


def connect_ray(address: str) -> Any:
    """The `ray` module, connected: ``auto`` (a running cluster), ``local`` (start one here),
    or a cluster address. Already connected (e.g. a test's ``ray.init``): used as it is.
    Raises RuntimeError when Ray is not installed."""
    try:
        import ray
    except ImportError as exc:  # the extra is not installed
        raise RuntimeError("--ray needs Ray: pip install 'scheduler[ray]'") from exc
    if not ray.is_initialized():
        ray.init(
            address=None if address == "local" else address,
            include_dashboard=False,
            log_to_driver=False,
        )
    return ray


def _run_job(method: str, instance_json: str, time_limit_s: float, workers: int) -> str:
    """A job on a Ray worker: run the method in a fresh process there, return JSON."""
    import json

    from scheduler.bench.runner import run_method

    instance = Instance.model_validate_json(instance_json)
    solution, elapsed, peak, error = run_method(method, instance, time_limit_s, workers)
    return json.dumps(
        {
            "solution": None if solution is None else solution.model_dump(mode="json"),
            "time_s": elapsed,
            "peak_mb": peak,
            "error": error,
        }
    )


def _from_json(text: str) -> Outcome:
    import json

    out = json.loads(text)
    solution = None if out["solution"] is None else Solution.model_validate(out["solution"])
    return solution, float(out["time_s"]), float(out["peak_mb"]), str(out["error"])


def run_jobs(
    jobs: Sequence[Job],
    local: Callable[[Job], Outcome],
    ray_address: str | None = None,
) -> Iterator[Outcome]:
    """Each job's outcome, in the order of `jobs`: one after the other with `local`, or all at
    once on Ray (each reserving as many CPUs as its solver uses, at least one)."""
    if ray_address is None:
        for job in jobs:
            yield local(job)
        return
    ray = connect_ray(ray_address)
    remote = ray.remote(_run_job)
    pending = [
        remote.options(num_cpus=max(1, job.workers)).remote(
            job.method, job.instance.model_dump_json(), job.time_limit_s, job.workers
        )
        for job in jobs
    ]
    for ref in pending:
        yield _from_json(ray.get(ref))


T = TypeVar("T")


def ray_fan_out(address: str) -> Callable[[Callable[..., T], Sequence[tuple[Any, ...]]], list[T]]:
    """A fan-out for independent pieces of work on Ray (e.g. ``scheduler simulate``'s
    strategies): ``fan_out(fn, args_list)`` runs ``fn(*args)`` for each as a Ray task and
    returns the results in the order of `args_list`. Ray pickles `fn`, its arguments and its
    result, so they must be picklable."""
    ray = connect_ray(address)

    def fan_out(fn: Callable[..., T], args_list: Sequence[tuple[Any, ...]]) -> list[T]:
        remote = ray.remote(fn)
        refs = [remote.remote(*args) for args in args_list]
        return [ray.get(ref) for ref in refs]

    return fan_out
