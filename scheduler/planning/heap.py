"""Long-lived objects kept out of the cyclic garbage collector's sight while a solve runs.

A 3,100-referral week is about half a million tracked Python objects (bookings, rosters,
referrals) before anything is solved; the preparation adds its gaps and indexes. CPython's
full collections walk every tracked object, and a solve allocates enough to trigger many of
them: 0.6-0.9 s each at that size on the 2-core machine, several seconds of a solve spent
re-checking objects that live as long as the solve. :func:`long_lived` moves the objects alive
when it starts (and again at each :meth:`LongLived.settle`) to the collector's permanent
generation (:func:`gc.freeze`) and gives them back (:func:`gc.unfreeze`) when the last solve
running in the process ends. Nothing is freed later than it would be: reference counting
frees as before, and cyclic garbage among the frozen objects is collected after the unfreeze.

A process that froze its own heap before (the server, :func:`scheduler.api.server.settle_heap`)
manages freezing itself: there nothing is frozen or unfrozen here, since an unfreeze would
also give back what the process froze.

:func:`give_back_free_memory` hands the memory a finished stage freed back to the operating
system. glibc's allocator keeps freed blocks in its arenas (CP-SAT's two workers each use
their own), so a process's resident size only grows from stage to stage: on the
3,100-referral week (`scheduler bench ... --time-limit 60`) the lateness stage started at
about 760 MB, stage 1's search memory still held, and peaked at 990-1,040 MB; trimmed before
each stage it starts at about 480 MB and peaked at 880-930 MB (2 December, quiet; a few
milliseconds per call).
"""

from __future__ import annotations

import ctypes
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["LongLived", "give_back_free_memory", "long_lived"]

_lock = threading.Lock()
_active = 0
_owned = False
"""Whether the solves running now froze the heap (no one else had)."""


class LongLived:
    """The handle of :func:`long_lived`."""

    def settle(self) -> None:
        """Freeze what is alive now as well (e.g. a prepared problem)."""
        with _lock:
            if _owned:
                gc.freeze()


@contextmanager
def long_lived() -> Iterator[LongLived]:
    """Freeze what is alive now for the duration; the last one to leave unfreezes (unless the
    process had frozen its heap itself: then nothing is done)."""
    global _active, _owned
    with _lock:
        if _active == 0:
            _owned = gc.get_freeze_count() == 0
        _active += 1
        if _owned:
            gc.freeze()
    try:
        yield LongLived()
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _owned:
                gc.unfreeze()
                _owned = False


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None on a C library without it (musl, macOS, Windows)."""
    try:
        found = ctypes.CDLL(None).malloc_trim  # the C library the interpreter runs on
    except (OSError, AttributeError, TypeError):
        return None
    found.argtypes = [ctypes.c_size_t]
    found.restype = ctypes.c_int
    trim: Callable[[int], int] = found
    return trim


_TRIM = _malloc_trim()


def give_back_free_memory() -> None:
    """Return the C heap's free memory to the operating system (glibc's ``malloc_trim(0)``,
    every arena); nothing where the C library has no such call. Safe beside other threads
    (it takes each arena's lock in turn; the GIL is released meanwhile); pages a concurrent
    solve frees and uses again may have to be faulted back in, which costs time only."""
    if _TRIM is not None:
        _TRIM(0)
