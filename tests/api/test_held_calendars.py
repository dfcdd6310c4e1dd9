"""Held calendars over gRPC: PutCalendar, UpdateCalendar and ProposeSlots by reference, against
a real server in-process on port 0 through real stubs."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from scheduler.api.convert import instance_to_proto, referral_to_proto
from scheduler.api.held_calendars import CalendarNotFoundError, HeldCalendars, VersionNotHeldError
from scheduler.api.server import RunningServer
from scheduler.bench.generator import generate
from scheduler.domain import Booking, Instance
from scheduler.planning.calendar_index import CalendarIndex, index_calendar
from scheduler.v1 import scheduler_pb2 as pb
from tests.api.running import server_starter
from tests.planning.test_calendar_index import random_delta

TOKEN = "a-long-enough-test-token-0123456789"


@pytest.fixture(scope="module")
def week() -> Instance:
    return generate("vejen", seed=1, referrals=12)


@pytest.fixture
def servers() -> Iterator[Callable[..., tuple[RunningServer, Any]]]:
    """Start servers with a given configuration; all are stopped after the test."""
    with server_starter() as start:
        yield start


def _by_ref(stub: Any, calendar_id: str, version: int, referral_id: str, k: int = 5) -> Any:
    return stub.ProposeSlots(
        pb.ProposeSlotsRequest(
            calendar=pb.CalendarRef(calendar_id=calendar_id, version=version),
            referral_id=referral_id,
            k=k,
        ),
        timeout=10,
    )


def _inline(stub: Any, instance: Instance, referral_id: str, k: int = 5) -> Any:
    return stub.ProposeSlots(
        pb.ProposeSlotsRequest(instance=instance_to_proto(instance), referral_id=referral_id, k=k),
        timeout=10,
    )


def _error_info(error: grpc.RpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info
    raise AssertionError("no ErrorInfo")


def _update_request(
    calendar_id: str, base: int, removed: list[str], added: list[Booking]
) -> pb.UpdateCalendarRequest:
    return pb.UpdateCalendarRequest(
        calendar_id=calendar_id,
        base_version=base,
        bookings_removed=removed,
        bookings_added=[instance_to_proto_booking(b) for b in added],
    )


def instance_to_proto_booking(booking: Booking) -> pb.Booking:
    """A booking's message (through an instance of one booking: the converter is private)."""
    return instance_to_proto(_FRAME.model_copy(update={"bookings": [booking]})).bookings[0]


_FRAME = generate("vejen", seed=1, referrals=1)


def _meeting(instance: Instance, serial: int, day_offset: int = 0) -> Booking:
    therapist = instance.therapists[serial % len(instance.therapists)]
    entry = therapist.roster[day_offset]
    start = datetime.combine(entry.date, entry.start) + timedelta(minutes=15 * (serial % 8))
    return Booking(
        id=f"B-meeting-{serial}",
        therapist_id=therapist.id,
        start=start,
        end=start + timedelta(minutes=30),
    )


# --------------------------------------------------------------------------- the same answers


def test_propose_by_reference_answers_as_inline(servers: Any, week: Instance) -> None:
    _, stub = servers()
    put = stub.PutCalendar(
        pb.PutCalendarRequest(calendar_id="vejen-week", instance=instance_to_proto(week)),
        timeout=30,
    )
    assert put.calendar_id == "vejen-week" and put.version > 0
    for referral in week.referrals:
        assert _by_ref(stub, "vejen-week", put.version, referral.id, 7) == _inline(
            stub, week, referral.id, 7
        )
    # A new referral, not in the calendar, sent with the reference.
    new = week.referrals[0].model_copy(update={"id": "R-new-1"})
    by_ref = stub.ProposeSlots(
        pb.ProposeSlotsRequest(
            calendar=pb.CalendarRef(calendar_id="vejen-week", version=put.version),
            referral=referral_to_proto(new),
        ),
        timeout=10,
    )
    assert (
        by_ref.proposals
        and by_ref.proposals
        == _by_ref(stub, "vejen-week", put.version, week.referrals[0].id).proposals
    )


def test_random_updates_answer_as_inline_with_the_updated_instance(
    servers: Any, week: Instance
) -> None:
    _, stub = servers()
    put = stub.PutCalendar(pb.PutCalendarRequest(instance=instance_to_proto(week)), timeout=30)
    calendar_id, version = put.calendar_id, put.version
    assert calendar_id
    rng = random.Random(7)
    instance = week
    for serial in range(4):
        delta = random_delta(instance, rng, serial)
        request = _update_request(
            calendar_id, version, list(delta.bookings_removed), list(delta.bookings_added)
        )
        changed = delta.therapists[0]
        request.therapists.append(
            instance_to_proto(instance.model_copy(update={"therapists": [changed]})).therapists[0]
        )
        new_version = stub.UpdateCalendar(request, timeout=30).version
        assert new_version > version
        gone = set(delta.bookings_removed)
        instance = instance.model_copy(
            update={
                "bookings": [b for b in instance.bookings if b.id not in gone]
                + list(delta.bookings_added),
                "therapists": [changed if t.id == changed.id else t for t in instance.therapists],
            }
        )
        for referral in week.referrals:
            assert _by_ref(stub, calendar_id, new_version, referral.id) == _inline(
                stub, instance, referral.id
            )
        version = new_version


