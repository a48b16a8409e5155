"""The ingest checkpoints: per Kafka partition, the window state, seen ids and the offsets
they correspond to, in one file replaced atomically (write temp, fsync, rename). The
checkpoint, not the group's committed offsets, is where a restart resumes: state and
offsets never disagree.

Why per partition: the producer keys both topics by pickup zone, so partition p of
trips.requested and partition p of trips.completed carry every event of the same zones,
and a zone's windows depend on those events only. Ingest's consumers are assigned whole
partition numbers (the range assignor: p of both topics to one member), so a replica owns
the state of its partitions; on a rebalance the state follows the partition through its
checkpoint file, and N replicas end with exactly the features one process computes.

An owner file per partition names the process that holds it: a process that lost the
partition (a rebalance it slept through) finds another name there and saves nothing.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from ..config import Settings
from .windows import ZoneWindows

FORMAT = 2  # 1: one checkpoint for every partition (read by nothing now: see stale_checkpoint)


@dataclass
class Checkpoint:
    identity: dict                                   # group and topics it belongs to
    seq: int = 0                                     # number of the last flushed part files
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)  # next offset to read
    windows: ZoneWindows = field(default_factory=ZoneWindows)
    # The seen ids, oldest first, as one msgpack blob: pickling 200k separate strings took ~60 ms
    # of every checkpoint, the blob ~10 ms. (A plain list in checkpoints of earlier versions.)
    seen_ids: bytes | list[str] = b""
    # Events met by outcome (received, written, late, duplicate, dead_lettered, ahead), counted with
    # the state they built: a restart resumes the count where the state resumes.
    totals: dict[str, int] = field(default_factory=dict)


OUTCOMES = ("received", "written", "late", "duplicate", "dead_lettered", "ahead")


def totals_of(saved: Checkpoint | None) -> dict[str, int]:
    """The saved totals, every outcome present (a checkpoint of an earlier version has none)."""
    return {outcome: 0 for outcome in OUTCOMES} | dict(getattr(saved, "totals", None) or {})


def pack_ids(ids: list[str]) -> bytes:
    return msgspec.msgpack.encode(ids)


def unpack_ids(saved: bytes | list[str]) -> list[str]:
    if isinstance(saved, list):
        return saved
    return msgspec.msgpack.decode(saved, type=list[str]) if saved else []


def checkpoint_dir(settings: Settings) -> Path:
    return settings.run_path / "data" / "ingest"


def checkpoint_path(settings: Settings, partition: int) -> Path:
    """Where the ingest group of these settings keeps the checkpoint of one partition."""
    return checkpoint_dir(settings) / f"checkpoint-{settings.ingest.group_id}-p{partition}.pkl"


def stale_checkpoint(settings: Settings) -> Path:
    """The single checkpoint of format 1 (every partition in one file)."""
    return checkpoint_dir(settings) / f"checkpoint-{settings.ingest.group_id}.pkl"


def owner_path(settings: Settings, partition: int) -> Path:
    return checkpoint_dir(settings) / f"owner-{settings.ingest.group_id}-p{partition}"


def claim(settings: Settings, partition: int, token: str) -> None:
    """Name this process as the partition's owner (on assignment)."""
    path = owner_path(settings, partition)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{token}.tmp")
    tmp.write_text(token)
    os.replace(tmp, path)


def owns(settings: Settings, partition: int, token: str) -> bool:
    try:
        return owner_path(settings, partition).read_text() == token
    except OSError:
        return False


def identity_of(settings: Settings, partition: int) -> dict:
    """What a checkpoint belongs to: the group, the topics it reads and the partition."""
    return {"group": settings.ingest.group_id,
            "topics": [settings.topics.trips_requested, settings.topics.trips_completed], "partition": partition}


def load_for(settings: Settings, partition: int) -> Checkpoint | None:
    """The checkpoint of one partition of the ingest group of these settings, if any."""
    return load(checkpoint_path(settings, partition), identity_of(settings, partition))


def load_all(settings: Settings) -> dict[int, Checkpoint]:
    """Every partition's checkpoint of the group: partition -> checkpoint."""
    found = {}
    prefix = f"checkpoint-{settings.ingest.group_id}-p"
    folder = checkpoint_dir(settings)
    for path in folder.glob(f"{prefix}*.pkl") if folder.is_dir() else ():
        number = path.name[len(prefix):-len(".pkl")]
        if number.isdigit() and (saved := load_for(settings, int(number))) is not None:
            found[int(number)] = saved
    return found


def summed_totals(saved: dict[int, Checkpoint]) -> dict[str, int]:
    """The events met by outcome over every partition's checkpoint."""
    totals = {outcome: 0 for outcome in OUTCOMES}
    for checkpoint in saved.values():
        for outcome, count in totals_of(checkpoint).items():
            totals[outcome] = totals.get(outcome, 0) + count
    return totals


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
