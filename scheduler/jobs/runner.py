"""The job runner: leases stored jobs, runs them, keeps their progress and stores the result.

Each of `slots` worker threads claims a job (:meth:`JobStore.claim`), runs it and stores the
result once (:meth:`JobStore.finish`). An ``optimize`` job is solved with
:func:`scheduler.planning.solve.solve`; a ``simulate`` job runs
:meth:`scheduler.simulation.settings.SimulationSettings.run` and stores the simulation's
summary per strategy (and per week) with its table. Meanwhile a heartbeat renews the lease and
records the latest progress every :attr:`JobRunner.heartbeat_s`, and for a solve the best plan
found so far (its checkpoint, written only when it changed); when the lease is lost (a client
cancelled or deleted the job, or the lease expired and another server took it over) the work is
stopped and its result dropped. A simulation stops at the end of the simulated day it is in.

Restarts: a server killed with ``kill -9`` stops renewing its leases; once they expire
(`lease_s`), a runner (of this server restarted, or of another server on the same store) claims
the job again. A solve is re-run with the same instance, options and seed and the full time
limit, and with the checkpoint of the lost attempt as its hint
(:mod:`scheduler.planning.hint`): it starts from the best plan found so far (where it is still
at least as good as the greedy plan, as it is when nothing changed), so the re-run never ends
with fewer referrals on time than that checkpoint. The checkpoint is the plan at the last
stage end: a server killed during stage 1 leaves the greedy plan, which the re-run finds again
anyway. Its
``SolverStats.stages`` begins with a ``hint`` entry (bookings, kept, used). A simulation is
re-run from its start (it is deterministic by seed; only ``daily`` and ``weekly`` solve under a
wall-clock limit).

On a graceful stop the running work is stopped and the jobs given back to the queue
(:meth:`JobStore.release`), for the next server to run (a solve with its checkpoint).

Retention: every `purge_every_s` a runner deletes jobs finished more than `retention_s` ago.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from scheduler.domain import Assignment, Solution, SolveOptions
from scheduler.domain.files import (
    DataFileError,
    dump_plan,
    dump_solution,
    parse_instance,
    parse_plan,
)
from scheduler.jobs.store import Job, JobStore
from scheduler.planning.solve import Progress, solve

__all__ = ["DEFAULT_LEASE_S", "DEFAULT_RETENTION_S", "JobRunner", "SolveFn"]

log = logging.getLogger("scheduler.jobs.runner")

DEFAULT_LEASE_S = 30.0
"""Seconds a lease lasts without a heartbeat: how long a killed server's job waits."""
DEFAULT_RETENTION_S = 7 * 86400.0
"""Finished jobs are deleted this long after they finished (a week)."""

SolveFn = Callable[..., Solution]
""":func:`scheduler.planning.solve.solve`'s signature (tests may pass another)."""

_INTERNAL = 13
_INVALID_ARGUMENT = 3


