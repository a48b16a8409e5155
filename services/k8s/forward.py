"""Addresses on this machine for a release's services: `kubectl port-forward`, one process each.

A drill against a cluster talks to the services the way it does on the local stack: the
admin HTTP of producer, ingest, serving, monitor and riders, and Kafka for its watcher.
Port-forwarding works on any cluster the kubeconfig reaches (kind, a cloud one, this
machine's own) and opens nothing to the network: each forward listens on 127.0.0.1 only.
Kafka is reached through the chart's host listener (kafka.hostAccess): broker i listens on
port+i and advertises 127.0.0.1:port+i, so the local port must equal the pod's.

A forward ends when its pod does (a killed broker, a rolled Deployment): a supervising
thread starts it again on the same local port, so clients see an outage, then the new pod.
Until the new pod runs and listens, kubectl ends at once (pod not running, or its first
connection refused ends the session): it is started again after a growing pause (up to
RESTART_MAX_S), not twice a second — a kubectl each time, on the node the new pod starts on.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import K8sError
from .helm import kubeconfig_path
from .local.layout import Paths

if TYPE_CHECKING:
    from .cluster import ClusterTarget

READY_TIMEOUT_S = 20.0
# A forward that ended is started again after RESTART_MIN_S, doubled at each quick end up to RESTART_MAX_S;
# one that lasted RESTART_STEADY_S was working: its next end restarts it after RESTART_MIN_S again.
RESTART_MIN_S, RESTART_MAX_S, RESTART_STEADY_S = 0.5, 4.0, 10.0


def find_kubectl() -> str:
    """kubectl on PATH, else the one built with this machine's cluster."""
    built = Paths.default().binary("kubectl")
    if built.is_file():
        return str(built)
    found = shutil.which("kubectl")
    if found:
        return found
    raise K8sError("kubectl is not installed (the drill reaches the cluster's services through kubectl port-forward)",
                   hint="install kubectl, or `gameday k8s cluster up` (it builds one)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PortForwards:
    """The forwards of one namespace; close() stops every one of them."""

    namespace: str
    kubeconfig: str | None = None
    context: str | None = None
    log_dir: Path | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    commands: dict[str, list[str]] = field(default_factory=dict)
    restarts: int = 0
    # key -> (when its process started, how many quick ends in a row): the restart pause.
    _starts: dict[str, tuple[float, int]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _supervisor: threading.Thread | None = None

    def open(self, resource: str, remote_port: int, local_port: int | None = None) -> str:
        """Forward 127.0.0.1:local_port to `resource` (svc/NAME or pod/NAME); returns host:port."""
        local_port = local_port or free_port()
        command = [find_kubectl(), "--kubeconfig", kubeconfig_path(self.kubeconfig), "-n", self.namespace,
                   "port-forward", "--address", "127.0.0.1", resource, f"{local_port}:{remote_port}"]
        if self.context:
            command[1:1] = ["--context", self.context]
        key = f"{resource}:{remote_port}"
        with self._lock:
            self.commands[key] = command
            process = self.processes[key] = self._spawn(key)
        self._wait_listening(process, key, resource, local_port)
        if self._supervisor is None:
            self._supervisor = threading.Thread(target=self._supervise, name="port-forwards", daemon=True)
            self._supervisor.start()
        return f"127.0.0.1:{local_port}"

    def _log_path(self, key: str) -> Path | None:
        return self.log_dir / f"port-forward-{key.replace('/', '-').replace(':', '-')}.log" if self.log_dir else None

    def _spawn(self, key: str, quick_ends: int = 0) -> subprocess.Popen:
        path = self._log_path(key)
        log = open(path, "ab") if path else subprocess.DEVNULL
        self._starts[key] = (time.monotonic(), quick_ends)
        return subprocess.Popen(self.commands[key], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

    def _said(self, key: str) -> list[str]:
        """The last lines kubectl wrote for this forward (why it ended), when it has a log."""
        path = self._log_path(key)
        return path.read_text(errors="replace").strip().splitlines()[-5:] if path and path.is_file() else []

    def _supervise(self) -> None:
        """Start again every forward whose process ended (its pod went away), on the same port."""
        ended: dict[str, float] = {}  # key -> when its process was seen ended
        while not self._stop.wait(0.25):
            with self._lock:
                now = time.monotonic()
                for key, process in list(self.processes.items()):
                    if process.poll() is None or self._stop.is_set():
                        continue
                    started, quick_ends = self._starts.get(key, (now, 0))
                    quick_ends = 0 if (ended.get(key) or now) - started >= RESTART_STEADY_S else quick_ends
                    ended.setdefault(key, now)
                    if now - ended[key] >= restart_pause(quick_ends):
                        del ended[key]
                        self.processes[key] = self._spawn(key, quick_ends + 1)
                        self.restarts += 1

    def _wait_listening(self, process: subprocess.Popen, key: str, resource: str, port: int) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                said = self._said(key)
                hint = (f"another process holds 127.0.0.1:{port}: `ss -tanp | grep :{port}` names it"
                        if any("address already in use" in line for line in said) else
                        f"is {resource} running in namespace {self.namespace}? `gameday k8s status`")
                raise K8sError(f"kubectl port-forward {resource} exited (code {process.returncode})"
                               + (f": {said[-1]}" if said else ""), hint=hint)
            with socket.socket() as s:
                s.settimeout(0.5)
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.1)
        raise K8sError(f"kubectl port-forward {resource} did not listen on 127.0.0.1:{port} within {READY_TIMEOUT_S:.0f} s")

    def alive(self) -> dict[str, bool]:
        return {name: process.poll() is None for name, process in self.processes.items()}

    def close(self) -> None:
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.join(2)
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()


def restart_pause(quick_ends: int) -> float:
    """The pause before starting a forward again after `quick_ends` ends in a row that came soon after a start."""
    return min(RESTART_MIN_S * 2 ** quick_ends, RESTART_MAX_S)


# The components whose admin HTTP a drill uses (knobs, /status, serving's /admin/*).
ADMIN_COMPONENTS = ("producer", "ingest", "serving", "monitor", "riders")
KAFKA_HOST_PORT_ENV = "KAFKA_HOST_PORT"  # the chart's host listener (kafka.hostAccess.port)


@dataclass
class ReleaseAddresses:
    """A release's services on this machine: admin base URLs and the Kafka bootstrap, while open."""

    forwards: PortForwards
    admin_urls: dict[str, str]
    kafka_bootstrap: str | None

    def close(self) -> None:
        self.forwards.close()


def forward_release(cluster: "ClusterTarget", kubeconfig: str | None = None, context: str | None = None,
                    log_dir: Path | None = None, components: tuple[str, ...] = ADMIN_COMPONENTS) -> ReleaseAddresses:
    """Forward the release's admin Services and its broker's host listener to 127.0.0.1."""
    forwards = PortForwards(cluster.namespace, kubeconfig, context, log_dir)
    try:
        urls = {}
        for component in components:
            services = cluster.core.list_namespaced_service(
                cluster.namespace, label_selector=cluster.selector(component)).items
            service = next((s for s in services if s.spec.cluster_ip != "None" and s.spec.ports), None)
            if service is not None:
                urls[component] = "http://" + forwards.open(f"svc/{service.metadata.name}", service.spec.ports[0].port)
        return ReleaseAddresses(forwards, urls, _forward_kafka(cluster, forwards))
    except BaseException:
        forwards.close()
        raise


def _forward_kafka(cluster: "ClusterTarget", forwards: PortForwards) -> str | None:
    """The first broker's host listener on the same local port (the broker advertises 127.0.0.1:port)."""
    pods = cluster.core.list_namespaced_pod(cluster.namespace, label_selector=cluster.selector("kafka")).items
    pods = sorted(pods, key=lambda p: p.metadata.name)
    if not pods:
        return None  # an external Kafka (kafka.enabled=false): the drill uses the settings' bootstrap
    env = {e.name: e.value for c in pods[0].spec.containers for e in (c.env or [])}
    port = env.get(KAFKA_HOST_PORT_ENV)
    if not port:
        raise K8sError("the release's broker has no host listener: a drill cannot read its topics from here",
                       hint="install with kafka.hostAccess.enabled=true (the chart's default)")
    return forwards.open(f"pod/{pods[0].metadata.name}", int(port), int(port))
