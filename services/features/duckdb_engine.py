"""The DuckDB that Feast's DuckDB offline store runs its joins on: bounded memory, spilling into the run folder.

Feast 0.67's DuckDB store builds its queries with ibis and runs them on ibis's default
backend, a process-wide in-memory DuckDB. Left as it comes, that DuckDB may take 80% of the
machine's memory (a join over 3 h of live history took 15 GB, bench/train) and spills into
`.tmp` under the process's working directory (the work tree, or a read-only root file system
in a pod). So the default backend is replaced, once per setting, by a DuckDB with
`features.offline_memory_mb` and a spill folder in the run folder.
"""

from __future__ import annotations

import warnings
from pathlib import Path

# ibis 12 calls DuckDB 2.0's deprecated fetch_arrow_table on every query; the warning says nothing to a user.
warnings.filterwarnings("ignore", message="fetch_arrow_table", category=DeprecationWarning)

_configured: tuple[int, str] | None = None


def use_bounded_duckdb(spill_folder: Path, memory_mb: int) -> None:
    """Make ibis's default backend (where Feast's DuckDB store joins) a DuckDB with this memory limit."""
    global _configured
    wanted = (memory_mb, str(spill_folder))
    if _configured == wanted:
        return
    import ibis

    spill_folder.mkdir(parents=True, exist_ok=True)
    ibis.set_backend(ibis.duckdb.connect(memory_limit=f"{memory_mb}MB", temp_directory=str(spill_folder)))
    _configured = wanted


def duckdb_settings() -> dict[str, str]:
    """The memory limit and spill folder of the DuckDB that Feast's DuckDB store would use now."""
    import ibis

    row = ibis.get_backend().raw_sql(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')").fetchone()
    return {"memory_limit": row[0], "temp_directory": row[1]}
