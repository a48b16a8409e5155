"""Policies over every rendered object, for every value set: pods are bounded, probed and
unprivileged; Services and NetworkPolicies select real pods; referenced ConfigMaps and
Secrets exist (or are the documented user-provided Secret); the network paths are the design's."""

from __future__ import annotations

from typing import Any

from .helpers import USER_PROVIDED_SECRETS, VALUE_SETS, of_kind, pod_spec, render

WORKLOADS = ("Deployment", "StatefulSet", "Job")


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _pods(objects: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """(workload, the labels of a pod it makes): a StatefulSet's pod i also gets its name as
    statefulset.kubernetes.io/pod-name (what the chart's per-broker Services select)."""
    pods = []
    for workload in of_kind(objects, *WORKLOADS):
        template = workload["spec"]["template"]["metadata"]["labels"]
        if workload["kind"] == "StatefulSet":
            pods += [(workload, {**template, "statefulset.kubernetes.io/pod-name": f"{workload['metadata']['name']}-{i}"})
                     for i in range(workload["spec"]["replicas"])]
        else:
            pods.append((workload, template))
    return pods


def _pod_labels(objects: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [labels for _, labels in _pods(objects)]


def test_every_container_is_bounded_probed_and_unprivileged(rendered) -> None:
    name, objects = rendered
    checked = 0
    for workload in of_kind(objects, *WORKLOADS):
        spec = pod_spec(workload)
        pod_context = spec.get("securityContext", {})
        assert spec.get("automountServiceAccountToken") is False, workload["metadata"]["name"]
        init = spec.get("initContainers", [])
        for container in init + spec["containers"]:
            where = f"{name}: {workload['kind']}/{workload['metadata']['name']}/{container['name']}"
            resources = container.get("resources", {})
            assert {"cpu", "memory"} <= set(resources.get("limits", {})), f"{where}: limits"
            assert {"cpu", "memory"} <= set(resources.get("requests", {})), f"{where}: requests"
            if workload["kind"] != "Job" and container not in init:  # an init container takes no probe
                assert "livenessProbe" in container and "readinessProbe" in container, f"{where}: probes"
            security = container.get("securityContext", {})
            run_as_non_root = security.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
            assert run_as_non_root is True, f"{where}: runAsNonRoot"
            user = security.get("runAsUser", pod_context.get("runAsUser"))
            assert isinstance(user, int) and user > 0, f"{where}: a numeric non-root user"
            assert security.get("allowPrivilegeEscalation") is False, f"{where}: privilege escalation"
            assert security.get("capabilities", {}).get("drop") == ["ALL"], f"{where}: capabilities"
            assert security.get("readOnlyRootFilesystem") is True, f"{where}: read-only root"
            writable = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v or "persistentVolumeClaim" in v}
            writable |= {t["metadata"]["name"] for t in workload["spec"].get("volumeClaimTemplates", [])}
            assert any(m["name"] in writable for m in container.get("volumeMounts", [])), \
                f"{where}: a read-only root needs a writable volume where the process writes"
            checked += 1
    assert checked >= 4


def test_service_probes_hit_the_real_endpoints() -> None:
    objects = render("default")
    probes = {}
    for workload in of_kind(objects, "Deployment"):
        container = pod_spec(workload)["containers"][0]
        probes[container["name"]] = (container["livenessProbe"].get("httpGet", {}).get("path"),
                                     container["readinessProbe"].get("httpGet", {}).get("path"),
                                     container["readinessProbe"].get("httpGet", {}).get("port"))
    for admin_service in ("producer", "ingest", "monitor"):
        assert probes[admin_service] == ("/healthz", "/ready", "admin")
    assert probes["serving"] == ("/livez", "/readyz", "http")


def test_every_service_selects_a_pod(rendered) -> None:
    name, objects = rendered
    pods = _pod_labels(objects)
    for service in of_kind(objects, "Service"):
        assert any(_matches(service["spec"]["selector"], labels) for labels in pods), \
            f"{name}: Service {service['metadata']['name']} selects no pod"
        ports = {p["name"] for w, labels in _pods(objects) for c in pod_spec(w)["containers"]
                 for p in c.get("ports", []) if _matches(service["spec"]["selector"], labels)}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports, f"{name}: {service['metadata']['name']} targets a missing port"


def test_every_network_policy_and_hpa_has_a_target(rendered) -> None:
    name, objects = rendered
    pods = _pod_labels(objects)
    for policy in of_kind(objects, "NetworkPolicy"):
        assert any(_matches(policy["spec"]["podSelector"]["matchLabels"], labels) for labels in pods), \
            f"{name}: NetworkPolicy {policy['metadata']['name']} selects no pod"
    deployments = {d["metadata"]["name"] for d in of_kind(objects, "Deployment")}
    for hpa in of_kind(objects, "HorizontalPodAutoscaler"):
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments


def test_every_pod_is_under_a_network_policy() -> None:
    objects = render("default")
    policies = [p["spec"]["podSelector"]["matchLabels"] for p in of_kind(objects, "NetworkPolicy")]
    for workload in of_kind(objects, *WORKLOADS):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert any(_matches(selector, labels) for selector in policies), workload["metadata"]["name"]


def test_referenced_config_maps_secrets_and_claims_exist(rendered) -> None:
    name, objects = rendered
    config_maps = {o["metadata"]["name"] for o in of_kind(objects, "ConfigMap")}
    secrets = {o["metadata"]["name"] for o in of_kind(objects, "Secret")} | USER_PROVIDED_SECRETS
    claims = {o["metadata"]["name"] for o in of_kind(objects, "PersistentVolumeClaim")}
    for workload in of_kind(objects, *WORKLOADS):
        spec = pod_spec(workload)
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps, f"{name}: {volume}"
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets, f"{name}: {volume}"
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims, f"{name}: {volume}"
        for container in spec["containers"]:
            for env in container.get("env", []):
                ref = env.get("valueFrom", {})
                if "configMapKeyRef" in ref:
                    assert ref["configMapKeyRef"]["name"] in config_maps
                if "secretKeyRef" in ref:
                    assert ref["secretKeyRef"]["name"] in secrets
    assert set(VALUE_SETS) >= {name}


def _allowed_egress(objects: list[dict[str, Any]], component: str) -> set[tuple[str, int]]:
    """(target component, port) pairs the component's NetworkPolicy lets it reach (DNS aside)."""
    policy = next(p for p in of_kind(objects, "NetworkPolicy")
                  if p["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == component)
    allowed = set()
    for rule in policy["spec"]["egress"]:
        for peer in rule.get("to", []):
            target = peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component")
            if target and "namespaceSelector" not in peer:
                allowed |= {(target, port["port"]) for port in rule["ports"]}
    return allowed


def test_network_paths_are_the_designs() -> None:
    objects = render("default")
    assert _allowed_egress(objects, "producer") == {("kafka", 9092)}
    assert _allowed_egress(objects, "ingest") == {("kafka", 9092), ("redis", 6379)}
    assert _allowed_egress(objects, "serving") == {("kafka", 9092), ("redis", 6379)}
    assert _allowed_egress(objects, "monitor") == {("kafka", 9092), ("serving", 3000)}
    assert _allowed_egress(objects, "redis") == set()
    # Every policy lets DNS out, and nothing else leaves to the outside.
    for policy in of_kind(objects, "NetworkPolicy"):
        dns = policy["spec"]["egress"][0]
        assert {p["port"] for p in dns["ports"]} == {53}
        assert all("to" in rule for rule in policy["spec"]["egress"])
    redis_policy = next(p for p in of_kind(objects, "NetworkPolicy") if p["metadata"]["name"].endswith("-redis"))
    allowed_in = {peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
                  for rule in redis_policy["spec"]["ingress"] for peer in rule["from"]}
    assert allowed_in == {"ingest", "serving", "trainer"}
