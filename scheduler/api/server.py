"""The gRPC server: the scheduler service, health checking, reflection, limits, TLS, tokens,
metrics, drain and shutdown, logs.

:func:`start_server` builds and starts a server (tests use it on port 0); :func:`serve` runs one
until SIGTERM or SIGINT. Logs are JSON lines on stderr with ids and counts only: never a name,
an address or a location, and every line bounded (:data:`MAX_LOG_LINE`).

Threads: the pool has :data:`RESERVED_WORKERS` more threads than scheduler calls may run at once
(:class:`~scheduler.api.guard.Guard` refuses the rest before reading them), so health checks and
refusals always find a thread, however busy the solves are.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import logging
import logging.handlers
import os
import queue
import signal
import sys
import threading
import time
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import grpc
from google.longrunning import operations_pb2_grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from scheduler import __version__
from scheduler.api.guard import Guard
from scheduler.api.held_calendars import (
    DEFAULT_CALENDAR_RETENTION_S,
    DEFAULT_MAX_CALENDARS,
    DEFAULT_VERSIONS_KEPT,
    HeldCalendars,
)
from scheduler.api.metrics import Metrics
from scheduler.api.operations import OPERATIONS_SERVICE_NAME, OperationsService
from scheduler.api.service import SchedulerService, SolveFn, StoredCalendars
from scheduler.jobs.runner import DEFAULT_LEASE_S, DEFAULT_RETENTION_S, JobRunner
from scheduler.jobs.store import JobStore, open_store
from scheduler.planning.solve import solve
from scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc

__all__ = [
    "DEFAULT_DRAIN_S",
    "DEFAULT_GRACE_S",
    "MAX_LOG_LINE",
    "MAX_MESSAGE_BYTES",
    "RESERVED_WORKERS",
    "SERVICE_NAME",
    "TOKENS_ENV",
    "JsonFormatter",
    "RunningServer",
    "ServerConfig",
    "TlsConfig",
    "configure_logging",
    "exit_now",
    "flush_logging",
    "read_tokens",
    "serve",
    "settle_heap",
    "start_server",
]

SERVICE_NAME: str = scheduler_pb2.DESCRIPTOR.services_by_name["Scheduler"].full_name
"""``scheduler.v1.Scheduler``."""

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""Largest request and response (64 MiB): a København-size instance is about 0.7 MiB."""

DEFAULT_GRACE_S = 10.0
"""Seconds calls in flight get to finish on shutdown before they are cancelled."""
DEFAULT_DRAIN_S = 5.0
"""Seconds health reports NOT_SERVING, still serving, before the server stops accepting calls."""
RESERVED_WORKERS = 4
"""Threads beyond `max_concurrent_calls`: for health checks and refusals."""
MAX_LOG_LINE = 4096
"""Longest log line (characters); longer values are cut first, then the line."""
_MAX_LOG_VALUE = 256
TOKENS_ENV = "SCHEDULER_API_TOKENS"
"""Environment variable with accepted bearer tokens, separated by commas or whitespace."""

log = logging.getLogger("scheduler.api.server")

_STANDARD = set(vars(logging.makeLogRecord({})))


@dataclass(frozen=True)
class TlsConfig:
    """PEM files: the server's certificate chain and key; with `client_ca`, clients must show
    a certificate signed by it (mutual TLS)."""

    cert: Path
    key: Path
    client_ca: Path | None = None

    def credentials(self) -> grpc.ServerCredentials:
        """Server credentials from the files."""
        ca = self.client_ca.read_bytes() if self.client_ca is not None else None
        return grpc.ssl_server_credentials(
            [(self.key.read_bytes(), self.cert.read_bytes())],
            root_certificates=ca,
            require_client_auth=ca is not None,
        )