# --------------------------------------------------------------------------- errors


def test_unknown_calendar_is_not_found(servers: Any, week: Instance) -> None:
    _, stub = servers()
    with pytest.raises(grpc.RpcError) as caught:
        _by_ref(stub, "no-such-calendar", 1, week.referrals[0].id)
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert _error_info(caught.value).reason == "CALENDAR_NOT_FOUND"
    with pytest.raises(grpc.RpcError) as caught:
        stub.UpdateCalendar(_update_request("no-such-calendar", 1, [], []), timeout=10)
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


def test_an_empty_or_cpr_shaped_calendar_id_is_a_bad_request_never_echoed(
    servers: Any, week: Instance
) -> None:
    _, stub = servers()
    for calendar_id in ("", "0101901234", "x" * 65):
        for call in (
            lambda cid: _by_ref(stub, cid, 1, week.referrals[0].id),
            lambda cid: stub.UpdateCalendar(_update_request(cid, 1, [], []), timeout=10),
        ):
            with pytest.raises(grpc.RpcError) as caught:
                call(calendar_id)
            assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
            assert "0101901234" not in (caught.value.details() or "")


def test_stale_and_unknown_versions_name_the_current_one(servers: Any, week: Instance) -> None:
    _, stub = servers(calendar_versions=2)
    v1 = stub.PutCalendar(
        pb.PutCalendarRequest(calendar_id="c1", instance=instance_to_proto(week)), timeout=30
    ).version
    v2 = stub.UpdateCalendar(_update_request("c1", v1, [], [_meeting(week, 1)]), timeout=30)
    v2v = v2.version
    # An update on v1 (no longer current) is refused, naming v2; nothing changes.
    with pytest.raises(grpc.RpcError) as caught:
        stub.UpdateCalendar(_update_request("c1", v1, [], [_meeting(week, 2)]), timeout=30)
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    info = _error_info(caught.value)
    assert info.metadata["current_version"] == str(v2v)
    assert str(v2v) in (caught.value.details() or "")
    # v1 is still kept (2 versions): proposals on it answer; a third version drops it.
    _by_ref(stub, "c1", v1, week.referrals[0].id)
    v3 = stub.UpdateCalendar(_update_request("c1", v2v, [], [_meeting(week, 3)]), timeout=30)
    for version in (v1, 12345):
        with pytest.raises(grpc.RpcError) as caught:
            _by_ref(stub, "c1", version, week.referrals[0].id)
        assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        assert _error_info(caught.value).metadata["current_version"] == str(v3.version)


def test_invalid_uploads_and_updates_are_bad_requests_and_change_nothing(
    servers: Any, week: Instance
) -> None:
    running, stub = servers()
    msg = instance_to_proto(week)
    msg.bookings[0].therapist_id = "T-nobody"
    with pytest.raises(grpc.RpcError) as caught:
        stub.PutCalendar(pb.PutCalendarRequest(calendar_id="c1", instance=msg), timeout=30)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "unknown_therapist" in (caught.value.details() or "")
    assert len(running.service.held) == 0
    with pytest.raises(grpc.RpcError) as caught:
        stub.PutCalendar(pb.PutCalendarRequest(calendar_id="0101901234"), timeout=30)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT

    v1 = stub.PutCalendar(
        pb.PutCalendarRequest(calendar_id="c1", instance=instance_to_proto(week)), timeout=30
    ).version
    nobody = _meeting(week, 1).model_copy(update={"therapist_id": "T-nobody"})
    for request in (
        _update_request("c1", v1, ["B-not-held"], []),
        _update_request("c1", v1, [], [nobody]),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            stub.UpdateCalendar(request, timeout=30)
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert running.service.held.versions("c1") == [v1]


def test_least_recently_used_calendars_are_evicted(servers: Any, week: Instance) -> None:
    running, stub = servers(held_calendars=2)
    msg = instance_to_proto(week)
    versions = {
        name: stub.PutCalendar(
            pb.PutCalendarRequest(calendar_id=name, instance=msg), timeout=30
        ).version
        for name in ("a", "b")
    }
    _by_ref(stub, "a", versions["a"], week.referrals[0].id)  # "a" used: "b" is the oldest
    stub.PutCalendar(pb.PutCalendarRequest(calendar_id="c", instance=msg), timeout=30)
    with pytest.raises(grpc.RpcError) as caught:
        _by_ref(stub, "b", versions["b"], week.referrals[0].id)
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    _by_ref(stub, "a", versions["a"], week.referrals[0].id)
    assert len(running.service.held) == 2
    assert running.metrics.held_calendars._value.get() == 2
    assert running.metrics.held_evictions._value.get() == 1


# --------------------------------------------------------------------------- concurrency


def test_concurrent_updates_are_serialised_and_none_is_lost(servers: Any, week: Instance) -> None:
    running, stub = servers(max_concurrent_calls=8)
    version = stub.PutCalendar(
        pb.PutCalendarRequest(calendar_id="c1", instance=instance_to_proto(week)), timeout=30
    ).version
    current = [version]
    lock = threading.Lock()
    refused: list[int] = []
    failures: list[BaseException] = []

    def add(serial: int) -> None:
        try:
            while True:
                with lock:
                    base = current[0]
                try:
                    new = stub.UpdateCalendar(
                        _update_request("c1", base, [], [_meeting(week, serial)]), timeout=60
                    ).version
                except grpc.RpcError as error:
                    if error.code() is not grpc.StatusCode.FAILED_PRECONDITION:
                        raise
                    with lock:
                        refused.append(serial)
                        current[0] = max(
                            current[0], int(_error_info(error).metadata["current_version"])
                        )
                    continue
                with lock:
                    current[0] = max(current[0], new)
                return
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=add, args=(serial,)) for serial in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures
    versions = running.service.held.versions("c1")
    held = running.service.held.get("c1", versions[-1])
    assert {f"B-meeting-{serial}" for serial in range(6)} <= set(held.bookings)
    assert len(held.bookings) == len(week.bookings) + 6


