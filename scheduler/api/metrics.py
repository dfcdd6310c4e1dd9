"""Prometheus metrics of the service, served on their own port (``scheduler serve
--metrics-port``).

Each server has its own registry (tests run several servers in one process):

- ``scheduler_rpc_total{method,code}`` and ``scheduler_rpc_duration_seconds{method,code}``:
  every call to ``scheduler.v1.Scheduler``, with the status the client really got (refusals
  included);
- ``scheduler_solve_duration_seconds{status}``: wall time of each solve, from the request's
  arrival to the plan;
- ``scheduler_solve_on_time_ratio``: per solve, referrals on time over referrals planned;
- ``scheduler_calls_in_flight`` and ``scheduler_solves_running``: gauges;
- ``scheduler_held_calendars``, ``scheduler_held_calendar_versions``, ``scheduler_held_bookings``
  (bookings of the current versions) and ``scheduler_held_calendar_evictions_total``: the
  calendars held for ProposeSlots by reference (:mod:`scheduler.api.held_calendars`).
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

__all__ = ["Metrics"]

_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_RATIO_BUCKETS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 1.0)


class Metrics:
    """The service's metrics in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.rpc_total = Counter(
            "scheduler_rpc",
            "Calls to scheduler.v1.Scheduler by method and the status the client got.",
            ["method", "code"],
            registry=self.registry,
        )
        self.rpc_duration = Histogram(
            "scheduler_rpc_duration_seconds",
            "Duration of calls from arrival to the end, by method and status.",
            ["method", "code"],
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.solve_duration = Histogram(
            "scheduler_solve_duration_seconds",
            "Wall time of each solve, from the request's arrival to the plan, by solver status.",
            ["status"],
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.on_time_ratio = Histogram(
            "scheduler_solve_on_time_ratio",
            "Per solve: referrals on time over referrals planned.",
            buckets=_RATIO_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "scheduler_calls_in_flight",
            "Scheduler calls admitted and running.",
            registry=self.registry,
        )
        self.solves_running = Gauge(
            "scheduler_solves_running", "Solves running now.", registry=self.registry
        )
        self.held_calendars = Gauge(
            "scheduler_held_calendars",
            "Calendars held for ProposeSlots by reference.",
            registry=self.registry,
        )
        self.held_versions = Gauge(
            "scheduler_held_calendar_versions",
            "Versions held, over all held calendars.",
            registry=self.registry,
        )
        self.held_bookings = Gauge(
            "scheduler_held_bookings",
            "Bookings of the current versions of the held calendars.",
            registry=self.registry,
        )
        self.held_evictions = Counter(
            "scheduler_held_calendar_evictions",
            "Held calendars evicted (least recently used) to stay within the maximum.",
            registry=self.registry,
        )
        self.held_rebuilds = Counter(
            "scheduler_held_calendar_rebuilds",
            "Calendar versions this process rebuilt from the store (uploaded or updated through "
            "another process, or before a restart).",
            registry=self.registry,
        )
        self._http: Any = None

    def observe_call(self, method: str, code: str, seconds: float) -> None:
        """Count one finished call."""
        self.rpc_total.labels(method, code).inc()
        self.rpc_duration.labels(method, code).observe(seconds)

    def observe_solve(self, status: str, seconds: float, on_time: int, planned: int) -> None:
        """Record one finished solve."""
        self.solve_duration.labels(status).observe(seconds)
        if planned > 0:
            self.on_time_ratio.observe(on_time / planned)

    def serve(self, port: int, host: str = "127.0.0.1") -> int:
        """Serve ``/metrics`` over HTTP on `host`:`port` (0: any free port); returns the port."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        self._http = server
        bound: int = server.server_port
        return bound

    def close(self) -> None:
        """Stop serving ``/metrics``."""
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
