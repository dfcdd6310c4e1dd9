"""The job stores, SQLite and a real PostgreSQL server, against one contract.

Leases are driven by the `now` each call passes, so expiry needs no sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scheduler.jobs.sql import MIGRATIONS, SqlJobStore
from scheduler.jobs.store import (
    CalendarChain,
    CalendarRow,
    JobState,
    RequestConflictError,
    StaleCalendarError,
    StoreError,
    open_store,
)

T0 = 1_700_000_000.0


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "jobs" / "jobs.db")
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(target: str) -> Iterator[SqlJobStore]:
    opened = open_store(target)
    assert isinstance(opened, SqlJobStore)
    yield opened
    opened.close()


def _submit(store: SqlJobStore, n: int = 0, request_id: str | None = None, now: float = T0) -> str:
    job, created = store.submit(
        f'{{"name": "week-{n}"}}',
        '{"seed": 1}',
        instance_name=f"week-{n}",
        referrals=3,
        request_id=request_id,
        now=now,
    )
    assert created
    return job.id


def test_migrations_are_versioned_and_applied_once(store: SqlJobStore, target: str) -> None:
    assert store.schema_version() == MIGRATIONS[-1][0]
    again = open_store(target)  # a second server on the same store: nothing left to apply
    assert isinstance(again, SqlJobStore)
    assert again.migrate() == MIGRATIONS[-1][0]
    again.close()


def test_a_newer_schema_is_refused(store: SqlJobStore, target: str) -> None:
    with store._transaction() as cur:
        store._run(cur, "INSERT INTO schema_migrations (version) VALUES (?)", (999,))
    with pytest.raises(StoreError, match="newer than this server"):
        open_store(target)


def test_submit_is_idempotent_per_request_id(store: SqlJobStore) -> None:
    first = _submit(store, request_id="batch-2026-w49")
    job, created = store.submit(
        '{"name": "week-0"}',
        '{"seed": 1}',
        instance_name="week-0",
        referrals=3,
        request_id="batch-2026-w49",
        now=T0 + 5,
    )
    assert (job.id, created) == (first, False)
    with pytest.raises(RequestConflictError, match="batch-2026-w49"):
        store.submit(
            '{"name": "other"}',
            "{}",
            instance_name="other",
            referrals=1,
            request_id="batch-2026-w49",
            now=T0,
        )
    assert _submit(store, 1) != _submit(store, 2)  # no request id: always a new job


def test_claim_leases_oldest_first_and_never_twice(store: SqlJobStore) -> None:
    a, b = _submit(store, 1, now=T0), _submit(store, 2, now=T0 + 1)
    first = store.claim("server-1", 30, T0 + 2)
    second = store.claim("server-2", 30, T0 + 2)
    assert first is not None and second is not None
    assert (first.id, second.id) == (a, b)
    assert first.state is JobState.RUNNING and first.attempts == 1
    assert store.claim("server-3", 30, T0 + 2) is None


def test_an_expired_lease_is_taken_over_and_the_old_runner_cannot_finish(
    store: SqlJobStore,
) -> None:
    job_id = _submit(store)
    assert store.claim("killed", 10, T0) is not None
    assert store.claim("other", 10, T0 + 5) is None  # lease still valid
    taken = store.claim("other", 10, T0 + 11)
    assert taken is not None and taken.id == job_id and taken.attempts == 2
    assert not store.heartbeat(job_id, "killed", 10, T0 + 12, None)
    assert not store.finish(job_id, "killed", T0 + 12, solution_json='{"late": true}')
    assert store.heartbeat(job_id, "other", 10, T0 + 12, '{"stage": "on_time"}')
    assert store.finish(job_id, "other", T0 + 13, solution_json='{"ok": true}')
    assert not store.finish(job_id, "other", T0 + 14, solution_json='{"twice": true}')
    done = store.get(job_id)
    assert done is not None
    assert (done.state, done.solution_json, done.progress_json) == (
        JobState.SUCCEEDED,
        '{"ok": true}',
        '{"stage": "on_time"}',
    )
    assert store.claim("third", 10, T0 + 100) is None  # finished jobs never run again


def test_cancel_queued_and_running_jobs_and_finished_ones_stay(store: SqlJobStore) -> None:
    running, finished = _submit(store, 1, now=T0), _submit(store, 2, now=T0 + 1)
    queued = _submit(store, 3, now=T0 + 2)
    claimed = [store.claim("s", 30, T0 + 3) for _ in range(2)]
    assert [c.id for c in claimed if c is not None] == [running, finished]
    assert store.finish(finished, "s", T0 + 2, solution_json="{}")
    for job_id in (queued, running, finished):
        store.cancel(job_id, T0 + 3)
    states = {j: store.get(j).state for j in (queued, running, finished)}  # type: ignore[union-attr]
    assert states == {
        queued: JobState.CANCELLED,
        running: JobState.CANCELLED,
        finished: JobState.SUCCEEDED,
    }
    assert not store.heartbeat(running, "s", 30, T0 + 4, None)  # its runner stops
    assert not store.finish(running, "s", T0 + 4, solution_json="{}")
    assert store.claim("s", 30, T0 + 1000) is None
    assert store.cancel("nope", T0) is None


def test_delete_needs_a_finished_job_and_purge_keeps_recent_ones(store: SqlJobStore) -> None:
    old, recent, active = _submit(store, 1), _submit(store, 2), _submit(store, 3)
    store.cancel(old, T0)
    store.cancel(recent, T0 + 100)
    with pytest.raises(ValueError, match="cancel it first"):
        store.delete(active)
    assert store.purge(T0 + 50) == 1
    assert store.get(old) is None and store.get(recent) is not None
    assert store.delete(recent) and not store.delete(recent)
    assert store.get(active) is not None


def test_list_pages_newest_first_with_a_done_filter(store: SqlJobStore) -> None:
    ids = [_submit(store, i, now=T0 + i) for i in range(5)]
    store.cancel(ids[0], T0 + 10)
    seen, token = [], ""
    while True:
        page = store.list(page_size=2, page_token=token, done=None)
        seen += [j.id for j in page.jobs]
        token = page.next_token
        if not token:
            break
    assert seen == ids[::-1]
    assert [j.id for j in store.list(page_size=10, page_token="", done=True).jobs] == [ids[0]]
    assert len(store.list(page_size=10, page_token="", done=False).jobs) == 4
    with pytest.raises(ValueError, match="page token"):
        store.list(page_size=2, page_token="garbage!", done=None)


def test_concurrent_claims_from_many_threads_lease_each_job_once(target: str) -> None:
    stores = [open_store(target) for _ in range(4)]  # as four servers
    first = stores[0]
    assert isinstance(first, SqlJobStore)
    ids = {_submit(first, i) for i in range(40)}
    got: list[str] = []
    lock = threading.Lock()

    def drain(k: int) -> None:
        store = stores[k % len(stores)]
        while (job := store.claim(f"owner-{k}", 60, T0)) is not None:
            with lock:
                got.append(job.id)

    threads = [threading.Thread(target=drain, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(got) == sorted(ids)
    for s in stores:
        s.close()


def test_the_checkpoint_is_kept_for_the_next_attempt_and_written_by_the_lease_owner_only(
    store: SqlJobStore,
) -> None:
    job_id = _submit(store)
    claimed = store.claim("killed", 10, T0)
    assert claimed is not None and claimed.checkpoint_json is None and claimed.kind == "optimize"
    plan = '{"assignments": [{"referral_id": "R-0001"}]}'
    assert store.heartbeat(job_id, "killed", 10, T0 + 1, '{"stage": "greedy"}', plan)
    assert store.heartbeat(job_id, "killed", 10, T0 + 2, None)  # no new plan: the old stays
    assert store.get(job_id).checkpoint_json == plan  # type: ignore[union-attr]
    # The server dies; the next attempt gets the checkpoint with the job.
    again = store.claim("restarted", 10, T0 + 20)
    assert again is not None and again.attempts == 2 and again.checkpoint_json == plan
    assert again.progress_json is None
    # The killed runner, back from a pause, cannot overwrite it.
    assert not store.heartbeat(job_id, "killed", 10, T0 + 21, None, '{"assignments": []}')
    better = '{"assignments": [{"referral_id": "R-0002"}]}'
    assert store.heartbeat(job_id, "restarted", 10, T0 + 21, None, better)
    assert store.get(job_id).checkpoint_json == better  # type: ignore[union-attr]
    assert store.finish(job_id, "restarted", T0 + 22, solution_json="{}")
    done = store.get(job_id)
    assert done is not None and done.checkpoint_json is None and done.solution_json == "{}"


def test_a_job_kind_is_stored_and_part_of_the_request(store: SqlJobStore) -> None:
    job, _ = store.submit(
        '{"profile": "vejen"}',
        "{}",
        instance_name="simulate vejen",
        referrals=0,
        request_id="sim-1",
        now=T0,
        kind="simulate",
    )
    assert store.get(job.id).kind == "simulate"  # type: ignore[union-attr]
    with pytest.raises(RequestConflictError):  # the same text as another kind of request
        store.submit(
            '{"profile": "vejen"}',
            "{}",
            instance_name="x",
            referrals=0,
            request_id="sim-1",
            now=T0,
        )
    with pytest.raises(ValueError, match="unknown job kind"):
        store.submit("{}", "{}", instance_name="x", referrals=0, request_id=None, now=T0, kind="x")


def test_a_version_1_store_is_migrated_and_its_jobs_kept(
    target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scheduler.jobs.sql as sql

    with monkeypatch.context() as patched:
        patched.setattr(sql, "MIGRATIONS", MIGRATIONS[:1])
        old = open_store(target)
        with old._transaction() as cur:  # type: ignore[attr-defined]
            old._run(  # type: ignore[attr-defined]
                cur,
                "INSERT INTO jobs (id, request_hash, state, instance_json, options_json, "
                "instance_name, referrals, created_at, updated_at) "
                "VALUES ('old1', 'h', 'queued', '{}', '{}', 'week', 3, ?, ?)",
                (T0, T0),
            )
        old.close()
    new = open_store(target)
    assert isinstance(new, SqlJobStore)
    assert new.schema_version() == MIGRATIONS[-1][0] >= 2
    job = new.get("old1")
    assert job is not None and job.kind == "optimize" and job.checkpoint_json is None
    new.close()


# --------------------------------------------------------------------------- the calendar journal


def test_a_calendar_put_is_one_full_copy_and_versions_only_grow(store: SqlJobStore) -> None:
    v1 = store.calendar_put("cal-a", b"week-1", now=T0, keep=4)
    assert v1 == int(T0 * 1_000_000)
    chain = store.calendar_chain("cal-a", v1, None, keep=100)
    assert chain.current == v1
    assert chain.rows == [CalendarRow(v1, None, b"week-1", True)]
    # The clock behind the current version (another host's, or set back): still a newer one.
    v2 = store.calendar_put("cal-a", b"week-2", now=T0 - 60, keep=4)
    assert v2 == v1 + 1
    assert store.calendar_chain("cal-a", v2, None, keep=100).rows == [
        CalendarRow(v2, None, b"week-2", True)
    ]
    assert store.calendar_chain("cal-b", v1, None, keep=100) == CalendarChain(0, [])


def test_an_update_is_written_only_on_the_current_version(store: SqlJobStore) -> None:
    v1 = store.calendar_put("cal-a", b"week", now=T0, keep=4)
    v2, updates = store.calendar_update("cal-a", v1, b"+B1", now=T0 + 1, keep=4)
    assert v2 > v1 and updates == 1
    with pytest.raises(StaleCalendarError) as stale:
        store.calendar_update("cal-a", v1, b"+B2", now=T0 + 2, keep=4)  # a lost race
    assert stale.value.current == v2
    with pytest.raises(StaleCalendarError) as unknown:
        store.calendar_update("cal-x", v1, b"+B2", now=T0 + 2, keep=4)
    assert unknown.value.current == 0
    assert store.calendar_chain("cal-a", v2, None, keep=100).rows == [
        CalendarRow(v1, None, b"week", True),
        CalendarRow(v2, v1, b"+B1", False),
    ]
    # A reader holding v1 gets only the update after it.
    assert store.calendar_chain("cal-a", v2, v1, keep=100).rows == [
        CalendarRow(v2, v1, b"+B1", False)
    ]
    # A version never made is not stored; the current one is named.
    assert store.calendar_chain("cal-a", v1 + 1, None, keep=100) == CalendarChain(v2, [])
    # Nor is one stored only to rebuild newer ones: not among the latest `keep`.
    assert store.calendar_chain("cal-a", v1, None, keep=1) == CalendarChain(v2, [])
    assert store.calendar_chain("cal-a", v1, None, keep=2).rows == [
        CalendarRow(v1, None, b"week", True)
    ]


def test_a_snapshot_shortens_the_chain_and_old_versions_are_dropped(store: SqlJobStore) -> None:
    versions = [store.calendar_put("cal-a", b"week", now=T0, keep=2)]
    for i in range(3):
        version, updates = store.calendar_update(
            "cal-a", versions[-1], f"+B{i}".encode(), now=T0 + 1 + i, keep=2
        )
        versions.append(version)
        assert updates == i + 1
    # Nothing dropped yet: every version from the upload on rebuilds the latest two.
    assert len(store.calendar_chain("cal-a", versions[-1], None, keep=100).rows) == 4
    assert store.calendar_snapshot("cal-a", versions[2], b"week+B0+B1")
    version, updates = store.calendar_update("cal-a", versions[-1], b"+B3", now=T0 + 9, keep=2)
    versions.append(version)
    assert updates == 2  # after the snapshot
    # The latest two (versions[3], versions[4]) start from the snapshot; older rows are gone.
    chain = store.calendar_chain("cal-a", versions[4], None, keep=100)
    assert chain.rows == [
        CalendarRow(versions[2], versions[1], b"week+B0+B1", True),
        CalendarRow(versions[3], versions[2], b"+B2", False),
        CalendarRow(versions[4], versions[3], b"+B3", False),
    ]
    assert store.calendar_chain("cal-a", versions[1], None, keep=100) == CalendarChain(
        versions[4], []
    )
    assert not store.calendar_snapshot("cal-a", versions[0], b"gone")


def test_calendars_unchanged_past_the_retention_are_purged(store: SqlJobStore) -> None:
    old = store.calendar_put("cal-old", b"week", now=T0, keep=4)
    new = store.calendar_put("cal-new", b"week", now=T0 + 100, keep=4)
    assert store.calendar_purge(T0 + 50) == 1
    assert store.calendar_chain("cal-old", old, None, keep=100) == CalendarChain(0, [])
    assert store.calendar_chain("cal-new", new, None, keep=100).current == new
    # Re-uploaded after the purge: a fresh calendar.
    assert store.calendar_put("cal-old", b"week", now=T0 + 200, keep=4) > old


def test_concurrent_updates_through_two_stores_win_once_per_base(target: str) -> None:
    """Two servers' stores, eight threads each trying to update whatever they last saw: every
    write names a base that was current, and the chain has exactly the writes that won."""
    stores = [open_store(target), open_store(target)]
    first = stores[0].calendar_put("cal-a", b"week", now=T0, keep=100)
    won: list[tuple[int, int]] = []
    lost = 0
    lock = threading.Lock()

    def worker(n: int) -> None:
        nonlocal lost
        store = stores[n % 2]
        base = first
        for i in range(10):
            try:
                version, _ = store.calendar_update(
                    "cal-a", base, f"{n}.{i}".encode(), now=T0 + 1, keep=100
                )
            except StaleCalendarError as exc:
                with lock:
                    lost += 1
                base = exc.current
                continue
            with lock:
                won.append((base, version))
            base = version

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) + lost == 80 and won
    chain = stores[0].calendar_chain("cal-a", max(v for _, v in won), None, keep=100)
    assert [(r.base_version, r.version) for r in chain.rows[1:]] == sorted(won, key=lambda w: w[1])
    bases = [b for b, _ in won]
    assert len(set(bases)) == len(bases)  # one winner per base
    # Concurrent first uploads of one id: both land, as two versions.
    versions: list[int] = []
    uploads = [
        threading.Thread(
            target=lambda s=s: versions.append(s.calendar_put("cal-b", b"w", now=T0, keep=4))
        )
        for s in stores
    ]
    for t in uploads:
        t.start()
    for t in uploads:
        t.join()
    assert len(set(versions)) == 2
    for s in stores:
        s.close()


class _Paused:
    """Pauses one store's first statement containing `marker` (run by any thread) until
    released: the interleavings PostgreSQL's row locks and snapshots must get right."""

    def __init__(self, store: SqlJobStore, marker: str) -> None:
        self.marker = marker
        self.reached = threading.Event()
        self.go = threading.Event()
        run = store._run

        def paused(cur: Any, sql: str, params: Any = ()) -> Any:
            if self.marker and self.marker in sql:
                self.marker = ""
                self.reached.set()
                self.go.wait(30)
            return run(cur, sql, params)

        store._run = paused  # type: ignore[method-assign]


