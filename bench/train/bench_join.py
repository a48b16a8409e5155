"""Training-set join benchmark: peak memory and time of the point-in-time join over a long run folder.

    .venv/bin/python bench/train/bench_join.py [--hours 1] [--quick]

Builds a run folder with a seeded zone_stats history at the density of live drills (what
ingest writes: ~68k zone rows and ~41k completed trips per hour, measured in a run folder
after a day of drills) and joins every trip with its zone features as of its request time:

- project: `features.point_in_time.point_in_time_join` (Feast, one slice of time at a time);
- baseline: Feast's `get_historical_features` over the whole folder in one call.

Each runs in its own process, so each peak RSS is its own. Prints JSON lines, then a
summary with the ratios, and checks that both joins return the same features.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ZONES = 263
ROWS_PER_HOUR = 68_000
TRIPS_PER_HOUR = 41_000


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


def join(run_dir: Path, how: str) -> None:
    """One join (in this process); prints seconds, peak RSS and a digest of the features."""
    import pandas as pd

    from mlgameday.config import load_settings
    from mlgameday.features.point_in_time import point_in_time_join
    from mlgameday.features.store import open_store

    settings = load_settings(run_dir=run_dir)
    trips = pd.read_parquet(run_dir / "trips.parquet")
    store = open_store(settings)
    service = store.get_feature_service("triptime_v1")
    started = time.perf_counter()
    if how == "project":
        joined = point_in_time_join(settings, trips, service)
    else:
        found = store.get_historical_features(entity_df=trips, features=service).to_df()
        joined = trips.merge(found[["trip_id", "requests_15m", "completed_30m", "mean_speed_30m"]],
                             on="trip_id", how="left")
    seconds = time.perf_counter() - started
    joined = joined.sort_values("trip_id")
    print(json.dumps({"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "rows": len(joined), "with_features": int(joined["requests_15m"].notna().sum()),
                      "digest": float(joined["mean_speed_30m"].fillna(0).sum())}))


def measure(run_dir: Path, how: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--join", how, "--run-dir", str(run_dir)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return {"how": how, "failed": done.returncode, "stderr": done.stderr[-500:]}
    return {"how": how, **json.loads(done.stdout.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0, help="hours of live-density history (default 1)")
    parser.add_argument("--quick", action="store_true", help="a quarter of an hour")
    parser.add_argument("--join", choices=["project", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--run-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.join:
        join(args.run_dir, args.join)
        return
    hours = 0.25 if args.quick else args.hours
    with tempfile.TemporaryDirectory(prefix="bench-join-") as tmp:
        run_dir = Path(tmp) / "run"
        started = time.perf_counter()
        build(run_dir, hours)
        emit(step="history", hours=hours, zone_rows=int(ROWS_PER_HOUR * hours), trips=int(TRIPS_PER_HOUR * hours),
             seconds=round(time.perf_counter() - started, 1))
        project, baseline = measure(run_dir, "project"), measure(run_dir, "baseline")
        emit(**project)
        emit(**baseline)
        summary = {"summary": "join", "hours": hours}
        if "failed" not in project and "failed" not in baseline:
            summary.update(same_features=project["digest"] == baseline["digest"]
                           and project["with_features"] == baseline["with_features"],
                           memory_ratio=round(project["peak_rss_mb"] / baseline["peak_rss_mb"], 3),
                           time_ratio=round(project["seconds"] / baseline["seconds"], 3))
        emit(**summary)


if __name__ == "__main__":
    main()
