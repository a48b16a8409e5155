"""`gameday model compare`: each trained variant's accuracy, speed, cost and value, measured on this stack.

- offline MAE: the trainer's, on the held-out later trips (the same trips for every variant); with
  it, the MAE of the same trips on fallback features (the zone features replaced by the training
  medians serving uses when they are stale): what a fallback ETA adds;
- online MAE: the monitor's judged windows of that model (labels joined to its live predictions),
  weighted by their labelled rows — none when the model never served live on this stack;
- p50/p99 latency and CPU per prediction: a short real load on the running stack's serving with the
  variant promoted live in turn (the routing restored afterwards). Latency is the service's own
  (features + model, as the SLO counts it); CPU is serving's whole process tree over the load, divided
  by the predictions it made meanwhile (the riders' traffic included: the same work per trip);
- cost per million predictions and value per day: the impact model's (impact/value.py).

The result is kept in the run folder (compare/latest.json): the portfolio shows it as this stack's
serving benchmark.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..config import Settings
from ..contracts import MODEL_FEATURES, ZONE_FEATURES
from ..errors import GamedayError
from ..impact import cost_per_million, value_per_day
from ..impact.model import ImpactModel, default_impact_model
from ..models.store import VARIANTS, ModelInfo, list_models, load_model, use_model_store

Report = Callable[[str], None]
COMPARE_DIR = "compare"
LATEST = "latest.json"


class CompareError(GamedayError):
    kind = "CompareError"


@dataclass
class VariantFigures:
    variant: str
    tag: str
    offline_mae_s: float
    baseline_mae_s: float
    fallback_mae_s: float | None = None
    online_mae_s: float | None = None
    online_labels: int = 0
    online_windows: int = 0
    predictions: int = 0  # of the measurement load
    p50_ms: float | None = None
    p99_ms: float | None = None
    latency_over_slo_ms: float | None = None
    cpu_ms_per_prediction: float | None = None
    cost_per_million: float | None = None
    value_per_day: float | None = None
    value_formula: str = ""

    @property
    def fallback_extra_error_s(self) -> float | None:
        return None if self.fallback_mae_s is None else self.fallback_mae_s - self.offline_mae_s

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "fallback_extra_error_s": self.fallback_extra_error_s}


@dataclass
class Comparison:
    variants: list[VariantFigures]
    measured_at: str
    rate: float
    seconds: float
    load_avg_1m: float
    currency: str
    slo_ms: float
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"measured_at": self.measured_at, "rate": self.rate, "seconds": self.seconds,
                "load_avg_1m": self.load_avg_1m, "currency": self.currency, "slo_ms": self.slo_ms,
                "notes": self.notes, "variants": [v.as_dict() for v in self.variants]}


def compare_dir(settings: Settings) -> Path:
    return settings.run_path / COMPARE_DIR


def load_comparison(settings: Settings) -> dict[str, Any] | None:
    """The last `gameday model compare` of this run folder, as saved, or None."""
    path = compare_dir(settings) / LATEST
    return json.loads(path.read_text()) if path.is_file() else None


# ---- offline -------------------------------------------------------------------------------------

def newest_per_variant(models: list[ModelInfo]) -> list[ModelInfo]:
    """Each variant's newest model trained on the whole history (a `--since` retrain only if there is no other)."""
    chosen = []
    for variant in VARIANTS:
        of_variant = [m for m in models if m.variant == variant]
        whole = [m for m in of_variant if m.since_s is None]
        if whole or of_variant:
            chosen.append((whole or of_variant)[0])  # list_models is newest first
    return chosen


def fallback_mae(tag: str) -> float | None:
    """MAE of the model's held-out reference trips with every zone feature at its fallback value."""
    import pandas as pd

    model = load_model(tag)
    if not model.reference_path.is_file():
        return None
    reference = pd.read_parquet(model.reference_path)
    rows = reference[list(MODEL_FEATURES)].to_numpy(float)
    for name in ZONE_FEATURES:
        rows[:, MODEL_FEATURES.index(name)] = model.fallback[name]
    return float(np.mean(np.abs(model.predict(rows) - reference["duration_s"].to_numpy(float))))


