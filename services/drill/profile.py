"""The stack settings a drill needs, applied when the drill (or its test fixture) starts the stack.

Labels must arrive within seconds (the producer's time_scale) and the monitor must judge
short windows, or no quality or drift signal could fire inside a few minutes. Services
read their settings from GAMEDAY_* variables, so the profile is a set of variables for
the processes the stack starts.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from .scenario import Scenario


# A drill's freshness budget: live features are seconds old, so this old means the pipeline stopped.
FEATURE_AGE_BUDGET_S = 30


def drill_profile(scenario: Scenario | None = None, seed: int = 42) -> dict[str, str]:
    """GAMEDAY_* variables for the stack's processes during drills."""
    traffic = scenario.traffic if scenario else None
    return {
        "GAMEDAY_PRODUCER__RATE": f"{traffic.rate if traffic else 20.0:g}",
        "GAMEDAY_PRODUCER__TIME_SCALE": f"{traffic.time_scale if traffic else 300.0:g}",
        "GAMEDAY_PRODUCER__SEED": str(seed),
        # Short windows judged soon (a drill is minutes, not hours): ~10 s of traffic each, judged
        # once 99% of the labels are in (monitor.label_coverage) or after 20 s; an alert needs 2 of 3.
        "GAMEDAY_MONITOR__WINDOW_S": "10",
        "GAMEDAY_MONITOR__WINDOW_ROWS": "200",
        "GAMEDAY_MONITOR__MIN_ROWS": "60",
        "GAMEDAY_MONITOR__MIN_LABELED_ROWS": "30",
        "GAMEDAY_MONITOR__LABEL_WAIT_S": "20",
        "GAMEDAY_MONITOR__ALERT_K": "2",
        "GAMEDAY_MONITOR__ALERT_N": "3",
        "GAMEDAY_MONITOR__SAVE_HTML": "true",
        # Thresholds from measured false-alarm rates (bench/monitor/calibrate.py: 10 min of no-fault
        # traffic, 63 windows; README, Monitoring): at 200-row windows a window's MAE and bias move
        # ±10-25% around the reference by chance, and passengers' Jensen-Shannon distance reaches
        # 0.10; with 2-of-3 hysteresis these values raised no modelled false alarm in 500 hours.
        "GAMEDAY_MONITOR__MAE_INCREASE": "0.35",
        "GAMEDAY_MONITOR__BIAS_SHARE": "0.35",
        "GAMEDAY_MONITOR__CATEGORICAL_THRESHOLD": "0.15",
        "GAMEDAY_MONITOR__MAX_FEATURE_AGE_S": f"{FEATURE_AGE_BUDGET_S}",
        # The skew check compares 50 served rows per window with the Feast offline store (~0.7 s a
        # window since joins read only their window's rows; it was 30-60 s, and off in drills).
        "GAMEDAY_MONITOR__SKEW_SAMPLE": "50",
    }


# The drill sets the traffic rate through the producer's rate_multiplier knob, without a restart.
SET_AT_RUN_TIME = {"GAMEDAY_PRODUCER__RATE"}


def lacking_profile(statuses: list, profile: dict[str, str]) -> list[str]:
    """Running services whose environment misses the profile's variables for their section
    (GAMEDAY_MONITOR__* for monitor, ...): e.g. started by a plain `gameday up` before the drill."""
    import psutil

    lacking = []
    for status in statuses:
        wanted = {k: v for k, v in profile.items()
                  if k.startswith(f"GAMEDAY_{status.name.upper()}__") and k not in SET_AT_RUN_TIME}
        if not wanted or status.state != "running" or not status.pid:
            continue
        try:
            environ = psutil.Process(status.pid).environ()
        except psutil.Error:
            continue
        if any(environ.get(key) != value for key, value in wanted.items()):
            lacking.append(status.name)
    return lacking


@contextmanager
def applied(profile: dict[str, str]) -> Iterator[None]:
    """Set the variables for processes started inside the block (the stack copies os.environ)."""
    saved = {key: os.environ.get(key) for key in profile}
    os.environ.update(profile)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
