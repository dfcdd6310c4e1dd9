"""Held calendars shared through the store: several server processes (here, several
:class:`HeldCalendars` and servers over one SQLite file, each with its own connection, as
separate processes have) and restarts answer for every calendar any of them was given, and the
store serialises the updates of a calendar across them."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from scheduler.api.convert import instance_to_proto
from scheduler.api.held_calendars import CalendarNotFoundError, HeldCalendars, VersionNotHeldError
from scheduler.api.metrics import Metrics
from scheduler.api.server import RunningServer, start_server
from scheduler.api.service import StoredCalendars
from scheduler.bench.generator import generate
from scheduler.domain import Instance
from scheduler.jobs.sqlite import SqliteJobStore
from scheduler.jobs.store import CalendarChain, JobStore, StoreError
from scheduler.planning.calendar_index import CalendarDelta, CalendarIndex, index_calendar
from scheduler.planning.propose import rank_slots
from scheduler.v1 import scheduler_pb2 as pb
from scheduler.v1 import scheduler_pb2_grpc
from tests.api.running import server_starter
from tests.planning.test_calendar_index import _applied, random_delta


@pytest.fixture(scope="module")
def week() -> Instance:
    return generate("vejen", seed=1, referrals=12)


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Callable[[], SqliteJobStore]]:
    """Open stores on one file (each a process's connection); all closed after the test."""
    opened: list[SqliteJobStore] = []

    def open_one() -> SqliteJobStore:
        opened.append(SqliteJobStore(tmp_path / "store.db"))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()


def _held(store: JobStore, **kwargs: Any) -> HeldCalendars:
    return HeldCalendars(journal=store, replay=StoredCalendars(), **kwargs)


def _upload(instance: Instance) -> bytes:
    return instance_to_proto(instance).SerializeToString()


def _update_payload(instance: Instance, delta: CalendarDelta) -> bytes:
    """The UpdateCalendar request of `delta` (bookings and therapists), as the journal keeps it."""
    changed = instance_to_proto(
        instance.model_copy(
            update={"bookings": list(delta.bookings_added), "therapists": list(delta.therapists)}
        )
    )
    return pb.UpdateCalendarRequest(
        bookings_removed=list(delta.bookings_removed),
        bookings_added=changed.bookings,
        therapists=changed.therapists,
    ).SerializeToString()


def _same(a: CalendarIndex, b: CalendarIndex) -> None:
    assert a == b
    for referral in a.instance.referrals[:3]:
        assert rank_slots(a.calendars(), referral, 5) == rank_slots(b.calendars(), referral, 5)


def test_a_calendar_uploaded_through_one_process_is_rebuilt_by_another(
    stores: Callable[[], SqliteJobStore], week: Instance
) -> None:
    metrics = Metrics()
    a, b = _held(stores()), _held(stores(), metrics=metrics)
    index = index_calendar(week)
    version = a.put("vejen", index, _upload(week))
    assert b.versions("vejen") == []
    _same(b.get("vejen", version), index)
    assert b.versions("vejen") == [version]
    assert metrics.held_rebuilds._value.get() == 1
    b.get("vejen", version)  # held now: no second rebuild
    assert metrics.held_rebuilds._value.get() == 1


def test_updates_through_either_process_chain_and_a_stale_base_is_refused(
    stores: Callable[[], SqliteJobStore], week: Instance
) -> None:
    processes = [_held(stores()), _held(stores())]
    rng = random.Random(3)
    instance = week
    version = processes[0].put("vejen", index_calendar(week), _upload(week))
    for serial in range(6):
        writer, other = processes[serial % 2], processes[(serial + 1) % 2]
        delta = random_delta(instance, rng, serial)
        new = writer.update(
            "vejen", version, lambda base, d=delta: base.apply(d), _update_payload(instance, delta)
        )
        instance = _applied(instance, delta)
        # The other process held the base (it wrote or read it): the store names the winner.
        with pytest.raises(VersionNotHeldError) as stale:
            other.update("vejen", version, lambda base: base, b"never written")
        assert stale.value.update and stale.value.current == new
        version = new
        _same(other.get("vejen", version), writer.get("vejen", version))
        assert other.get("vejen", version).instance == instance
    # A restarted process rebuilds the current version, and the one before it (still kept).
    restarted = _held(stores())
    _same(restarted.get("vejen", version), index_calendar(instance))
    before = processes[0].versions("vejen")[-2]
    _same(restarted.get("vejen", before), processes[0].get("vejen", before))


def test_versions_older_than_the_latest_kept_are_not_held_anywhere(
    stores: Callable[[], SqliteJobStore], week: Instance
) -> None:
    writer = _held(stores(), versions_kept=2)
    rng = random.Random(9)
    instance = week
    versions = [writer.put("vejen", index_calendar(week), _upload(week))]
    for serial in range(3):
        delta = random_delta(instance, rng, serial)
        versions.append(
            writer.update(
                "vejen",
                versions[-1],
                lambda base, d=delta: base.apply(d),
                _update_payload(instance, delta),
            )
        )
        instance = _applied(instance, delta)
    metrics = Metrics()
    other = _held(stores(), versions_kept=2, metrics=metrics)
    for _ in range(3):  # refused each time, never rebuilt (the store keeps it for newer ones)
        with pytest.raises(VersionNotHeldError) as caught:
            other.get("vejen", versions[0])
        assert caught.value.current == versions[-1]
    assert metrics.held_rebuilds._value.get() == 0
    with pytest.raises(VersionNotHeldError):
        writer.get("vejen", versions[0])


class _Relinked(SqliteJobStore):
    """A store whose "updates after the version you hold" skip one (as a calendar deleted and
    uploaded again meanwhile, or a torn read, would give)."""

    def calendar_chain(
        self, calendar_id: str, version: int, held: int | None, *, keep: int
    ) -> CalendarChain:
        chain = super().calendar_chain(calendar_id, version, held, keep=keep)
        if held is None:
            return chain
        return CalendarChain(chain.current, chain.rows[1:])


def test_updates_that_do_not_chain_from_the_version_held_are_not_applied_to_it(
    stores: Callable[[], SqliteJobStore], week: Instance, tmp_path: Path
) -> None:
    writer = _held(stores())
    reader = _held(_Relinked(tmp_path / "store.db"))
    rng = random.Random(11)
    instance = week
    version = writer.put("vejen", index_calendar(week), _upload(week))
    reader.get("vejen", version)
    for serial in range(2):
        delta = random_delta(instance, rng, serial)
        version = writer.update(
            "vejen", version, lambda base, d=delta: base.apply(d), _update_payload(instance, delta)
        )
        instance = _applied(instance, delta)
    # The reader holds the upload; the rows after it do not start there: from the full copy.
    _same(reader.get("vejen", version), writer.get("vejen", version))


class _NoSnapshots(SqliteJobStore):
    def calendar_snapshot(self, calendar_id: str, version: int, payload: bytes) -> bool:
        raise StoreError("the store is unreachable")


def test_an_update_written_is_answered_even_if_its_snapshot_fails(
    stores: Callable[[], SqliteJobStore], week: Instance, tmp_path: Path
) -> None:
    store = _NoSnapshots(tmp_path / "store.db")
    held = _held(store, snapshot_every=1)
    version = held.put("vejen", index_calendar(week), _upload(week))
    delta = random_delta(week, random.Random(1), 0)
    new = held.update(
        "vejen", version, lambda base: base.apply(delta), _update_payload(week, delta)
    )
    assert held.versions("vejen") == [version, new]
    _same(_held(stores()).get("vejen", new), held.get("vejen", new))  # from the update
    store.close()


def test_a_snapshot_every_few_updates_keeps_rebuilds_short(
    stores: Callable[[], SqliteJobStore], week: Instance
) -> None:
    journal = stores()
    held = _held(journal, snapshot_every=2, versions_kept=2)
    rng = random.Random(5)
    instance = week
    version = held.put("vejen", index_calendar(week), _upload(week))
    for serial in range(5):
        delta = random_delta(instance, rng, serial)
        version = held.update(
            "vejen", version, lambda base, d=delta: base.apply(d), _update_payload(instance, delta)
        )
        instance = _applied(instance, delta)
    chain = journal.calendar_chain("vejen", version, None, keep=2)
    assert chain.rows[0].full and len(chain.rows) <= 2  # a snapshot, then at most one update
    _same(_held(stores()).get("vejen", version), index_calendar(instance))


def test_unknown_calendars_and_versions_are_errors_naming_the_current_version(
    stores: Callable[[], SqliteJobStore], week: Instance
) -> None:
    a, b = _held(stores()), _held(stores())
    version = a.put("vejen", index_calendar(week), _upload(week))
    with pytest.raises(CalendarNotFoundError):
        b.get("other", version)
    with pytest.raises(VersionNotHeldError) as caught:
        b.get("vejen", version + 1)
    assert caught.value.current == version and not caught.value.update
    with pytest.raises(CalendarNotFoundError):
        b.update("other", version, lambda base: base, b"x")
    with pytest.raises(ValueError, match="payload"):
        b.put("vejen", index_calendar(week))


def test_calendars_unchanged_past_the_retention_are_purged(
    stores: Callable[[], SqliteJobStore], week: Instance
) -> None:
    now = [1_000_000.0]
    held = _held(stores(), retention_s=3600, clock=lambda: now[0])
    old = held.put("old", index_calendar(week), _upload(week))
    now[0] += 7200
    held.put("new", index_calendar(week), _upload(week))  # a write purges (at most once a minute)
    restarted = _held(stores())
    with pytest.raises(CalendarNotFoundError):
        restarted.get("old", old)
    assert restarted.get("new", held.versions("new")[0]) is not None


# --------------------------------------------------------------------------- over gRPC


@pytest.fixture(params=["sqlite", "postgres"])
def servers(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., tuple[RunningServer, Any]]]:
    """Servers on one store: an SQLite file (as `scheduler serve --processes N` runs them on
    one host) or a PostgreSQL database (servers on several hosts)."""
    target = (
        str(tmp_path / "store.db")
        if request.param == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    with server_starter(store=target) as start:
        yield start


def _propose(stub: Any, calendar_id: str, version: int, referral_id: str) -> Any:
    return stub.ProposeSlots(
        pb.ProposeSlotsRequest(
            calendar=pb.CalendarRef(calendar_id=calendar_id, version=version),
            referral_id=referral_id,
            k=5,
        ),
        timeout=30,
    )


def test_servers_on_one_store_answer_for_each_others_calendars(
    servers: Any, week: Instance
) -> None:
    (first, one), (_, two) = servers(), servers()
    put = one.PutCalendar(
        pb.PutCalendarRequest(calendar_id="vejen", instance=instance_to_proto(week)), timeout=30
    )
    referral = week.referrals[0].id
    assert _propose(two, "vejen", put.version, referral) == _propose(
        one, "vejen", put.version, referral
    )
    booking = instance_to_proto(week).bookings[0]
    update = pb.UpdateCalendarRequest(
        calendar_id="vejen", base_version=put.version, bookings_removed=[booking.id]
    )
    version = two.UpdateCalendar(update, timeout=30).version
    with pytest.raises(grpc.RpcError) as stale:  # the first server held the base too
        one.UpdateCalendar(update, timeout=30)
    assert stale.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert str(version) in (stale.value.details() or "")
    answer = _propose(one, "vejen", version, referral)
    # Restarted: the calendar is still there.
    first.stop(0).wait()
    _, three = servers()
    assert _propose(three, "vejen", version, referral) == answer


class _Unreachable(SqliteJobStore):
    """A store whose calendar writes fail as a lost database connection would."""

    def calendar_put(self, calendar_id: str, payload: bytes, *, now: float, keep: int) -> int:
        raise StoreError("the store is unreachable")


def test_an_unreachable_store_is_unavailable_not_internal(tmp_path: Path, week: Instance) -> None:
    store = _Unreachable(tmp_path / "store.db")
    running = start_server(port=0, job_store=store)
    try:
        with grpc.insecure_channel(running.address) as ch:
            stub = scheduler_pb2_grpc.SchedulerStub(ch)
            with pytest.raises(grpc.RpcError) as caught:
                stub.PutCalendar(
                    pb.PutCalendarRequest(instance=instance_to_proto(week)), timeout=30
                )
            assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
            assert "unreachable" not in (caught.value.details() or "")
    finally:
        running.stop(0).wait()
        store.close()


def test_names_addresses_and_absence_reasons_are_neither_held_nor_stored(
    tmp_path: Path, week: Instance
) -> None:
    msg = instance_to_proto(week)
    msg.sites[0].address = "Vestergade 12"
    msg.therapists[0].name = "Karen Jensen"
    msg.therapists[0].absences.add(reason="sygemeldt").start.CopyFrom(
        msg.therapists[0].roster[0].date
    )
    msg.therapists[0].absences[0].end.CopyFrom(msg.therapists[0].roster[0].date)
    running = start_server(port=0, store=str(tmp_path / "store.db"))
    try:
        with grpc.insecure_channel(running.address) as ch:
            stub = scheduler_pb2_grpc.SchedulerStub(ch)
            put = stub.PutCalendar(pb.PutCalendarRequest(calendar_id="c", instance=msg), timeout=30)
            therapist = pb.Therapist()
            therapist.CopyFrom(msg.therapists[1])
            therapist.name = "Ole Hansen"
            version = stub.UpdateCalendar(
                pb.UpdateCalendarRequest(
                    calendar_id="c", base_version=put.version, therapists=[therapist]
                ),
                timeout=30,
            ).version
            held = running.service.held.get("c", version)
            assert {t.name for t in held.instance.therapists} == {""}
            assert held.instance.sites[0].address == ""
            assert held.instance.therapists[0].absences[0].reason == ""
            assert _propose(stub, "c", version, week.referrals[0].id).proposals
    finally:
        running.stop(0).wait()
    store = SqliteJobStore(tmp_path / "store.db")
    chain = store.calendar_chain("c", version, None, keep=4)
    store.close()
    stored = b"".join(row.payload for row in chain.rows)
    assert len(chain.rows) == 2
    for text in ("Vestergade", "Karen", "sygemeldt", "Ole"):
        assert text.encode() not in stored


def test_a_write_still_waiting_when_its_deadline_passes_is_not_written(
    tmp_path: Path, week: Instance
) -> None:
    import time

    running = start_server(port=0, store=str(tmp_path / "store.db"))
    try:
        with grpc.insecure_channel(running.address) as ch:
            stub = scheduler_pb2_grpc.SchedulerStub(ch)
            put = stub.PutCalendar(
                pb.PutCalendarRequest(calendar_id="c", instance=instance_to_proto(week)),
                timeout=30,
            )
            removed = instance_to_proto(week).bookings[0].id
            update = pb.UpdateCalendarRequest(
                calendar_id="c", base_version=put.version, bookings_removed=[removed]
            )
            held = running.service.held
            replace = pb.PutCalendarRequest(calendar_id="c", instance=instance_to_proto(week))
            known = [put.version]
            for call in (
                lambda: stub.UpdateCalendar(update, timeout=1),
                lambda: stub.PutCalendar(replace, timeout=1),  # validated before it waits
            ):
                with held._locked("update", "c"):  # another write of the calendar, slow
                    with pytest.raises(grpc.RpcError) as caught:
                        call()
                    assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
                    # Held well past the deadline: at the deadline itself the outcome is open
                    # (the server's deadline is the client's plus the request's transit).
                    time.sleep(2)
                # A write after it, on the upload: it finds nothing written in between (the
                # late call, whether before or after it, writes nothing).
                known.append(stub.UpdateCalendar(update, timeout=30).version)
                assert held.versions("c")[-2:] == known[-2:]
                put = stub.PutCalendar(replace, timeout=30)  # the next round's base
                known.append(put.version)
                update.base_version = put.version
            assert held.versions("c") == known[-4:]
            journal = held.journal
            assert journal is not None
            assert journal.calendar_chain("c", put.version, None, keep=4).current == put.version
    finally:
        running.stop(0).wait()
