"""The stack on Kubernetes: the Helm chart driven by `gameday k8s` (helm.py) and chaos on a
cluster through the Kubernetes API (cluster.py, `ClusterTarget`, shared with the drills'
`--target k8s`)."""

from .cluster import ClusterTarget, ComponentState
from .errors import ClusterUnreachable, K8sError
from .helm import ChartRelease

__all__ = ["ChartRelease", "ClusterTarget", "ClusterUnreachable", "ComponentState", "K8sError"]
