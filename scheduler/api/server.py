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
from dataclasses import dataclass
from types import FrameType
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from scheduler import __version__
from scheduler.api.service import SchedulerService
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

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self, grace: float = DEFAULT_GRACE_S) -> threading.Event:
        """Graceful shutdown: report NOT_SERVING, refuse new calls, stop running solves (they
        answer with their best plan so far), give calls in flight `grace` seconds, then cancel
        them. Returns an event set when the server has stopped."""
        self.health.enter_graceful_shutdown()
        stopped_solves = self.service.stop_all()
        log.info("shutting down", extra={"fields": {"grace_s": grace, "solves": stopped_solves}})
        done: threading.Event = self.server.stop(grace)
        return done


def start_server(
    host: str = "127.0.0.1",
    port: int = 50051,
    *,
    max_concurrent_solves: int = 1,
    workers: int = 16,
    service: SchedulerService | None = None,
) -> RunningServer:
    """Build and start a server on `host`:`port` (0: any free port, see `RunningServer.port`).

    `workers` is the size of the thread pool serving calls; solves beyond
    `max_concurrent_solves` get RESOURCE_EXHAUSTED rather than a thread.
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
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot listen on {host}:{port}")
    server.start()
    for name in ("", SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server, bound, service, health_servicer)


def serve(
    host: str = "127.0.0.1",
    port: int = 50051,
    *,
    max_concurrent_solves: int = 1,
    workers: int = 16,
    grace: float = DEFAULT_GRACE_S,
) -> int:
    """Run the server until SIGTERM or SIGINT, then shut down gracefully. Returns 0."""
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal", extra={"fields": {"signal": signal.Signals(signum).name}})
        stopping.set()

    # Handlers first: a signal that arrives while starting still shuts down gracefully.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        running = start_server(
            host, port, max_concurrent_solves=max_concurrent_solves, workers=workers
        )
    except BaseException:
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
            }
        },
    )
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        running.stop(grace).wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("stopped")
    return 0
