"""Calibrate the monitor's checks on the real stack: false alarms per hour on no-fault traffic, and
detection delay on shifted traffic, for candidate thresholds and hysteresis.

    .venv/bin/python bench/monitor/calibrate.py [--minutes 10] [--shift-minutes 3] [--run-dir DIR]

1. Control: the `healthy` scenario (no fault) runs for --minutes through the whole stack with the
   drill profile (10 s windows, labels 300x faster); every judged window's scores are read back
   from the monitor's windows.jsonl, and every alert of the run from the drill's result.
2. Shifted: the same stack, with known faults of a realistic size, one after another (a 1.5x
   longer-trips share of 40%, congestion at 0.7x speed, a frozen feature pipeline); the delay is
   the number of windows from the fault to the first window whose check fails.
3. For each check and each candidate (threshold, k-of-n hysteresis): the per-window failure
   rate on control windows, false alarms per hour modelled by replaying the hysteresis over a
   block bootstrap of the control windows (500 h of windows: rates down to ~0.01/h), and the
   delay to alert on the shifted windows.

The baseline is the monitor as configured (the current thresholds): each candidate's false
alarms and delay are printed beside it. JSON lines; the last line is the summary table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable

import numpy as np

from mlgameday.config import load_settings
from mlgameday.drill.catalog import Catalog
from mlgameday.drill.runner import Drill

WINDOW_S = 10.0  # the drill profile's monitor.window_s
BOOTSTRAP_HOURS = 500
BLOCK = 6        # windows per bootstrap block (a minute): neighbouring windows share zone features


def emit(**data: Any) -> None:
    print(json.dumps(data, default=str), flush=True)


def windows_since(path: Path, since_iso: str) -> list[dict]:
    return [w for w in map(json.loads, path.read_text().splitlines()) if (w.get("judged_at") or "") >= since_iso
            and w.get("status") == "ok"]


# ---- the checks, as (name, score of a window or None, default threshold) ------------------------

def column_score(section: str, column: str, field: str) -> Callable[[dict], float | None]:
    """A window's score of one column in one of its lists (drift: score; skew: relative_difference)."""
    def score(w: dict) -> float | None:
        return next((item[field] for item in w.get(section, []) if item["column"] == column), None)
    return score


def drift_score(column: str) -> Callable[[dict], float | None]:
    return column_score("drift", column, "score")


def prediction_drift(w: dict) -> float | None:
    return (w.get("prediction_drift") or {}).get("score")


def mae_increase(w: dict) -> float | None:
    return (w.get("quality") or {}).get("mae_increase")


def bias_share(w: dict) -> float | None:
    q = w.get("quality") or {}
    return abs(q["bias"]) / q["ref_mae"] if q else None


def stale_share(w: dict) -> float | None:
    return (w.get("freshness") or {}).get("stale_share")


def median_age(w: dict) -> float | None:
    return (w.get("freshness") or {}).get("p50_s")


def skew_score(column: str) -> Callable[[dict], float | None]:
    return column_score("skew", column, "relative_difference")


def missing_share(column: str) -> Callable[[dict], float | None]:
    return lambda w: (w.get("missing") or {}).get(column)


def too_good(w: dict) -> float | None:
    q = w.get("quality")
    return -q["mae_increase"] if q else None


def slice_increase(name: str) -> Callable[[dict], float | None]:
    return lambda w: next((s["increase"] for s in w.get("slices", []) if s["slice"] == name), None)


