"""The gRPC server: the scheduler service, health checking, reflection, limits, shutdown, logs.

:func:`start_server` builds and starts a server (tests use it on port 0); :func:`serve` runs one
until SIGTERM or SIGINT. Logs are JSON lines on stderr with ids and counts only: never a name,
an address or a location.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from concurrent import futures
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import grpc
from google.longrunning import operations_pb2_grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from scheduler import __version__
from scheduler.api.operations import OPERATIONS_SERVICE_NAME, OperationsService
from scheduler.api.service import SchedulerService
from scheduler.jobs.runner import DEFAULT_LEASE_S, DEFAULT_RETENTION_S, JobRunner
from scheduler.jobs.store import JobStore, open_store
from scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc

__all__ = [
    "DEFAULT_GRACE_S",
    "MAX_MESSAGE_BYTES",
    "SERVICE_NAME",
    "JsonFormatter",
    "RunningServer",
    "configure_logging",
    "serve",
    "start_server",
]

SERVICE_NAME: str = scheduler_pb2.DESCRIPTOR.services_by_name["Scheduler"].full_name
"""``scheduler.v1.Scheduler``."""

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""Largest request and response (64 MiB): a København-size instance is about 0.7 MiB."""

DEFAULT_GRACE_S = 10.0
"""Seconds calls in flight get to finish on shutdown before they are cancelled."""

log = logging.getLogger("scheduler.api.server")

_STANDARD = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event, and the record's `fields`."""

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
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stderr for the ``scheduler`` loggers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("scheduler")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


@dataclass
class RunningServer:
    """A started server with its parts."""

    server: grpc.Server
    port: int
    service: SchedulerService
    health: health.HealthServicer
    runner: JobRunner | None = field(default=None)
    """Runs the job store's SubmitOptimize jobs; None without a store."""

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self, grace: float = DEFAULT_GRACE_S) -> threading.Event:
        """Graceful shutdown: report NOT_SERVING, refuse new calls, stop running solves (they
        answer with their best plan so far), give calls in flight `grace` seconds, then cancel
        them. Returns an event set when the server has stopped."""
        self.health.enter_graceful_shutdown()
        stopped_solves = self.service.stop_all()
        jobs = self.runner.running if self.runner is not None else []
        log.info(
            "shutting down",
            extra={"fields": {"grace_s": grace, "solves": stopped_solves, "jobs": len(jobs)}},
        )
        if self.service.operations is not None:
            self.service.operations.stop()
        if self.runner is not None:
            # Running jobs are stopped and given back to the queue, for a server to run again.
            self.runner.stop(timeout=grace)
        done: threading.Event = self.server.stop(grace)
        return done


def start_server(
    host: str = "127.0.0.1",
    port: int = 50051,
    *,
    max_concurrent_solves: int = 1,
    workers: int = 16,
    service: SchedulerService | None = None,
    store: JobStore | None = None,
    job_slots: int = 1,
    lease_s: float = DEFAULT_LEASE_S,
    retention_s: float = DEFAULT_RETENTION_S,
) -> RunningServer:
    """Build and start a server on `host`:`port` (0: any free port, see `RunningServer.port`).

    `workers` is the size of the thread pool serving calls; solves beyond
    `max_concurrent_solves` get RESOURCE_EXHAUSTED rather than a thread. With a job `store`,
    the server also serves SubmitOptimize and google.longrunning.Operations and runs the
    store's jobs, `job_slots` at a time (leases of `lease_s`; finished jobs deleted after
    `retention_s`).
    """
    options = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.so_reuseport", 0),
    ]
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grpc"),
        options=options,
    )
    service = service or SchedulerService(max_concurrent_solves)
    scheduler_pb2_grpc.add_SchedulerServicer_to_server(service, server)  # type: ignore[no-untyped-call]
    runner: JobRunner | None = None
    names = [SERVICE_NAME]
    if store is not None:
        runner = JobRunner(store, slots=job_slots, lease_s=lease_s, retention_s=retention_s)
        service.operations = OperationsService(store, runner)
        operations_pb2_grpc.add_OperationsServicer_to_server(service.operations, server)
        names.append(OPERATIONS_SERVICE_NAME)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*names, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot listen on {host}:{port}")
    server.start()
    if runner is not None:
        runner.start()
    for name in ("", *names):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server, bound, service, health_servicer, runner)


def serve(
    host: str = "127.0.0.1",
    port: int = 50051,
    *,
    max_concurrent_solves: int = 1,
    workers: int = 16,
    grace: float = DEFAULT_GRACE_S,
    store: str | None = None,
    job_slots: int = 1,
    lease_s: float = DEFAULT_LEASE_S,
    retention_s: float = DEFAULT_RETENTION_S,
) -> int:
    """Run the server until SIGTERM or SIGINT, then shut down gracefully. Returns 0.

    `store`: the job store's SQLite path or PostgreSQL URL (see
    :func:`scheduler.jobs.store.open_store`); None serves no SubmitOptimize."""
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal", extra={"fields": {"signal": signal.Signals(signum).name}})
        stopping.set()

    # Handlers first: a signal that arrives while starting still shuts down gracefully.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    jobs: JobStore | None = None
    try:
        jobs = open_store(store) if store is not None else None
        running = start_server(
            host,
            port,
            max_concurrent_solves=max_concurrent_solves,
            workers=workers,
            store=jobs,
            job_slots=job_slots,
            lease_s=lease_s,
            retention_s=retention_s,
        )
    except BaseException:
        if jobs is not None:
            jobs.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        raise
    log.info(
        "serving",
        extra={
            "fields": {
                "version": __version__,
                "host": host,
                "port": running.port,
                "max_concurrent_solves": max_concurrent_solves,
                "workers": workers,
                "max_message_bytes": MAX_MESSAGE_BYTES,
                "job_store": None if jobs is None else type(jobs).__name__,
                "job_slots": job_slots if jobs is not None else 0,
                "runner": None if running.runner is None else running.runner.owner,
            }
        },
    )
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        running.stop(grace).wait()
        if jobs is not None:
            jobs.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("stopped")
    return 0
