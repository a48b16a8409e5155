"""The checkpoint file round-trips the seen ids (packed), and a checkpoint of the earlier list form still loads."""

from __future__ import annotations

from mlgameday.ingest import checkpoint as ckpt
from mlgameday.ingest.dedup import SeenIds
from mlgameday.ingest.windows import ZoneWindows


def test_seen_ids_round_trip_in_order_and_the_list_form_still_loads(tmp_path) -> None:
    identity = {"group": "g", "topics": ["a", "b"]}
    seen = SeenIds(1000, [f"id-{k}" for k in range(1500)])  # over capacity: the oldest were forgotten
    windows = ZoneWindows()
    windows.zone(7).add_request(1_700_000_000.0)
    path = tmp_path / "checkpoint.pkl"
    ckpt.save(path, ckpt.Checkpoint(identity, 3, {("a", 0): 42}, windows, ckpt.pack_ids(seen.snapshot())))
    loaded = ckpt.load(path, identity)
    restored = SeenIds(1000, ckpt.unpack_ids(loaded.seen_ids))
    assert restored.snapshot() == seen.snapshot() and not restored.add(seen.snapshot()[-1])
    assert (loaded.seq, loaded.offsets, loaded.windows.zone(7).features()) == (3, {("a", 0): 42}, (1, 0, None))

    ckpt.save(path, ckpt.Checkpoint(identity, 4, {}, ZoneWindows(), ["x", "y"]))  # as earlier versions wrote it
    assert ckpt.unpack_ids(ckpt.load(path, identity).seen_ids) == ["x", "y"]
    assert ckpt.load(path, {"group": "other", "topics": []}) is None
