"""Event-time alignment across partitions: a batch is applied in event-time order over every partition
of both topics, and a partition that has read more than ALIGN_S of event time past one still behind is
held back (and paused) until the others catch up. So a backfill — both topics full of history — is
read in event-time order, not one topic hours ahead of the other (labels would arrive "late" and
undercount completed_30m in the history).

Pure: it sees partitions, their parsed records and where the broker's log ends (`highwater`); the
consumer itself (poll, pause, resume) stays in pipeline.py.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Callable, Hashable, Iterable

ALIGN_S = 60.0

# A parsed record: (position, record, event or None, reject reason or None, event time). The position
# is the latest valid event time read so far in its partition: it never decreases along a partition.
Item = tuple[float, Any, Any, "str | None", float]
Partition = Hashable  # a kafka TopicPartition (topic, partition)
Highwater = Callable[[Partition], "int | None"]  # the log end of a partition; None: not known yet


@dataclass
class Taken:
    """What a batch may apply now."""

    queue: list[Item] = field(default_factory=list)                  # in event-time order, ties in partition order
    next_offsets: dict[Partition, int] = field(default_factory=dict)  # per partition that advanced
    received: Counter = field(default_factory=Counter)              # records taken, per topic


class EventTimeAlignment:
    def __init__(self, align_s: float = ALIGN_S) -> None:
        self.align_s = align_s
        self.read_until: dict[Partition, float] = {}   # latest event time applied, per partition
        self.next_time: dict[Partition, float] = {}    # time of the first record held back
        self.held: dict[Partition, list[Item]] = {}    # parsed records held back (not applied yet)

    def position(self, tp: Partition) -> float:
        """The latest event time applied in a partition (-inf: none yet)."""
        return self.read_until.get(tp, float("-inf"))

    def time_of(self, tp: Partition) -> float:
        """Where a partition stands in event time: its next held-back record, else the last one applied
        (a quiet gap in a partition must not make it look ahead of itself)."""
        return max(self.read_until.get(tp, float("-inf")), self.next_time.get(tp, float("-inf")))

    @staticmethod
    def lag(tp: Partition, highwater: Highwater, offsets: dict[tuple[str, int], int]) -> int | None:
        """Records left to read in a partition (None: its end is not known yet)."""
        high = highwater(tp)
        return None if high is None else max(0, high - offsets.get((tp.topic, tp.partition), 0))

    def behind(self, tp: Partition, highwater: Highwater, offsets: dict[tuple[str, int], int]) -> bool:
        """Records left to read, or not known yet (no fetch answered for the partition)."""
        lag = self.lag(tp, highwater, offsets)
        return lag is None or lag > 0

    def take(self, parsed: dict[Partition, list[Item]], assigned: Iterable[Partition], highwater: Highwater,
             offsets: dict[tuple[str, int], int]) -> Taken:
        """The records of this batch (and those held back before) that may be applied now; the rest is
        held back. `offsets`: the next offset to read per (topic, partition), before this batch."""
        merged = dict(parsed)
        for tp, items in self.held.items():
            merged[tp] = items + merged.get(tp, [])
        self.held = {}
        limit = self._limit(merged, assigned, highwater, offsets)
        taken = Taken()
        # Partitions in (topic, partition) order, each in offset order; the stable sort by position
        # then applies in event-time order, ties in that order (deterministic, whatever the poll order).
        for tp in sorted(merged, key=lambda tp: (tp.topic, tp.partition)):
            items = merged[tp]
            # Positions never decrease within a partition: the records up to the limit are a prefix.
            take = len(items) if items[-1][0] <= limit else bisect_right(items, limit, key=itemgetter(0))
            if take < len(items):
                self.held[tp] = items[take:]
                self.next_time[tp] = items[take][0]
            else:
                self.next_time.pop(tp, None)
            if take:
                position, record = items[take - 1][:2]
                taken.next_offsets[tp] = record.offset + 1
                self.read_until[tp] = position
                taken.received[tp.topic] += take
                taken.queue.extend(items[:take] if take < len(items) else items)
        taken.queue.sort(key=itemgetter(0))
        return taken

    def _limit(self, parsed: dict[Partition, list[Item]], assigned: Iterable[Partition], highwater: Highwater,
               offsets: dict[tuple[str, int], int]) -> float:
        """Event time up to which this batch may be applied: align_s past the slowest partition that
        still has records to read (in this batch's view)."""
        slowest = []
        for tp in assigned:
            items = parsed.get(tp)
            if items:
                high = highwater(tp)
                if high is not None and high > items[-1][1].offset + 1:
                    slowest.append(items[-1][0])
            elif self.behind(tp, highwater, offsets):
                slowest.append(self.time_of(tp))
        return min(slowest) + self.align_s if slowest else float("inf")

    def ahead(self, assigned: Iterable[Partition], highwater: Highwater, offsets: dict[tuple[str, int], int]) -> set:
        """The partitions to pause: more than align_s of event time ahead of the slowest one still
        behind (none when no partition is behind: every partition reads on)."""
        assigned = list(assigned)
        behind = [tp for tp in assigned if self.behind(tp, highwater, offsets)]
        if not behind:
            return set()
        frontier = min(self.time_of(tp) for tp in behind)
        return {tp for tp in assigned if self.time_of(tp) > frontier + self.align_s}

    def forget(self, tp: Partition) -> None:
        """A partition revoked: its held-back records were not applied and its offsets not advanced,
        so the next owner reads them."""
        self.read_until.pop(tp, None)
        self.next_time.pop(tp, None)
        self.held.pop(tp, None)
