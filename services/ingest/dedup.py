"""A bounded record of recently seen event ids: a redelivered event (same event_id) changes nothing.

Bounded by count (oldest forgotten first). It is saved in the checkpoint with the window
state and the offsets, so after a crash the replayed events meet the same record they
would have met without it.
"""

from __future__ import annotations

from itertools import islice


class SeenIds:
    def __init__(self, capacity: int, ids: list[str] | None = None) -> None:
        self.capacity = capacity
        self._ids: dict[str, None] = dict.fromkeys(ids or [])

    def add(self, event_id: str) -> bool:
        """Remember an id; False if it was already seen (a duplicate)."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        if len(self._ids) > self.capacity:
            # Forget the oldest ~1% in one go (dicts keep insertion order).
            for old in list(islice(self._ids, max(1, self.capacity // 100))):
                del self._ids[old]
        return True

    def snapshot(self) -> list[str]:
        return list(self._ids)

    def __len__(self) -> int:
        return len(self._ids)
