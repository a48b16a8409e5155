"""The ingest process's GC policy: young collections far less often, startup objects frozen, cycles still collected."""

from __future__ import annotations

import gc
import weakref

from mlgameday.ingest.gc_policy import YOUNG_THRESHOLD, relax_gc


def test_relax_gc_raises_the_young_threshold_and_still_collects_cycles() -> None:
    previous = relax_gc()
    try:
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD > previous[0]
        assert gc.get_freeze_count() > 0 and gc.isenabled()

        class Node:
            pass

        node = Node()
        node.self = node  # a cycle: only the collector frees it
        alive = weakref.ref(node)
        del node
        gc.collect()
        assert alive() is None
    finally:
        gc.unfreeze()
        gc.set_threshold(*previous)