@dataclass(frozen=True)
class ServerConfig:
    """How a server listens and what it allows."""

    host: str = "127.0.0.1"
    port: int = 50051
    max_concurrent_solves: int = 1
    max_concurrent_calls: int = 8
    """Scheduler calls running at once (solves included); more get RESOURCE_EXHAUSTED."""
    tls: TlsConfig | None = None
    tokens: tuple[str, ...] = ()
    """Accepted bearer tokens; empty: no authentication."""
    reflection: bool = True
    metrics_port: int | None = None
    """Serve Prometheus ``/metrics`` on this port (on `metrics_host`); None: not served."""
    metrics_host: str = "127.0.0.1"
    drain_s: float = DEFAULT_DRAIN_S
    grace_s: float = DEFAULT_GRACE_S
    solve_fn: SolveFn = field(default=solve)
    store: str | None = None
    """The job store: a SQLite file path or a PostgreSQL URL (see
    :func:`scheduler.jobs.store.open_store`); None: no SubmitOptimize, SubmitSimulate or
    Operations, and held calendars in this process's memory only."""
    job_slots: int = 1
    """Jobs of the store run at once by this server."""
    lease_s: float = DEFAULT_LEASE_S
    retention_s: float = DEFAULT_RETENTION_S
    """Finished jobs are deleted this long after they finished."""
    calendar_retention_s: float = DEFAULT_CALENDAR_RETENTION_S
    """Held calendars are deleted from the store this long after their last upload or
    update."""
    held_calendars: int = DEFAULT_MAX_CALENDARS
    """Calendars held for ProposeSlots by reference; the least recently used is evicted
    beyond it (:mod:`scheduler.api.held_calendars`)."""
    calendar_versions: int = DEFAULT_VERSIONS_KEPT
    """Versions kept per held calendar."""
    reuse_port: bool = False
    """Let other processes listen on the same port (SO_REUSEPORT; the kernel spreads
    connections over them): for ``scheduler serve --processes N``, whose processes share one
    store."""


def read_tokens(path: Path | None, environ: dict[str, str] | None = None) -> tuple[str, ...]:
    """Bearer tokens from `path` (one a line, ``#`` comments) and the :data:`TOKENS_ENV`
    variable. Raises ValueError for a token shorter than 16 characters."""
    env = os.environ if environ is None else environ
    found: list[str] = []
    if path is not None:
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                found.append(line)
    found += env.get(TOKENS_ENV, "").replace(",", " ").split()
    if any(len(t) < 16 for t in found):
        raise ValueError("bearer tokens must be at least 16 characters")
    return tuple(found)


