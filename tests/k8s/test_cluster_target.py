"""ClusterTarget and `gameday k8s` against the Kubernetes API behaviour they rely on.

No cluster exists on this machine, so the real kubernetes client (kubeconfig loading, REST
calls, (de)serialisation) talks to fake_apiserver.FakeApiServer, seeded with the chart's
rendered workloads. What a real cluster adds (controllers recreating pods, rollouts) is
outside this layer, which stays thin: one API call per fault.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Iterator

import pytest
from typer.testing import CliRunner

from mlgameday.cli import app
from mlgameday.k8s import ClusterTarget, ClusterUnreachable, K8sError

from .fake_apiserver import FakeApiServer
from .helpers import NAMESPACE, RELEASE, render


@pytest.fixture
def api(tmp_path: Path) -> Iterator[FakeApiServer]:
    with FakeApiServer() as server:
        server.cluster.seed_from_manifests(render("kafka-3"), NAMESPACE)
        (tmp_path / "kubeconfig").write_text(server.kubeconfig(NAMESPACE))
        yield server


@pytest.fixture
def kubeconfig(api: FakeApiServer, tmp_path: Path) -> str:
    return str(tmp_path / "kubeconfig")


@pytest.fixture
def target(api: FakeApiServer, kubeconfig: str) -> ClusterTarget:
    return ClusterTarget.connect(release=RELEASE, kubeconfig=kubeconfig)


def _pods(api: FakeApiServer, component: str) -> list[str]:
    return [o["metadata"]["name"] for o in api.cluster.listing(
        "pods", NAMESPACE, f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component={component}")]


def test_connect_takes_namespace_from_the_kubeconfig_context(target: ClusterTarget, api: FakeApiServer) -> None:
    assert target.namespace == NAMESPACE
    assert ("GET", "/version/", "") in api.cluster.requests or ("GET", "/version", "") in api.cluster.requests


def test_kill_deletes_only_that_components_pods(target: ClusterTarget, api: FakeApiServer) -> None:
    assert len(_pods(api, "ingest")) == 3 and len(_pods(api, "kafka")) == 3
    killed = target.kill("ingest")
    assert sorted(killed) == [f"{RELEASE}-mlgameday-ingest-7d4b9-{i}" for i in range(3)]
    assert _pods(api, "ingest") == []
    assert len(_pods(api, "kafka")) == 3 and len(_pods(api, "serving")) == 1
    deletes = [path for method, path, _ in api.cluster.requests if method == "DELETE"]
    assert deletes == [f"/api/v1/namespaces/{NAMESPACE}/pods/{name}" for name in killed]


def test_kill_of_an_unknown_component_says_so(target: ClusterTarget) -> None:
    with pytest.raises(K8sError, match="no pods of component 'nope'"):
        target.kill("nope")


def test_scale_to_zero_and_back(target: ClusterTarget, api: FakeApiServer) -> None:
    deployment = api.cluster.find("deployments", NAMESPACE, f"{RELEASE}-mlgameday-monitor")
    assert target.scale("monitor", 0) == 1
    assert deployment["spec"]["replicas"] == 0
    assert target.scale("monitor", 1) == 0
    assert deployment["spec"]["replicas"] == 1
    scale_calls = [(m, p, c) for m, p, c in api.cluster.requests if p.endswith("/scale")]
    assert scale_calls[0] == ("PATCH", f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{RELEASE}-mlgameday-monitor/scale",
                              "application/merge-patch+json")


def test_scale_reaches_the_kafka_statefulset(target: ClusterTarget, api: FakeApiServer) -> None:
    assert target.scale("kafka", 2) == 3
    assert api.cluster.find("statefulsets", NAMESPACE, f"{RELEASE}-mlgameday-kafka")["spec"]["replicas"] == 2


def test_set_env_changes_one_variable_and_keeps_the_rest(target: ClusterTarget, api: FakeApiServer) -> None:
    name = f"{RELEASE}-mlgameday-ingest"
    before = api.cluster.find("deployments", NAMESPACE, name)
    env_before = before["spec"]["template"]["spec"]["containers"][0]["env"]
    assert target.set_env("ingest", "GAMEDAY_INGEST__SPEED_UNIT", "kmh") is None
    after = api.cluster.find("deployments", NAMESPACE, name)
    env_after = {e["name"]: e.get("value") for e in after["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env_after["GAMEDAY_INGEST__SPEED_UNIT"] == "kmh"
    assert {e["name"] for e in env_before} < set(env_after)
    # The whole object went back intact: probes, security, volumes are still the chart's.
    container = after["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert target.set_env("ingest", "GAMEDAY_INGEST__SPEED_UNIT", None) == "kmh"
    final = api.cluster.find("deployments", NAMESPACE, name)["spec"]["template"]["spec"]["containers"][0]["env"]
    assert "GAMEDAY_INGEST__SPEED_UNIT" not in {e["name"] for e in final}


def test_set_env_reapplies_after_a_conflict(target: ClusterTarget, api: FakeApiServer, monkeypatch) -> None:
    """Someone else writes between our read and our replace: 409, then we re-read and win."""
    name = f"{RELEASE}-mlgameday-serving"
    original_list = target.apps.list_namespaced_deployment
    raced = []

    def racing_list(*args, **kwargs):
        result = original_list(*args, **kwargs)
        if not raced:  # a concurrent writer bumps the stored object's resourceVersion
            raced.append(True)
            obj = api.cluster.find("deployments", NAMESPACE, name)
            obj["metadata"]["resourceVersion"] = "999999"
        return result

    monkeypatch.setattr(target.apps, "list_namespaced_deployment", racing_list)
    target.rollout_model("triptime:v7")
    puts = [(m, p) for m, p, _ in api.cluster.requests if m == "PUT"]
    assert len(puts) == 2  # the stale one refused with 409, the fresh one accepted
    env = {e["name"]: e.get("value") for e in
           api.cluster.find("deployments", NAMESPACE, name)["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["GAMEDAY_SERVING__MODEL"] == "triptime:v7"


def test_status_lists_every_workload(target: ClusterTarget, api: FakeApiServer) -> None:
    target.scale("producer", 0)
    states = {s.component: s for s in target.status()}
    assert set(states) == {"kafka", "redis", "producer", "ingest", "serving", "riders", "monitor", "trainer", "kafka-topics"}
    assert (states["kafka"].kind, states["kafka"].desired, states["kafka"].state) == ("StatefulSet", 3, "ready")
    assert states["producer"].state == "scaled to zero"
    assert states["trainer"].kind == "Job" and states["trainer"].state == "succeeded"
    assert states["ingest"].restarts == 6  # 3 pods × 2 restarts in the fake's pod status


def test_drill_chaos_verbs_map_to_cluster_operations(target: ClusterTarget, api: FakeApiServer) -> None:
    assert target.chaos("stop", "ingest") == "ingest scaled 3 → 0"
    assert target.components()["ingest"] == "scaled to zero"
    assert target.chaos("start", "ingest") == "ingest scaled 0 → 3"
    assert target.chaos("kill", "redis") == "deleted 1 pod(s) of redis (no grace period); held at 0 replicas until start"
    assert target.components()["redis"] == "scaled to zero"  # a killed component stays down, as on the local stack
    assert target.chaos("start", "redis") == "redis scaled 0 → 1"
    with pytest.raises(K8sError, match="'pause' has no cluster equivalent"):
        target.chaos("pause", "kafka")


def test_no_kubeconfig_is_a_one_line_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ClusterUnreachable) as caught:
        ClusterTarget.connect(kubeconfig=str(tmp_path / "absent"))
    message = str(caught.value).splitlines()
    assert message[0].startswith("no Kubernetes cluster configured")
    assert "kind create cluster" in caught.value.hint


def test_an_api_server_that_does_not_answer_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = FakeApiServer.__new__(FakeApiServer)
    server.url = f"http://127.0.0.1:{port}"
    path = tmp_path / "kubeconfig"
    path.write_text(FakeApiServer.kubeconfig(server, "default"))
    with pytest.raises(ClusterUnreachable) as caught:
        ClusterTarget.connect(kubeconfig=str(path), timeout_s=2)
    text = str(caught.value)
    assert text.splitlines()[0] == f"no Kubernetes cluster reachable at http://127.0.0.1:{port}: [Errno 111] Connection refused"


# -- the CLI over the same fake API server ---------------------------------------------------

runner = CliRunner()


def test_cli_chaos_commands(api: FakeApiServer, kubeconfig: str) -> None:
    common = ["--release", RELEASE, "--kubeconfig", kubeconfig]
    result = runner.invoke(app, ["k8s", "chaos", "kill", "serving", *common])
    assert result.exit_code == 0, result.output
    assert "deleted 1 pod(s) of serving" in result.output
    result = runner.invoke(app, ["k8s", "chaos", "scale", "ingest", "1", *common])
    assert result.exit_code == 0 and "ingest: 3 → 1 replicas" in result.output
    result = runner.invoke(app, ["k8s", "rollout", "triptime:v2", *common])
    assert result.exit_code == 0 and "→ triptime:v2" in result.output
    result = runner.invoke(app, ["k8s", "chaos", "env", "producer", "GAMEDAY_PRODUCER__RATE", "80", *common])
    assert result.exit_code == 0 and "'80'" in result.output


def test_cli_without_a_cluster_exits_1_with_the_reason(tmp_path: Path, monkeypatch) -> None:
    from mlgameday.cli import main

    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setattr("sys.argv", ["gameday", "k8s", "chaos", "kill", "ingest", "--kubeconfig", str(tmp_path / "none")])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
