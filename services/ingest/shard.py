"""The state of one partition number of ingest's two topics (see checkpoint.py for why
per partition): what its checkpoint holds, and what was applied since the last one."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from ..config import Settings
from ..features.history import LABELS_SCHEMA
from ..features.offline import ZONE_STATS_SCHEMA, drop_parts_after, write_part
from ..features.store import labels_dir, offline_dir
from ..runtime.logs import log_event
from . import checkpoint as ckpt
from .dedup import SeenIds
from .frames import labels_frame, zone_rows_frame
from .windows import ZoneWindows

log = logging.getLogger("ingest")


@dataclass
class Shard:
    partition: int
    seq: int                                   # number of the last flushed part files of this partition
    offsets: dict[tuple[str, int], int]        # next offset to read, of this partition in each topic
    windows: ZoneWindows
    seen: SeenIds
    totals: dict[str, int]
    offline_rows: list[tuple] = field(default_factory=list)   # buffered until the next checkpoint
    labels: list[tuple] = field(default_factory=list)
    dirty: bool = False

    @classmethod
    def restore(cls, settings: Settings, partition: int, dedup_capacity: int) -> "Shard":
        """The partition's state from its checkpoint (or empty), its orphan part files removed."""
        saved = ckpt.load_for(settings, partition)
        seq = saved.seq if saved else 0
        # Part files newer than the checkpoint come from a process killed before it checkpointed.
        removed = (drop_parts_after(offline_dir(settings), seq, shard=partition)
                   + drop_parts_after(labels_dir(settings), seq, shard=partition))
        shard = cls(partition, seq, dict(saved.offsets) if saved else {}, saved.windows if saved else ZoneWindows(),
                    SeenIds(dedup_capacity, ckpt.unpack_ids(saved.seen_ids) if saved else None), ckpt.totals_of(saved))
        log_event(log, "restored checkpoint" if saved else "no checkpoint: reading the partition from the start",
                  partition=partition, seq=seq, zones=len(shard.windows.zones), orphan_parts=len(removed))
        poisoned = shard.windows.forget_after(time.time() + settings.ingest.max_ahead_s)
        if poisoned:
            log_event(log, "zone clocks ahead of the clock in the checkpoint: their future buckets dropped",
                      partition=partition, zones=poisoned, max_ahead_s=settings.ingest.max_ahead_s)
        return shard

    def save(self, settings: Settings) -> None:
        """Flush the buffered history as this partition's next part files, then its checkpoint."""
        seq = self.seq + 1
        if self.offline_rows:
            write_part(offline_dir(settings), seq, zone_rows_frame(self.offline_rows), ZONE_STATS_SCHEMA,
                       shard=self.partition)
        if self.labels:
            write_part(labels_dir(settings), seq, labels_frame(self.labels), LABELS_SCHEMA, shard=self.partition)
        ckpt.save(ckpt.checkpoint_path(settings, self.partition),
                  ckpt.Checkpoint(ckpt.identity_of(settings, self.partition), seq, dict(self.offsets), self.windows,
                                  ckpt.pack_ids(self.seen.snapshot()), dict(self.totals)))
        self.seq = seq
        self.offline_rows, self.labels, self.dirty = [], [], False


def merged_windows(shards: dict[int, Shard]) -> ZoneWindows:
    """One view of every shard's zones (a zone lives in one partition only)."""
    view = ZoneWindows()
    for shard in shards.values():
        view.zones.update(shard.windows.zones)
    return view
