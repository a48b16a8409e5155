"""The chart as a release: `helm template`, `helm upgrade --install`, `helm status`, `helm uninstall`.

Helm is found on PATH or in ~/.local/bin (where .ci/install-helm puts it). Kubeconfig and
namespace come from the usual places: the options, then $KUBECONFIG / ~/.kube/config and
its current context's namespace, then "default".
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..errors import MissingToolError
from .errors import ClusterUnreachable, K8sError
from .local.layout import Paths

CHART_DIR = Path(__file__).resolve().parents[2] / "helm" / "mlgameday"
DEFAULT_RELEASE = "gameday"
# `helm template` has no cluster to ask; a Helm built from source assumes an old version.
DEFAULT_KUBE_VERSION = "1.34.0"
# Helm notes that files/feature_repo links to the repo's feature_repo/: expected, not news.
_SYMLINK_NOTICE = "found symbolic link in path"


def find_helm() -> str:
    """The helm binary: on PATH, else ~/.local/bin/helm."""
    found = shutil.which("helm")
    if found:
        return found
    local = Path.home() / ".local" / "bin" / "helm"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    raise MissingToolError("helm is not installed (looked on PATH and in ~/.local/bin)",
                           hint="run .ci/install-helm (builds Helm v3 with Go into ~/.local/bin)")


def kubeconfig_path(explicit: str | Path | None = None) -> str:
    """The kubeconfig file(s) in effect: the option, else $KUBECONFIG, else ~/.kube/config, else
    the kubeconfig of this machine's own cluster (`gameday k8s cluster up`) once it exists."""
    if explicit or os.environ.get("KUBECONFIG"):
        return str(explicit or os.environ["KUBECONFIG"])
    user = Path.home() / ".kube" / "config"
    local = Paths.default().kubeconfig
    return str(local if not user.exists() and local.exists() else user)


def current_namespace(kubeconfig: str | Path | None = None, context: str | None = None) -> str:
    """The namespace of the kubeconfig's (or the given) context; "default" if none is set."""
    from kubernetes import config as kube_config

    try:
        contexts, active = kube_config.list_kube_config_contexts(kubeconfig_path(kubeconfig))
    except (kube_config.ConfigException, OSError):
        return "default"
    chosen = next((c for c in contexts if c["name"] == context), None) if context else active
    return ((chosen or {}).get("context") or {}).get("namespace") or "default"


@dataclass
class ChartRelease:
    """One release of helm/mlgameday: where it goes and with which values."""

    release: str = DEFAULT_RELEASE
    namespace: str | None = None
    kubeconfig: str | None = None
    context: str | None = None
    chart: Path = CHART_DIR
    values_files: Sequence[Path] = ()
    set_values: Sequence[str] = ()
    kube_version: str = DEFAULT_KUBE_VERSION
    helm: str = field(default_factory=find_helm)

    def __post_init__(self) -> None:
        if not (Path(self.chart) / "Chart.yaml").is_file():
            raise K8sError(f"no Helm chart at {self.chart}",
                           hint="run from a clone of the repo (the chart is helm/mlgameday) or pass --chart")
        self.namespace = self.namespace or current_namespace(self.kubeconfig, self.context)

    def _value_args(self) -> list[str]:
        args: list[str] = []
        for path in self.values_files:
            args += ["--values", str(path)]
        for assignment in self.set_values:
            args += ["--set", assignment]
        return args

    def _cluster_args(self) -> list[str]:
        args = ["--namespace", str(self.namespace), "--kubeconfig", kubeconfig_path(self.kubeconfig)]
        if self.context:
            args += ["--kube-context", self.context]
        return args

    def render(self) -> str:
        """The manifests (`helm template`), no cluster needed."""
        return self._run(["template", self.release, str(self.chart), "--namespace", str(self.namespace),
                          "--kube-version", self.kube_version, *self._value_args()])

    def lint(self) -> str:
        return self._run(["lint", str(self.chart), "--kube-version", self.kube_version, *self._value_args()])

    def install(self, wait: bool = False, timeout: str = "10m") -> str:
        """`helm upgrade --install` into the namespace (created if missing)."""
        args = ["upgrade", "--install", self.release, str(self.chart), *self._cluster_args(),
                "--create-namespace", *self._value_args()]
        if wait:
            args += ["--wait", "--wait-for-jobs", "--timeout", timeout]
        # helm enforces its own --timeout; the process gets a margin past it
        return self._run(args, needs_cluster=True, timeout_s=_seconds(timeout) + 120)

    def status(self) -> dict[str, Any]:
        """Helm's view of the release (revision, status, last deployed)."""
        out = self._run(["status", self.release, *self._cluster_args(), "--output", "json"], needs_cluster=True)
        data = json.loads(out)
        info = data.get("info", {})
        return {"release": data.get("name"), "namespace": data.get("namespace"), "revision": data.get("version"),
                "status": info.get("status"), "last_deployed": info.get("last_deployed"),
                "chart": f"{data.get('chart', {}).get('metadata', {}).get('name')}-"
                         f"{data.get('chart', {}).get('metadata', {}).get('version')}"}

    def uninstall(self) -> str:
        return self._run(["uninstall", self.release, *self._cluster_args()], needs_cluster=True)

    def _run(self, args: list[str], needs_cluster: bool = False, timeout_s: float = 600) -> str:
        done = subprocess.run([self.helm, *args], capture_output=True, text=True, timeout=timeout_s)
        stderr = "\n".join(line for line in done.stderr.splitlines() if _SYMLINK_NOTICE not in line).strip()
        if done.returncode != 0:
            if needs_cluster and _looks_unreachable(stderr):
                raise ClusterUnreachable(f"no Kubernetes cluster reachable: {_last_line(stderr)}")
            raise K8sError(f"helm {args[0]} failed: {stderr or done.stdout.strip()}",
                           hint="the message names the value or object at fault; see helm/mlgameday/README.md")
        return done.stdout


def _seconds(duration: str) -> float:
    """A Go duration of helm's --timeout ("10m", "90s", "1h") in seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    number, unit = duration[:-1], duration[-1:]
    if unit not in units or not number.replace(".", "", 1).isdigit():
        raise K8sError(f"timeout {duration!r}: expected a number and h, m or s (e.g. 10m)")
    return float(number) * units[unit]


def _looks_unreachable(stderr: str) -> bool:
    markers = ("Kubernetes cluster unreachable", "connection refused", "no such host", "i/o timeout",
               "no configuration has been provided", "dial tcp")
    return any(marker in stderr for marker in markers)


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1] if text.strip() else "no details"