def _waiting_on_a_lock(url: str, within_s: float = 30) -> bool:
    """Whether some session of the database waits on a lock (polled, not slept)."""
    import psycopg

    deadline = time.monotonic() + within_s
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            ).fetchone()
            if row is not None and row[0]:
                return True
            time.sleep(0.05)
    return False


def test_a_purge_waits_for_an_update_in_flight_and_keeps_its_calendar(
    postgres_url: str,
) -> None:
    updater, purger = open_store(postgres_url), open_store(postgres_url)
    assert isinstance(updater, SqlJobStore) and isinstance(purger, SqlJobStore)
    v1 = updater.calendar_put("cal", b"week", now=T0, keep=4)
    pause = _Paused(updater, "UPDATE calendars SET current_version")  # the row is locked
    out: dict[str, Any] = {}
    update = threading.Thread(
        target=lambda: out.update(
            version=updater.calendar_update("cal", v1, b"+B1", now=T0 + 100, keep=4)[0]
        )
    )
    update.start()
    assert pause.reached.wait(30)
    purge = threading.Thread(target=lambda: out.update(purged=purger.calendar_purge(T0 + 50)))
    purge.start()
    assert _waiting_on_a_lock(postgres_url)  # the purge waits for the update's row lock
    pause.go.set()
    update.join(30)
    purge.join(30)
    assert out["purged"] == 0
    chain = purger.calendar_chain("cal", out["version"], None, keep=4)
    assert chain.rows == [
        CalendarRow(v1, None, b"week", True),
        CalendarRow(out["version"], v1, b"+B1", False),
    ]
    updater.close()
    purger.close()