def checks(settings: Any) -> dict[str, tuple[Callable[[dict], float | None], list[float], float]]:
    """check -> (score of a window, candidate thresholds, today's threshold). Numeric drift is judged
    against the window's own threshold (noise_k x the sampling noise), so its candidates are noise_k."""
    cfg = settings.monitor
    out: dict[str, tuple[Callable[[dict], float | None], list[float], float]] = {}
    for column in ("trip_distance", "requests_15m", "completed_30m", "mean_speed_30m"):
        out[f"drift.detected:{column}"] = (drift_score(column), [3, 4, 5, 6, 8], cfg.drift_noise_k)
    out["drift.detected:passenger_count"] = (drift_score("passenger_count"), [0.05, 0.1, 0.15, 0.2],
                                             cfg.categorical_threshold)
    out["prediction.drift"] = (prediction_drift, [3, 4, 5, 6, 8], cfg.drift_noise_k)
    out["quality.mae_increase"] = (mae_increase, [0.15, 0.25, 0.35, 0.5, 1.0], cfg.mae_increase)
    out["quality.bias"] = (bias_share, [0.15, 0.25, 0.35, 0.5], cfg.bias_share)
    out["freshness.stale"] = (stale_share, [0.1, 0.2, 0.3, 0.5], cfg.stale_share)
    # Its decisive part (1-of-1): the window's median feature age, seconds.
    out["freshness.median_age"] = (median_age, [8.0, 10.0, 15.0, 20.0], cfg.median_age_s or 15.0)
    for column in ("requests_15m", "completed_30m", "mean_speed_30m"):
        out[f"skew.detected:{column}"] = (skew_score(column), [0.05, 0.1, 0.2], cfg.skew_threshold)
        out[f"features.missing:{column}"] = (missing_share(column), [0.05, 0.1, 0.2, 0.3], cfg.missing_share)
    out["quality.too_good"] = (too_good, [0.2, 0.35, 0.5], cfg.too_good)
    for name in ("airport", "Manhattan", "Brooklyn", "Queens", "Bronx", "Staten Island"):
        out[f"quality.slice_mae:{name}"] = (slice_increase(name), [0.5, 1.0, 1.5, 2.0], cfg.slice_mae_increase)
    return out


def failed(name: str, window: dict, score: float, threshold: float) -> bool:
    """Numeric drift scores compare with noise_k x sqrt(1/rows + 1/reference rows), as the monitor does."""
    if name.startswith("drift.detected:") and not name.endswith("passenger_count") or name == "prediction.drift":
        noise = window_threshold(name, window) / DEFAULT_NOISE_K
        return score > max(0.1, threshold * noise) if noise else score > threshold
    return score > threshold


DEFAULT_NOISE_K = 4.0


def window_threshold(name: str, window: dict) -> float:
    column = name.partition(":")[2]
    if name == "prediction.drift":
        return (window.get("prediction_drift") or {}).get("threshold") or 0.0
    for d in window.get("drift", []):
        if d["column"] == column:
            return d["threshold"]
    return 0.0


def hysteresis_alerts(fails: list[bool], k: int, n: int) -> list[int]:
    """Indexes where a k-of-n alert starts (re-armed after n passing windows in a row), as monitor/alerts.py."""
    history: deque[bool] = deque(maxlen=n)
    active, starts = False, []
    for i, f in enumerate(fails):
        history.append(f)
        if not active and sum(history) >= k:
            active = True
            starts.append(i)
        elif active and not any(history) and len(history) == n:
            active = False
    return starts


def false_alarms_per_hour(fails: list[bool], k: int, n: int, rng: np.random.Generator) -> float:
    if not fails:
        return float("nan")
    blocks = [fails[i:i + BLOCK] for i in range(0, max(1, len(fails) - BLOCK + 1))]
    windows_needed = int(BOOTSTRAP_HOURS * 3600 / WINDOW_S)
    sequence: list[bool] = []
    while len(sequence) < windows_needed:
        sequence.extend(blocks[rng.integers(len(blocks))])
    return len(hysteresis_alerts(sequence, k, n)) / BOOTSTRAP_HOURS


def delay_windows(fails: list[bool], k: int, n: int) -> int | None:
    starts = hysteresis_alerts(fails, k, n)
    return starts[0] + 1 if starts else None


def run_drill(settings: Any, scenario: Any, minutes: float, faults: list[dict] | None = None) -> tuple[str, Any]:
    """Run `scenario` for `minutes` after a 30 s warm-up; returns (the end of its warm-up, ISO; result).
    Windows judged before that may still hold the labels of an earlier run's fault."""
    from datetime import datetime, timezone

    from mlgameday.drill.timeline import Timeline

    traffic = scenario.traffic.model_copy(update={"warmup": 30.0, "duration": minutes * 60})
    update: dict[str, Any] = {"traffic": traffic}
    if faults is not None:
        from mlgameday.drill.scenario import FaultStep

        update["faults"] = [FaultStep.model_validate(f) for f in faults]
    scenario = scenario.model_copy(update=update)

    def report(component: str, message: str) -> None:
        print(f"  {component}: {message}", file=sys.stderr, flush=True)

    result = Drill(settings, scenario, report=report).run()
    timeline = Timeline.load(result.folder / "timeline.jsonl")
    warm = timeline.first_mark("phase", "faults")
    return datetime.fromtimestamp(timeline.t0 + warm.t, tz=timezone.utc).isoformat(), result


