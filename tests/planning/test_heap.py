"""Long-lived objects out of the cyclic GC's sight during a solve, never undoing a process's own
freeze; freed memory handed back to the system between stages."""

from __future__ import annotations

import gc
import os

import pytest

from scheduler.planning import heap as heap_module
from scheduler.planning.heap import long_lived


def test_a_solve_freezes_its_heap_and_gives_it_back_but_leaves_a_process_freeze_alone() -> None:
    frozen_before = gc.get_freeze_count()
    gc.unfreeze()
    try:
        with long_lived() as heap:
            assert gc.get_freeze_count() > 0
            with long_lived():  # a second solve at the same time
                pass
            assert gc.get_freeze_count() > 0  # the first is still running
            heap.settle()
        assert gc.get_freeze_count() == 0
        # A process that froze its own heap (the server) keeps just that: nothing new is frozen
        # (the 1,000 lists made after it), nothing is given back.
        gc.freeze()
        own = gc.get_freeze_count()
        made_after = [[i] for i in range(1000)]
        with long_lived() as heap:
            heap.settle()
            assert gc.get_freeze_count() < own + 500
        assert own - 500 < gc.get_freeze_count() < own + 500
        assert len(made_after) == 1000
    finally:
        gc.unfreeze()
        if frozen_before:
            gc.freeze()


def _resident_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(heap_module._TRIM is None, reason="the C library has no malloc_trim")
def test_freed_memory_goes_back_to_the_system_when_asked() -> None:
    # 100 MB in blocks of 4 kB (malloc'ed, under glibc's default mmap threshold), then one more
    # block kept above them so that glibc cannot give the freed ones back by shrinking the
    # heap's top: freeing them leaves the process as large until the trim.
    blocks = [bytearray(4000) for _ in range(25_000)]
    keep = bytearray(4000)
    peak = _resident_mb()
    del blocks
    before = _resident_mb()
    if peak - before > 50:
        pytest.skip("this allocator gave the blocks back when they were freed (mmap threshold)")
    heap_module.give_back_free_memory()
    after = _resident_mb()
    assert keep is not None
    assert before - after > 50, (peak, before, after)