def test_a_chain_is_read_as_one_snapshot_while_another_process_compacts(
    postgres_url: str,
) -> None:
    reader, writer = open_store(postgres_url), open_store(postgres_url)
    assert isinstance(reader, SqlJobStore) and isinstance(writer, SqlJobStore)
    versions = [writer.calendar_put("cal", b"W", now=T0, keep=2)]
    for payload in (b"+a", b"+b", b"+c", b"+d"):
        versions.append(writer.calendar_update("cal", versions[-1], payload, now=T0, keep=2)[0])
    held, wanted = versions[1], versions[4]  # the reader holds W+a and asks for W+a+b+c+d
    pause = _Paused(reader, "SELECT 1 FROM calendar_versions")  # after its first reads
    out: dict[str, Any] = {}
    read = threading.Thread(
        target=lambda: out.update(chain=reader.calendar_chain("cal", wanted, held, keep=2))
    )
    read.start()
    assert pause.reached.wait(30)
    # Meanwhile another process snapshots W+a+b+c and its next update drops the rows before.
    assert writer.calendar_snapshot("cal", versions[3], b"W+a+b+c")
    writer.calendar_update("cal", versions[4], b"+e", now=T0, keep=2)
    pause.go.set()
    read.join(30)
    rows = out["chain"].rows
    assert [(r.base_version, r.payload) for r in rows] == [
        (versions[1], b"+b"),
        (versions[2], b"+c"),
        (versions[3], b"+d"),
    ]
    reader.close()
    writer.close()


