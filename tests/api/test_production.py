"""What a production client relies on, against real servers in-process on port 0.

Bounded error details, unparsable requests, no personal data echoed or logged, refusals before
the request is read, health when every worker is busy, honest statuses in the log, drain and
shutdown, TLS (a self-signed certificate made here) and bearer tokens, reflection off, metrics.
Timing checks use generous margins only; the precise numbers are measured by
``scripts/bench_service.py``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import queue
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google.longrunning import operations_pb2_grpc, operations_proto_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from scheduler.api.convert import instance_to_proto, options_to_proto
from scheduler.api.errors import MAX_DETAILS_BYTES, MAX_FIELD_VIOLATIONS
from scheduler.api.server import JsonFormatter, RunningServer, TlsConfig, start_server
from scheduler.bench.generator import generate
from scheduler.domain import Instance, Solution, SolveOptions
from scheduler.planning.budget import Budget
from scheduler.planning.solve import Progress, solve
from scheduler.v1 import scheduler_pb2 as pb
from scheduler.v1 import scheduler_pb2_grpc
from tests.api.running import wait_until

FAST = SolveOptions(time_limit_s=2.0, workers=1, seed=1)
CPR = "010190-1234"
TOKEN = "a-long-enough-test-token-0123456789"


@pytest.fixture(scope="module")
def small() -> Instance:
    return generate("vejen", seed=1, referrals=4)


@pytest.fixture(scope="module")
def hard() -> Instance:
    return generate("vejen", seed=1, referrals=300)


class _Held:
    """A solve function that waits at its start until released, then solves for real."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)
        self.budgets: list[Budget] = []

    def __call__(
        self,
        instance: Instance,
        options: SolveOptions | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        stop: threading.Event | None = None,
        budget: Budget | None = None,
    ) -> Solution:
        assert budget is not None
        self.budgets.append(budget)
        self.entered.release()
        while not self.release.is_set() and not budget.stop.is_set():
            time.sleep(0.01)
        return solve(instance, options, on_progress, budget=budget)


@pytest.fixture
def servers() -> Iterator[Callable[..., RunningServer]]:
    started: list[RunningServer] = []

    def start(**config: Any) -> RunningServer:
        running = start_server(port=0, **config)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop(0).wait()


def _request(instance: Instance, options: SolveOptions = FAST) -> pb.OptimizeRequest:
    return pb.OptimizeRequest(
        instance=instance_to_proto(instance), options=options_to_proto(options)
    )


def _lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    fmt = JsonFormatter()
    return [json.loads(fmt.format(r)) for r in caplog.records if r.name.startswith("scheduler")]


# --------------------------------------------------------------------------- errors


def test_many_violations_fit_the_trailer_with_the_total_in_error_info(
    servers: Callable[..., RunningServer], small: Instance
) -> None:
    running = servers()
    msg = instance_to_proto(small)
    for referral in msg.referrals:
        referral.ClearField("level")
    extra = msg.referrals[0]
    for i in range(400):
        copy = msg.referrals.add()
        copy.CopyFrom(extra)
        copy.id = f"x{i}"
        copy.received_date.month = 13
    with grpc.insecure_channel(running.address) as ch:
        stub = scheduler_pb2_grpc.SchedulerStub(ch)
        with pytest.raises(grpc.RpcError) as exc:
            stub.Check(pb.CheckRequest(instance=msg), timeout=30)
    assert exc.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(exc.value)  # type: ignore[arg-type]
    assert status is not None and status.ByteSize() <= MAX_DETAILS_BYTES
    bad, info = error_details_pb2.BadRequest(), error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(bad) and status.details[1].Unpack(info)
    assert 0 < len(bad.field_violations) <= MAX_FIELD_VIOLATIONS
    assert info.reason == "INVALID_REQUEST"
    assert int(info.metadata["field_violations"]) >= 800
    assert int(info.metadata["field_violations_shown"]) == len(bad.field_violations)


def test_garbage_bytes_are_invalid_argument_and_logged(
    servers: Callable[..., RunningServer], caplog: pytest.LogCaptureFixture
) -> None:
    running = servers()
    with grpc.insecure_channel(running.address) as ch:
        raw = ch.unary_unary("/scheduler.v1.Scheduler/Check")
        with caplog.at_level(logging.INFO), pytest.raises(grpc.RpcError) as exc:
            raw(b"\xff\xff\xff\xff not a protobuf", timeout=10)
    assert exc.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    logged = [x for x in _lines(caplog) if x["event"] == "rpc"]
    assert logged and logged[-1]["code"] == "INVALID_ARGUMENT" and logged[-1]["unparsable"]
    assert logged[-1]["request_id"]


