"""Several server processes on one port: ``scheduler serve --processes N``.

One Python process answers one call at a time (the GIL), so under many concurrent clients the
process is the queue. :func:`serve_processes` starts N ordinary servers
(:func:`scheduler.api.server.serve`) that listen on the same port (SO_REUSEPORT: the kernel
spreads the connections over them) and share one store: the jobs, leased as between servers on
several hosts, and the held calendars, through the store's journal
(:mod:`scheduler.api.held_calendars`): a calendar uploaded through one process is rebuilt from
the store by any other that is asked for it. Each process has its own limits
(``--max-concurrent-calls``, ``--job-slots``) and its metrics on ``--metrics-port`` + its
index.

This process supervises: SIGTERM or SIGINT is passed on to every server, which drains and shuts
down as one server does; if a server ends by itself (killed, or it could not start), the others
are stopped too and the exit status is 1, so that whatever restarts the service (systemd, a
container runtime) restarts all of it. If the supervisor is killed, each server stops by itself
(it watches its parent). SO_REUSEPORT would let a second supervisor's servers listen beside
these (a silent split of the clients, perhaps over two stores): a second supervisor for the
port is refused, and one started while a killed one's servers still drain waits for them.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import replace
from types import FrameType
from typing import Any

from scheduler.api.server import ServerConfig, configure_logging, exit_now, serve
from scheduler.jobs.store import StoreError, open_store

__all__ = ["PortTakenError", "processes_problem", "serve_processes"]

log = logging.getLogger("scheduler.api.processes")

_STOP_MARGIN_S = 10.0
"""Seconds a server gets beyond its drain and grace before it is killed."""


def processes_problem(config: ServerConfig, processes: int) -> str | None:
    """Why `processes` servers cannot run with `config`; None if they can."""
    if processes < 1:
        return "--processes must be >= 1"
    if processes == 1:
        return None
    if config.store is None:
        return (
            "--processes above 1 needs --store: the processes share held calendars and jobs "
            "through it"
        )
    if config.port == 0:
        return "--processes above 1 needs a fixed --port: every process listens on it"
    if config.metrics_port is not None and config.metrics_port + processes - 1 > 65535:
        return "--metrics-port + --processes - 1 must be <= 65535 (one metrics port a process)"
    return None


class PortTakenError(OSError):
    """Another ``scheduler serve --processes`` serves on the port, or something else (the
    servers of a killed one, still draining past the wait) listens there."""


def _take_port(host: str, port: int, wait_s: float) -> socket.socket:
    """Make sure no other supervisor, and no server of an earlier one, serves on `port`.

    The supervisor holds a name in Linux's abstract socket namespace for its life (no file: it
    is the same for every user and temporary folder, and the kernel lets go of it when the
    process ends). Servers of a killed supervisor, still draining, are found by binding the
    port without SO_REUSEPORT, which fails while anything listens there; they are waited for
    (`wait_s`: their drain and grace), so a service manager's quick restart succeeds. Returns
    the supervisor's socket (closing it lets go of the name)."""
    name = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        name.bind(f"\0scheduler-serve-{host}:{port}")
    except OSError:
        name.close()
        raise PortTakenError(
            f"another `scheduler serve --processes` serves on {host}:{port}"
        ) from None
    deadline = time.monotonic() + wait_s
    while True:
        probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        # Connections of an earlier server in TIME_WAIT do not count; a listener does.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
            break
        except OSError:
            if time.monotonic() >= deadline:
                name.close()
                raise PortTakenError(
                    f"{host}:{port} is in use (servers of an earlier `scheduler serve "
                    f"--processes` still stopping, or another program)"
                ) from None
            time.sleep(0.2)
        finally:
            probe.close()
    return name