def test_a_store_locked_past_the_busy_timeout_or_corrupt_is_a_store_error(
    tmp_path: Path,
) -> None:
    import sqlite3

    from scheduler.jobs.sqlite import SqliteJobStore

    path = tmp_path / "store.db"
    store = SqliteJobStore(path, busy_timeout_s=0.2)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holding the file
    with pytest.raises(StoreError, match="locked"):
        store.calendar_put("cal", b"week", now=T0, keep=4)
    other.execute("ROLLBACK")
    other.close()
    assert store.calendar_put("cal", b"week", now=T0, keep=4)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.calendar_chain("cal", 1, None, keep=4)
    path.write_bytes(b"not a database" * 1000)
    with pytest.raises(StoreError):
        SqliteJobStore(path)


def test_an_upload_meeting_a_purge_of_its_calendar_makes_it_anew(postgres_url: str) -> None:
    uploader, purger = open_store(postgres_url), open_store(postgres_url)
    assert isinstance(uploader, SqlJobStore) and isinstance(purger, SqlJobStore)
    old = uploader.calendar_put("cal", b"old week", now=T0, keep=4)
    pause = _Paused(purger, "DELETE FROM calendars WHERE calendar_id")  # its rows locked
    out: dict[str, Any] = {}
    purge = threading.Thread(target=lambda: out.update(purged=purger.calendar_purge(T0 + 50)))
    purge.start()
    assert pause.reached.wait(30)
    upload = threading.Thread(
        target=lambda: out.update(
            version=uploader.calendar_put("cal", b"new week", now=T0 + 100, keep=4)
        )
    )
    upload.start()
    assert _waiting_on_a_lock(postgres_url)  # the upload waits for the purge
    pause.go.set()
    purge.join(30)
    upload.join(30)
    assert out["purged"] == 1
    chain = uploader.calendar_chain("cal", out["version"], None, keep=4)
    assert chain.current == out["version"] > old
    assert chain.rows == [CalendarRow(out["version"], None, b"new week", True)]
    assert uploader.calendar_purge(T0 + 99) == 0  # its row is there, with its time
    uploader.close()
    purger.close()


def test_a_failed_commit_is_a_store_error_and_leaves_no_transaction_open(
    tmp_path: Path,
) -> None:
    import sqlite3

    from scheduler.jobs.sqlite import SqliteJobStore

    store = SqliteJobStore(tmp_path / "store.db")
    with pytest.raises(StoreError, match="disk"), store._transaction() as cur:
        store._run(cur, "SELECT 1")
        raise sqlite3.OperationalError("disk I/O error")  # as a failing COMMIT raises
    assert not store._conn.in_transaction
    assert store.calendar_put("cal", b"week", now=T0, keep=4)  # the store still works
    store.close()
