"""Where the single-node cluster lives and which addresses it uses: one place for every name.

Everything is kept outside the work tree, under ~/.cache/mlgameday/k8s (or
$GAMEDAY_K8S_HOME): the Go build (`v<version>/src` and `v<version>/bin`, shared by every
clone) and the running cluster (`cluster/`: certificates, etcd, containerd, kubelet, logs,
the kubeconfig). There is one such cluster per machine: its node network (a bridge and
iptables rules) is the machine's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

KUBERNETES_VERSION = "1.37.2"
# The staging modules (k8s.io/api, client-go, ...) are released as v0.<minor>.<patch>.
STAGING_VERSION = "0." + KUBERNETES_VERSION.split(".", 1)[1]
COREDNS_VERSION = "1.15.0"

NODE_NAME = "gameday-node"
# The node's bridge: its address is the node address (API server, kubelet) and the pods'
# gateway. Nothing binds to the machine's outward interface.
BRIDGE = "gameday0"
POD_CIDR = "10.244.0.0/24"
NODE_IP = "10.244.0.1"
SERVICE_CIDR = "10.96.0.0/16"
API_SERVICE_IP = "10.96.0.1"   # the `kubernetes` Service: the first address of the range
DNS_SERVICE_IP = "10.96.0.10"
CLUSTER_DOMAIN = "cluster.local"
API_PORT = 6443
# etcd on loopback, off its usual ports (another etcd on the machine is left alone).
ETCD_CLIENT_PORT = 23790
ETCD_PEER_PORT = 23800
# containerd's run state and socket need a short path (unix socket paths are ≤ 107 bytes).
RUN_DIR = Path("/run/gameday-k8s")
CONTAINERD_NAMESPACE = "k8s.io"
PAUSE_IMAGE = "mlgameday.local/pause:1"
COREDNS_IMAGE = f"mlgameday.local/coredns:{COREDNS_VERSION}"
PROBE_IMAGE = "mlgameday.local/probe:1"
STORAGE_CLASS = "local-path"
PROVISIONER_NAME = "mlgameday.local/local-path"

# Binaries built from the Go module proxy, in build order (the last one takes longest).
BINARIES = ("pause", "probe", "coredns", "kube-proxy", "kube-scheduler", "kubelet", "kubectl",
            "kube-controller-manager", "kube-apiserver")


def k8s_home() -> Path:
    return Path(os.environ.get("GAMEDAY_K8S_HOME") or Path.home() / ".cache" / "mlgameday" / "k8s")


@dataclass(frozen=True)
class Paths:
    """The folders and files of the build and of the running cluster."""

    home: Path

    @classmethod
    def default(cls) -> "Paths":
        return cls(k8s_home())

    # -- the build (per version, shared) --
    @property
    def build(self) -> Path:
        return self.home / f"v{KUBERNETES_VERSION}"

    @property
    def src(self) -> Path:
        return self.build / "src"

    @property
    def bin(self) -> Path:
        return self.build / "bin"

    def binary(self, name: str) -> Path:
        return self.bin / name

    # -- the running cluster --
    @property
    def cluster(self) -> Path:
        return self.home / "cluster"

    @property
    def pki(self) -> Path:
        return self.cluster / "pki"

    @property
    def logs(self) -> Path:
        return self.cluster / "logs"

    @property
    def pids(self) -> Path:
        return self.cluster / "pids"

    @property
    def etcd_data(self) -> Path:
        return self.cluster / "etcd"

    @property
    def containerd_root(self) -> Path:
        return self.cluster / "containerd"

    @property
    def kubelet_root(self) -> Path:
        return self.cluster / "kubelet"

    @property
    def volumes(self) -> Path:
        """Where the local-path provisioner makes each claim's folder."""
        return self.cluster / "volumes"

    @property
    def config(self) -> Path:
        return self.cluster / "config"

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig a user (and `gameday k8s ...`) points at."""
        return self.cluster / "kubeconfig"

    @property
    def containerd_socket(self) -> Path:
        return RUN_DIR / "containerd.sock"
