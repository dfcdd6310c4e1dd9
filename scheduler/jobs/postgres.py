"""The PostgreSQL job store: several servers share one database (`--store postgresql://...`).

A claim selects the oldest claimable job ``FOR UPDATE SKIP LOCKED`` and leases it in the same
transaction, so two servers never lease one job; a lease that is not renewed (its server was
killed) expires and the job is claimed again. Migrations take a transaction-level advisory lock,
so servers starting together migrate once. Connections come from a small pool, one per thread
at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from scheduler.jobs.sql import Cursor, SqlJobStore
from scheduler.jobs.store import StoreError

__all__ = ["PostgresJobStore"]

_MIGRATION_LOCK = 0x5C4ED
"""The advisory lock key that serialises migrations."""
_POOL_SIZE = 8
"""Idle connections kept for reuse."""
_TIMEOUT_MS = 30_000
"""Longest wait for a lock (milliseconds); a statement gets twice that."""


class PostgresJobStore(SqlJobStore):
    """Jobs in a PostgreSQL database given by a libpq URL."""

    placeholder = "%s"
    lock_clause = " FOR UPDATE SKIP LOCKED"
    row_lock_clause = " FOR UPDATE"

    def __init__(self, url: str) -> None:
        self._url = url
        self._idle: list[psycopg.Connection[tuple[object, ...]]] = []
        self._lock = threading.Lock()
        self._closed = False
        try:
            self.migrate()
        except psycopg.Error as exc:
            self.close()
            raise StoreError(f"cannot open the PostgreSQL job store: {exc}") from None
        except BaseException:
            self.close()
            raise

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        with self._lock:
            if self._closed:
                raise StoreError("the job store is closed")
            if self._idle:
                return self._idle.pop()
        try:
            # A lock or a statement waits at most so long (then StoreError: UNAVAILABLE), as
            # SQLite's busy timeout: a stalled database never holds a call for ever.
            return psycopg.connect(
                self._url,
                connect_timeout=10,
                autocommit=True,
                options=f"-c lock_timeout={_TIMEOUT_MS} -c statement_timeout={2 * _TIMEOUT_MS}",
            )
        except psycopg.OperationalError as exc:
            raise StoreError(f"cannot connect to the PostgreSQL job store: {exc}") from None

    @contextmanager
    def _transaction(self) -> Iterator[Cursor]:
        conn = self._connect()
        broken = False
        try:
            with conn.transaction(), conn.cursor() as cur:
                yield cur
        except psycopg.OperationalError as exc:
            broken = True
            raise StoreError(f"the PostgreSQL job store failed: {exc}") from None
        finally:
            with self._lock:
                if broken or conn.closed or self._closed or len(self._idle) >= _POOL_SIZE:
                    conn.close()
                else:
                    self._idle.append(conn)

    def _lock_migrations(self, cur: Cursor) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))

    def _read_snapshot(self, cur: Cursor) -> None:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
