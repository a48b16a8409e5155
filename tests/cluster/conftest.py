"""The cluster lane (`make test-k8s`): a real cluster, this machine's own unless KUBECONFIG
reaches another. Left out of `make test` (marker `cluster`): the cluster's first build is
long (see the README's Kubernetes figures)."""

from __future__ import annotations

import uuid
from typing import Any, Iterator

import pytest

from mlgameday.k8s.helm import kubeconfig_path
from mlgameday.k8s.provision import cluster_up


@pytest.fixture(scope="session")
def kube() -> Any:
    """An API client of a cluster that answers (brought up when none does)."""
    from kubernetes import client, config

    print(cluster_up(lambda line: print(f"  · {line}", flush=True)))
    return config.new_client_from_config(config_file=kubeconfig_path())


@pytest.fixture
def namespace(kube: Any) -> Iterator[str]:
    """A namespace of its own per test, deleted after it."""
    from kubernetes import client

    name = f"test-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube)
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)
