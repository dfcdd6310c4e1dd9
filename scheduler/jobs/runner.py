"""The job runner: leases stored jobs, solves them, keeps their progress and stores the result.

Each of `slots` worker threads claims a job (:meth:`JobStore.claim`), solves it with
:func:`scheduler.planning.solve.solve`, and stores the solution once
(:meth:`JobStore.finish`). Meanwhile a heartbeat renews the lease and records the latest
progress every :attr:`JobRunner.heartbeat_s`; when the lease is lost (a client cancelled or
deleted the job, or the lease expired and another server took it over) the solve is stopped and
its result dropped.

Restarts: a server killed with ``kill -9`` stops renewing its leases; once they expire
(`lease_s`), a runner (of this server restarted, or of another server on the same store) claims
the job again and solves it from the start: the same instance, options and seed, the full time
limit again. The solve API takes no plan as a hint, so the re-run starts from its own greedy
plan, which it finds within seconds; with one worker and a seed, a solve that ends proven
optimal gives the same plan as the run that was lost.

On a graceful stop the running solves are stopped and their jobs given back to the queue
(:meth:`JobStore.release`), for the next server to run in full.

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
from dataclasses import asdict

from scheduler.domain import Instance, Solution, SolveOptions
from scheduler.domain.files import DataFileError, dump_solution, parse_instance
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
        fields: dict[str, object] = {"job": job.id, "attempt": job.attempts}
        log.info("job started", extra={"fields": {**fields, "referrals": job.referrals}})
        try:
            instance = parse_instance(json.loads(job.instance_json), "job instance")
            options = SolveOptions.model_validate_json(job.options_json)
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
        stop = threading.Event()
        with self._lock:
            self._running[job.id] = stop
        if self._stopping.is_set():
            stop.set()
        try:
            self._solve(job, instance, options, stop, fields)
        finally:
            with self._lock:
                self._running.pop(job.id, None)

    def _solve(
        self,
        job: Job,
        instance: Instance,
        options: SolveOptions,
        stop: threading.Event,
        fields: dict[str, object],
    ) -> None:
        latest: list[Progress] = []
        lost = threading.Event()
        done = threading.Event()

        started = time.monotonic()

        def beat() -> None:
            # Every beat records the latest progress with the time elapsed now, so a client's
            # progress bar moves while CP-SAT searches without improving.
            while not done.wait(self.heartbeat_s):
                progress = latest[-1] if latest else Progress(0.0, "starting", *[None] * 5)
                now = dict(asdict(progress), elapsed_s=round(time.monotonic() - started, 3))
                try:
                    alive = self.store.heartbeat(
                        job.id, self.owner, self.lease_s, time.time(), json.dumps(now)
                    )
                except Exception as exc:  # the store is unreachable: try again next beat
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
            solution = self._solve_fn(instance, options, on_progress=latest.append, stop=stop)
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
                    error_message="internal error while solving",
                )
            return
        done.set()
        heart.join()
        if lost.is_set():
            log.info("job lease lost; result dropped", extra={"fields": fields})
            return
        try:
            self._store_result(job, solution, fields)
        except Exception as exc:  # the store is gone: the lease expires, the job runs again
            error = {**fields, "error": type(exc).__name__}
            log.warning("result not stored; the job will run again", extra={"fields": error})

    def _store_result(self, job: Job, solution: Solution, fields: dict[str, object]) -> None:
        if self._stopping.is_set():
            released = self.store.release(job.id, self.owner, time.time())
            log.info("job given back", extra={"fields": {**fields, "released": released}})
            return
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
        stored = self.store.finish(
            job.id,
            self.owner,
            time.time(),
            solution_json=dump_solution(solution),
            progress_json=json.dumps(asdict(final)),
        )
        log.info(
            "job finished" if stored else "job lease lost; result dropped",
            extra={
                "fields": {
                    **fields,
                    "status": solution.stats.status,
                    "on_time": solution.kpis.on_time,
                }
            },
        )