# --------------------------------------------------------------------------- personal data


def test_cpr_shaped_or_huge_ids_are_never_echoed_or_logged(
    servers: Callable[..., RunningServer], small: Instance, caplog: pytest.LogCaptureFixture
) -> None:
    running = servers()
    huge = "r" * 100_000
    msg = instance_to_proto(small)
    msg.referrals[1].id = CPR
    assert msg.bookings
    booking = msg.bookings.add()
    booking.CopyFrom(msg.bookings[0])
    booking.id, booking.referral_id = "b-x", "120345-6789"
    with grpc.insecure_channel(running.address) as ch:
        stub = scheduler_pb2_grpc.SchedulerStub(ch)
        errors: list[grpc.RpcError] = []
        with caplog.at_level(logging.INFO):
            for request in (
                pb.ProposeSlotsRequest(instance=instance_to_proto(small), referral_id=CPR),
                pb.ProposeSlotsRequest(instance=instance_to_proto(small), referral_id=huge),
                pb.OptimizeRequest(instance=msg, options=options_to_proto(FAST)),
            ):
                method = stub.Optimize if isinstance(request, pb.OptimizeRequest) else None
                with pytest.raises(grpc.RpcError) as exc:
                    (method or stub.ProposeSlots)(request, timeout=30)
                errors.append(exc.value)
    for error in errors:
        assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
        status = rpc_status.from_call(error)  # type: ignore[arg-type]
        assert status is not None
        text = status.SerializeToString()
        assert b"010190" not in text and b"120345" not in text and b"r" * 100 not in text
    fields = {
        v.field
        for v in error_details_pb2.BadRequest.FromString(status.details[0].value).field_violations
    }
    assert any(f.endswith(".referral_id") and "bookings" in f for f in fields), fields
    lines = [JsonFormatter().format(r) for r in caplog.records]
    assert lines and all(len(line) <= 4096 for line in lines)
    assert not any("010190" in line or "120345" in line for line in lines)


# --------------------------------------------------------------------------- admission, health


def test_beyond_the_call_limit_the_request_is_refused_unread_and_health_still_answers(
    servers: Callable[..., RunningServer], small: Instance
) -> None:
    held = _Held()
    running = servers(solve_fn=held, max_concurrent_calls=2, max_concurrent_solves=2)
    with grpc.insecure_channel(running.address) as ch:
        stub = scheduler_pb2_grpc.SchedulerStub(ch)
        busy = [stub.Optimize.future(_request(small), timeout=60) for _ in range(2)]
        assert held.entered.acquire(timeout=10) and held.entered.acquire(timeout=10)
        # Every call slot is taken: garbage is refused before it is read (not INVALID_ARGUMENT).
        raw = ch.unary_unary("/scheduler.v1.Scheduler/Check")
        with pytest.raises(grpc.RpcError) as exc:
            raw(b"\xff\xff garbage", timeout=10)
        assert exc.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        status = rpc_status.from_call(exc.value)  # type: ignore[arg-type]
        assert status is not None
        assert any(d.Is(error_details_pb2.RetryInfo.DESCRIPTOR) for d in status.details)
        # Health checks have threads of their own.
        health = health_pb2_grpc.HealthStub(ch)
        for _ in range(10):
            answer = health.Check(health_pb2.HealthCheckRequest(), timeout=2)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
        held.release.set()
        assert all(len(f.result().solution.assignments) == 4 for f in busy)
        assert wait_until(lambda: running.guard.in_flight == 0, 5)


# --------------------------------------------------------------------------- honest logs


