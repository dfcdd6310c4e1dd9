"""The benchmark's fan-out: the same results locally and on a (local) Ray instance."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import pytest
import ray

from scheduler.bench.fanout import connect_ray
from scheduler.bench.generator import generate
from scheduler.bench.runner import BenchCase, BenchResult, run_bench

# Time and memory are the machine's, not the method's answer.
_MEASURED = ("time_s", "peak_mb", "first_solution_s")


def _answers(results: list[BenchResult]) -> list[dict[str, Any]]:
    return [{k: v for k, v in asdict(r).items() if k not in _MEASURED} for r in results]


@pytest.fixture
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def test_bench_on_ray_gives_the_local_results_in_the_same_order(local_ray: None) -> None:
    cases = [
        BenchCase(
            name=f"small-{seed}",
            instance=generate("vejen", seed, referrals=6, therapists=4, load=0.9),
        )
        for seed in (1, 2)
    ]
    here = run_bench(cases, ["cpsat", "baseline"], time_limit_s=5.0, workers=1)
    there = run_bench(cases, ["cpsat", "baseline"], time_limit_s=5.0, workers=1, ray_address="auto")
    assert [(r.instance, r.method) for r in there] == [
        ("small-1", "cpsat"),
        ("small-1", "baseline"),
        ("small-2", "cpsat"),
        ("small-2", "baseline"),
    ]
    assert all(r.valid for r in there)
    assert _answers(there) == _answers(here)


def test_connect_ray_uses_the_running_instance(local_ray: None) -> None:
    assert connect_ray("auto") is ray
    assert ray.is_initialized()
