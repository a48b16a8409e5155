"""monitoring/ files pass promtool; a stack started with Prometheus scrapes the real monitor process."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from mlgameday.config import load_settings
from mlgameday.monitor.component import monitor_components
from mlgameday.monitor.prometheus import RULES_FILE, write_config
from mlgameday.stack.kafka.local import ExternalKafka
from mlgameday.stack.supervisor import Stack

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
needs_prometheus = pytest.mark.skipif(shutil.which("promtool") is None,
                                      reason="the OS package prometheus is not installed (.ci/system-deps installs it)")


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=60)


@needs_prometheus
def test_repo_config_and_rules_pass_promtool():
    rules = promtool("check", "rules", str(MONITORING / "prometheus" / "rules.yml"))
    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert "SUCCESS: 12 rules found" in rules.stdout
    config = promtool("check", "config", str(MONITORING / "prometheus" / "prometheus.yml"))
    assert config.returncode == 0, config.stdout + config.stderr


@needs_prometheus
def test_generated_config_passes_promtool(tmp_path: Path):
    path = write_config(tmp_path, {"monitor": "127.0.0.1:9999", "serving": "127.0.0.1:3000"}, RULES_FILE)
    checked = promtool("check", "config", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "1 rule files found" in checked.stdout


@needs_prometheus
@pytest.mark.integration
def test_stack_prometheus_scrapes_the_monitor(kafka_bootstrap: str, tmp_path: Path, reference_file: Path):
    settings = load_settings(run_dir=tmp_path / "run", kafka={"mode": "external", "bootstrap": kafka_bootstrap},
                             monitor={"prometheus": True, "reference_path": str(reference_file)})
    stack = Stack(settings, components=[ExternalKafka(), *monitor_components(settings)])
    stack.up()
    try:
        prometheus = stack.endpoint("prometheus", "http")
        monitor = stack.endpoint("monitor", "http")
        deadline, targets = time.monotonic() + 40, []
        while time.monotonic() < deadline:
            targets = httpx.get(f"{prometheus}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
            if any(t["labels"]["job"] == "monitor" and t["health"] == "up" for t in targets):
                break
            time.sleep(1)
        up = [t for t in targets if t["labels"]["job"] == "monitor"]
        assert up and up[0]["health"] == "up", targets
        assert up[0]["scrapeUrl"] == f"{monitor}/metrics"
        # The rules were loaded too: Prometheus knows the monitor's alert rules.
        rules = httpx.get(f"{prometheus}/api/v1/rules", timeout=5).json()["data"]["groups"]
        names = {r["name"] for g in rules for r in g["rules"]}
        assert {"FeatureDrift", "QualityBias", "FeaturesStale", "TrainingServingSkew"} <= names
    finally:
        stack.down()
    assert stack.run.live_components() == []
