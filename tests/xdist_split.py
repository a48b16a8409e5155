"""How `make test`'s two workers share the drill stack's users (tests/drill_stack.py).

xdist's `--dist load` hands tests out in chunks from the head of the collection: in one run the whole
end-to-end module (~30 min of drills in a row) went to one worker, and that worker was the whole run's
length while the other sat idle for its last 15 minutes. Here the users are dealt out first, half to
each worker (each has its own stack), and the rest is shared as `--dist load` shares it.

The controller sees node ids only, not fixtures: the users' modules are named in DRILL_STACK_MODULES, and
the collection refuses a user outside them (tests/drill_stack.py, users_first).
"""

from __future__ import annotations

from collections import defaultdict

from xdist.scheduler import LoadScheduling
from xdist.workermanage import WorkerController

from .drill_stack import DRILL_STACK_MODULES, module_of


def deal(nodeids: list[str], workers: int) -> list[list[int]]:
    """The indices of the drill stack's users, dealt round-robin to the workers in units: each instance of a
    parametrized test is a unit of its own (one drill each), a module's other tests go together (they share
    module fixtures, e.g. a stack made busy once). Each worker's share keeps the collection's order."""
    units: dict[str, list[int]] = defaultdict(list)
    for index, nodeid in enumerate(nodeids):
        module = module_of(nodeid)
        if module in DRILL_STACK_MODULES:
            units[nodeid if "[" in nodeid else module].append(index)
    shares: list[list[int]] = [[] for _ in range(workers)]
    for n, unit in enumerate(units.values()):
        shares[n % workers].extend(unit)
    return [sorted(share) for share in shares]


class DrillStackSplit(LoadScheduling):
    """`--dist load`, with the drill stack's users sent first, half to each worker. A worker gets nothing else
    while two of its users are still queued: a test queued behind the drills could not move to the other
    worker when that one runs out of work (`load` never takes a test back)."""

    dealt: frozenset[int] = frozenset()

    def schedule(self) -> None:
        """LoadScheduling.schedule's first distribution, with the users dealt before the rest."""
        assert self.collection_is_completed
        if self.collection is None:
            if not self._check_nodes_have_same_collection():
                self.log("**Different tests collected, aborting run**")
                return
            self.collection = next(iter(self.node2collection.values()))
            if self.maxschedchunk is None:
                self.maxschedchunk = len(self.collection)
            shares = deal(list(self.collection), len(self.nodes))
            self.dealt = frozenset(index for share in shares for index in share)
            for node, share in zip(self.nodes, shares):
                if share:
                    self.node2pending[node].extend(share)
                    node.send_runtest_some(share)
            self.pending[:] = [index for index in range(len(self.collection)) if index not in self.dealt]
        for node in self.nodes:
            self.check_schedule(node)

    def check_schedule(self, node: WorkerController, duration: float = 0) -> None:
        queued = self.node2pending[node]
        if len(queued) >= 2 and not self.dealt.isdisjoint(queued):
            return
        super().check_schedule(node, duration)