def _child(config: ServerConfig, ready: Any, index: int) -> None:
    """One server process (started by :func:`serve_processes`): it stops as on SIGTERM when
    the supervisor is gone (killed), so no server is left on the port unsupervised."""
    stopping = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()  # before the server's own handlers: stop as soon as it has started

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    ready.set()
    configure_logging()
    for handler in logging.getLogger("scheduler").handlers:  # every line names its server
        handler.addFilter(_ProcessIndex(index))
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(
            target=_stop_with, args=(parent.sentinel, stopping), name="supervisor", daemon=True
        ).start()
    try:
        serve(config, stopping=stopping)
    except (OSError, StoreError) as exc:
        print(f"cannot serve: {exc}", file=sys.stderr)
        exit_now(1)


class _ProcessIndex(logging.Filter):
    """Adds ``process_index`` to every log record (a field of the JSON line)."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index

    def filter(self, record: logging.LogRecord) -> bool:
        record.process_index = self.index
        return True


def _stop_with(sentinel: int, stopping: threading.Event) -> None:
    """Set `stopping` when the process behind `sentinel` has ended."""
    multiprocessing.connection.wait([sentinel])
    if not stopping.is_set():
        log.warning("supervisor gone: stopping")
        stopping.set()


def serve_processes(config: ServerConfig, processes: int) -> int:
    """Run `processes` servers with `config` on one port until SIGTERM or SIGINT (or until one
    of them ends); returns the exit status: 0 if every server stopped cleanly when asked."""
    problem = processes_problem(config, processes)
    if problem is not None:
        raise ValueError(problem)
    assert config.store is not None
    port_lock = _take_port(
        config.host, config.port, config.drain_s + config.grace_s + _STOP_MARGIN_S
    )
    try:
        open_store(config.store).close()  # migrate once; fail here on a store that cannot open
    except BaseException:
        port_lock.close()
        raise
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal", extra={"fields": {"signal": signal.Signals(signum).name}})
        stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    context = multiprocessing.get_context("spawn")
    servers: list[multiprocessing.process.BaseProcess] = []
    ready: list[Any] = []
    code = 0
    try:
        for index in range(processes):
            child = replace(
                config,
                reuse_port=True,
                # Port 0: any free port for each (logged in its "serving" line).
                metrics_port=config.metrics_port + index
                if config.metrics_port
                else config.metrics_port,
            )
            ready.append(context.Event())
            server = context.Process(
                target=_child, args=(child, ready[-1], index), name=f"scheduler-serve-{index}"
            )
            server.start()
            servers.append(server)
        log.info(
            "serving processes",
            extra={
                "fields": {
                    "processes": processes,
                    "port": config.port,
                    "pids": [s.pid for s in servers],
                }
            },
        )
        while not stopping.is_set():
            multiprocessing.connection.wait([s.sentinel for s in servers], timeout=0.5)
            ended = [s for s in servers if not s.is_alive()]
            if ended:
                log.error(
                    "server process ended",
                    extra={
                        "fields": {
                            "process": servers.index(ended[0]),
                            "exit_code": ended[0].exitcode,
                        }
                    },
                )
                code = 1
                break
    finally:
        code = max(code, _stop(servers, ready, config.drain_s + config.grace_s + _STOP_MARGIN_S))
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        port_lock.close()
    log.info("stopped processes", extra={"fields": {"exit_code": code}})
    return code


def _stop(
    servers: list[multiprocessing.process.BaseProcess], ready: list[Any], within_s: float
) -> int:
    """SIGTERM every server still running (once it handles the signal: a server still
    starting would die of it), wait up to `within_s` for all, kill the rest; returns 0 if
    every server ended with status 0."""
    deadline = time.monotonic() + within_s
    for server, started in zip(servers, ready, strict=True):
        while server.is_alive() and not started.wait(0.1) and time.monotonic() < deadline:
            pass
        if server.is_alive() and server.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(server.pid, signal.SIGTERM)
    code = 0
    for server in servers:
        server.join(max(0.0, deadline - time.monotonic()))
        if server.is_alive():
            server.kill()
            server.join()
            code = 1
        elif server.exitcode != 0:
            code = 1
    return code