def _bounded(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _MAX_LOG_VALUE:
        return value[: _MAX_LOG_VALUE - 1] + "…"
    return value


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event, and the record's `fields`; each
    text value at most 256 characters and the line at most :data:`MAX_LOG_LINE`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        entry.update(
            {k: v for k, v in vars(record).items() if k not in _STANDARD and k != "fields"}
        )
        entry = {_bounded(str(k)): _bounded(v) for k, v in entry.items()}
        line = json.dumps(entry, ensure_ascii=False, default=lambda v: _bounded(str(v)))
        if len(line) > MAX_LOG_LINE:
            line = json.dumps(
                {k: entry[k] for k in ("ts", "level", "logger", "event")} | {"truncated": True}
            )
        return line


class _Enqueue(logging.handlers.QueueHandler):
    """Hands a record to the writer thread as it is: the JSON line is made there, from the
    record's `fields` (every log call passes plain values)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # The JSON line carries no traceback (it could quote input data): the exception object
        # stays with its thread.
        record.exc_info = None
        return record


LOG_BATCH_S = 0.05
"""Under load the writer thread wakes at most this often: lines queued meanwhile are written
together, in one write. Woken for every line (``QueueListener``), it cost the server more CPU
per call with 10 clients calling ProposeSlots by reference than making the line (about 35 us):
GIL hand-overs with the gRPC threads and a write per line. Measured once with the handler cut
out (``scripts/bench_grpc.py``'s load, 2 December): 0.96-1.07 ms of server CPU per call with a
writer woken per line, 0.62-0.68 ms with no log line at all, 0.66-0.82 ms batched. A process
killed outright (SIGKILL) loses at most this much of its last lines; every normal end, and
``exit_now``, writes them first (:func:`flush_logging`)."""

_STOP = logging.makeLogRecord({"msg": "stop"})
"""Put after the last line to write: the writer thread ends there."""


class _Writer:
    """One thread that writes the queued log records through `handler`'s formatter to its
    stream, in order. Idle, it waits for a line; once one came, it waits :data:`LOG_BATCH_S`
    more (less once stopping) and writes everything queued by then in one write.

    A line that cannot be made, or written, is dropped and counted: a fixed line says how many
    (never the logging module's own report, which quotes the record's message and arguments)."""

    def __init__(
        self, lines: queue.SimpleQueue[logging.LogRecord], handler: logging.StreamHandler[Any]
    ) -> None:
        self._lines = lines
        self.handler = handler
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        lines = self._lines
        while True:
            batch = [lines.get()]
            self._stopping.wait(LOG_BATCH_S)
            batch += self._queued()
            self._write(batch)
            if _STOP in batch:
                return

    def _queued(self) -> list[logging.LogRecord]:
        out = []
        with contextlib.suppress(queue.Empty):
            while True:
                out.append(self._lines.get_nowait())
        return out

    def _write(self, batch: list[logging.LogRecord]) -> None:
        """The batch's lines (the stop marker left out) in one write."""
        handler = self.handler
        out = []
        dropped = 0
        for record in batch:
            if record is _STOP:
                continue
            try:
                out.append(handler.format(record) + "\n")
            except Exception:
                dropped += 1
        if out and not self._put("".join(out)):
            # One line may be what failed: the others still go, one at a time.
            dropped += sum(1 for line in out if not self._put(line))
        if dropped:
            self._put(_dropped_line(dropped))

    def _put(self, text: str) -> bool:
        try:
            self.handler.stream.write(text)
            self.handler.flush()
        except Exception:
            return False
        return True

    def stop(self) -> None:
        """Write what is queued, then end the thread (lines queued while it ended are written
        here)."""
        self._stopping.set()
        self._lines.put(_STOP)
        self._thread.join()
        self.drain()

    def drain(self) -> None:
        """Write, from the calling thread, the lines queued for a thread that has ended."""
        self._write(self._queued())


class _JsonStream(logging.StreamHandler):  # type: ignore[type-arg]
    """The JSON lines' stream. A line that cannot be made or written is dropped with a fixed
    line saying so: the logging module's own report would quote the record's message and
    arguments, which may hold what the JSON line leaves out."""

    def handleError(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.stream.write(_dropped_line(1))
            self.flush()


def _dropped_line(count: int) -> str:
    entry = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "level": "error",
        "logger": "scheduler.api.server",
        "event": "log lines dropped",
        "count": count,
    }
    return json.dumps(entry) + "\n"


_writer: _Writer | None = None


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stderr for the ``scheduler`` loggers, written by one thread of their own: a
    call only queues its line (10 calls at once otherwise queue for the stream's lock and spend
    a third of their time there), and the thread writes them in batches (:data:`LOG_BATCH_S`).
    :func:`flush_logging` writes out what is queued."""
    global _writer
    flush_logging()
    # The JSON line has none of the caller's file, line, thread or process: skip gathering
    # them for every record (the logging HOWTO's "Optimization"; a record per call otherwise
    # walks the stack for its caller). Process-wide: other handlers in this process see no
    # caller either (the server's only handler is this one).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    stream = _JsonStream(sys.stderr)
    stream.setFormatter(JsonFormatter())
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    _writer = _Writer(lines, stream)
    _writer.start()
    root = logging.getLogger("scheduler")
    root.handlers[:] = [_Enqueue(lines)]
    root.setLevel(level)
    root.propagate = False
    atexit.register(flush_logging)


def flush_logging() -> None:
    """Write every queued log line and stop the writer thread (a no-op when none runs); lines
    logged after it are written at once, by the calling thread."""
    global _writer
    writer, _writer = _writer, None
    if writer is not None:
        writer.stop()
        root = logging.getLogger("scheduler")
        root.handlers[:] = [writer.handler if isinstance(h, _Enqueue) else h for h in root.handlers]
        writer.drain()  # what was queued while the handlers changed


@dataclass
class RunningServer:
    """A started server with its parts."""

    server: grpc.Server
    port: int
    service: SchedulerService
    health: health.HealthServicer
    guard: Guard
    metrics: Metrics
    metrics_port: int | None = None
    runner: JobRunner | None = None
    """Runs the job store's jobs (SubmitOptimize, SubmitSimulate); None without a store."""
    store: JobStore | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self, grace: float = DEFAULT_GRACE_S, drain: float = 0.0) -> threading.Event:
        """Graceful shutdown: health reports NOT_SERVING while the server still serves for
        `drain` seconds (load balancers move away), then new calls are refused, running solves
        are stopped (they answer with their best plan so far) and calls in flight get `grace`
        seconds before they are cancelled. Blocks for the drain; returns an event set when the
        server has stopped."""
        self.health.enter_graceful_shutdown()
        log.info("draining", extra={"fields": {"drain_s": drain, "grace_s": grace}})
        if drain > 0:
            time.sleep(drain)
        done: threading.Event = self.server.stop(grace)
        stopped_solves = self.service.stop_all()
        jobs = len(self.runner.running) if self.runner is not None else 0
        log.info(
            "shutting down",
            extra={"fields": {"grace_s": grace, "solves": stopped_solves, "jobs": jobs}},
        )
        if self.service.operations is not None:
            self.service.operations.stop()
        if self.runner is not None:
            # Running jobs are stopped and given back to the queue, for a server to run again.
            self.runner.stop(timeout=grace)
        if self.store is not None:
            # Closed once the calls in flight have ended: a call still within its grace may
            # still read or write a held calendar.
            store = self.store

            def close_when_stopped() -> None:
                done.wait()
                store.close()

            threading.Thread(target=close_when_stopped, name="store-close", daemon=True).start()
        self.metrics.close()
        return done


def start_server(
    config: ServerConfig | None = None, *, job_store: JobStore | None = None, **overrides: Any
) -> RunningServer:
    """Build and start a server (`config`, with keyword `overrides` of its fields; port 0: any
    free port, see `RunningServer.port`).

    With a job store (an open `job_store`, or ``config.store`` to open), the server also serves
    SubmitOptimize and google.longrunning.Operations and runs the store's jobs,
    ``config.job_slots`` at a time; a store it opened it closes when it stops."""
    config = config or ServerConfig()
    if overrides:
        config = ServerConfig(**{**config.__dict__, **overrides})
    owned: JobStore | None = None
    store = job_store
    if store is None and config.store is not None:
        store = owned = open_store(config.store)
    metrics = Metrics()
    guard = Guard(
        max_concurrent_calls=config.max_concurrent_calls,
        max_concurrent_solves=config.max_concurrent_solves,
        tokens=config.tokens,
        metrics=metrics,
    )
    options = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        # Several processes on one port only when asked (`scheduler serve --processes N`, whose
        # processes share calendars and jobs through the store): otherwise a second server
        # started by mistake on the same port is an error, not a silent split.
        ("grpc.so_reuseport", 1 if config.reuse_port else 0),
    ]
    server = grpc.server(
        futures.ThreadPoolExecutor(
            max_workers=config.max_concurrent_calls + RESERVED_WORKERS, thread_name_prefix="grpc"
        ),
        interceptors=[guard],
        options=options,
    )
    held = HeldCalendars(
        config.held_calendars,
        config.calendar_versions,
        metrics,
        journal=store,
        replay=StoredCalendars() if store is not None else None,
        retention_s=config.calendar_retention_s,
    )
    service = SchedulerService(solve_fn=config.solve_fn, metrics=metrics, held=held)
    scheduler_pb2_grpc.add_SchedulerServicer_to_server(service, server)  # type: ignore[no-untyped-call]
    runner: JobRunner | None = None
    names = [SERVICE_NAME]
    if store is not None:
        runner = JobRunner(
            store, slots=config.job_slots, lease_s=config.lease_s, retention_s=config.retention_s
        )
        service.operations = OperationsService(store, runner)
        operations_pb2_grpc.add_OperationsServicer_to_server(service.operations, server)
        names.append(OPERATIONS_SERVICE_NAME)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if config.reflection:
        reflection.enable_server_reflection(
            (*names, health.SERVICE_NAME, reflection.SERVICE_NAME), server
        )
    where = f"{config.host}:{config.port}"
    try:
        if config.tls is not None:
            bound = server.add_secure_port(where, config.tls.credentials())
        else:
            bound = server.add_insecure_port(where)
    except RuntimeError:  # grpcio raises where older versions returned 0
        bound = 0
    if bound == 0:
        if owned is not None:
            owned.close()
        raise OSError(
            f"cannot listen on {where}: the port is in use (another server?) or the address "
            "is not this machine's"
        )
    metrics_port = None
    if config.metrics_port is not None:
        metrics_port = metrics.serve(config.metrics_port, config.metrics_host)
    server.start()
    if runner is not None:
        runner.start()
    for name in ("", *names):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(
        server, bound, service, health_servicer, guard, metrics, metrics_port, runner, owned
    )


