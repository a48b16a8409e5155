"""The single-node cluster's processes and their configuration files.

Control plane: etcd (Debian's etcd-server, loopback only), kube-apiserver on the node
address, kube-controller-manager and kube-scheduler on loopback. Node: a containerd of its
own (CRI plugin, its own socket and folders) with the CNI bridge plugins, the kubelet and
kube-proxy (iptables). What this machine needs that a stock node does not (see the repo's
notes on containers and Kubernetes): containerd may not lower oom_score_adj (root lacks
CAP_SYS_RESOURCE here), the kubelet runs on cgroup v1 with the cgroupfs driver, the API
server reaches the kubelet by its InternalIP with a client certificate, and the FORWARD
chain (DROP under Docker) lets the pods' bridge through.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import K8sError
from .layout import (API_PORT, BRIDGE, CLUSTER_DOMAIN, DNS_SERVICE_IP, ETCD_CLIENT_PORT, ETCD_PEER_PORT,
                     NODE_IP, NODE_NAME, PAUSE_IMAGE, POD_CIDR, RUN_DIR, SERVICE_CIDR, Paths)

CNI_BIN_DIRS = ("/usr/lib/cni", "/opt/cni/bin")
API_URL = f"https://{NODE_IP}:{API_PORT}"
ETCD_URL = f"http://127.0.0.1:{ETCD_CLIENT_PORT}"


@dataclass(frozen=True)
class ProcessSpec:
    """One long-running process of the cluster and how to tell it is ready."""

    name: str
    argv: list[str]
    ready_url: str | None = None        # answers 200 when ready (https ones with the admin cert)
    env: dict[str, str] = field(default_factory=dict)


def cni_bin_dir() -> str:
    for folder in CNI_BIN_DIRS:
        if Path(folder, "bridge").is_file():
            return folder
    raise K8sError("the CNI plugins are not installed (no bridge plugin in /usr/lib/cni or /opt/cni/bin)",
                   hint="apt-get install -y containernetworking-plugins")


def kubeconfig_text(paths: Paths, identity: str, server: str = API_URL) -> str:
    pki = paths.pki
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "gameday",
        "clusters": [{"name": "gameday", "cluster": {"server": server,
                                                    "certificate-authority": str(pki / "ca.crt")}}],
        "users": [{"name": identity, "user": {"client-certificate": str(pki / f"{identity}.crt"),
                                              "client-key": str(pki / f"{identity}.key")}}],
        "contexts": [{"name": "gameday", "context": {"cluster": "gameday", "user": identity,
                                                     "namespace": "default"}}],
    }, indent=2)


def containerd_config(paths: Paths) -> str:
    return f"""version = 2
root = "{paths.containerd_root}"
state = "{RUN_DIR / 'containerd'}"
oom_score = 0

[grpc]
  address = "{paths.containerd_socket}"

[ttrpc]
  address = "{paths.containerd_socket}.ttrpc"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  # root here lacks CAP_SYS_RESOURCE: runc must not try to lower a container's oom_score_adj
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{cni_bin_dir()}"
    conf_dir = "{paths.config / 'cni'}"
