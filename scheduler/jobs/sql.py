"""The SQL both job stores share: the schema's migrations and every query.

Queries are written with ``?`` placeholders; a dialect (:class:`SqlJobStore` subclass) supplies
transactions, its placeholder and its row-locking clause. Migrations are numbered; a store
records the ones applied in ``schema_migrations`` and applies the missing ones in order, in one
transaction, when it opens. A store whose schema is newer than this code refuses to open.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from scheduler.jobs.store import (
    KINDS,
    CalendarChain,
    CalendarRow,
    Job,
    JobState,
    Page,
    RequestConflictError,
    StaleCalendarError,
    StoreError,
)

__all__ = ["MIGRATIONS", "Cursor", "SqlJobStore", "request_hash"]

MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            """CREATE TABLE jobs (
                id TEXT PRIMARY KEY,
                request_id TEXT UNIQUE,
                request_hash TEXT NOT NULL,
                state TEXT NOT NULL,
                instance_json TEXT NOT NULL,
                options_json TEXT NOT NULL,
                instance_name TEXT NOT NULL,
                referrals INTEGER NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                progress_json TEXT,
                solution_json TEXT,
                error_code INTEGER,
                error_message TEXT,
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                started_at DOUBLE PRECISION,
                finished_at DOUBLE PRECISION,
                lease_owner TEXT,
                lease_expires DOUBLE PRECISION
            )""",
            "CREATE INDEX jobs_state_created ON jobs (state, created_at)",
            "CREATE INDEX jobs_created ON jobs (created_at, id)",
        ),
    ),
    (
        2,
        (
            # The best plan so far of a running solve: a re-run after a crash starts from it.
            "ALTER TABLE jobs ADD COLUMN checkpoint_json TEXT",
            # What the job runs: 'optimize' (SubmitOptimize) or 'simulate' (SubmitSimulate).
            "ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'optimize'",
        ),
    ),
    (
        3,
        (
            # The held calendars' journal (scheduler.api.held_calendars): each calendar's
            # current version, and the uploads and updates that rebuild its latest versions.
            """CREATE TABLE calendars (
                calendar_id TEXT PRIMARY KEY,
                current_version BIGINT NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL
            )""",
            "CREATE INDEX calendars_updated ON calendars (updated_at)",
            """CREATE TABLE calendar_versions (
                calendar_id TEXT NOT NULL,
                version BIGINT NOT NULL,
                base_version BIGINT,
                payload BYTEA NOT NULL,
                snapshot BYTEA,
                created_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (calendar_id, version)
            )""",
        ),
    ),
)
"""(version, statements): the schema's history. Append; never edit an applied migration."""

_COLUMNS = (
    "id, request_id, state, instance_json, options_json, instance_name, referrals, created_at, "
    "updated_at, attempts, progress_json, solution_json, error_code, error_message, started_at, "
    "finished_at, lease_owner, lease_expires, kind, checkpoint_json"
)
_ACTIVE = ("queued", "running")
_DONE = ("succeeded", "failed", "cancelled")


class Cursor(Protocol):
    """The DB-API cursor methods the stores use."""

    @property
    def rowcount(self) -> int: ...

    def execute(self, sql: Any, params: Sequence[Any] = ...) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


def request_hash(instance_json: str, options_json: str, kind: str = "optimize") -> str:
    """What tells two submits with one request id apart (an optimize job's hash is the one
    schema version 1 stored)."""
    digest = hashlib.sha256()
    if kind != "optimize":
        digest.update(kind.encode() + b"\0")
    for part in (instance_json, options_json):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _job(row: Sequence[Any]) -> Job:
    return Job(
        id=row[0],
        request_id=row[1],
        state=JobState(row[2]),
        instance_json=row[3],
        options_json=row[4],
        instance_name=row[5],
        referrals=int(row[6]),
        created_at=float(row[7]),
        updated_at=float(row[8]),
        attempts=int(row[9]),
        progress_json=row[10],
        solution_json=row[11],
        error_code=row[12],
        error_message=row[13],
        started_at=row[14],
        finished_at=row[15],
        lease_owner=row[16],
        lease_expires=row[17],
        kind=row[18],
        checkpoint_json=row[19],
    )