def test_deadline_and_cancel_are_logged_as_the_client_saw_them(
    servers: Callable[..., RunningServer], small: Instance, caplog: pytest.LogCaptureFixture
) -> None:
    held = _Held()
    running = servers(solve_fn=held, max_concurrent_solves=2)
    with caplog.at_level(logging.INFO), grpc.insecure_channel(running.address) as ch:
        stub = scheduler_pb2_grpc.SchedulerStub(ch)
        with pytest.raises(grpc.RpcError) as exc:
            stub.Optimize(_request(small), timeout=0.3)
        assert exc.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        # On a busy machine that call's budget may end while its request is still read: then
        # it never enters the solve. Either way it ends.
        assert wait_until(lambda: running.guard.in_flight == 0, 10)
        held.entered.acquire(timeout=0)
        stream = stub.OptimizeStream(_request(small), timeout=60)
        assert held.entered.acquire(timeout=10)
        stream.cancel()
        assert wait_until(lambda: running.guard.in_flight == 0, 10)
    codes = sorted(x["code"] for x in _lines(caplog) if x["event"] == "rpc")
    assert codes == ["CANCELLED", "DEADLINE_EXCEEDED"]


# --------------------------------------------------------------------------- shutdown


def test_drain_then_stop_cancels_solves_which_still_answer(
    servers: Callable[..., RunningServer], hard: Instance
) -> None:
    held = _Held()
    held.release.set()
    running = servers(solve_fn=held)
    with grpc.insecure_channel(running.address) as ch:
        stub = scheduler_pb2_grpc.SchedulerStub(ch)
        health = health_pb2_grpc.HealthStub(ch)
        future = stub.Optimize.future(
            _request(hard, SolveOptions(time_limit_s=60, workers=1)), timeout=60
        )
        assert held.entered.acquire(timeout=10)
        stopped: list[threading.Event] = []
        stopper = threading.Thread(target=lambda: stopped.append(running.stop(5, drain=1.0)))
        started = time.monotonic()
        stopper.start()
        # During the drain: NOT_SERVING, but calls are still served.
        assert wait_until(
            lambda: (
                health.Check(health_pb2.HealthCheckRequest(), timeout=2).status
                == health_pb2.HealthCheckResponse.NOT_SERVING
            ),
            0.9,
        )
        assert stub.Check(pb.CheckRequest(instance=instance_to_proto(hard)), timeout=5).ok
        answer = future.result(timeout=10)
        stopper.join(10)
        assert stopped and stopped[0].wait(10)
        assert time.monotonic() - started < 1.0 + 5.0
    assert answer.solution.stats.status == "STOPPED"
    assert len(answer.solution.assignments) == len(hard.referrals)


# --------------------------------------------------------------------------- TLS, tokens


def _self_signed(tmp: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / f"{name}.crt", tmp / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_tls_and_bearer_tokens_with_health_open_and_reflection_off(
    servers: Callable[..., RunningServer], small: Instance, tmp_path: Path
) -> None:
    cert, key = _self_signed(tmp_path, "server")
    running = servers(tls=TlsConfig(cert, key), tokens=(TOKEN,), reflection=False)
    creds = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
    target = f"localhost:{running.port}"
    with grpc.secure_channel(target, creds) as ch:
        stub = scheduler_pb2_grpc.SchedulerStub(ch)
        request = pb.CheckRequest(instance=instance_to_proto(small))
        answer = stub.Check(request, timeout=10, metadata=(("authorization", f"Bearer {TOKEN}"),))
        assert answer.ok
        for metadata in ((), (("authorization", "Bearer wrong-token-wrong-token"),)):
            with pytest.raises(grpc.RpcError) as exc:
                stub.Check(request, timeout=10, metadata=metadata)
            assert exc.value.code() is grpc.StatusCode.UNAUTHENTICATED
        health = health_pb2_grpc.HealthStub(ch)
        assert health.Check(health_pb2.HealthCheckRequest(), timeout=5).status == 1
        reflect = reflection_pb2_grpc.ServerReflectionStub(ch)
        with pytest.raises(grpc.RpcError) as exc:
            list(
                reflect.ServerReflectionInfo(
                    iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
                )
            )
        assert exc.value.code() is grpc.StatusCode.UNIMPLEMENTED
    # Plaintext to a TLS port never reaches the service.
    with grpc.insecure_channel(running.address) as plain, pytest.raises(grpc.RpcError) as exc:
        health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest(), timeout=3)
    assert exc.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def test_the_job_operations_need_the_token_too(
    servers: Callable[..., RunningServer], tmp_path: Path
) -> None:
    # The stored jobs hold whole plans: the Operations service is guarded like the scheduler.
    running = servers(tokens=(TOKEN,), store=str(tmp_path / "jobs.db"))
    with grpc.insecure_channel(running.address) as ch:
        operations = operations_pb2_grpc.OperationsStub(ch)
        request = operations_proto_pb2.ListOperationsRequest(name="operations")
        with pytest.raises(grpc.RpcError) as exc:
            operations.ListOperations(request, timeout=10)
        assert exc.value.code() is grpc.StatusCode.UNAUTHENTICATED
        answer = operations.ListOperations(
            request, timeout=10, metadata=(("authorization", f"Bearer {TOKEN}"),)
        )
        assert list(answer.operations) == []


