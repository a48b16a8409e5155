"""`gameday k8s cluster up|status|down`: a single-node Kubernetes on this machine.

up: check what the node needs (root, cgroups, the OS packages), build the binaries when
their stamp is stale (build.py), make the certificates (pki.py), the node's bridge and
FORWARD rules, then start each process (node.py) and wait for it, import the node's own
images, apply the add-ons (CoreDNS, the default StorageClass), start the provisioner, and
wait until the node is Ready and DNS answers. A second `up` starts only what is not running.
down: cordon the node and delete its pods (so the kubelet tears each one down through the
CNI, releasing its address), then stop the processes in reverse order. `--wipe` also
deletes the cluster's data (etcd, volumes, containerd's images): the build stays.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import K8sError
from . import build, node, pki
from .addons import ADDONS
from .images import NodeImages, binary_image_archive
from .layout import (BRIDGE, COREDNS_IMAGE, KUBERNETES_VERSION, NODE_IP, NODE_NAME, PAUSE_IMAGE, POD_CIDR,
                     PROBE_IMAGE, RUN_DIR, SERVICE_CIDR, Paths)

Say = Callable[[str], None]
PROVISIONER = "local-path-provisioner"
STOP_GRACE_S = 10.0


@dataclass
class ProcessState:
    name: str
    pid: int | None
    running: bool
    rss_mb: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class UpReport:
    build_s: float
    start_s: float
    started: list[str]
    kubeconfig: str


def preflight() -> list[str]:
    """What this machine lacks to run the node; empty when nothing."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (the node sets up a bridge, iptables rules, mounts and cgroups)")
    if not (Path("/sys/fs/cgroup/memory").is_dir() or Path("/sys/fs/cgroup/cgroup.controllers").is_file()):
        missing.append("cgroups (no memory controller under /sys/fs/cgroup)")
    for tool, package in (("etcd", "etcd-server"), ("containerd", "containerd"), ("runc", "runc"),
                          ("iptables", "iptables"), ("ip", "iproute2"), ("openssl", "openssl")):
        if not _which(tool):
            missing.append(f"{tool} (apt-get install -y {package})")
    if not any(Path(d, "bridge").is_file() for d in node.CNI_BIN_DIRS):
        missing.append("the CNI plugins (apt-get install -y containernetworking-plugins)")
    return missing


def _which(tool: str) -> str | None:
    from shutil import which
    return which(tool) or which(tool, path="/usr/sbin:/sbin")


