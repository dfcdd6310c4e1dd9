"""One wall-clock budget per solve, with its stop signal.

A :class:`Budget` starts when the work is asked for (for the service: when the request arrives,
before it is even read) and every phase of the solve asks it whether to go on: preparation per
referral, the greedy loops, model building, the bounds, between stages, the repair step. CP-SAT
is given what is left and is stopped through the same `stop` event. The clock is injectable so
tests can expire a budget without depending on the machine's speed.

A budget also measures how starved the work is (:meth:`Budget.note_pace`): the wall-clock seconds
per CPU second of the thread that made it. On an idle machine that is about 1; on a 2-core
machine at load 8 about 4. Whatever must happen after the budget ends (making the answer) takes
that many times its CPU time, so the time kept back for it is scaled by the pace
(:func:`scheduler.planning.solve.solve`, :func:`scheduler.api.service.answer_margin`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

__all__ = ["CHECK_EVERY", "MAX_PACE", "Budget", "BudgetExpired", "checked"]

_T = TypeVar("_T")

CHECK_EVERY = 64
"""Records a loop handles between two looks at the budget (:func:`checked`): one look costs
about as much as reading one small record, and 64 records take well under 250 ms even on a
starved machine."""

MAX_PACE = 8.0
"""The most starved a budget believes the work to be (wall seconds per CPU second)."""

_MIN_PACE_SAMPLE_S = 0.02
"""CPU seconds a pace must be measured over to be believed (shorter samples are noise)."""


class BudgetExpired(Exception):
    """Raised inside a phase that cannot return a partial result when the budget is spent."""


class Budget:
    """A wall-clock budget of `limit_s` seconds (None: no limit) from `started`, and a stop event.

    `clock` returns seconds (default :func:`time.monotonic`); `started` defaults to its value now.
    The budget is spent when the stop event is set or the time is up; :meth:`limit_to` only ever
    shortens it. `cpu_clock` returns the CPU seconds of the calling thread (default
    :func:`time.thread_time`); with `clock` it measures the :attr:`pace`. `abandon` is set when
    nobody will read the result any more (the client has gone; set `stop` too): the work may
    then end without making one (:meth:`check_abandoned`).
    """

    def __init__(
        self,
        limit_s: float | None = None,
        *,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
        started: float | None = None,
        cpu_clock: Callable[[], float] = time.thread_time,
        abandon: threading.Event | None = None,
    ) -> None:
        self.clock = clock
        self.cpu_clock = cpu_clock
        now = clock()
        self.started = now if started is None else started
        self.stop = stop if stop is not None else threading.Event()
        self.abandon = abandon if abandon is not None else threading.Event()
        self._limit_s = math.inf if limit_s is None else max(0.0, limit_s)
        self._pace = 1.0
        self._pace_thread = threading.get_ident()
        self._pace_from = (now, cpu_clock())

    @property
    def pace(self) -> float:
        """Wall seconds per CPU second of the work measured so far (1 until measured)."""
        return self._pace

    def note_pace(self) -> float:
        """Measure the pace now and return it: the wall-clock time since the budget was made
        divided by the CPU time its thread spent in it, at least 1 and at most
        :data:`MAX_PACE`. Call it from the thread that made the budget, after work that only
        computes (converting, validating, preparing; not waiting for anything), so the ratio is
        the share of a core the work gets. From another thread, the first call only starts a
        measurement there. The largest pace measured stands; one measured over less than
        20 ms of CPU is not believed."""
        wall, cpu = self.clock(), self.cpu_clock()
        if threading.get_ident() != self._pace_thread:
            self._pace_thread = threading.get_ident()
            self._pace_from = (wall, cpu)
            return self._pace
        spent_cpu = cpu - self._pace_from[1]
        if spent_cpu >= _MIN_PACE_SAMPLE_S:
            measured = (wall - self._pace_from[0]) / spent_cpu
            self._pace = min(MAX_PACE, max(self._pace, measured))
        return self._pace

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

    def check_abandoned(self) -> None:
        """Raise :class:`BudgetExpired` when nobody will read the result (`abandon` is set)."""
        if self.abandon.is_set():
            raise BudgetExpired


def checked(items: Iterable[_T], budget: Budget | None, every: int = CHECK_EVERY) -> Iterator[_T]:
    """`items`, with :meth:`Budget.check` before the first and after every `every` of them
    (`items` as they are without a budget): a loop written ``for x in checked(xs, budget)``
    ends with :class:`BudgetExpired` within `every` records of a stop."""
    if budget is None:
        return iter(items)
    return _checked(items, budget, every)


def _checked(items: Iterable[_T], budget: Budget, every: int) -> Iterator[_T]:
    for count, item in enumerate(items):
        if count % every == 0:
            budget.check()
        yield item