def offline_mae(settings: Any, windows: list[dict]) -> float:
    """The hold-out MAE the trainer measured for the model the control windows judged."""
    import bentoml

    from mlgameday.models.store import use_model_store

    use_model_store(settings)
    return float(bentoml.models.get(windows[-1]["model_tag"]).info.metadata["metrics"]["mae_s"])


SHIFTS = [  # (label, the checks it should trip, the fault)
    ("longer trips (x1.5 for 40%)", ["drift.detected:trip_distance", "prediction.drift"],
     {"at": "0s", "kind": "shift_feature", "params": {"column": "trip_distance", "multiply": 1.5, "share": 0.4}}),
    ("congestion (0.7x speed)", ["quality.mae_increase", "quality.bias"],
     {"at": "0s", "kind": "congestion", "params": {"speed_multiplier": 0.7}}),
    ("feature pipeline stopped", ["freshness.stale", "freshness.median_age"],
     {"at": "0s", "kind": "stop", "params": {"component": "ingest"}}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="minutes of no-fault traffic")
    parser.add_argument("--shift-minutes", type=float, default=3.0, help="minutes of each shifted run (0: none)")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    settings = load_settings()
    catalog = Catalog()
    healthy = catalog.get("healthy")
    monitor_data = settings.run_path / "data" / "monitor" / "windows.jsonl"
    started = time.monotonic()

    since, control = run_drill(settings, healthy, args.minutes)
    control_windows = windows_since(monitor_data, since)
    online = [w["quality"]["mae"] for w in control_windows if w.get("quality")]
    emit(phase="control", minutes=args.minutes, windows=len(control_windows),
         alerts=[a.as_dict() for a in control.alerts], alerts_per_hour=len(control.alerts) / (args.minutes / 60),
         online_mae_s=round(float(np.mean(online)), 1) if online else None,
         offline_holdout_mae_s=offline_mae(settings, control_windows),
         online_vs_offline=round(float(np.mean(online)) / offline_mae(settings, control_windows) - 1, 3) if online else None)

    shifted: dict[str, list[dict]] = {}
    if args.shift_minutes > 0:
        for label, _, fault in SHIFTS:
            since, _ = run_drill(settings, healthy, args.shift_minutes, faults=[fault])
            shifted[label] = windows_since(monitor_data, since)
            emit(phase="shifted", shift=label, windows=len(shifted[label]))

    rng = np.random.default_rng(args.seed)
    summary = []
    for name, (score_of, candidates, today) in checks(settings).items():
        scores = [(w, score_of(w)) for w in control_windows]
        scores = [(w, s) for w, s in scores if s is not None]
        if not scores:
            continue
        values = np.array([s for _, s in scores])
        row: dict[str, Any] = {"check": name, "windows": len(values), "today": today,
                               "p50": round(float(np.quantile(values, 0.5)), 4),
                               "p99": round(float(np.quantile(values, 0.99)), 4), "max": round(float(values.max()), 4),
                               "candidates": []}
        for threshold in sorted(set(candidates) | {today}):
            fails = [failed(name, w, s, threshold) for w, s in scores]
            for k, n in ((1, 1), (2, 3), (3, 4), (3, 5)):
                delays = {}
                for label, trips, _ in SHIFTS:
                    if name in trips and label in shifted:
                        sfails = [failed(name, w, s, threshold) for w in shifted[label]
                                  if (s := score_of(w)) is not None]
                        delays[label] = delay_windows(sfails, k, n)
                row["candidates"].append({
                    "threshold": threshold, "k_of_n": f"{k}/{n}",
                    "fail_rate": round(float(np.mean(fails)), 4),
                    "false_alarms_per_hour": round(false_alarms_per_hour(fails, k, n, rng), 3),
                    "delay_windows": delays})
        emit(**row)
        summary.append(row)
    emit(phase="done", seconds=round(time.monotonic() - started))


if __name__ == "__main__":
    main()
