"""Errors of the Kubernetes layer (GamedayError: printed once by the CLI, with a hint)."""

from ..errors import GamedayError

NO_CLUSTER_HINT = ("start one (`kind create cluster`) or point KUBECONFIG / --kubeconfig and --context "
                   "at yours; `gameday k8s render` works without a cluster")


class K8sError(GamedayError):
    kind = "K8sError"


class ClusterUnreachable(K8sError):
    """No kubeconfig, or its API server does not answer."""

    kind = "NoCluster"

    def __init__(self, message: str) -> None:
        super().__init__(message, hint=NO_CLUSTER_HINT)
