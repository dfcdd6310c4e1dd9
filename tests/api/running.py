"""What the gRPC tests share: servers started in-process with their channels, and polling."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc

from scheduler.api.server import RunningServer, start_server
from scheduler.v1 import scheduler_pb2_grpc

__all__ = ["server_starter", "wait_until"]


@contextmanager
def server_starter(**defaults: Any) -> Iterator[Callable[..., tuple[RunningServer, Any]]]:
    """A function that starts a server on port 0 (`defaults`, then its own keyword
    configuration) and returns it with a Scheduler stub on a channel of its own; every server
    started is stopped, and its channel closed, at the end."""
    started: list[tuple[RunningServer, grpc.Channel]] = []

    def start(**config: Any) -> tuple[RunningServer, Any]:
        running = start_server(port=0, **{**defaults, **config})
        ch = grpc.insecure_channel(running.address)
        started.append((running, ch))
        return running, scheduler_pb2_grpc.SchedulerStub(ch)

    try:
        yield start
    finally:
        for running, ch in started:
            ch.close()
            running.stop(0).wait()


def wait_until(condition: Callable[[], Any], seconds: float) -> bool:
    """Poll `condition` until it holds or `seconds` have passed; whether it holds."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())
