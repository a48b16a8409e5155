"""Training-serving skew against the real Feast offline store: the km/h-vs-mph units bug."""

from __future__ import annotations

import pytest

from datetime import timedelta

import numpy as np
import pandas as pd

from mlgameday.contracts import ZONE_FEATURES
from mlgameday.features.offline import ZONE_STATS_SCHEMA, write_part
from mlgameday.features.store import offline_dir, open_store
from mlgameday.monitor.synthetic import Traffic, events_of

from .conftest import SEED, WINDOW, judged

pytestmark = pytest.mark.integration  # needs a real broker / server

KMH_PER_MPH = 1.609344


def test_units_bug_in_served_speed_is_caught_as_skew_on_that_column_only(monitor_run):
    run = monitor_run(skew_sample=40)
    traffic = Traffic(seed=SEED)
    # The offline history ingest wrote (mph): one zone_stats row per zone, a minute before traffic.
    rng = np.random.default_rng(SEED)
    before = traffic.start - timedelta(seconds=60)
    zones = pd.DataFrame({"zone_id": np.arange(1, 266), "requests_15m": rng.poisson(25, 265),
                          "completed_30m": rng.poisson(40, 265), "mean_speed_30m": rng.normal(12.0, 2.5, 265).clip(3),
                          "event_timestamp": before, "created": before})
    open_store(run.settings)
    write_part(offline_dir(run.settings), 1, zones, ZONE_STATS_SCHEMA)
    online = zones.set_index("zone_id")
    for window in range(4):
        frame = traffic.frame(WINDOW)
        for name in ZONE_FEATURES:
            frame[name] = online.loc[frame["zone_id"], name].to_numpy(dtype=float)
        if window >= 2:  # ingest's speed_unit knob flipped to kmh: only the online store is in km/h
            frame["mean_speed_30m"] *= KMH_PER_MPH
        run.send(events_of(frame, traffic.model_tag))
    run.start(lookup="default")
    service = run.run_until(judged(4), timeout_s=120)

    assert [r.skew_status for r in service.results] == ["ok"] * 4
    speed = [next(s for s in r.skew if s.column == "mean_speed_30m") for r in service.results]
    assert [s.skewed for s in speed] == [False, False, True, True]
    assert abs(speed[2].relative_difference - (KMH_PER_MPH - 1)) < 0.01
    assert all(not s.skewed for r in service.results for s in r.skew if s.column != "mean_speed_30m")
    skew_alerts = [a for a in run.alerts() if a.kind == "skew.detected"]
    assert [(a.column, a.window) for a in skew_alerts] == [("mean_speed_30m", 4)]
