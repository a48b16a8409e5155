"""Ingest scaled out on the cluster: two replicas of the chart's ingest Deployment in one consumer
group reading a backlog (the history produced while ingest was scaled to zero), one pod deleted
mid-stream (no grace: the group rebalances its partitions to the survivor, then again when the
Deployment's new pod joins), and the online features in the release's Redis end
exactly as one process computes them (tests/pipeline/reference.py) — each partition's state follows
it through the checkpoints on the release's run-folder claim.

A release of its own (a fresh namespace): only the broker, Redis and ingest, so that its topics hold
nothing but this test's history; its broker's host listener on another port than the lane's release."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from mlgameday.config import load_settings
from mlgameday.features.store import open_store
from mlgameday.k8s.cluster import ClusterTarget
from mlgameday.k8s.forward import PortForwards
from mlgameday.k8s.helm import DEFAULT_RELEASE, ChartRelease
from mlgameday.k8s.install import install
from mlgameday.producer.run import produce

from ..pipeline.conftest import end_offsets, history_options, valid_events, wait_for
from ..pipeline.reference import reference_features
from ..pipeline.test_online_features import assert_online_equals_reference

pytestmark = [pytest.mark.cluster, pytest.mark.integration]

HOST_PORT = 29192  # the lane's release forwards 29092 (both below the ephemeral ports, see values.yaml)
INGEST_ADMIN_PORT = 8080
REDIS_PORT = 6379
ASK_EVERY_S = 0.5  # each round of a wait asks the replicas through their port-forwards


@pytest.fixture(scope="module")
def scaled_release(kube: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterTarget]:
    from kubernetes import client

    core = client.CoreV1Api(kube)
    chart = ChartRelease(release=DEFAULT_RELEASE, namespace=f"scale-{uuid.uuid4().hex[:6]}", set_values=[
        "ingest.replicas=2", "producer.enabled=false", "serving.enabled=false", "riders.enabled=false",
        "monitor.enabled=false", "trainer.enabled=false", f"kafka.hostAccess.port={HOST_PORT}",
        # Batches and checkpoints small enough that the deletion lands mid-stream, between checkpoints.
        "ingest.env.GAMEDAY_INGEST__MAX_POLL_RECORDS=300", "ingest.env.GAMEDAY_INGEST__CHECKPOINT_INTERVAL_S=0.5"])
    settings = load_settings(run_dir=tmp_path_factory.mktemp("scale-install"))
    report = install(chart, core, settings, lambda line: print(f"  · {line}", flush=True), timeout="15m")
    print(f"  · scale-out release Ready {report.install_s:.1f} s after helm")
    try:
        yield ClusterTarget(kube, str(chart.namespace), chart.release)
    finally:
        chart.uninstall()
        core.delete_namespace(str(chart.namespace))


def ingest_pods(release: ClusterTarget) -> list[Any]:
    pods = release.core.list_namespaced_pod(release.namespace, label_selector=release.selector("ingest")).items
    return [p for p in pods if p.metadata.deletion_timestamp is None and p.status.phase == "Running"]


class IngestReplicas:
    """Each ingest pod's /status on this machine (a forward per pod, opened as pods come)."""

    def __init__(self, release: ClusterTarget, forwards: PortForwards) -> None:
        self.release, self.forwards, self.urls = release, forwards, {}

    def statuses(self) -> dict[str, dict]:
        found = {}
        for pod in ingest_pods(self.release):
            name = pod.metadata.name
            try:
                if name not in self.urls:
                    self.urls[name] = "http://" + self.forwards.open(f"pod/{name}", INGEST_ADMIN_PORT)
                found[name] = httpx.get(f"{self.urls[name]}/status", timeout=5).json()
            except Exception:  # a pod not serving yet (starting, or its forward not up): asked again next round
                continue
        return found


def applied(statuses: dict[str, dict]) -> dict[str, int]:
    """partition → offset applied, from the replica that holds it now."""
    return {part: status.get("offsets", {}).get(part, 0)
            for status in statuses.values() for part in status.get("assigned", [])}


def checkpointed(status: dict) -> bool:
    return bool(status.get("assigned")) and max(status.get("seq", {}).values(), default=0) >= 1


def replicas_seen(release: ClusterTarget, replicas: IngestReplicas) -> str:
    """What each ingest replica says it holds, and the end of its log: why a wait did not end."""
    lines = [f"statuses: { {name: s.get('assigned') for name, s in replicas.statuses().items()} }"]
    for pod in ingest_pods(release):
        log = release.core.read_namespaced_pod_log(pod.metadata.name, release.namespace, tail_lines=25)
        lines += [f"--- {pod.metadata.name} (last 25 lines)", log]
    return "\n".join(lines)