def test_mutual_tls_requires_a_client_certificate(
    servers: Callable[..., RunningServer], tmp_path: Path
) -> None:
    cert, key = _self_signed(tmp_path, "server")
    client_cert, client_key = _self_signed(tmp_path, "client")
    running = servers(tls=TlsConfig(cert, key, client_ca=client_cert))
    target = f"localhost:{running.port}"
    good = grpc.ssl_channel_credentials(
        cert.read_bytes(), client_key.read_bytes(), client_cert.read_bytes()
    )
    with grpc.secure_channel(target, good) as ch:
        assert health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
    anonymous = grpc.ssl_channel_credentials(cert.read_bytes())
    with grpc.secure_channel(target, anonymous) as ch, pytest.raises(grpc.RpcError) as exc:
        health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=3)
    assert exc.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


# --------------------------------------------------------------------------- metrics


def test_metrics_count_calls_by_method_and_status_and_record_solves(
    servers: Callable[..., RunningServer], small: Instance
) -> None:
    running = servers(metrics_port=0)
    assert running.metrics_port
    with grpc.insecure_channel(running.address) as ch:
        stub = scheduler_pb2_grpc.SchedulerStub(ch)
        stub.Optimize(_request(small), timeout=30)
        with pytest.raises(grpc.RpcError):
            stub.Check(pb.CheckRequest(), timeout=10)
    url = f"http://127.0.0.1:{running.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    assert 'scheduler_rpc_total{code="OK",method="Optimize"} 1.0' in text
    assert 'scheduler_rpc_total{code="INVALID_ARGUMENT",method="Check"} 1.0' in text
    assert "scheduler_rpc_duration_seconds_bucket" in text
    assert "scheduler_solve_duration_seconds_count" in text
    assert "scheduler_solve_on_time_ratio_count 1.0" in text


def test_sigterm_drains_stops_the_solve_which_answers_and_exits_within_grace(
    hard: Instance,
) -> None:
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "scheduler", "serve", "--port", "0"]
    command += ["--drain", "0.5", "--grace", "3"]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env) as proc:
        try:
            assert proc.stderr is not None
            port = json.loads(proc.stderr.readline())["port"]
            with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
                stub = scheduler_pb2_grpc.SchedulerStub(ch)
                request = _request(hard, SolveOptions(time_limit_s=120, workers=1))
                stream = stub.OptimizeStream(request, timeout=60)
                first = next(stream)  # the greedy plan's progress: the solve is under way
                assert first.HasField("progress")
                proc.send_signal(signal.SIGTERM)
                sent = time.monotonic()
                events = list(stream)
                assert proc.wait(timeout=30) == 0
                took = time.monotonic() - sent
                # The process ends without tearing its heap down (os._exit), after flushing the
                # logs: the last line is there.
                logged = [json.loads(line) for line in proc.stderr.read().splitlines()]
        finally:
            if proc.poll() is None:
                proc.kill()
    assert logged[-1]["event"] == "stopped" and logged[-1]["abandoned_calls"] == 0
    assert events[-1].HasField("solution")
    assert events[-1].solution.stats.status == "STOPPED"
    assert len(events[-1].solution.assignments) == len(hard.referrals)
    assert took < 0.5 + 3 + 5  # drain + grace, and a generous margin for a busy machine


