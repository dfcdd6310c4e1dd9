"""One wall-clock budget per solve, with its stop signal.

A :class:`Budget` starts when the work is asked for (for the service: when the request arrives,
before it is even read) and every phase of the solve asks it whether to go on: preparation per
referral, the greedy loops, model building, the bounds, between stages, the repair step. CP-SAT
is given what is left and is stopped through the same `stop` event. The clock is injectable so
tests can expire a budget without depending on the machine's speed.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

__all__ = ["Budget", "BudgetExpired"]


class BudgetExpired(Exception):
    """Raised inside a phase that cannot return a partial result when the budget is spent."""


class Budget:
    """A wall-clock budget of `limit_s` seconds (None: no limit) from `started`, and a stop event.

    `clock` returns seconds (default :func:`time.monotonic`); `started` defaults to its value now.
    The budget is spent when the stop event is set or the time is up; :meth:`limit_to` only ever
    shortens it.
    """

    def __init__(
        self,
        limit_s: float | None = None,
        *,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
        started: float | None = None,
    ) -> None:
        self.clock = clock
        self.started = clock() if started is None else started
        self.stop = stop if stop is not None else threading.Event()
        self._limit_s = math.inf if limit_s is None else max(0.0, limit_s)

    @property
    def limit_s(self) -> float:
        """Seconds from `started` the work may take (infinite without a limit)."""
        return self._limit_s

    def limit_to(self, limit_s: float) -> None:
        """Shorten the budget to `limit_s` seconds from `started` (a longer one is ignored)."""
        self._limit_s = min(self._limit_s, max(0.0, limit_s))

    def elapsed(self) -> float:
        """Seconds since `started`."""
        return self.clock() - self.started

    def remaining(self) -> float:
        """Seconds left (0 when stopped or spent; infinite without a limit)."""
        if self.stop.is_set():
            return 0.0
        return max(0.0, self._limit_s - self.elapsed())

    def expired(self) -> bool:
        """Whether the work must end now: stopped, or out of time."""
        return self.stop.is_set() or self.elapsed() >= self._limit_s

    def check(self) -> None:
        """Raise :class:`BudgetExpired` when the budget is spent."""
        if self.expired():
            raise BudgetExpired
