"""The stack settings a drill needs: a typed overlay on the stack's settings, handed to the stack.

Labels must arrive within seconds (the producer's time_scale) and the monitor must judge short
windows, or no quality or drift signal could fire inside a few minutes. The drill lays this overlay
on the settings the stack runs with and hands the result to the stack (Stack.up, or
Stack.reconfigure for a running one): settings.yaml records it, the services read it from there, and
the components whose settings changed — their record's settings digest differs — are restarted.
"""

from __future__ import annotations

from typing import Any

from ..config import Settings
from ..errors import ConfigError
from .scenario import Scenario

# A drill's freshness budget: live features are seconds old, so this old means the pipeline stopped.
FEATURE_AGE_BUDGET_S = 30


def drill_profile(scenario: Scenario | None = None, seed: int = 42) -> dict[str, dict[str, Any]]:
    """Section -> settings the drill changes. The traffic rate is not one of them: the drill sets it
    through the producer's rate_multiplier knob, without a restart."""
    traffic = scenario.traffic if scenario else None
    return {
        "producer": {"time_scale": traffic.time_scale if traffic else 300.0, "seed": seed},
        # Short windows judged soon (a drill is minutes, not hours): ~10 s of traffic each, judged
        # once 99% of the labels are in (monitor.label_coverage) or after 20 s; an alert needs 2 of 3.
        "monitor": {
            "window_s": 10.0, "window_rows": 200, "min_rows": 60, "min_labeled_rows": 30, "label_wait_s": 20.0,
            # At rest a window had 99% of its labels 6-11 s after it closed: under half by 10 s, they stopped.
            "labels_due_s": 10.0,
            "alert_k": 2, "alert_n": 3, "save_html": True,
            # Thresholds from measured false-alarm rates (bench/monitor/calibrate.py: 10 min of no-fault
            # traffic, 63 windows; README, Monitoring): at 200-row windows a window's MAE and bias move
            # ±10-25% around the reference by chance, and passengers' Jensen-Shannon distance reaches
            # 0.10; with 2-of-3 hysteresis these values raised no modelled false alarm in 500 hours.
            "mae_increase": 0.35, "bias_share": 0.35, "categorical_threshold": 0.15,
            "max_feature_age_s": float(FEATURE_AGE_BUDGET_S),
            # Half the budget as the median: at rest a window's median age was 1-7 s (bench/monitor/calibrate.py),
            # so past 15 s the pipeline stopped — alerted at once, ~20 s after, not two windows later.
            "median_age_s": FEATURE_AGE_BUDGET_S / 2,
            # The skew check compares 50 served rows per window with the Feast offline store (~0.7 s a
            # window since joins read only their window's rows).
            "skew_sample": 50,
            # A slice's MAE over the last 6 windows (~60 s): the airports are ~1.6% of the trips, ~20 here.
            "slice_windows": 6,
        },
    }


def with_profile(settings: Settings, profile: dict[str, dict[str, Any]]) -> Settings:
    """`settings` with the profile's sections laid over, each section validated as the config is."""
    update = {}
    for section, values in profile.items():
        current = getattr(settings, section)
        try:
            update[section] = type(current).model_validate({**current.model_dump(), **values})
        except ValueError as exc:
            raise ConfigError(f"the drill profile's {section} settings are invalid: {exc}") from None
    return settings.model_copy(update=update)


def cluster_profile(seed: int = 42) -> dict[str, dict[str, Any]]:
    """The profile of a release installed for drills: the monitor writes no HTML report (on a cluster it stays
    in the release's volume, out of the debrief's reach, and it cost a loaded node seconds a window). Nor does it
    judge decisively on a median age or labels due early: their margins were measured on the local stack, and on
    a starved node the pipeline and the monitor run seconds behind (its drills run at the normal pace anyway)."""
    profile = drill_profile(None, seed)
    local_only = ("median_age_s", "labels_due_s")
    profile["monitor"] = {**{k: v for k, v in profile["monitor"].items() if k not in local_only}, "save_html": False}
    return profile


def chart_values(profile: dict[str, dict[str, Any]]) -> list[str]:
    """The profile as the chart's `--set` values (each service's env: GAMEDAY_<SECTION>__<KEY>), so a release
    installed for drills runs with the settings a drill lays over the local stack."""
    return [f"{section}.env.GAMEDAY_{section.upper()}__{key.upper()}={value}"
            for section, values in profile.items() for key, value in values.items()]


def release_values(seed: int = 42) -> list[str]:
    """The `--set` values of a release installed for drills (`gameday k8s install --for-drills`): the cluster
    profile's settings, and every model variant trained as on the local stack (bad-canary promotes `worse`)."""
    return [*chart_values(cluster_profile(seed)), "trainer.variant=all"]
