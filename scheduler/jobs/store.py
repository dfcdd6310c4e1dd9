"""The job store's interface: batch solves that outlive a call, a connection and a server.

A job is one `SubmitOptimize` (kind ``optimize``: the instance and options as the domain's
JSON) or one `SubmitSimulate` (kind ``simulate``: the simulation's settings as JSON), its state,
the latest progress, and (once done) the result as JSON (the solution as the domain's JSON, or
the simulation's summary) or an error. An optimize job also keeps its checkpoint: the first
sessions of the best plan found so far (domain JSON, written with the heartbeat), which a re-run
after a crash gets as its hint. Runners lease a
job (:meth:`JobStore.claim`), keep the lease alive with :meth:`JobStore.heartbeat` and store the
result with :meth:`JobStore.finish`; every write of a runner names its lease, so a runner whose
lease expired (it hung, or another server took the job over) can no longer change the job, and a
result is stored once. A cancelled or finished job never runs again.

Two implementations share the SQL (:mod:`scheduler.jobs.sql`): SQLite, a file for one host
(:mod:`scheduler.jobs.sqlite`), and PostgreSQL, for several servers sharing one store
(:mod:`scheduler.jobs.postgres`). :func:`open_store` picks one from a path or a URL.

The same store is the journal of the calendars held for ProposeSlots by reference
(:class:`CalendarJournal`, used by :mod:`scheduler.api.held_calendars`): each upload and update,
so that several server processes, and a restarted one, answer for the same calendars.

Ids are pseudonymous, but a job's instance is kept as it was sent, which may include therapists'
names, sites' addresses, absence reasons and citizens' home coordinates (home training); held
calendars are kept without the first three (:mod:`scheduler.api.service`). The store is personal
data, to protect as the booking system's own; the retention bounds how long it is kept.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "DONE_STATES",
    "KINDS",
    "CalendarChain",
    "CalendarJournal",
    "CalendarRow",
    "Job",
    "JobState",
    "JobStore",
    "Page",
    "RequestConflictError",
    "StaleCalendarError",
    "StoreError",
    "open_store",
]


class JobState(enum.StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


DONE_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})
"""States a job never leaves (except by deletion)."""


class StoreError(RuntimeError):
    """The store cannot be opened or used (unreachable, newer schema, unwritable)."""


class RequestConflictError(ValueError):
    """A submit reuses a request id with a different request."""

    def __init__(self, request_id: str, job_id: str) -> None:
        super().__init__(
            f"request id {request_id!r} was already used for another request (job {job_id})"
        )
        self.request_id = request_id
        self.job_id = job_id


class StaleCalendarError(LookupError):
    """A calendar update whose base is not the calendar's current version (another update came
    first), or of a calendar the store does not hold; `current` is the current version (0: no
    such calendar)."""

    def __init__(self, calendar_id: str, base_version: int, current: int) -> None:
        super().__init__(f"base version {base_version} is not the current version {current}")
        self.calendar_id = calendar_id
        self.base_version = base_version
        self.current = current


KINDS = ("optimize", "simulate")
"""What a job runs: a batch solve (SubmitOptimize) or a simulation (SubmitSimulate)."""


@dataclass(frozen=True)
class Job:
    """One stored job. Times are seconds since the epoch (the store host's clocks)."""

    id: str
    request_id: str | None
    state: JobState
    instance_json: str
    """The input: the instance (optimize) or the simulation's settings (simulate), as JSON."""
    options_json: str
    instance_name: str
    """The instance's name, or a simulation's one-line description."""
    referrals: int
    created_at: float
    updated_at: float
    attempts: int = 0
    progress_json: str | None = None
    solution_json: str | None = None
    error_code: int | None = None
    """A google.rpc.Code when FAILED or CANCELLED."""
    error_message: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    lease_owner: str | None = None
    lease_expires: float | None = None
    kind: str = "optimize"
    checkpoint_json: str | None = None
    """The best plan so far of a running optimize job (:func:`scheduler.domain.files.dump_plan`
    JSON); None before the first one and once the job is done."""

    @property
    def done(self) -> bool:
        return self.state in DONE_STATES


@dataclass(frozen=True)
class Page:
    """One page of :meth:`JobStore.list`; `next_token` is empty on the last page."""

    jobs: list[Job]
    next_token: str


@dataclass(frozen=True)
class CalendarRow:
    """One stored version of a held calendar: a full copy (`full`: the upload's instance
    message, or a snapshot written after several updates) or the update that made it from
    `base_version` (an UpdateCalendarRequest message)."""

    version: int
    base_version: int | None
    """The version the update was made on; None for an upload."""
    payload: bytes
    full: bool


@dataclass(frozen=True)
class CalendarChain:
    """What rebuilds one version of a calendar: a full copy and the updates after it, in order
    (or, when the reader holds a version on the way, only the updates after that one)."""

    current: int
    """The calendar's current version; 0 if the store holds no calendar with this id."""
    rows: list[CalendarRow]
    """Empty if the version asked for is not stored (never made, or dropped as too old)."""


class CalendarJournal(Protocol):
    """The held calendars of :mod:`scheduler.api.held_calendars` as a journal several server
    processes share: every upload and update, the version it made, and which version each
    update was made on. Versions are allocated here, in the transaction that writes them, so
    they are unique per calendar across processes and restarts; an update is written only if
    its base is still the current version (compare-and-set), so of two updates on one base one
    wins and none is lost. Each write keeps what rebuilds the latest `keep` versions and drops
    the rest. Every method is thread-safe and one transaction; `now` is seconds since the
    epoch."""

    def calendar_put(self, calendar_id: str, payload: bytes, *, now: float, keep: int) -> int:
        """Store an upload (a full copy) as the calendar's newest version; returns it."""
        ...

    def calendar_update(
        self, calendar_id: str, base_version: int, payload: bytes, *, now: float, keep: int
    ) -> tuple[int, int]:
        """Store an update made on `base_version`; returns the new version and how many updates
        now follow the calendar's latest full copy. Raises :class:`StaleCalendarError` when
        `base_version` is not the current version (nothing is written)."""
        ...

    def calendar_snapshot(self, calendar_id: str, version: int, payload: bytes) -> bool:
        """Store a full copy of a version written as an update, so that rebuilding later
        versions starts from it; False if the version is no longer stored."""
        ...

    def calendar_chain(
        self, calendar_id: str, version: int, held: int | None, *, keep: int
    ) -> CalendarChain:
        """The rows that rebuild `version`, read as one snapshot: from its latest full copy,
        or, if the reader holds version `held` (older than `version`, not older than that full
        copy), only the updates after `held`. No rows if `version` is not one of the latest
        `keep` versions."""
        ...

    def calendar_purge(self, updated_before: float) -> int:
        """Delete the calendars not uploaded or updated since that time (not one an update
        in flight is changing); returns how many. A calendar id deleted and uploaded again
        starts its versions afresh from the clock."""
        ...


class JobStore(CalendarJournal, Protocol):
    """What the service and the runners need of a store (and the held calendars: the
    :class:`CalendarJournal` methods). Every method is thread-safe and one transaction; `now`
    is the caller's clock (seconds since the epoch)."""

    def submit(
        self,
        instance_json: str,
        options_json: str,
        *,
        instance_name: str,
        referrals: int,
        request_id: str | None,
        now: float,
        kind: str = "optimize",
    ) -> tuple[Job, bool]:
        """Store a new queued job of `kind`, or return the job of an earlier submit with the same
        `request_id` and the same request. Returns (job, created). Raises
        :class:`RequestConflictError` when `request_id` was used for a different request."""
        ...

    def get(self, job_id: str) -> Job | None:
        """The job, or None if there is none with that id."""
        ...

    def list(self, *, page_size: int, page_token: str, done: bool | None) -> Page:
        """Jobs newest first; `done` filters on finished (True) or unfinished (False)."""
        ...

    def claim(self, owner: str, lease_s: float, now: float) -> Job | None:
        """Lease the oldest queued job, or a running job whose lease expired (its server
        stopped or hung), to `owner` until `now + lease_s`; None if there is none. Two callers
        never get the same lease."""
        ...

    def heartbeat(
        self,
        job_id: str,
        owner: str,
        lease_s: float,
        now: float,
        progress_json: str | None,
        checkpoint_json: str | None = None,
    ) -> bool:
        """Extend `owner`'s lease and record progress and, if given, the checkpoint (the best
        plan so far); nothing is written unless `owner` holds the lease. False if the lease is
        lost (the job was cancelled, deleted, or taken over after the lease expired): stop
        working on it."""
        ...

    def finish(
        self,
        job_id: str,
        owner: str,
        now: float,
        *,
        solution_json: str | None = None,
        error_code: int | None = None,
        error_message: str | None = None,
        progress_json: str | None = None,
    ) -> bool:
        """Store the result (a solution, or an error) and the final progress if `owner` still
        holds the lease; the job is then SUCCEEDED or FAILED for good. False (nothing stored)
        if the lease is lost."""
        ...

    def release(self, job_id: str, owner: str, now: float) -> bool:
        """Give a running job back to the queue (its server is shutting down)."""
        ...

    def cancel(self, job_id: str, now: float) -> Job | None:
        """Cancel a queued or running job (a running one's runner loses its lease and stops);
        a finished job stays as it is. Returns the job after, or None if there is none."""
        ...

    def delete(self, job_id: str) -> bool:
        """Delete a finished job; False if there is none. Raises ValueError if it is not done."""
        ...

    def purge(self, finished_before: float) -> int:
        """Delete the jobs finished before that time; returns how many."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def open_store(target: str) -> JobStore:
    """A store from `scheduler serve --store`: a ``postgresql://`` (or ``postgres://``) URL, or
    the path of an SQLite file (created with its folder if missing). Migrates the schema."""
    if target.startswith(("postgresql://", "postgres://")):
        from scheduler.jobs.postgres import PostgresJobStore

        return PostgresJobStore(target)
    from scheduler.jobs.sqlite import SqliteJobStore

    return SqliteJobStore(target)