def test_two_ingest_replicas_through_a_deleted_pod_end_as_one_process(scaled_release: ClusterTarget,
                                                                      tmp_path: Path) -> None:
    forwards = PortForwards(scaled_release.namespace, log_dir=tmp_path)
    try:
        kafka_pod = scaled_release.core.list_namespaced_pod(
            scaled_release.namespace, label_selector=scaled_release.selector("kafka")).items[0].metadata.name
        bootstrap = forwards.open(f"pod/{kafka_pod}", HOST_PORT, HOST_PORT)
        redis = forwards.open("svc/" + next(
            s.metadata.name for s in scaled_release.core.list_namespaced_service(
                scaled_release.namespace, label_selector=scaled_release.selector("redis")).items), REDIS_PORT)
        settings = load_settings(run_dir=tmp_path / "run", kafka={"mode": "external", "bootstrap": bootstrap},
                                 online_store="redis", redis={"url": f"redis://{redis}/0"})
        replicas = IngestReplicas(scaled_release, forwards)
        # Both replicas in the group, each holding partitions before any event comes.
        split = wait_for(lambda: (s := replicas.statuses()) and len(s) == 2 and all(x.get("assigned") for x in s.values())
                         and s, 180, "two ingest replicas each holding partitions",
                         lambda: replicas_seen(scaled_release, replicas), ASK_EVERY_S)
        held = [set(s["assigned"]) for s in split.values()]
        assert not held[0] & held[1], held

        # The history waits in the topics while ingest is scaled to zero, then the two replicas read it as a
        # backlog: the pod deleted at 15% goes mid-stream (reading as it came, they had kept up with a producer
        # on this machine, and the deletion came after the last event).
        scaled_release.scale("ingest", 0)
        wait_for(lambda: not scaled_release.core.list_namespaced_pod(
            scaled_release.namespace, label_selector=scaled_release.selector("ingest")).items, 120, "ingest scaled to zero",
            every_s=ASK_EVERY_S)
        produce(settings, history_options(12_000, 864, seed=43))
        ends = end_offsets(bootstrap, [settings.topics.trips_requested, settings.topics.trips_completed])
        total = sum(ends.values())
        assert total > 18_000 and len(ends) == 6, ends
        scaled_release.scale("ingest", 2)

        wait_for(lambda: sum(applied(replicas.statuses()).values()) >= total * 0.15, 180,
                 "the replicas applied 15% of the events", lambda: replicas_seen(scaled_release, replicas), ASK_EVERY_S)
        # A replica that holds partitions and has checkpointed: asked until one answers (a replica busy with
        # the backlog can miss a round's 5 s answer).
        statuses = wait_for(lambda: (s := replicas.statuses()) and any(checkpointed(x) for x in s.values()) and s, 60,
                            "a replica holding partitions with a checkpoint", lambda: replicas_seen(scaled_release, replicas),
                            ASK_EVERY_S)
        victim = next(name for name, status in statuses.items() if checkpointed(status))
        scaled_release.core.delete_namespaced_pod(victim, scaled_release.namespace, grace_period_seconds=0)
        remaining = sum(ends.values()) - sum(applied(statuses).values())
        assert remaining > 0, "the deletion came after the last event: no rebalance mid-stream"

        # Its partitions go to the survivor, then half of them to the Deployment's new pod; every event applied.
        def caught_up() -> dict[str, dict] | None:
            now = replicas.statuses()
            done = applied(now)
            whole = len(done) == 6 and all(done.get(f"{t}[{p}]") == end for (t, p), end in ends.items())
            rejoined = len(now) == 2 and all(s.get("assigned") for s in now.values())
            return now if whole and rejoined and victim not in now else None

        final = wait_for(caught_up, 420, "every partition applied to its end, held by two live replicas",
                         lambda: replicas_seen(scaled_release, replicas), ASK_EVERY_S)
        assert len(final) == 2 and all(s["assigned"] for s in final.values()), final
        for status in final.values():  # each replica since it started; the deleted one's counts went with it
            assert status["totals"]["duplicate"] == 0 and status["totals"]["dead_lettered"] == 0, status["totals"]
        # Exactly what one process computes from the same events (read back through the forwarded broker),
        # read from the release's Redis.
        assert_online_equals_reference(open_store(settings), reference_features(valid_events(settings)))
    finally:
        forwards.close()
    lines = [json.loads(line) for name in final
             for line in scaled_release.core.read_namespaced_pod_log(name, scaled_release.namespace).splitlines()
             if line.startswith("{")]
    resumed = [line for line in lines if line.get("msg") == "restored checkpoint" and line.get("zones", 0) > 0]
    assert resumed, "no partition was resumed mid-stream (zones in its state) from another replica's checkpoint"
