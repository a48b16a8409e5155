"""The cluster lane (`make test-k8s`): a real cluster, this machine's own unless KUBECONFIG
reaches another. Left out of `make test` (marker `cluster`): the cluster's first build is
long (see the README's Kubernetes figures)."""

from __future__ import annotations

import uuid
from typing import Any, Iterator

import pytest

from mlgameday.config import load_settings
from mlgameday.drill.profile import release_values
from mlgameday.k8s.helm import DEFAULT_RELEASE, ChartRelease, kubeconfig_path
from mlgameday.k8s.install import InstallReport, install
from mlgameday.k8s.provision import cluster_up

# The lane's release of the chart (`gameday k8s install -n gameday-lane` by hand).
RELEASE_NAMESPACE = "gameday-lane"


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


@pytest.fixture(scope="session")
def release(kube: Any, tmp_path_factory: pytest.TempPathFactory) -> InstallReport:
    """The chart installed (or upgraded) as `gameday k8s install` does: every pod Ready, the Jobs done."""
    from kubernetes import client

    settings = load_settings(run_dir=tmp_path_factory.mktemp("install-run"))
    chart = ChartRelease(release=DEFAULT_RELEASE, namespace=RELEASE_NAMESPACE,
                         set_values=release_values())  # as `gameday k8s install` (--for-drills)
    report = install(chart, client.CoreV1Api(kube), settings, lambda line: print(f"  · {line}", flush=True),
                     timeout="20m")
    print(f"  · installed: images loaded in {report.load_s:.1f} s, every pod Ready {report.install_s:.1f} s after helm")
    return report
