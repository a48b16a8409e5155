"""A cluster to install into: the user's, when their kubeconfig reaches one; else this machine's own.

`gameday k8s cluster up` asks the kubeconfig in effect ($KUBECONFIG or ~/.kube/config) first:
kind, minikube, k3d or a cloud cluster that answers is used as it is. Only without one is
the single-node cluster built and started (local/cluster.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from .errors import ClusterUnreachable
from .local.cluster import LocalCluster


def reachable_user_cluster() -> str | None:
    """The API server of the user's own kubeconfig when it answers, else None."""
    from .cluster import ClusterTarget

    path = os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
    if not os.environ.get("KUBECONFIG") and not Path(path).exists():
        return None
    try:
        target = ClusterTarget.connect(kubeconfig=path, timeout_s=3)
    except ClusterUnreachable:
        return None
    return target.core.api_client.configuration.host


def cluster_up(say: Callable[[str], None], prefer_local: bool = False) -> str:
    """Make sure a cluster answers; returns a line saying which one."""
    if not prefer_local and (host := reachable_user_cluster()):
        return f"using your cluster at {host} (KUBECONFIG); `--local` runs this machine's own instead"
    report = LocalCluster().up(say)
    built = f"built in {report.build_s / 60:.1f} min, " if report.build_s else ""
    return (f"single-node cluster up ({built}started in {report.start_s:.1f} s); "
            f"kubeconfig: {report.kubeconfig}\n  export KUBECONFIG={report.kubeconfig}   # for kubectl and helm")