class LocalCluster:
    def __init__(self, paths: Paths | None = None) -> None:
        self.paths = paths or Paths.default()

    # -- processes ---------------------------------------------------------------------------

    def _pid_file(self, name: str) -> Path:
        return self.paths.pids / f"{name}.pid"

    def _pid(self, name: str) -> int | None:
        """The pid of a process of ours that is still running (its command line checked)."""
        import psutil

        try:
            pid = int(self._pid_file(name).read_text().split()[0])
            process = psutil.Process(pid)
            if process.status() == psutil.STATUS_ZOMBIE:
                return None
            expected = self._pid_file(name).read_text().split(maxsplit=1)[1].strip()
            if process.cmdline()[:1] == [expected]:
                return pid
            # Just started: the child may not have exec'd the program yet.
            return pid if time.time() - process.create_time() < 2.0 else None
        except (OSError, ValueError, IndexError, psutil.Error):
            return None

    def _start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> int:
        self.paths.logs.mkdir(parents=True, exist_ok=True)
        self.paths.pids.mkdir(parents=True, exist_ok=True)
        with open(self.paths.logs / f"{name}.log", "ab") as log:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True, env={**os.environ, **(env or {})},
                                       cwd=self.paths.cluster)
        self._pid_file(name).write_text(f"{process.pid} {argv[0]}\n")
        return process.pid

    def _stop(self, name: str) -> bool:
        import psutil

        from ...runtime.stop import stop_process

        pid = self._pid(name)
        if pid is None:
            self._pid_file(name).unlink(missing_ok=True)
            return False
        process = psutil.Process(pid)
        stop_process(process, STOP_GRACE_S)
        self._pid_file(name).unlink(missing_ok=True)
        return True

    def process_names(self) -> list[str]:
        return [spec.name for spec in node.processes(self.paths)] + [PROVISIONER]

    def processes(self) -> list[ProcessState]:
        import psutil

        states = []
        for name in self.process_names():
            pid = self._pid(name)
            rss = 0.0
            if pid:
                try:
                    rss = psutil.Process(pid).memory_info().rss / 1e6
                except psutil.Error:
                    pass
            states.append(ProcessState(name, pid, pid is not None, round(rss, 1)))
        return states

    def running(self) -> bool:
        return all(state.running for state in self.processes())

    # -- up ----------------------------------------------------------------------------------

    def build_binaries(self, say: Say) -> float:
        """Only the binaries (what `up` does first): CI starts this early, beside other work, because a cold
        build is long. Returns the seconds spent (0 when they were built already)."""
        return build.ensure_binaries(self.paths, say)

    def up(self, say: Say) -> UpReport:
        missing = preflight()
        if missing:
            raise K8sError("this machine cannot run the single-node cluster: missing " + "; ".join(missing),
                           hint="install what is named, or point KUBECONFIG at a cluster you have")
        build_s = self.build_binaries(say)
        started_at = time.monotonic()
        for folder in (self.paths.cluster, self.paths.volumes, self.paths.config):
            folder.mkdir(parents=True, exist_ok=True)
        pki.ensure_pki(self.paths.pki)
        node.write_configs(self.paths)
        self._network()
        started: list[str] = []
        for spec in node.processes(self.paths):
            if self._pid(spec.name) is None:
                say(f"starting {spec.name}")
                self._start(spec.name, spec.argv, spec.env)
                started.append(spec.name)
            self._wait_ready(spec, say)
            if spec.name == "containerd":
                self._import_node_images(say)
        api = self.api()
        self._wait_node_ready(api, say)
        self._uncordon(api)
        self.apply(ADDONS)
        if self._pid(PROVISIONER) is None:
            self._start(PROVISIONER, [sys.executable, "-m", "mlgameday.k8s.local.provisioner",
                                      str(self.paths.kubeconfig), str(self.paths.volumes)])
            started.append(PROVISIONER)
        self._wait_dns(api, say)
        start_s = time.monotonic() - started_at
        say(f"cluster ready in {start_s:.1f} s: kubeconfig {self.paths.kubeconfig}")
        return UpReport(build_s, start_s, started, str(self.paths.kubeconfig))

    def _network(self) -> None:
        """The node's bridge (its address is the node's), a route keeping Service addresses on
        this machine, and FORWARD rules for the pods' bridge."""
        if _run(["ip", "link", "show", BRIDGE], check=False).returncode != 0:
            _run(["ip", "link", "add", BRIDGE, "type", "bridge"])
        prefix = POD_CIDR.split("/")[1]
        if f"{NODE_IP}/{prefix}" not in _run(["ip", "-4", "-o", "addr", "show", BRIDGE]).stdout:
            _run(["ip", "addr", "add", f"{NODE_IP}/{prefix}", "dev", BRIDGE])
        _run(["ip", "link", "set", BRIDGE, "up"])
        _run(["ip", "route", "replace", SERVICE_CIDR, "dev", BRIDGE, "src", NODE_IP])
        for direction in ("-i", "-o"):
            rule = ["FORWARD", direction, BRIDGE, "-j", "ACCEPT"]
            if _run(["iptables", "-C", *rule], check=False).returncode != 0:
                _run(["iptables", "-I", *rule])
        bridge_nf = Path("/proc/sys/net/bridge/bridge-nf-call-iptables")
        if bridge_nf.exists() and bridge_nf.read_text().strip() != "1":
            bridge_nf.write_text("1\n")  # Services between pods of one bridge go through iptables
        RUN_DIR.mkdir(parents=True, exist_ok=True)

    def _wait_ready(self, spec: node.ProcessSpec, say: Say, timeout_s: float = 120.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._pid(spec.name) is None:
                raise K8sError(f"{spec.name} exited while starting: {self._log_tail(spec.name)}",
                               hint=f"its log is {self.paths.logs / (spec.name + '.log')}")
            if spec.ready_url is None:
                if spec.name == "containerd" and self.paths.containerd_socket.exists():
                    try:
                        NodeImages(self.paths.containerd_socket).names()
                        return
                    except K8sError:
                        pass
            else:
                try:
                    with httpx.Client(verify=self._tls(spec.ready_url), timeout=2.0) as client:
                        if client.get(spec.ready_url).status_code == 200:
                            return
                except httpx.HTTPError:
                    pass
            time.sleep(0.3)
        raise K8sError(f"{spec.name} was not ready within {timeout_s:.0f} s: {self._log_tail(spec.name)}",
                       hint=f"its log is {self.paths.logs / (spec.name + '.log')}")

    def _tls(self, url: str) -> ssl.SSLContext:
        """The admin's client certificate; the API server checked against the cluster's CA (the
        controllers' self-signed loopback endpoints are not)."""
        context = ssl.create_default_context(cafile=str(self.paths.pki / "ca.crt"))
        if NODE_IP not in url:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        context.load_cert_chain(str(self.paths.pki / "admin.crt"), str(self.paths.pki / "admin.key"))
        return context

    def _log_tail(self, name: str, lines: int = 4) -> str:
        try:
            text = (self.paths.logs / f"{name}.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(line[:240] for line in text[-lines:])

    def _import_node_images(self, say: Say) -> None:
        images = NodeImages(self.paths.containerd_socket)
        for ref, binary, entrypoint in ((PAUSE_IMAGE, "pause", ["/pause"]), (PROBE_IMAGE, "probe", ["/probe"]),
                                        (COREDNS_IMAGE, "coredns", ["/coredns"])):
            if not images.has(ref):
                say(f"importing {ref} into the node")
                archive = binary_image_archive(self.paths.binary(binary), ref, entrypoint,
                                               self.paths.cluster / "images" / f"{binary}.tar")
                images.import_archive(archive)

    def api(self) -> Any:
        from kubernetes import client, config

        return client.CoreV1Api(config.new_client_from_config(config_file=str(self.paths.kubeconfig)))

    def kubectl(self, *args: str, stdin: str | None = None, timeout: float = 120) -> str:
        done = subprocess.run([str(self.paths.binary("kubectl")), f"--kubeconfig={self.paths.kubeconfig}", *args],
                              input=stdin, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise K8sError(f"kubectl {' '.join(args[:2])} failed: {done.stderr.strip()[:400]}")
        return done.stdout

    def apply(self, manifests: str) -> None:
        self.kubectl("apply", "-f", "-", stdin=manifests)

    def _wait_node_ready(self, api: Any, say: Say, timeout_s: float = 120.0) -> None:
        say(f"waiting for node {NODE_NAME} to be Ready")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                conditions = api.read_node(NODE_NAME).status.conditions or []
                if any(c.type == "Ready" and c.status == "True" for c in conditions):
                    return
            except Exception:  # not registered yet
                pass
            time.sleep(0.5)
        raise K8sError(f"node {NODE_NAME} not Ready within {timeout_s:.0f} s: {self._log_tail('kubelet')}",
                       hint=f"see {self.paths.logs / 'kubelet.log'} and {self.paths.logs / 'containerd.log'}")

    def _uncordon(self, api: Any) -> None:
        api.patch_node(NODE_NAME, {"spec": {"unschedulable": False}})

    def _wait_dns(self, api: Any, say: Say, timeout_s: float = 120.0) -> None:
        say("waiting for CoreDNS")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            pods = api.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items
            for pod in pods:
                statuses = pod.status.container_statuses or []
                if statuses and all(s.ready for s in statuses):
                    return
            time.sleep(0.5)
        raise K8sError(f"CoreDNS not ready within {timeout_s:.0f} s{node_trouble(api)}",
                       hint=f"kubectl --kubeconfig {self.paths.kubeconfig} -n kube-system describe pods")

    # -- down --------------------------------------------------------------------------------

    def down(self, say: Say, wipe: bool = False) -> list[str]:
        stopped: list[str] = []
        if self._pid("kube-apiserver") and self._pid("kubelet"):
            self._drain(say)
        for name in reversed(self.process_names()):
            if name == "containerd":
                self._kill_leftover_tasks()
            if self._stop(name):
                say(f"stopped {name}")
                stopped.append(name)
        if self.paths.binary("kube-proxy").is_file():
            _run([str(self.paths.binary("kube-proxy")), "--cleanup"], check=False)
        self._unmount()
        if wipe:
            import shutil

            shutil.rmtree(self.paths.cluster, ignore_errors=True)
            shutil.rmtree(RUN_DIR, ignore_errors=True)
            _run(["ip", "link", "del", BRIDGE], check=False)
            say(f"wiped {self.paths.cluster}")
        return stopped

    def _drain(self, say: Say, timeout_s: float = 90.0) -> None:
        """Cordon the node and delete every pod, so each is torn down through the CNI."""
        say("deleting the node's pods")
        api = self.api()
        api.patch_node(NODE_NAME, {"spec": {"unschedulable": True}})
        for pod in api.list_pod_for_all_namespaces().items:
            api.delete_namespaced_pod(pod.metadata.name, pod.metadata.namespace, grace_period_seconds=5)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self._tasks():
                return
            time.sleep(1.0)
        say("some pods did not stop in time: killing their containers")

    def _tasks(self) -> list[str]:
        done = _run(["ctr", "--address", str(self.paths.containerd_socket), "-n", "k8s.io", "tasks", "list", "-q"],
                    check=False)
        return [line for line in done.stdout.split() if line.strip()] if done.returncode == 0 else []

    def _kill_leftover_tasks(self) -> None:
        for task in self._tasks():
            _run(["ctr", "--address", str(self.paths.containerd_socket), "-n", "k8s.io", "tasks", "kill", "-s",
                  "SIGKILL", task], check=False)

    def _unmount(self) -> None:
        roots = (str(self.paths.cluster), str(RUN_DIR))
        with open("/proc/mounts") as f:
            points = [line.split()[1] for line in f]
        for point in sorted((p for p in points if p.startswith(roots)), key=len, reverse=True):
            _run(["umount", "-l", point], check=False)

    # -- status ------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        processes = self.processes()
        info: dict[str, Any] = {
            "version": KUBERNETES_VERSION, "built": build.built(self.paths), "home": str(self.paths.home),
            "kubeconfig": str(self.paths.kubeconfig), "processes": [p.as_dict() for p in processes],
            "memory_mb": round(sum(p.rss_mb for p in processes), 1),
            "running": all(p.running for p in processes), "node": None,
        }
        if info["running"]:
            try:
                n = self.api().read_node(NODE_NAME, _request_timeout=3)
                ready = any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])
                info["node"] = {"name": NODE_NAME, "ready": ready, "address": NODE_IP,
                                "unschedulable": bool(n.spec.unschedulable)}
            except Exception as exc:
                info["node"] = {"name": NODE_NAME, "ready": False, "error": str(exc).splitlines()[0][:200]}
        return info


def _run(argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise K8sError(f"{' '.join(argv)} failed: {done.stderr.strip()[:300]}")
    return done


def node_trouble(api: Any) -> str:
    """The node's pressure conditions that are on (disk, memory, PIDs keep pods off it), as an error's tail."""
    try:
        conditions = api.read_node(NODE_NAME).status.conditions or []
    except Exception:  # the API itself is the trouble: the caller's message stands alone
        return ""
    on = [f"{c.type} ({c.message})" for c in conditions if c.type != "Ready" and c.status == "True"]
    return f": node {NODE_NAME} has " + "; ".join(on) if on else ""
