"""The ingest checkpoint: window state, seen ids and the Kafka offsets they correspond to,
in one file replaced atomically (write temp, fsync, rename). The checkpoint, not the
group's committed offsets, is where a restart resumes: state and offsets never disagree.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

from .windows import ZoneWindows

FORMAT = 1


@dataclass
class Checkpoint:
    identity: dict                                   # group and topics it belongs to
    seq: int = 0                                     # number of the last flushed part files
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)  # next offset to read
    windows: ZoneWindows = field(default_factory=ZoneWindows)
    seen_ids: list[str] = field(default_factory=list)


def save(path: Path, checkpoint: Checkpoint) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as handle:
        pickle.dump((FORMAT, checkpoint), handle, protocol=pickle.HIGHEST_PROTOCOL)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def load(path: Path, identity: dict) -> Checkpoint | None:
    """The saved checkpoint, or None if there is none or it belongs to other topics/group."""
    if not path.is_file():
        return None
    with open(path, "rb") as handle:
        fmt, checkpoint = pickle.load(handle)
    if fmt != FORMAT or checkpoint.identity != identity:
        return None
    return checkpoint