def online_mae(settings: Settings) -> dict[str, tuple[float, int, int]]:
    """Tag → (MAE, labelled rows, windows) over the monitor's judged windows of that model."""
    from ..monitor.records import read_jsonl, windows_file

    sums: dict[str, list[float]] = {}
    for window in read_jsonl(windows_file(settings)):
        quality = window.get("quality") or {}
        n = quality.get("n") or 0
        if window.get("status") != "ok" or not n or quality.get("mae") is None:
            continue
        entry = sums.setdefault(window["model_tag"], [0.0, 0, 0])
        entry[0] += quality["mae"] * n
        entry[1] += n
        entry[2] += 1
    return {tag: (total / n, int(n), int(windows)) for tag, (total, n, windows) in sums.items()}


# ---- online load ---------------------------------------------------------------------------------

def _trip_bodies(n: int, seed: int) -> list[dict[str, Any]]:
    """n trip requests of the simulated city (the same distribution as live traffic)."""
    from ..producer.simulator import TripSimulator

    now = time.time()
    batch = TripSimulator(seed, id_prefix=f"compare-{uuid.uuid4().hex[:8]}").trips(np.full(n, now))
    stamp = datetime.now(timezone.utc).isoformat()
    return [{"trip_id": batch.trip_id[i], "pickup_zone": int(batch.pickup_zone[i]),
             "dropoff_zone": int(batch.dropoff_zone[i]), "trip_distance": float(batch.trip_distance[i]),
             "passenger_count": int(batch.passenger_count[i]), "request_time": stamp} for i in range(n)]


def _serving_cpu_s(settings: Settings) -> float:
    """CPU seconds (user + system) of serving's whole process tree: supervisor, worker, publisher."""
    import psutil

    from ..stack.state import RunFolder

    record = RunFolder(settings.run_path).load().get("serving")
    if record is None or record.process is None:
        raise CompareError("serving is not a process of this run folder's stack",
                           hint="`gameday up` (after `gameday train`) starts it")
    total = 0.0
    for proc in record.process.members():
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def _rows_served(url: str) -> float:
    """Predictions serving made so far, every role (its Prometheus counter)."""
    import httpx

    from ..drill.watch import gauges_of, parse_samples

    names = ("gameday_serving_rows_total",)
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return gauges_of(parse_samples(text, names), names).get("gameday_serving_rows_total", 0.0)


def measure_load(settings: Settings, url: str, rate: float, seconds: float, seed: int) -> dict[str, Any]:
    """An open-loop load of single-trip /predict calls at `rate` for `seconds`: the service's latencies,
    and serving's CPU per prediction over it."""
    import httpx

    n = max(1, int(rate * seconds))
    bodies = _trip_bodies(n, seed)
    latencies: list[float] = []
    failures: list[str] = []
    client = httpx.Client(timeout=10.0, limits=httpx.Limits(max_connections=8))

    def call(body: dict[str, Any]) -> None:
        try:
            response = client.post(f"{url}/predict", json=body)
            if response.status_code == 200:
                latencies.append(float(response.json()["latency_ms"]))
            else:
                failures.append(f"HTTP {response.status_code}: {response.text[:120]}")
        except httpx.HTTPError as exc:
            failures.append(str(exc))

    cpu_before, rows_before = _serving_cpu_s(settings), _rows_served(url)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="compare-load") as pool:
        for i, body in enumerate(bodies):  # open loop: each call at its own time, however slow the last
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(call, body)
    cpu_after, rows_after = _serving_cpu_s(settings), _rows_served(url)
    client.close()
    rows = rows_after - rows_before
    return {"latencies": latencies, "failures": failures, "requests": n,
            "cpu_s": cpu_after - cpu_before, "rows": rows}


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


# ---- the comparison ------------------------------------------------------------------------------

