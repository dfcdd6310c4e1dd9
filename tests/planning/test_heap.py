"""Long-lived objects out of the cyclic GC's sight during a solve, never undoing a process's own
freeze."""

from __future__ import annotations

import gc

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
