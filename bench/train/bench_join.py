"""Training-set join benchmark: time and peak memory of the point-in-time join over a long run folder.

    .venv/bin/python bench/train/bench_join.py [--hours 1] [--quick] [--stores duckdb sliced file]

Builds a run folder with a seeded zone_stats history at the density of live drills (what
ingest writes: ~68k zone rows and ~41k completed trips per hour, measured in a run folder
after a day of drills) and joins every trip with its zone features as of its request time:

- duckdb (the project): `features.point_in_time.point_in_time_join`, one `get_historical_features`
  on Feast's DuckDB offline store, within `features.offline_memory_mb`;
- duckdb-unbounded: the same store as Feast ships it (DuckDB's own limit, 80% of the machine);
- sliced: the join the project ran before, Feast's file store one slice of time at a time
  (bench/train/file_store.py);
- file: Feast's file store (dask) over the whole history in one call.

Each runs in its own process, so each peak RSS is its own; CPU seconds (all threads) are
printed beside wall seconds, as other work on the machine stretches the wall time. Prints
JSON lines, then one summary per baseline with the ratios (project / baseline, medians over
--repeat interleaved runs) and whether its features equal the project's, row for row.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ZONES = 263
ROWS_PER_HOUR = 68_000
TRIPS_PER_HOUR = 41_000
PROJECT = "duckdb"
STORES = ["duckdb", "duckdb-unbounded", "sliced", "file"]
FEATURES = ["requests_15m", "completed_30m", "mean_speed_30m"]
MEASURES = ["seconds", "cpu_seconds", "peak_rss_mb"]
# Feast's file store in one call needs ~8 GB for 1 h of history and grows with its square.
FILE_STORE_MAX_HOURS = 1.0


def emit(**data: object) -> None:
    print(json.dumps(data), flush=True)


def build(run_dir: Path, hours: float, seed: int = 3) -> None:
    """Zone rows and trips of `hours` of live traffic, written like ingest writes them."""
    import numpy as np
    import pandas as pd

    from mlgameday.config import load_settings
    from mlgameday.features.offline import ZONE_STATS_SCHEMA, write_part
    from mlgameday.features.store import offline_dir, open_store

    settings = load_settings(run_dir=run_dir)
    open_store(settings)
    rng = np.random.default_rng(seed)
    end = pd.Timestamp.now(tz="UTC").floor("s")
    start = end - pd.Timedelta(hours=hours)
    n_rows, n_trips = int(ROWS_PER_HOUR * hours), int(TRIPS_PER_HOUR * hours)
    span_us = int((end - start) / pd.Timedelta(microseconds=1))
    # Busy zones are busier (as in the city): zone weights follow a power law.
    weights = 1 / np.arange(1, ZONES + 1) ** 0.8
    weights /= weights.sum()
    row_times = start + pd.to_timedelta(np.sort(rng.integers(0, span_us, n_rows)), unit="us")
    rows = pd.DataFrame({
        "zone_id": rng.choice(np.arange(1, ZONES + 1), n_rows, p=weights),
        "requests_15m": rng.poisson(150, n_rows), "completed_30m": rng.poisson(250, n_rows),
        "mean_speed_30m": rng.normal(12, 3, n_rows), "event_timestamp": row_times, "created": row_times})
    # One part per ~2 s of rows, as ingest's checkpoints write them.
    for seq, part in enumerate(np.array_split(np.arange(n_rows), max(1, int(hours * 1800))), start=1):
        write_part(offline_dir(settings), seq, rows.iloc[part], ZONE_STATS_SCHEMA)
    trips = pd.DataFrame({
        "trip_id": [f"t{i}" for i in range(n_trips)],
        "zone_id": rng.choice(np.arange(1, ZONES + 1), n_trips, p=weights),
        "event_timestamp": start + pd.to_timedelta(np.sort(rng.integers(0, span_us, n_trips)), unit="us")})
    trips.to_parquet(run_dir / "trips.parquet", index=False)


def join(run_dir: Path, how: str, out: Path) -> None:
    """One join (in this process); prints seconds and peak RSS, writes the features to `out`."""
    import pandas as pd

    from mlgameday.config import load_settings
    from mlgameday.features.point_in_time import point_in_time_join
    from mlgameday.features.store import open_store

    settings = load_settings(run_dir=run_dir)
    trips = pd.read_parquet(run_dir / "trips.parquet")
    store = open_store(settings)
    service = store.get_feature_service("triptime_v1")
    with tempfile.TemporaryDirectory(prefix=f"{how}-", dir=run_dir) as scratch:
        cpu_started, started = cpu_seconds(), time.perf_counter()
        if how == "duckdb":
            joined = point_in_time_join(settings, trips, service)
        elif how == "duckdb-unbounded":  # ibis's default DuckDB, as Feast's store uses it when nobody configures it
            joined = trips.merge(store.get_historical_features(entity_df=trips, features=service).to_df()
                                 [["trip_id", *FEATURES]], on="trip_id", how="left")
        else:
            import file_store

            joined = (file_store.sliced if how == "sliced" else file_store.one_call)(settings, trips, Path(scratch))
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    features = joined.sort_values("trip_id")[["trip_id", *FEATURES]].reset_index(drop=True)
    features[FEATURES] = features[FEATURES].astype("float64")
    features.to_parquet(out, index=False)
    print(json.dumps({"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                      "rows": len(features), "with_features": int(features["requests_15m"].notna().sum())}))


def cpu_seconds() -> float:
    """This process's CPU time (every thread): what a join costs whatever else runs on the machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(run_dir: Path, how: str) -> dict:
    out = run_dir / f"features-{how}.parquet"
    done = subprocess.run([sys.executable, __file__, "--join", how, "--run-dir", str(run_dir), "--out", str(out)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return {"store": how, "failed": done.returncode, "stderr": done.stderr[-500:]}
    return {"store": how, **json.loads(done.stdout.strip().splitlines()[-1])}


def same_features(run_dir: Path, how: str) -> bool:
    import pandas as pd

    project = pd.read_parquet(run_dir / f"features-{PROJECT}.parquet")
    other = pd.read_parquet(run_dir / f"features-{how}.parquet")
    return bool(project.equals(other))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0, help="hours of live-density history (default 1)")
    parser.add_argument("--quick", action="store_true", help="a quarter of an hour")
    parser.add_argument("--stores", nargs="+", choices=STORES,
                        help=f"what to run (default: duckdb, sliced, and file up to {FILE_STORE_MAX_HOURS:g} h of history)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each store, interleaved; the summary takes each one's median (default 1)")
    parser.add_argument("--join", choices=STORES, help=argparse.SUPPRESS)
    parser.add_argument("--run-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.join:
        join(args.run_dir, args.join, args.out)
        return
    hours = 0.25 if args.quick else args.hours
    stores = args.stores or ["duckdb", "sliced"] + (["file"] if hours <= FILE_STORE_MAX_HOURS else [])
    stores = [PROJECT] + [s for s in stores if s != PROJECT]
    with tempfile.TemporaryDirectory(prefix="bench-join-") as tmp:
        run_dir = Path(tmp) / "run"
        started = time.perf_counter()
        build(run_dir, hours)
        emit(step="history", hours=hours, zone_rows=int(ROWS_PER_HOUR * hours), trips=int(TRIPS_PER_HOUR * hours),
             seconds=round(time.perf_counter() - started, 1))
        runs: dict[str, list[dict]] = {how: [] for how in stores}
        for _ in range(args.repeat):
            for how in stores:
                runs[how].append(measure(run_dir, how))
                emit(**runs[how][-1])
        results = {how: median_run(measured) for how, measured in runs.items()}
        project = results[PROJECT]
        for how in stores[1:]:
            summary = {"summary": "join", "hours": hours, "project": PROJECT, "baseline": how, "runs": args.repeat}
            if "failed" not in project and "failed" not in results[how]:
                summary.update(same_features=same_features(run_dir, how),
                               **{f"{key}_{how}": results[how][key] for key in MEASURES},
                               **{f"{key}_{PROJECT}": project[key] for key in MEASURES},
                               time_ratio=round(project["seconds"] / results[how]["seconds"], 3),
                               cpu_ratio=round(project["cpu_seconds"] / results[how]["cpu_seconds"], 3),
                               memory_ratio=round(project["peak_rss_mb"] / results[how]["peak_rss_mb"], 3))
            emit(**summary)


def median_run(measured: list[dict]) -> dict:
    """Each measure's median over the runs of one store (a failed run fails the store)."""
    failed = [m for m in measured if "failed" in m]
    if failed:
        return failed[0]
    return {key: statistics.median(m[key] for m in measured) for key in MEASURES}


if __name__ == "__main__":
    main()
