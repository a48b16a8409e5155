"""Monitor benchmark: seconds to judge a window, and detection delay in windows.

    .venv/bin/python bench/monitor/bench_monitor.py [--quick]

Prints JSON lines. Window cost: the Evidently report of one window (drift on the model's
features + prediction drift + MAE/RMSE/mean error) for 1k, 10k, 100k rows, against a
baseline in the same run — a plain scipy two-sample KS test per column over the same window —
with the ratio. Detection: a shift of 0.25, 0.5 and 1 standard deviation of trip_distance
starting at a known window; delay = windows until Evidently's verdict flags the column
(detect) and until the alert fires after hysteresis (alert). Targets: a 10k-row window in
<= 2 s on 2 cores; detection within 1 window for a 0.5-std shift.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np
from scipy import stats

warnings.filterwarnings("ignore")

from mlgameday.config import MonitorSettings  # noqa: E402
from mlgameday.contracts import MODEL_FEATURES  # noqa: E402
from mlgameday.monitor.alerts import Hysteresis, findings  # noqa: E402
from mlgameday.monitor.evaluate import judge, run_report, screen  # noqa: E402
from mlgameday.monitor.reference import validate_reference  # noqa: E402
from mlgameday.monitor.results import WindowResult  # noqa: E402
from mlgameday.monitor.synthetic import Shift, Traffic  # noqa: E402


def emit(**data: object) -> None:
    print(json.dumps(data), flush=True)


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def window_cost(cfg: MonitorSettings, sizes: list[int], repeats: int) -> None:
    traffic = Traffic(seed=1)
    reference = validate_reference(traffic.reference(5000), "bench")
    for rows in sizes:
        frame = traffic.frame(rows)
        evidently_s = best_of(lambda: run_report(frame, reference, cfg, with_quality=True), repeats)

        def ks_baseline() -> None:
            for column in [*MODEL_FEATURES, "prediction_s"]:
                stats.ks_2samp(reference.frame[column], frame[column])
            error = frame["prediction_s"] - frame["duration_s"]
            _ = (error.abs().mean(), np.sqrt((error ** 2).mean()), error.mean())

        baseline_s = best_of(ks_baseline, repeats)
        emit(bench="window_eval", rows=rows, columns=len(MODEL_FEATURES) + 1, reference_rows=len(reference.frame),
             evidently_s=round(evidently_s, 3), baseline_ks_s=round(baseline_s, 4),
             ratio=round(evidently_s / baseline_s, 1), cpus=os.cpu_count(),
             target_met=(evidently_s <= 2.0) if rows == 10_000 else None)


def detection_delay(cfg: MonitorSettings, rows: int, windows_before: int, windows_after: int) -> None:
    reference = validate_reference(Traffic(seed=1).reference(5000), "bench")
    std = float(reference.frame["trip_distance"].std())
    for size in (0.25, 0.5, 1.0):
        traffic = Traffic(seed=2)
        hysteresis = Hysteresis(cfg.alert_k, cfg.alert_n)
        detected_at = alerted_at = None
        false_before = 0
        for index in range(1, windows_before + windows_after + 1):
            shifted = index > windows_before
            shifts = (Shift("trip_distance", add=size * std),) if shifted else ()
            result = WindowResult(index=index, model_tag="bench", status="ok")
            frame = traffic.frame(rows, shifts=shifts)
            screen(frame, cfg, result)
            judge(frame, reference, cfg, result)
            flagged = next(d.drifted for d in result.drift if d.column == "trip_distance")
            fired = [f for f in hysteresis.update(findings(result, cfg))
                     if f.kind == "drift.detected" and f.column == "trip_distance"]
            if not shifted:
                false_before += int(flagged)
            if shifted and flagged and detected_at is None:
                detected_at = index - windows_before
            if shifted and fired and alerted_at is None:
                alerted_at = index - windows_before
        emit(bench="detection_delay", shift_std=size, shift_miles=round(size * std, 3), window_rows=rows,
             detect_windows=detected_at, alert_windows=alerted_at, hysteresis=f"{cfg.alert_k} of {cfg.alert_n}",
             false_flags_before_shift=false_before, target_met=(detected_at == 1) if size == 0.5 else None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k rows, one repeat, short detection runs")
    args = parser.parse_args()
    cfg = MonitorSettings(min_rows=1, min_labeled_rows=1)
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    window_cost(cfg, sizes, repeats=1 if args.quick else 3)
    detection_delay(cfg, rows=1000, windows_before=2 if args.quick else 4, windows_after=3 if args.quick else 4)
    return 0


if __name__ == "__main__":
    sys.exit(main())