class JobRunner:
    """Runs the store's jobs in `slots` threads. :meth:`start`, then :meth:`stop`."""

    def __init__(
        self,
        store: JobStore,
        *,
        slots: int = 1,
        lease_s: float = DEFAULT_LEASE_S,
        retention_s: float = DEFAULT_RETENTION_S,
        poll_s: float = 1.0,
        purge_every_s: float = 60.0,
        solve_fn: SolveFn = solve,
        owner: str | None = None,
    ) -> None:
        if slots < 1 or lease_s <= 0 or retention_s < 0 or poll_s <= 0:
            raise ValueError("slots >= 1, lease_s > 0, retention_s >= 0 and poll_s > 0")
        self.store = store
        self.slots = slots
        self.lease_s = lease_s
        self.heartbeat_s = min(1.0, lease_s / 3)
        self.retention_s = retention_s
        self.poll_s = poll_s
        self.purge_every_s = purge_every_s
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._solve_fn = solve_fn
        self._wake = threading.Condition()
        self._pending = 0
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._running: dict[str, threading.Event] = {}
        self._last_purge = 0.0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        for i in range(self.slots):
            thread = threading.Thread(target=self._loop, name=f"job-runner-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """A job was submitted here: look for it now rather than at the next poll."""
        with self._wake:
            self._pending += 1
            self._wake.notify()

    def stop(self, timeout: float | None = None) -> None:
        """Stop the running solves, give their jobs back to the queue, end the threads."""
        self._stopping.set()
        with self._lock:
            for stop in self._running.values():
                stop.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        # A solve stops within moments of its event, but not while it prepares a big week: a
        # thread still running gives its job back (or loses its lease) when it ends.

    @property
    def running(self) -> list[str]:
        """Ids of the jobs this runner is solving now."""
        with self._lock:
            return sorted(self._running)

    # ------------------------------------------------------------------ the loop

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._maybe_purge()
                job = self.store.claim(self.owner, self.lease_s, time.time())
            except Exception as exc:  # the store is down: retry after a poll interval
                log.warning("claim failed", extra={"fields": {"error": type(exc).__name__}})
                job = None
            if job is None:
                with self._wake:
                    if self._pending == 0 and not self._stopping.is_set():
                        self._wake.wait(self.poll_s)
                    self._pending = 0
                continue
            self._run(job)

    def _maybe_purge(self) -> None:
        now = time.time()
        with self._lock:
            if now - self._last_purge < self.purge_every_s:
                return
            self._last_purge = now
        purged = self.store.purge(now - self.retention_s)
        if purged:
            log.info("purged finished jobs", extra={"fields": {"jobs": purged}})

    def _run(self, job: Job) -> None:
        fields: dict[str, object] = {"job": job.id, "attempt": job.attempts, "kind": job.kind}
        try:
            work: _Work = (
                _Simulate(job) if job.kind == "simulate" else _Optimize(job, self._solve_fn)
            )
        except (ValueError, DataFileError):
            # Stored by this service after validation: only a damaged row gets here.
            with contextlib.suppress(Exception):
                self.store.finish(
                    job.id,
                    self.owner,
                    time.time(),
                    error_code=_INVALID_ARGUMENT,
                    error_message="the stored job cannot be read",
                )
            log.warning("job unreadable", extra={"fields": fields})
            return
        fields.update(work.fields)
        log.info("job started", extra={"fields": {**fields, "referrals": job.referrals}})
        stop = threading.Event()
        with self._lock:
            self._running[job.id] = stop
        if self._stopping.is_set():
            stop.set()
        try:
            self._work(job, work, stop, fields)
        finally:
            with self._lock:
                self._running.pop(job.id, None)

    def _work(
        self, job: Job, work: _Work, stop: threading.Event, fields: dict[str, object]
    ) -> None:
        lost = threading.Event()
        done = threading.Event()

        def beat() -> None:
            # Every beat records the latest progress with the time elapsed now, so a client's
            # progress bar moves while the work goes on without reporting; and a new best plan.
            while not done.wait(self.heartbeat_s):
                progress, checkpoint = work.snapshot()
                try:
                    alive = self.store.heartbeat(
                        job.id, self.owner, self.lease_s, time.time(), progress, checkpoint
                    )
                except Exception as exc:  # the store is unreachable: try again next beat
                    work.unsaved(checkpoint)
                    error = {**fields, "error": type(exc).__name__}
                    log.warning("heartbeat failed", extra={"fields": error})
                    continue
                if not alive:
                    lost.set()
                    stop.set()
                    return

        heart = threading.Thread(target=beat, name=f"job-heartbeat-{job.id[:8]}", daemon=True)
        heart.start()
        try:
            result = work.run(stop)
        except Exception as exc:
            done.set()
            heart.join()
            log.error("job failed", extra={"fields": {**fields, "error": type(exc).__name__}})
            with contextlib.suppress(Exception):  # a store that is gone: the job runs again
                self.store.finish(
                    job.id,
                    self.owner,
                    time.time(),
                    error_code=_INTERNAL,
                    error_message=f"internal error while {work.doing}",
                )
            return
        done.set()
        heart.join()
        if lost.is_set():
            log.info("job lease lost; result dropped", extra={"fields": fields})
            return
        try:
            self._store_result(job, result, fields)
        except Exception as exc:  # the store is gone: the lease expires, the job runs again
            error = {**fields, "error": type(exc).__name__}
            log.warning("result not stored; the job will run again", extra={"fields": error})

    def _store_result(self, job: Job, result: _Result | None, fields: dict[str, object]) -> None:
        if self._stopping.is_set() or result is None:
            released = self.store.release(job.id, self.owner, time.time())
            log.info("job given back", extra={"fields": {**fields, "released": released}})
            return
        stored = self.store.finish(
            job.id,
            self.owner,
            time.time(),
            solution_json=result.result_json,
            progress_json=result.progress_json,
        )
        log.info(
            "job finished" if stored else "job lease lost; result dropped",
            extra={"fields": {**fields, **result.fields}},
        )


@dataclass(frozen=True)
class _Result:
    """What a finished job stores: its result JSON, final progress JSON, and what to log."""

    result_json: str
    progress_json: str
    fields: dict[str, object]


class _Work:
    """One job's work, as the runner drives it."""

    doing = "working"
    """For the error text: 'internal error while ...'."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.fields: dict[str, object] = {}
        """What to log when the job starts (counts only, never data)."""

    def snapshot(self) -> tuple[str, str | None]:
        """The progress JSON now, and the checkpoint JSON if it changed since the last one."""
        raise NotImplementedError

    def unsaved(self, checkpoint: str | None) -> None:
        """The snapshot's checkpoint was not written (the store failed): offer it again."""

    def run(self, stop: threading.Event) -> _Result | None:
        """Do the work; None if `stop` ended it without a result to store."""
        raise NotImplementedError

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 3)