def test_the_store_lets_one_of_two_updates_on_the_same_base_win(week: Instance) -> None:
    store = HeldCalendars(max_calendars=1, versions_kept=3)
    base = store.put("c1", index_calendar(week))
    inside = threading.Event()
    release = threading.Event()

    def slow(index: CalendarIndex) -> CalendarIndex:
        inside.set()
        release.wait(10)
        return index

    winner: list[int] = []
    first = threading.Thread(target=lambda: winner.append(store.update("c1", base, slow)))
    first.start()
    assert inside.wait(10)
    outcome: list[BaseException] = []

    def second() -> None:
        try:
            store.update("c1", base, lambda index: index)
        except VersionNotHeldError as exc:
            outcome.append(exc)

    waiting = threading.Thread(target=second)
    waiting.start()
    release.set()
    first.join(10)
    waiting.join(10)
    assert len(winner) == 1 and len(outcome) == 1
    assert isinstance(outcome[0], VersionNotHeldError)
    assert outcome[0].current == winner[0]
    assert store.versions("c1") == [base, winner[0]]


# --------------------------------------------------------------------------- auth


def test_the_calendar_methods_need_the_token(servers: Any, week: Instance) -> None:
    _, stub = servers(tokens=(TOKEN,))
    request = pb.PutCalendarRequest(calendar_id="c1", instance=instance_to_proto(week))
    with pytest.raises(grpc.RpcError) as caught:
        stub.PutCalendar(request, timeout=30)
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
    auth = (("authorization", f"Bearer {TOKEN}"),)
    version = stub.PutCalendar(request, timeout=30, metadata=auth).version
    for call in (
        lambda md: _by_ref_md(stub, version, week.referrals[0].id, md),
        lambda md: stub.UpdateCalendar(
            _update_request("c1", version, [], []), timeout=30, metadata=md
        ),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            call(())
        assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
        call(auth)


def _by_ref_md(stub: Any, version: int, referral_id: str, metadata: Any) -> Any:
    return stub.ProposeSlots(
        pb.ProposeSlotsRequest(
            calendar=pb.CalendarRef(calendar_id="c1", version=version), referral_id=referral_id
        ),
        timeout=10,
        metadata=metadata,
    )


def test_an_update_of_a_calendar_evicted_meanwhile_is_not_found(week: Instance) -> None:
    store = HeldCalendars(max_calendars=1, versions_kept=2)
    index = index_calendar(week)
    base = store.put("a", index)
    inside = threading.Event()
    release = threading.Event()

    def slow(held: CalendarIndex) -> CalendarIndex:
        inside.set()
        release.wait(10)
        return held

    outcome: list[BaseException] = []

    def update() -> None:
        try:
            store.update("a", base, slow)
        except CalendarNotFoundError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=update)
    worker.start()
    assert inside.wait(10)
    store.put("b", index)  # evicts "a" while its update runs
    release.set()
    worker.join(10)
    assert len(outcome) == 1
    assert store.versions("a") == [] and len(store) == 1
    with pytest.raises(CalendarNotFoundError):
        store.get("a", base)
