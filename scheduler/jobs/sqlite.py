"""The SQLite job store: one file, the default of `scheduler serve --store PATH`.

WAL journal and a busy timeout let several processes on one host share the file (a restarted
server, the CLI); a write transaction takes the write lock at once (``BEGIN IMMEDIATE``), so two
claims never see the same queued job. A ``kill -9`` loses at most the transaction in flight.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scheduler.jobs.sql import Cursor, SqlJobStore
from scheduler.jobs.store import StoreError

__all__ = ["DEFAULT_BUSY_TIMEOUT_S", "SqliteJobStore"]

DEFAULT_BUSY_TIMEOUT_S = 30.0
"""How long a transaction waits for another process's write lock before StoreError."""


def _rollback(cur: sqlite3.Cursor) -> None:
    """End the transaction whatever happened to it (SQLite may have rolled it back itself)."""
    with contextlib.suppress(sqlite3.Error):
        if cur.connection.in_transaction:
            cur.execute("ROLLBACK")


class SqliteJobStore(SqlJobStore):
    """Jobs in an SQLite file (created, with its folder, if missing)."""

    def __init__(self, path: str | Path, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_s
            )
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the job store {self.path}: {exc}") from None
        self._lock = threading.Lock()
        try:
            self.migrate()
        except sqlite3.Error as exc:
            self.close()
            raise StoreError(f"cannot migrate the job store {self.path}: {exc}") from None
        except BaseException:
            self.close()
            raise

    @contextmanager
    def _transaction(self) -> Iterator[Cursor]:
        with self._lock:
            try:
                cur = self._conn.cursor()
                cur.execute("BEGIN IMMEDIATE")  # waits up to the busy timeout for the lock
            except sqlite3.ProgrammingError:  # closed (the server is stopping)
                raise StoreError(f"the job store {self.path} is closed") from None
            except sqlite3.DatabaseError as exc:  # locked past the timeout, unreadable
                raise StoreError(f"the job store {self.path} failed: {exc}") from None
            try:
                yield cur
                cur.execute("COMMIT")  # inside: a failed commit is rolled back and reported
            except (sqlite3.IntegrityError, sqlite3.ProgrammingError):  # a bug, not the store
                _rollback(cur)
                raise
            except sqlite3.DatabaseError as exc:  # locked past the timeout, disk full, corrupt
                _rollback(cur)
                raise StoreError(f"the job store {self.path} failed: {exc}") from None
            except BaseException:
                _rollback(cur)
                raise
            finally:
                cur.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