def compare_models(settings: Settings, *, rate: float = 10.0, seconds: float = 15.0, measure: bool = True,
                   impact: ImpactModel | None = None, report: Report = lambda _: None,
                   seed: int = 7) -> Comparison:
    """Every variant's figures (see the module doc); `measure=False` skips the load (offline and online
    MAE only). Saved to the run folder's compare/latest.json."""
    from ..drill.active import ActiveDrill
    from ..models.control import change_models, serving_routing, serving_url

    impact = impact or default_impact_model()
    slo = impact.latency.slo_ms.value
    use_model_store(settings)
    chosen = newest_per_variant(list_models())
    if not chosen:
        raise CompareError("no trained model in the model store", hint="run `gameday train` first")
    url = serving_url(settings) if measure else None
    notes: list[str] = []
    if measure and url is None:
        raise CompareError("serving is not running: latency and CPU are measured on the live stack",
                           hint="`gameday up` first, or `gameday model compare --offline` for the MAE figures only")
    if measure and (running := ActiveDrill.current(settings)) is not None and running.blind:
        raise CompareError("a blind drill is waiting for its answer: comparing would change its live model",
                           hint="answer it first (`gameday answer ...`), then compare")
    online = online_mae(settings)
    figures = []
    for info in chosen:
        report(f"{info.variant}: offline figures")
        row = VariantFigures(info.variant, info.tag, float(info.metrics["mae_s"]),
                             float(info.metrics["baseline_mae_s"]), fallback_mae(info.tag))
        if info.tag in online:
            row.online_mae_s, row.online_labels, row.online_windows = online[info.tag]
        figures.append(row)
    if measure:
        assert url is not None
        before = serving_routing(settings)
        try:
            if before.canary:
                change_models(settings, None, clear="canary")
            if before.shadow:
                change_models(settings, None, clear="shadow")
            for row in figures:
                report(f"{row.variant}: promoted live, {rate:g} predictions/s for {seconds:g} s")
                change_models(settings, row.tag)
                time.sleep(1.0)  # the swap is one assignment; let in-flight requests finish on the old model
                load = measure_load(settings, url, rate, seconds, seed)
                if load["failures"]:
                    notes.append(f"{row.variant}: {len(load['failures'])} of {load['requests']} calls failed "
                                 f"(first: {load['failures'][0]})")
                row.predictions = len(load["latencies"])
                row.p50_ms, row.p99_ms = _percentile(load["latencies"], 50), _percentile(load["latencies"], 99)
                if load["latencies"]:
                    row.latency_over_slo_ms = float(np.mean([max(0.0, v - slo) for v in load["latencies"]]))
                if load["rows"] > 0:
                    row.cpu_ms_per_prediction = load["cpu_s"] / load["rows"] * 1000
        finally:
            report("restoring the routing")
            _restore(settings, before)
    for row in figures:
        if row.cpu_ms_per_prediction is not None:
            row.cost_per_million = cost_per_million(impact, row.cpu_ms_per_prediction / 1000)
            value = value_per_day(impact, mae_s=row.offline_mae_s, baseline_mae_s=row.baseline_mae_s,
                                  cpu_s_per_request=row.cpu_ms_per_prediction / 1000,
                                  latency_over_slo_ms=row.latency_over_slo_ms or 0.0)
            row.value_per_day, row.value_formula = value.value_per_day, value.formula
    result = Comparison(figures, datetime.now(timezone.utc).isoformat(), rate if measure else 0.0,
                        seconds if measure else 0.0, round(os.getloadavg()[0], 2), impact.currency, slo, notes)
    folder = compare_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LATEST).write_text(json.dumps(result.as_dict(), indent=2))
    return result


def _restore(settings: Settings, before: Any) -> None:
    """The routing as it was: the live model, then its canary share and its shadow."""
    from ..models.control import change_models

    if before.live:
        change_models(settings, before.live)
    if before.canary:
        change_models(settings, before.canary, canary=before.canary_share)
    if before.shadow:
        change_models(settings, before.shadow, shadow=True)
