"""Drills on the cluster (`gameday drill NAME --target k8s`): the release's services and broker forwarded
to this machine, the fault through the services' admin API (the requests' trip distances shifted; the
`worse` model promoted as a canary through serving) or the Kubernetes API (ingest scaled to zero; the
Kafka pod deleted), every expected signal fired in time, the release whole again afterwards, a debrief
written.

At the scenarios' normal pace: the accelerated bounds (half) leave no room for a pod's restart on a
2-core node shared with other work (a deleted Kafka pod took ~100 s to be Ready again there, and the
monitor judged its windows up to 2 min late), where the local stack's broker restarts in seconds."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from mlgameday.config import load_settings
from mlgameday.drill.catalog import Catalog
from mlgameday.drill.precision import false_alarms
from mlgameday.drill.runner import Drill
from mlgameday.drill.targets import State, open_target
from mlgameday.k8s.install import InstallReport

from .conftest import RELEASE_NAMESPACE

pytestmark = [pytest.mark.cluster, pytest.mark.integration]


def wait_whole(target: Any, timeout_s: float = 240) -> dict[str, State]:
    deadline = time.monotonic() + timeout_s
    while True:
        states = {c: s for c, s in target.components().items() if c in target.required}
        if set(states.values()) == {State.UP} or time.monotonic() > deadline:
            return states
        time.sleep(2)


@pytest.mark.parametrize("name, fault", [("data-drift", ("shift_feature", "trip_distance")),
                                         ("bad-canary", ("canary", "worse")),
                                         ("stale-features", ("stop", "ingest")),
                                         ("broker-outage", ("kill", "kafka"))])
def test_a_drill_on_the_cluster_fires_its_signals_and_leaves_the_release_whole(
        release: InstallReport, tmp_path: Path, name: str, fault: tuple[str, str]) -> None:
    settings = load_settings(run_dir=tmp_path / "run")
    target = open_target(settings, "k8s", namespace=RELEASE_NAMESPACE)
    try:
        assert target.settings.kafka.bootstrap.startswith("127.0.0.1:"), target.settings.kafka
        assert set(target.admin_urls) >= {"producer", "ingest", "serving", "monitor"}, target.admin_urls
        assert wait_whole(target) == {c: State.UP for c in target.required}
        result = Drill(target.settings, Catalog().get(name), target=target).run()
        whole_after = wait_whole(target)
    finally:
        target.close()
    assert result.passed, {"missing": [(o.expectation.signal, o.reason) for o in result.missing()],
                           "false alarms": [a.as_dict() for a in false_alarms(result.alerts)],
                           "fix skipped": [(m.check, m.held, m.detail) for m in result.unmitigated],
                           "fix tried": [(m.check, m.held, m.detail) for m in result.mitigation]}
    timeline = [json.loads(line) for line in (result.folder / "timeline.jsonl").read_text().splitlines()]
    faults = [m for m in timeline if (m.get("lane") or m.get("kind")) == "fault"]
    assert faults and faults[0]["name"] == fault[0] and fault[1] in json.dumps(faults[0]), faults
    assert result.debrief and all(Path(p).is_file() for p in result.debrief.values()), result.debrief
    assert whole_after == {c: State.UP for c in target.required}, whole_after
