"""Chart helpers: Helm (PATH or ~/.local/bin, via the product's own finder) and the chart
rendered once per value set. No Kubernetes cluster exists here: the chart is linted,
rendered and validated against the Kubernetes schemas; the API layer runs against a fake
API server (fake_apiserver.py)."""

from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlgameday.errors import MissingToolError
from mlgameday.k8s.helm import CHART_DIR, find_helm

# A version kubernetes-validate bundles schemas for, and what Helm renders for.
KUBE_VERSION = "1.34.0"
RELEASE = "gd"
NAMESPACE = "gameday"

# The value sets every structural test runs over.
VALUE_SETS: dict[str, list[str]] = {
    "default": [],
    "redis-off": ["redis.enabled=false"],
    "kafka-3": ["kafka.replicas=3", "ingest.replicas=3", "kafka.partitions=6"],
    "monitoring": ["monitoring.serviceMonitor.enabled=true", "monitoring.prometheusRule.enabled=true",
                   "monitoring.grafanaDashboard.enabled=true", "networkPolicy.adminFrom[0].namespaceSelector.matchLabels.name=monitoring"],
    "external-kafka-auth": ["kafka.enabled=false", "kafka.external.bootstrap=broker-1.example:9094\\,broker-2.example:9094",
                            "kafka.auth.existingSecret=kafka-client", "runDir.persistence.enabled=false",
                            "serving.autoscaling.enabled=false", "serving.model=triptime:v2"],
    # What `gameday k8s install` adds on its own cluster: each image's ID (an image rebuilt under its tag).
    "image-ids": ["image.id=sha256:a1", "kafka.image.id=sha256:k1", "redis.image.id=sha256:r1"],
}
# Secrets the chart reads but never creates (documented: kafka.auth.existingSecret).
USER_PROVIDED_SECRETS = {"kafka-client"}


def helm_binary() -> str:
    try:
        return find_helm()
    except MissingToolError as exc:  # a failure, not a skip: the chart tests need Helm
        pytest.fail(f"{exc} (run .ci/install-helm)")


def run_helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([helm_binary(), *args], capture_output=True, text=True, timeout=120)


@lru_cache(maxsize=None)
def _render(sets: tuple[str, ...]) -> tuple[dict[str, Any], ...]:
    args = ["template", RELEASE, str(CHART_DIR), "--namespace", NAMESPACE, "--kube-version", KUBE_VERSION]
    for assignment in sets:
        args += ["--set", assignment]
    done = run_helm(*args)
    assert done.returncode == 0, done.stderr
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def render(value_set: str) -> list[dict[str, Any]]:
    """The objects of the chart rendered with a named value set (rendered once per session)."""
    return list(_render(tuple(VALUE_SETS[value_set])))


def of_kind(objects: list[dict[str, Any]], *kinds: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] in kinds]


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]


CHART = Path(CHART_DIR)
