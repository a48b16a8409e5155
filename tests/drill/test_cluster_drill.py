"""A drill through the cluster target: deployed by the chart (the fake API server of tests/k8s, seeded
with the rendered chart), the producer's and ingest's admin ports forwarded (the real admin server with
their real knob models), the topics watched on the real broker. The drill checks the release, injects
the scenario's fault through the forwarded port, watches, recovers and writes its debrief; with no
monitor of its own here, the expected alert cannot fire. The real cluster comes in its own issue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlgameday.config import load_settings
from mlgameday.contracts.knobs import KNOBS
from mlgameday.drill.catalog import Catalog
from mlgameday.drill.runner import Drill
from mlgameday.drill.targets import State
from mlgameday.drill.targets.cluster import ClusterDrillTarget
from mlgameday.k8s import ClusterTarget
from mlgameday.runtime.admin_http import AdminServer, Knobs
from mlgameday.runtime.admin_key import admin_token

from ..k8s.fake_apiserver import FakeApiServer
from ..k8s.helpers import NAMESPACE, RELEASE, render

pytestmark = pytest.mark.integration  # the drill watches the topics on a real broker


def test_a_drill_runs_through_the_cluster_target(kafka_bootstrap: str, tmp_path: Path, monkeypatch) -> None:
    # Nothing flows on the fake cluster (no producer, no serving): the drill's wait for a release whose ETAs
    # flow is the cluster lane's to test (tests/cluster/test_drills.py), on a real release.
    import mlgameday.drill.runner as runner

    monkeypatch.setattr(runner, "await_flowing", lambda *args, **kwargs: 0.0)
    settings = load_settings(run_dir=tmp_path / "run", kafka={"mode": "external", "bootstrap": kafka_bootstrap})
    token = admin_token(settings)
    servers = {name: AdminServer(0, lambda: True, knobs=Knobs(KNOBS[name]), token=token).start()
               for name in ("producer", "ingest")}
    shifts_seen = []
    try:
        with FakeApiServer() as api:
            api.cluster.seed_from_manifests(render("default"), NAMESPACE)
            (tmp_path / "kubeconfig").write_text(api.kubeconfig(NAMESPACE))
            cluster = ClusterTarget.connect(release=RELEASE, kubeconfig=str(tmp_path / "kubeconfig"))
            target = ClusterDrillTarget(cluster, settings, {n: f"http://127.0.0.1:{s.port}" for n, s in servers.items()})
            assert {target.components()[c] for c in target.required} == {State.UP}  # the chart's 'ready'

            def report(component: str, message: str) -> None:
                shifts_seen.append(list(servers["producer"].knobs.value.shifts))

            result = Drill(settings, Catalog().get("data-drift"), fast=True, target=target, report=report).run()
    finally:
        for server in servers.values():
            server.stop()
    assert any(shifts for shifts in shifts_seen), "the fault never reached the producer's knobs"
    assert servers["producer"].knobs.value.shifts == []  # recovered at the end
    timeline = [json.loads(line) for line in (result.folder / "timeline.jsonl").read_text().splitlines()]
    marks = {(m.get("lane") or m.get("kind"), m.get("name")) for m in timeline}
    assert ("fault", "shift_feature") in marks and ("recover", "shift_feature") in marks, marks
    assert (result.folder / "result.json").is_file() and result.debrief is not None
    assert not result.passed  # no monitor on this cluster: drift.detected cannot fire