"""


def cni_config(paths: Paths) -> str:
    # No masquerading: the pods talk to each other and to the node, never past the machine.
    return json.dumps({
        "cniVersion": "0.4.0", "name": "gameday",
        "plugins": [
            {"type": "bridge", "bridge": BRIDGE, "isGateway": True, "ipMasq": False, "hairpinMode": True,
             "ipam": {"type": "host-local", "ranges": [[{"subnet": POD_CIDR, "gateway": NODE_IP}]],
                      "routes": [{"dst": "0.0.0.0/0"}], "dataDir": str(paths.cluster / "cni-ipam")}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ]}, indent=2)


def kubelet_config(paths: Paths) -> str:
    pki = paths.pki
    return json.dumps({
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
        "address": NODE_IP, "port": 10250, "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1", "healthzPort": 10248,
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                           "x509": {"clientCAFile": str(pki / "ca.crt")}},
        "authorization": {"mode": "Webhook"},
        "tlsCertFile": str(pki / "kubelet.crt"), "tlsPrivateKeyFile": str(pki / "kubelet.key"),
        # cgroup v1 and no systemd on these machines
        "cgroupDriver": "cgroupfs", "failCgroupV1": False, "failSwapOn": False,
        "clusterDNS": [DNS_SERVICE_IP], "clusterDomain": CLUSTER_DOMAIN,
        "containerRuntimeEndpoint": f"unix://{paths.containerd_socket}",
        "resolvConf": "/etc/resolv.conf",
        # No registry can be reached: an image garbage-collected could never come back.
        "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
        # Absolute floors, not shares: on a big disk shared with other work, 2% (5 GB of 252) was crossed by a
        # `make images`, and the eviction that followed deleted the node's images and kept CoreDNS off the node.
        "evictionHard": {"memory.available": "200Mi", "nodefs.available": "1Gi", "imagefs.available": "1Gi"},
        "serializeImagePulls": False, "maxPods": 110, "rotateCertificates": False,
        "protectKernelDefaults": False, "makeIPTablesUtilChains": True,
    }, indent=2)


def kube_proxy_config(paths: Paths) -> str:
    return json.dumps({
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(paths.config / "kube-proxy.kubeconfig")},
        "hostnameOverride": NODE_NAME, "mode": "iptables", "clusterCIDR": POD_CIDR,
        "healthzBindAddress": "127.0.0.1:10256", "metricsBindAddress": "127.0.0.1:10249",
        # NodePorts only on the node address, never on the machine's outward interface.
        "nodePortAddresses": [f"{NODE_IP}/32"],
        # leave the machine's conntrack sysctls alone (not writable here)
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
    }, indent=2)


def write_configs(paths: Paths) -> None:
    config = paths.config
    (config / "cni").mkdir(parents=True, exist_ok=True)
    files = {
        "containerd.toml": containerd_config(paths),
        "cni/10-gameday.conflist": cni_config(paths),
        "kubelet.yaml": kubelet_config(paths),
        "kube-proxy.yaml": kube_proxy_config(paths),
    }
    for identity in ("controller-manager", "scheduler", "kube-proxy", "kubelet-client"):
        files[f"{identity}.kubeconfig"] = kubeconfig_text(paths, identity)
    for name, text in files.items():
        (config / name).write_text(text)
    paths.kubeconfig.write_text(kubeconfig_text(paths, "admin"))
    paths.kubeconfig.chmod(0o600)


def processes(paths: Paths) -> list[ProcessSpec]:
    """Every process, in start order (stop in reverse)."""
    pki, config, binary = paths.pki, paths.config, paths.binary
    etcd = shutil.which("etcd")
    if not etcd:
        raise K8sError("etcd is not installed", hint="apt-get install -y etcd-server")
    containerd = shutil.which("containerd")
    if not containerd:
        raise K8sError("containerd is not installed", hint="apt-get install -y containerd runc")
    return [
        ProcessSpec("etcd", [
            etcd, "--name", "gameday", "--data-dir", str(paths.etcd_data),
            "--listen-client-urls", ETCD_URL, "--advertise-client-urls", ETCD_URL,
            "--listen-peer-urls", f"http://127.0.0.1:{ETCD_PEER_PORT}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{ETCD_PEER_PORT}",
            "--initial-cluster", f"gameday=http://127.0.0.1:{ETCD_PEER_PORT}",
            "--listen-metrics-urls", "http://127.0.0.1:23810",
            "--quota-backend-bytes", str(2 * 1024**3), "--log-level", "warn"],
            ready_url=f"{ETCD_URL}/health"),
        ProcessSpec("kube-apiserver", [
            str(binary("kube-apiserver")), f"--etcd-servers={ETCD_URL}",
            f"--bind-address={NODE_IP}", f"--advertise-address={NODE_IP}", f"--secure-port={API_PORT}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
            f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
            f"--kubelet-certificate-authority={pki / 'ca.crt'}",
            "--kubelet-preferred-address-types=InternalIP,Hostname",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            f"--service-account-issuer=https://kubernetes.default.svc.{CLUSTER_DOMAIN}",
            "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
            "--allow-privileged=true", "--profiling=false", "--event-ttl=30m"],
            ready_url=f"{API_URL}/readyz"),
        ProcessSpec("kube-controller-manager", [
            str(binary("kube-controller-manager")), f"--kubeconfig={config / 'controller-manager.kubeconfig'}",
            f"--authentication-kubeconfig={config / 'controller-manager.kubeconfig'}",
            f"--authorization-kubeconfig={config / 'controller-manager.kubeconfig'}",
            "--bind-address=127.0.0.1", "--secure-port=10257", "--leader-elect=false",
            # the CNI's host-local IPAM gives the pods their addresses: no per-node CIDR to allocate
            "--controllers=*,-nodeipam", "--use-service-account-credentials=true",
            f"--service-account-private-key-file={pki / 'sa.key'}", f"--root-ca-file={pki / 'ca.crt'}",
            f"--cluster-signing-cert-file={pki / 'ca.crt'}", f"--cluster-signing-key-file={pki / 'ca.key'}",
            "--horizontal-pod-autoscaler-sync-period=10s", "--profiling=false"],
            ready_url="https://127.0.0.1:10257/healthz"),
        ProcessSpec("kube-scheduler", [
            str(binary("kube-scheduler")), f"--kubeconfig={config / 'scheduler.kubeconfig'}",
            f"--authentication-kubeconfig={config / 'scheduler.kubeconfig'}",
            f"--authorization-kubeconfig={config / 'scheduler.kubeconfig'}",
            "--bind-address=127.0.0.1", "--secure-port=10259", "--leader-elect=false", "--profiling=false"],
            ready_url="https://127.0.0.1:10259/healthz"),
        ProcessSpec("containerd", [containerd, "--config", str(config / "containerd.toml")]),
        ProcessSpec("kubelet", [
            str(binary("kubelet")), f"--config={config / 'kubelet.yaml'}",
            f"--kubeconfig={config / 'kubelet-client.kubeconfig'}", f"--root-dir={paths.kubelet_root}",
            f"--hostname-override={NODE_NAME}", f"--node-ip={NODE_IP}",
            "--node-labels=mlgameday.dev/node=local"],
            ready_url="http://127.0.0.1:10248/healthz"),
        ProcessSpec("kube-proxy", [str(binary("kube-proxy")), f"--config={config / 'kube-proxy.yaml'}"],
                    ready_url="http://127.0.0.1:10256/healthz"),
    ]
