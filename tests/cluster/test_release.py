"""`gameday k8s install` on the cluster: every pod of the chart Ready (Kafka's StatefulSet on a bound
claim, Redis, ingest, producer, serving with its HPA, monitor, the riders), the topics and trainer
Jobs done, and `gameday k8s status` saying so."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from mlgameday.k8s.install import InstallReport

from .conftest import RELEASE_NAMESPACE

pytestmark = [pytest.mark.cluster, pytest.mark.integration]

SERVICES = {"kafka", "redis", "ingest", "producer", "serving", "monitor", "riders"}
JOBS = {"kafka-topics", "trainer"}  # the components of the topics and trainer Jobs


def test_every_pod_of_the_release_is_ready_and_the_jobs_are_done(kube: Any, release: InstallReport) -> None:
    from kubernetes import client

    core = client.CoreV1Api(kube)
    pods = core.list_namespaced_pod(RELEASE_NAMESPACE, label_selector=f"app.kubernetes.io/instance={release.release}").items
    by_component: dict[str, list[str]] = {}
    for pod in pods:
        component = pod.metadata.labels["app.kubernetes.io/component"]
        ready = any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])
        by_component.setdefault(component, []).append("Ready" if ready else pod.status.phase)
    for component in SERVICES:
        assert "Ready" in by_component.get(component, []), (component, by_component)
    for component in JOBS:
        assert "Succeeded" in by_component.get(component, []), (component, by_component)
    # Kafka keeps its log on a claim the local-path provisioner bound.
    claims = {c.metadata.name: c.status.phase for c in core.list_namespaced_persistent_volume_claim(RELEASE_NAMESPACE).items}
    assert any(name.startswith("data-") and "kafka" in name and phase == "Bound" for name, phase in claims.items()), claims
    # Serving's HPA exists; with no metrics server on this node it is inert (README, Kubernetes).
    hpas = client.AutoscalingV2Api(kube).list_namespaced_horizontal_pod_autoscaler(RELEASE_NAMESPACE).items
    assert [h.spec.scale_target_ref.name for h in hpas] == [f"{release.release}-mlgameday-serving"]


def test_gameday_k8s_status_shows_every_component_ready(release: InstallReport) -> None:
    done = subprocess.run([sys.executable, "-m", "mlgameday", "k8s", "status", "-n", RELEASE_NAMESPACE, "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    states = {c["component"]: c["state"] for c in status["components"]}
    assert {states[c] for c in SERVICES} == {"ready"}, states
    assert {states[c] for c in JOBS} == {"succeeded"}, states
    assert "deployed" in json.dumps(status["release"]).lower(), status["release"]
