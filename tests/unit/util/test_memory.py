"""settle_heap: the start-up heap leaves the collector's generations, and young collections come rarely."""

from __future__ import annotations

import gc

from kubelite.util import memory


def test_settle_heap_freezes_what_exists_and_raises_the_thresholds() -> None:
    thresholds = gc.get_threshold()
    try:
        memory.settle_heap(young_threshold=40_000)
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (40_000, 20, 100)
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