def _token(created_at: float, job_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([created_at, job_id]).encode()).decode()


def _untoken(token: str) -> tuple[float, str]:
    try:
        created_at, job_id = json.loads(base64.urlsafe_b64decode(token.encode()))
        return float(created_at), str(job_id)
    except (ValueError, TypeError) as exc:
        raise ValueError("invalid page token") from exc


class SqlJobStore(ABC):
    """:class:`scheduler.jobs.store.JobStore` over a DB-API connection; subclasses give the
    dialect."""

    placeholder = "?"
    lock_clause = ""
    """Appended to the claim's SELECT: PostgreSQL's ``FOR UPDATE SKIP LOCKED``."""
    row_lock_clause = ""
    """Appended to a SELECT of the row a transaction will change: PostgreSQL's ``FOR UPDATE``
    (SQLite's write transactions hold the whole file)."""

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Cursor]:
        """A cursor in one transaction, committed on success and rolled back on error; a
        transaction that will write takes the write lock at once where the dialect has one."""

    def _lock_migrations(self, cur: Cursor) -> None:  # noqa: B027 - optional hook
        """Serialise concurrent migrations (several servers starting at once)."""

    def _read_snapshot(self, cur: Cursor) -> None:  # noqa: B027 - optional hook
        """Make this transaction's reads one snapshot (its first statement): PostgreSQL's
        READ COMMITTED sees each statement's own; SQLite's transaction holds the file."""

    def _run(self, cur: Cursor, sql: str, params: Sequence[Any] = ()) -> Any:
        if self.placeholder != "?":
            sql = sql.replace("?", self.placeholder)
        return cur.execute(sql, params)

    # ------------------------------------------------------------------ schema

    def migrate(self) -> int:
        """Apply the missing migrations; returns the schema version."""
        latest = MIGRATIONS[-1][0]
        with self._transaction() as cur:
            self._lock_migrations(cur)
            self._run(
                cur,
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)",
            )
            self._run(cur, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            current = int(cur.fetchone()[0])
            if current > latest:
                raise StoreError(
                    f"the store's schema is version {current}, newer than this server's "
                    f"({latest}): upgrade the server"
                )
            for version, statements in MIGRATIONS:
                if version <= current:
                    continue
                for statement in statements:
                    self._run(cur, statement)
                self._run(cur, "INSERT INTO schema_migrations (version) VALUES (?)", (version,))
        return latest

    def schema_version(self) -> int:
        with self._transaction() as cur:
            self._run(cur, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            return int(cur.fetchone()[0])

    # ------------------------------------------------------------------ JobStore

    def _get(self, cur: Cursor, job_id: str) -> Job | None:
        self._run(cur, f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        row = cur.fetchone()
        return None if row is None else _job(row)

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
        if kind not in KINDS:
            raise ValueError(f"unknown job kind {kind!r}; known: {', '.join(KINDS)}")
        digest = request_hash(instance_json, options_json, kind)
        with self._transaction() as cur:
            if request_id:
                self._run(
                    cur, "SELECT id, request_hash FROM jobs WHERE request_id = ?", (request_id,)
                )
                row = cur.fetchone()
                if row is not None:
                    if row[1] != digest:
                        raise RequestConflictError(request_id, row[0])
                    job = self._get(cur, row[0])
                    assert job is not None
                    return job, False
            job_id = uuid.uuid4().hex
            self._run(
                cur,
                "INSERT INTO jobs (id, request_id, request_hash, state, instance_json, "
                "options_json, instance_name, referrals, created_at, updated_at, kind) "
                "VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?)",
                (
                    job_id,
                    request_id or None,
                    digest,
                    instance_json,
                    options_json,
                    instance_name,
                    referrals,
                    now,
                    now,
                    kind,
                ),
            )
            job = self._get(cur, job_id)
            assert job is not None
            return job, True

    def get(self, job_id: str) -> Job | None:
        with self._transaction() as cur:
            return self._get(cur, job_id)

    def list(self, *, page_size: int, page_token: str, done: bool | None) -> Page:
        where: list[str] = []
        params: list[Any] = []
        if done is not None:
            states = _DONE if done else _ACTIVE
            where.append(f"state IN ({', '.join('?' for _ in states)})")
            params += states
        if page_token:
            created_at, job_id = _untoken(page_token)
            where.append("(created_at < ? OR (created_at = ? AND id < ?))")
            params += [created_at, created_at, job_id]
        sql = f"SELECT {_COLUMNS} FROM jobs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
        params.append(page_size + 1)
        with self._transaction() as cur:
            self._run(cur, sql, params)
            jobs = [_job(row) for row in cur.fetchall()]
        if len(jobs) <= page_size:
            return Page(jobs, "")
        jobs = jobs[:page_size]
        return Page(jobs, _token(jobs[-1].created_at, jobs[-1].id))

    def claim(self, owner: str, lease_s: float, now: float) -> Job | None:
        with self._transaction() as cur:
            self._run(
                cur,
                "SELECT id FROM jobs WHERE state = 'queued' "
                "OR (state = 'running' AND lease_expires < ?) "
                "ORDER BY created_at, id LIMIT 1" + self.lock_clause,
                (now,),
            )
            row = cur.fetchone()
            if row is None:
                return None
            self._run(
                cur,
                "UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires = ?, "
                "attempts = attempts + 1, started_at = COALESCE(started_at, ?), updated_at = ?, "
                "progress_json = NULL "
                "WHERE id = ?",
                (owner, now + lease_s, now, now, row[0]),
            )
            return self._get(cur, row[0])

    def heartbeat(
        self,
        job_id: str,
        owner: str,
        lease_s: float,
        now: float,
        progress_json: str | None,
        checkpoint_json: str | None = None,
    ) -> bool:
        with self._transaction() as cur:
            self._run(
                cur,
                "UPDATE jobs SET lease_expires = ?, updated_at = ?, "
                "progress_json = COALESCE(?, progress_json), "
                "checkpoint_json = COALESCE(?, checkpoint_json) "
                "WHERE id = ? AND state = 'running' AND lease_owner = ?",
                (now + lease_s, now, progress_json, checkpoint_json, job_id, owner),
            )
            return bool(cur.rowcount == 1)

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
        if (solution_json is None) == (error_code is None):
            raise ValueError("finish needs a solution or an error code, not both")
        state = JobState.SUCCEEDED if solution_json is not None else JobState.FAILED
        with self._transaction() as cur:
            self._run(
                cur,
                "UPDATE jobs SET state = ?, solution_json = ?, error_code = ?, error_message = ?, "
                "finished_at = ?, updated_at = ?, lease_owner = NULL, lease_expires = NULL, "
                "progress_json = COALESCE(?, progress_json), checkpoint_json = NULL "
                "WHERE id = ? AND state = 'running' AND lease_owner = ?",
                (
                    state.value,
                    solution_json,
                    error_code,
                    error_message,
                    now,
                    now,
                    progress_json,
                    job_id,
                    owner,
                ),
            )
            return bool(cur.rowcount == 1)

    def release(self, job_id: str, owner: str, now: float) -> bool:
        with self._transaction() as cur:
            self._run(
                cur,
                "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires = NULL, "
                "updated_at = ? WHERE id = ? AND state = 'running' AND lease_owner = ?",
                (now, job_id, owner),
            )
            return bool(cur.rowcount == 1)

    def cancel(self, job_id: str, now: float) -> Job | None:
        with self._transaction() as cur:
            self._run(
                cur,
                "UPDATE jobs SET state = 'cancelled', error_code = 1, "
                "error_message = 'cancelled by a client', finished_at = ?, updated_at = ?, "
                "lease_owner = NULL, lease_expires = NULL, checkpoint_json = NULL "
                "WHERE id = ? AND state IN ('queued', 'running')",
                (now, now, job_id),
            )
            return self._get(cur, job_id)

    def delete(self, job_id: str) -> bool:
        with self._transaction() as cur:
            job = self._get(cur, job_id)
            if job is None:
                return False
            if not job.done:
                raise ValueError(f"job {job_id} is {job.state.value}: cancel it first")
            self._run(cur, "DELETE FROM jobs WHERE id = ?", (job_id,))
            return True

    def purge(self, finished_before: float) -> int:
        with self._transaction() as cur:
            self._run(
                cur,
                "DELETE FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled') "
                "AND finished_at < ?",
                (finished_before,),
            )
            return int(cur.rowcount)

    # ------------------------------------------------------------------ CalendarJournal

    def _calendar_head(self, cur: Cursor, calendar_id: str) -> int:
        """The calendar's current version (0: none), its row locked for this transaction."""
        self._run(
            cur,
            "SELECT current_version FROM calendars WHERE calendar_id = ?" + self.row_lock_clause,
            (calendar_id,),
        )
        row = cur.fetchone()
        return 0 if row is None else int(row[0])

    def _last_full(self, cur: Cursor, calendar_id: str, upto: int) -> int | None:
        """The newest version up to `upto` stored as a full copy."""
        self._run(
            cur,
            "SELECT MAX(version) FROM calendar_versions WHERE calendar_id = ? AND version <= ? "
            "AND (base_version IS NULL OR snapshot IS NOT NULL)",
            (calendar_id, upto),
        )
        row = cur.fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def _write_version(
        self,
        cur: Cursor,
        calendar_id: str,
        current: int,
        base_version: int | None,
        payload: bytes,
        now: float,
        keep: int,
    ) -> int:
        """Store the calendar's next version (after `current`; its row exists and is locked) and
        drop what no longer rebuilds one of its latest `keep` versions. A version is the time in
        microseconds, or one more than the current version if the clock is behind it."""
        if keep < 1:
            raise ValueError("keep must be at least 1")
        version = max(int(now * 1_000_000), current + 1)
        self._run(
            cur,
            "UPDATE calendars SET current_version = ?, updated_at = ? WHERE calendar_id = ?",
            (version, now, calendar_id),
        )
        if cur.rowcount != 1:  # never a version without its calendar's row
            raise StoreError(f"calendar {calendar_id!r} vanished while its version was written")
        self._run(
            cur,
            "INSERT INTO calendar_versions (calendar_id, version, base_version, payload, "
            "created_at) VALUES (?, ?, ?, ?, ?)",
            (calendar_id, version, base_version, payload, now),
        )
        self._compact(cur, calendar_id, keep)
        return version

    def _compact(self, cur: Cursor, calendar_id: str, keep: int) -> None:
        """Drop the versions older than the full copy the oldest of the latest `keep` needs."""
        self._run(
            cur,
            "SELECT version FROM calendar_versions WHERE calendar_id = ? "
            "ORDER BY version DESC LIMIT 1 OFFSET ?",
            (calendar_id, keep - 1),
        )
        row = cur.fetchone()
        if row is None:
            return
        start = self._last_full(cur, calendar_id, int(row[0]))
        if start is not None:
            self._run(
                cur,
                "DELETE FROM calendar_versions WHERE calendar_id = ? AND version < ?",
                (calendar_id, start),
            )

    def calendar_put(self, calendar_id: str, payload: bytes, *, now: float, keep: int) -> int:
        with self._transaction() as cur:
            # The row, made or taken and locked in one statement: two first uploads at once,
            # the second waits for the first; an upload meeting a purge that holds the row
            # waits for it and, the row deleted, makes it anew.
            self._run(
                cur,
                "INSERT INTO calendars (calendar_id, current_version, updated_at) VALUES (?, 0, ?) "
                "ON CONFLICT (calendar_id) DO UPDATE SET updated_at = excluded.updated_at "
                "RETURNING current_version",
                (calendar_id, now),
            )
            current = int(cur.fetchone()[0])
            return self._write_version(cur, calendar_id, current, None, payload, now, keep)

    def calendar_update(
        self, calendar_id: str, base_version: int, payload: bytes, *, now: float, keep: int
    ) -> tuple[int, int]:
        with self._transaction() as cur:
            current = self._calendar_head(cur, calendar_id)
            if not current or current != base_version:
                raise StaleCalendarError(calendar_id, base_version, current)
            version = self._write_version(
                cur, calendar_id, current, base_version, payload, now, keep
            )
            start = self._last_full(cur, calendar_id, version)
            self._run(
                cur,
                "SELECT COUNT(*) FROM calendar_versions WHERE calendar_id = ? AND version > ?",
                (calendar_id, start if start is not None else 0),
            )
            return version, int(cur.fetchone()[0])

    def calendar_snapshot(self, calendar_id: str, version: int, payload: bytes) -> bool:
        with self._transaction() as cur:
            self._run(
                cur,
                "UPDATE calendar_versions SET snapshot = ? WHERE calendar_id = ? AND version = ?",
                (payload, calendar_id, version),
            )
            return bool(cur.rowcount == 1)

    def calendar_chain(
        self, calendar_id: str, version: int, held: int | None, *, keep: int
    ) -> CalendarChain:
        with self._transaction() as cur:
            self._read_snapshot(cur)
            self._run(
                cur, "SELECT current_version FROM calendars WHERE calendar_id = ?", (calendar_id,)
            )
            row = cur.fetchone()
            current = 0 if row is None else int(row[0])
            start = self._last_full(cur, calendar_id, version) if current else None
            if start is None:
                return CalendarChain(current, [])
            self._run(
                cur,
                "SELECT 1 FROM calendar_versions WHERE calendar_id = ? AND version = ?",
                (calendar_id, version),
            )
            if cur.fetchone() is None:
                return CalendarChain(current, [])
            self._run(
                cur,
                "SELECT COUNT(*) FROM calendar_versions WHERE calendar_id = ? AND version > ?",
                (calendar_id, version),
            )
            if int(cur.fetchone()[0]) >= keep:
                return CalendarChain(current, [])  # stored only to rebuild newer versions
            if held is not None and start <= held < version:
                self._run(
                    cur,
                    "SELECT version, base_version, payload FROM calendar_versions "
                    "WHERE calendar_id = ? AND version > ? AND version <= ? ORDER BY version",
                    (calendar_id, held, version),
                )
                rows = [CalendarRow(int(v), int(b), bytes(p), False) for v, b, p in cur.fetchall()]
                return CalendarChain(current, rows)
            self._run(
                cur,
                "SELECT version, base_version, payload, snapshot FROM calendar_versions "
                "WHERE calendar_id = ? AND version >= ? AND version <= ? ORDER BY version",
                (calendar_id, start, version),
            )
            rows = []
            for i, (v, b, p, snap) in enumerate(cur.fetchall()):
                if i == 0:
                    full = bytes(p) if b is None else bytes(snap)
                    rows.append(CalendarRow(int(v), None if b is None else int(b), full, True))
                else:
                    rows.append(CalendarRow(int(v), int(b), bytes(p), False))
            return CalendarChain(current, rows)

    def calendar_purge(self, updated_before: float) -> int:
        with self._transaction() as cur:
            # The calendars' rows first, locked (an update in flight is waited for, and its
            # calendar is then no longer stale), then the versions of exactly those.
            self._run(
                cur,
                "SELECT calendar_id FROM calendars WHERE updated_at < ? ORDER BY calendar_id"
                + self.row_lock_clause,
                (updated_before,),
            )
            purged = 0
            for (calendar_id,) in cur.fetchall():
                self._run(
                    cur,
                    "DELETE FROM calendars WHERE calendar_id = ? AND updated_at < ?",
                    (calendar_id, updated_before),
                )
                if cur.rowcount == 1:
                    self._run(
                        cur, "DELETE FROM calendar_versions WHERE calendar_id = ?", (calendar_id,)
                    )
                    purged += 1
            return purged

    def count(self) -> dict[str, int]:
        """Jobs per state (for tests and the benchmark)."""
        with self._transaction() as cur:
            self._run(cur, "SELECT state, COUNT(*) FROM jobs GROUP BY state")
            return {str(state): int(n) for state, n in cur.fetchall()}

    @abstractmethod
    def close(self) -> None: ...