class _Optimize(_Work):
    """A SubmitOptimize job: solve the stored instance, from the checkpoint if there is one."""

    doing = "solving"

    def __init__(self, job: Job, solve_fn: SolveFn) -> None:
        super().__init__()
        self.instance = parse_instance(json.loads(job.instance_json), "job instance")
        self.options = SolveOptions.model_validate_json(job.options_json)
        self.solve_fn = solve_fn
        self.hint: list[Assignment] | None = None
        if job.checkpoint_json:
            try:
                self.hint = parse_plan(json.loads(job.checkpoint_json), "job checkpoint")
            except (ValueError, DataFileError):
                log.warning("job checkpoint unreadable; solving without it")
        self.fields = {"hint_bookings": None if self.hint is None else len(self.hint)}
        self.latest: list[Progress] = []
        self._lock = threading.Lock()
        self._plan: list[Assignment] | None = None

    def _on_plan(self, plan: list[Assignment]) -> None:
        with self._lock:
            self._plan = plan

    def snapshot(self) -> tuple[str, str | None]:
        progress = self.latest[-1] if self.latest else Progress(0.0, "starting", *[None] * 5)
        now = dict(asdict(progress), elapsed_s=self.elapsed())
        with self._lock:
            plan, self._plan = self._plan, None
        # The JSON of a new best plan is made here, in the heartbeat's thread, not the solve's.
        return json.dumps(now), None if plan is None else dump_plan(plan)

    def unsaved(self, checkpoint: str | None) -> None:
        if checkpoint is not None:
            with self._lock:
                if self._plan is None:
                    self._plan = parse_plan(json.loads(checkpoint))

    def run(self, stop: threading.Event) -> _Result | None:
        extra: dict[str, Any] = {} if self.hint is None else {"hint": self.hint}
        solution = self.solve_fn(
            self.instance,
            self.options,
            on_progress=self.latest.append,
            stop=stop,
            on_plan=self._on_plan,
            **extra,
        )
        stats = solution.stats
        final = Progress(
            elapsed_s=stats.wall_time_s,
            stage="done",
            on_time=solution.kpis.on_time,
            on_time_bound=stats.on_time_bound,
            objective=stats.objective,
            bound=stats.best_bound,
            gap=stats.gap,
        )
        return _Result(
            dump_solution(solution),
            json.dumps(asdict(final)),
            {"status": stats.status, "on_time": solution.kpis.on_time},
        )


class _SimulationStopped(Exception):
    """Raised from the simulation's day callback when the job must stop."""


class _Simulate(_Work):
    """A SubmitSimulate job: run the stored simulation settings."""

    doing = "simulating"

    def __init__(self, job: Job) -> None:
        super().__init__()
        from scheduler.simulation.settings import SimulationSettings

        self.settings = SimulationSettings.model_validate_json(job.instance_json)
        burn, measured = self.settings.phase_days()
        self.phases = {"burn-in": burn, **dict.fromkeys(self.settings.strategies, measured)}
        self.total = len(burn) + len(measured) * len(self.settings.strategies)
        self.done_days = 0
        self.latest: dict[str, Any] = {"strategy": "starting", "days_total": self.total}
        self.fields = {"strategies": len(self.settings.strategies), "weeks": self.settings.weeks}

    def _day(self, name: str, day: int, days: int, stop: threading.Event) -> None:
        """After each simulated day: the progress (run, its day and week, the date); stop here
        if the job must stop."""
        self.done_days += 1
        dates = self.phases.get(name) or []
        today = dates[day - 1] if 0 < day <= len(dates) else None
        self.latest = {
            "strategy": name,
            "day": day,
            "days": days,
            "days_done": self.done_days,
            "days_total": self.total,
            "date": None if today is None else today.isoformat(),
            "week": None if today is None else (today - dates[0]).days // 7 + 1,
            "weeks": (dates[-1] - dates[0]).days // 7 + 1 if dates else None,
        }
        if stop.is_set():
            raise _SimulationStopped

    def snapshot(self) -> tuple[str, str | None]:
        return json.dumps({**self.latest, "elapsed_s": self.elapsed()}), None

    def run(self, stop: threading.Event) -> _Result | None:
        from scheduler.simulation.metrics import summarise
        from scheduler.simulation.report import markdown_table, result_document

        try:
            result = self.settings.run(
                progress=lambda name, day, days: self._day(name, day, days, stop)
            )
        except _SimulationStopped:
            return None
        rows = summarise(result)
        document = {**result_document(result, rows), "table": markdown_table(result, rows)}
        final = {**self.latest, "strategy": "done", "elapsed_s": self.elapsed()}
        violations = sum(r.violations for r in rows)
        return _Result(json.dumps(document), json.dumps(final), {"violations": violations})