def test_a_port_in_use_is_a_clear_error_not_a_bug_report(tmp_path: Path) -> None:
    import subprocess
    import sys

    first = start_server(port=0)
    try:
        with pytest.raises(OSError, match="in use"):
            start_server(port=first.port, store=str(tmp_path / "jobs.db"))
        command = [sys.executable, "-m", "scheduler", "serve", "--port", str(first.port)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    finally:
        first.stop(0)
    assert done.returncode == 1
    assert f"cannot serve: cannot listen on 127.0.0.1:{first.port}: the port is in use" in (
        done.stderr
    )
    assert "this is a bug" not in done.stderr and "Traceback" not in done.stderr


def test_log_lines_are_written_by_their_own_thread_and_flushed_at_the_end(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A call only queues its line; the writer thread makes the JSON, and flush_logging (which
    # the server's exit runs) writes everything queued before the process ends.
    from scheduler.api.server import configure_logging, flush_logging

    logger = logging.getLogger("scheduler.test")
    root = logging.getLogger("scheduler")
    saved = (root.handlers[:], root.level, root.propagate)
    try:
        configure_logging()
        for i in range(200):
            logger.info("rpc", extra={"fields": {"request_id": f"r{i}", "code": "OK"}})
        try:
            raise ValueError("010101-1234")
        except ValueError:
            logger.exception("internal error", extra={"fields": {"request_id": "boom"}})
        flush_logging()
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finally:
        flush_logging()
        root.handlers[:], root.level, root.propagate = saved
    assert [line["request_id"] for line in lines] == [*(f"r{i}" for i in range(200)), "boom"]
    assert all(line["event"] in ("rpc", "internal error") for line in lines)
    assert "010101-1234" not in json.dumps(lines)  # no traceback, no exception text


def test_log_lines_queued_together_are_written_together() -> None:
    # Under load the writer thread wakes once per batch, not once per line: 200 lines queued in
    # a burst reach the stream in a few writes, every line whole and in order.
    from scheduler.api.server import _Writer

    class Counting(io.StringIO):
        writes = 0

        def write(self, text: str) -> int:
            self.writes += 1
            return super().write(text)

    stream = Counting()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    writer = _Writer(lines, handler)
    writer.start()
    for i in range(200):
        lines.put(logging.makeLogRecord({"msg": "rpc", "fields": {"request_id": f"r{i}"}}))
    writer.stop()
    written = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["request_id"] for line in written] == [f"r{i}" for i in range(200)]
    assert stream.writes <= 20


def test_a_log_line_that_cannot_be_made_or_written_is_dropped_and_counted_never_quoted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # One bad line must not take its batch with it, and what is reported says how many lines
    # were dropped, never what they held (the logging module's own report quotes the message
    # and its arguments).
    from scheduler.api.server import JsonFormatter, _JsonStream, _Writer

    class Refusing(io.StringIO):
        def write(self, text: str) -> int:
            if "refused" in text:
                raise OSError("no space left")
            return super().write(text)

    stream = Refusing()
    handler = _JsonStream(stream)
    handler.setFormatter(JsonFormatter())
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    writer = _Writer(lines, handler)
    writer.start()
    lines.put(logging.makeLogRecord({"msg": "rpc", "fields": {"request_id": "a"}}))
    lines.put(logging.makeLogRecord({"msg": "rpc", "fields": {"request_id": "refused"}}))
    lines.put(logging.makeLogRecord({"msg": "bad %s %s", "args": ("010101-1234",)}))
    lines.put(logging.makeLogRecord({"msg": "rpc", "fields": {"request_id": "b"}}))
    writer.stop()
    written = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line.get("request_id") for line in written if line["event"] == "rpc"] == ["a", "b"]
    assert [line["count"] for line in written if line["event"] == "log lines dropped"] == [2]
    assert "010101-1234" not in stream.getvalue() + capsys.readouterr().err


def test_log_lines_after_the_flush_are_still_written(capsys: pytest.CaptureFixture[str]) -> None:
    # After flush_logging (the server's exit) a line logged by a thread still running is
    # written at once instead of being queued for a writer that has ended.
    from scheduler.api.server import configure_logging, flush_logging

    logger = logging.getLogger("scheduler.test")
    root = logging.getLogger("scheduler")
    saved = (root.handlers[:], root.level, root.propagate)
    try:
        configure_logging()
        logger.info("rpc", extra={"fields": {"request_id": "before"}})
        flush_logging()
        logger.info("rpc", extra={"fields": {"request_id": "after"}})
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finally:
        flush_logging()
        root.handlers[:], root.level, root.propagate = saved
    assert [line["request_id"] for line in lines] == ["before", "after"]
