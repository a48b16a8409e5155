"""The single-node cluster works as a cluster: a Ready node, pods that resolve Service names
through CoreDNS and reach the API server's ClusterIP through kube-proxy, claims that bind
through the local-path provisioner and keep what a pod writes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from mlgameday.k8s.local.cluster import LocalCluster
from mlgameday.k8s.local.layout import API_SERVICE_IP, DNS_SERVICE_IP, PROBE_IMAGE, STORAGE_CLASS

pytestmark = [pytest.mark.cluster, pytest.mark.integration]


def run_probe(kube: Any, namespace: str, name: str, args: list[str], volumes: list | None = None,
              mounts: list | None = None, timeout_s: float = 90) -> str:
    """Run the probe image once as a pod; returns its log; fails unless it succeeds."""
    from kubernetes import client

    core = client.CoreV1Api(kube)
    core.create_namespaced_pod(namespace, {
        "metadata": {"name": name},
        "spec": {"restartPolicy": "Never", "volumes": volumes or [],
                 "containers": [{"name": "probe", "image": PROBE_IMAGE, "imagePullPolicy": "Never", "args": args,
                                 "volumeMounts": mounts or []}]}})
    deadline = time.monotonic() + timeout_s
    phase = None
    while time.monotonic() < deadline:
        phase = core.read_namespaced_pod(name, namespace).status.phase
        if phase in ("Succeeded", "Failed"):
            break
        time.sleep(0.5)
    log = core.read_namespaced_pod_log(name, namespace) if phase in ("Succeeded", "Failed") else ""
    assert phase == "Succeeded", f"probe {args} ended {phase}: {log}"
    return log


def test_the_node_is_ready_and_every_process_runs(kube: Any) -> None:
    status = LocalCluster().status()
    assert status["running"], status["processes"]
    assert status["node"]["ready"] and not status["node"]["unschedulable"], status["node"]
    # the control plane and the node together: etcd, the API server, two controllers, containerd, kubelet, kube-proxy
    assert status["memory_mb"] > 300, status


def test_service_names_resolve_in_pods_and_the_api_service_answers(kube: Any, namespace: str) -> None:
    log = run_probe(kube, namespace, "dns", ["resolve", "kubernetes.default.svc.cluster.local", "kubernetes.default",
                                             "kube-dns.kube-system"])
    assert f"kubernetes.default.svc.cluster.local: [{API_SERVICE_IP}]" in log, log
    assert f"kubernetes.default: [{API_SERVICE_IP}]" in log, log  # the pod's search path
    assert f"kube-dns.kube-system: [{DNS_SERVICE_IP}]" in log, log
    # A ClusterIP, through kube-proxy's rules, to the API server on the node address.
    assert "kubernetes.default:443: connected" in run_probe(kube, namespace, "dial", ["dial", "kubernetes.default:443"])


def test_a_name_that_does_not_exist_does_not_resolve(kube: Any, namespace: str) -> None:
    from kubernetes import client

    core = client.CoreV1Api(kube)
    core.create_namespaced_pod(namespace, {"metadata": {"name": "nx"}, "spec": {"restartPolicy": "Never", "containers": [
        {"name": "probe", "image": PROBE_IMAGE, "imagePullPolicy": "Never", "args": ["resolve", "nothing-here.default"]}]}})
    deadline = time.monotonic() + 60
    while core.read_namespaced_pod("nx", namespace).status.phase not in ("Succeeded", "Failed"):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert core.read_namespaced_pod("nx", namespace).status.phase == "Failed"


def test_a_claim_binds_keeps_what_a_pod_wrote_and_is_deleted_with_its_folder(kube: Any, namespace: str) -> None:
    from kubernetes import client

    core = client.CoreV1Api(kube)
    core.create_namespaced_persistent_volume_claim(namespace, {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
    run_probe(kube, namespace, "writer", ["write", "/data/hello.txt", "written by a pod"],
              volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
              mounts=[{"name": "data", "mountPath": "/data"}])
    claim = core.read_namespaced_persistent_volume_claim("data", namespace)
    assert claim.status.phase == "Bound" and claim.spec.storage_class_name == STORAGE_CLASS
    volume = core.read_persistent_volume(claim.spec.volume_name)
    folder = Path(volume.spec.host_path.path)
    assert (folder / "hello.txt").read_text() == "written by a pod"

    core.delete_namespaced_pod("writer", namespace)
    core.delete_namespaced_persistent_volume_claim("data", namespace)
    deadline = time.monotonic() + 60
    while folder.exists() or _exists(core, claim.spec.volume_name):
        assert time.monotonic() < deadline, "the released volume and its folder were not deleted"
        time.sleep(0.5)


def _exists(core: Any, volume: str) -> bool:
    from kubernetes.client.exceptions import ApiException

    try:
        core.read_persistent_volume(volume)
        return True
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
