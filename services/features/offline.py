"""Append-only offline history: one parquet part file per flush in the push source's folder.

Why not `store.push(..., to=OFFLINE)`: the installed Feast file offline store
(feast/infra/offline_stores/dask.py `offline_write_batch`) reads the whole parquet file,
concatenates the new rows and rewrites it on every write, so each push costs O(history)
and a day of streaming becomes quadratic. The batch source is a folder instead; ingest
buffers the rows it pushed online and writes them here as a new file per checkpoint
(`part-p<partition>-<seq>.parquet`: each Kafka partition's state is checkpointed on its own,
so replicas of ingest never write the same name; written to a temp name and renamed, so
readers never see half a file). Feast's DuckDB offline store reads the folder as one table (dot-prefixed temp
files are skipped).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

PART = re.compile(r"^part-(?:p(\d+)-)?(\d+)\.parquet$")

ZONE_STATS_SCHEMA = pa.schema([
    ("zone_id", pa.int64()),
    ("requests_15m", pa.int64()),
    ("completed_30m", pa.int64()),
    ("mean_speed_30m", pa.float64()),
    ("event_timestamp", pa.timestamp("us", tz="UTC")),
    ("created", pa.timestamp("us", tz="UTC")),
])


def part_name(seq: int, shard: int | None = None) -> str:
    return f"part-{seq:09d}.parquet" if shard is None else f"part-p{shard}-{seq:09d}.parquet"


def write_part(folder: Path, seq: int, frame: pd.DataFrame, schema: pa.Schema, shard: int | None = None) -> Path | None:
    """Write one part file atomically; an existing part with the same seq (and shard) is replaced."""
    if frame.empty:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    path = folder / part_name(seq, shard)
    tmp = folder / f".{path.name}.tmp"
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


def ensure_schema_part(folder: Path, schema: pa.Schema) -> None:
    """An empty part with the schema, so a join over a store with no history yet reads 0 rows, not fails."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "part-000000000.parquet"
    if not path.exists():
        tmp = folder / ".part-000000000.parquet.tmp"
        pq.write_table(schema.empty_table(), tmp)
        os.replace(tmp, path)


def drop_parts_after(folder: Path, seq: int, shard: int | None = None) -> list[Path]:
    """Remove a shard's parts newer than its checkpoint (written by a process killed before it
    checkpointed) and its temp files; the parts of other shards are left alone."""
    removed = []
    if folder.is_dir():
        for path in folder.iterdir():
            temp = path.name.startswith(".") and path.name.endswith(".tmp")
            match = PART.match(path.name[1:-4] if temp else path.name)
            if not match or (int(match.group(1)) if match.group(1) is not None else None) != shard:
                continue
            if temp:
                path.unlink(missing_ok=True)
            elif int(match.group(2)) > seq:
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed
