"""A release of the chart on Kubernetes (k8s/cluster.py ClusterTarget) as a drill target.

Process faults map to the cluster's verbs (kill and restart delete pods, stop and start scale to
zero and back). A cluster does not expose the services' admin HTTP: `connect_release` forwards the
release's admin Services and its broker's host listener to 127.0.0.1 (`kubectl port-forward`) and
reads the release's admin key from its Secret; or pass forwarded addresses yourself as
admin_urls={"producer": "http://127.0.0.1:18080", ...} with settings.admin_token (GAMEDAY_ADMIN_TOKEN).
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from ...config import Settings
from ...errors import StackError
from .base import State, Target

# The cluster's words for a workload's state (k8s/cluster.py _workload_state and Jobs).
STATES = {"ready": State.UP, "running": State.UP, "degraded": State.DEGRADED, "down": State.DEAD,
          "scaled to zero": State.STOPPED, "succeeded": State.DONE, "failed": State.DEAD}


class ClusterDrillTarget(Target):
    kind = "k8s"
    # The chart's services (it runs no rider app: see helm/mlgameday).
    required = ("kafka", "producer", "ingest", "serving", "monitor")

    def __init__(self, cluster: Any, settings: Settings, admin_urls: dict[str, str] | None = None,
                 addresses: Any = None) -> None:
        super().__init__(settings)
        self.cluster = cluster
        self.admin_urls = admin_urls or {}
        self.addresses = addresses  # k8s/forward.py ReleaseAddresses: closed with the target

    def close(self) -> None:
        if self.addresses is not None:
            self.addresses.close()

    def components(self) -> dict[str, State]:
        return {name: STATES.get(state, State.DEAD) for name, state in self.cluster.components().items()}

    def chaos(self, action: str, component: str) -> str:
        return self.cluster.chaos(action, component)

    def endpoint(self, component: str, name: str) -> str | None:
        return self.admin_urls.get(component) if name == "http" else None

    def admin_url(self, component: str) -> str:
        if component in self.admin_urls:
            return self.admin_urls[component]
        raise StackError(f"{component}'s admin endpoint is not reachable on the cluster from here",
                         hint=f"kubectl port-forward the {component} service's admin port and pass "
                              f"--admin {component}=http://127.0.0.1:PORT")


def connect_release(settings: Settings, cluster: Any, kubeconfig: str | None = None,
                    context: str | None = None) -> ClusterDrillTarget:
    """The release as a drill target reached from this machine: its admin Services and broker forwarded
    (open until close()), the drill's settings given the release's admin key and that broker."""
    from ...k8s.forward import forward_release
    from ...k8s.install import read_admin_token

    token = read_admin_token(cluster.core, cluster.namespace, cluster.release)
    log_dir = settings.run_path / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    addresses = forward_release(cluster, kubeconfig, context, log_dir)
    update: dict[str, Any] = {"admin_token": SecretStr(token)}
    if addresses.kafka_bootstrap:
        update["kafka"] = settings.kafka.model_copy(update={"mode": "external", "bootstrap": addresses.kafka_bootstrap})
    return ClusterDrillTarget(cluster, settings.model_copy(update=update), addresses.admin_urls, addresses)