def settle_heap() -> None:
    """Move everything alive now (the loaded modules, the server) out of the garbage collector's
    sight: its full collections then scan only the calls' own objects. Without it a full
    collection, which stops the process mid-call whenever the heap has grown by a quarter, took
    0.2-0.3 s on a quiet machine with a København request in hand; with it 0.02-0.03 s."""
    gc.collect()
    gc.freeze()


def exit_now(code: int) -> NoReturn:
    """End the process at once with `code`, after flushing the log handlers and the standard
    streams: no interpreter teardown (freeing a large heap object by object took 0.4 s after a
    København solve, past the grace period). Only for the end of ``scheduler serve``."""
    flush_logging()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        # A closed or broken stream: nothing more can be said there.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def serve(config: ServerConfig, *, stopping: threading.Event | None = None) -> NoReturn:
    """Run the server until SIGTERM or SIGINT (or until `stopping` is set), then drain and shut
    down within the grace period, and end the process with status 0: the drain (`drain_s`),
    then calls in flight get at most `grace_s` more, then the process ends (:func:`exit_now`)
    even if a handler is still busy (its call has been cancelled)."""
    stopping = stopping if stopping is not None else threading.Event()
    signalled: list[float] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if not signalled:
            signalled.append(time.monotonic())
        log.info("signal", extra={"fields": {"signal": signal.Signals(signum).name}})
        stopping.set()

    # Handlers first: a signal that arrives while starting still shuts down gracefully.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        running = start_server(config)
    except BaseException:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        raise
    settle_heap()
    log.info(
        "serving",
        extra={
            "fields": {
                "version": __version__,
                "host": config.host,
                "port": running.port,
                "tls": config.tls is not None,
                "mutual_tls": config.tls is not None and config.tls.client_ca is not None,
                "auth": bool(config.tokens),
                "reflection": config.reflection,
                "metrics_port": running.metrics_port,
                "max_concurrent_solves": config.max_concurrent_solves,
                "max_concurrent_calls": config.max_concurrent_calls,
                "max_message_bytes": MAX_MESSAGE_BYTES,
                "drain_s": config.drain_s,
                "grace_s": config.grace_s,
                "job_store": None if running.store is None else type(running.store).__name__,
                "job_slots": config.job_slots if running.runner is not None else 0,
                "held_calendars": config.held_calendars,
                "calendar_versions": config.calendar_versions,
            }
        },
    )
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        since = signalled[0] if signalled else time.monotonic()
        done = running.stop(config.grace_s, config.drain_s)
        # The grace counts from the end of the drain, whatever the stop itself took.
        done.wait(max(0.0, since + config.drain_s + config.grace_s - time.monotonic()))
        left = running.guard.in_flight
        log.info(
            "stopped",
            extra={
                "fields": {
                    "abandoned_calls": left,
                    "after_signal_s": round(time.monotonic() - since, 3),
                }
            },
        )
    exit_now(0)
