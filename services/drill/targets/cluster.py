"""A release of the chart on Kubernetes (k8s/cluster.py ClusterTarget) as a drill target.

Process faults map to the cluster's verbs (kill and restart delete pods, stop and start scale to
zero and back). A cluster does not expose the services' admin HTTP: pass the forwarded addresses
(`kubectl port-forward`) as admin_urls={"producer": "http://127.0.0.1:18080", ...}, and the
release's admin key (settings.admin_token, GAMEDAY_ADMIN_TOKEN).
"""

from __future__ import annotations

from typing import Any

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

    def __init__(self, cluster: Any, settings: Settings, admin_urls: dict[str, str] | None = None) -> None:
        super().__init__(settings)
        self.cluster = cluster
        self.admin_urls = admin_urls or {}

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
