"""Where the drill's faults land: the local stack (supervised processes) or, later, a cluster.

A target knows four things: how to send a process-level action to a component, how to
read and change a running service's fault knobs (its admin /faults endpoint), with which
admin key (runtime/admin_key.py), and where a component's HTTP endpoints are. The engine
only talks to this seam.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from ..app import open_stack
from ..config import Settings
from ..errors import StackError
from ..runtime.admin_key import admin_headers
from ..stack.supervisor import Stack

# Endpoint names under which a component may publish its admin HTTP address, in order of preference.
ADMIN_ENDPOINT_NAMES = ("admin", "http")
# Where a component serves its fault knobs (the BentoML service mounts its admin app at /admin).
KNOB_PATHS = {"serving": "/admin/faults"}


class Target(Protocol):
    def chaos(self, action: str, component: str) -> str: ...
    def admin_url(self, component: str) -> str: ...
    def admin_headers(self) -> dict[str, str]: ...
    def endpoint(self, component: str, name: str) -> str | None: ...
    def components(self) -> dict[str, str]: ...


class LocalTarget:
    """The local stack of one run folder (services/stack/supervisor.py)."""

    def __init__(self, settings: Settings, stack: Stack | None = None) -> None:
        self.settings = settings
        self.stack = stack or open_stack(settings)

    def chaos(self, action: str, component: str) -> str:
        return self.stack.chaos(action, component)

    def admin_headers(self) -> dict[str, str]:
        return admin_headers(self.settings)

    def endpoint(self, component: str, name: str) -> str | None:
        return self.stack.endpoint(component, name)

    def components(self) -> dict[str, str]:
        """Component name -> state (running, paused, dead, stopped, external, not started)."""
        return {s.name: s.state for s in self.stack.status()}

    def admin_url(self, component: str) -> str:
        for name in ADMIN_ENDPOINT_NAMES:
            if url := self.endpoint(component, name):
                return url
        known = ", ".join(self.components()) or "none: the stack is not up"
        raise StackError(f"{component} has no admin HTTP endpoint in this stack",
                         hint=f"is it part of the stack? components: {known}; start it with `gameday up`")


def get_knobs(target: Target, component: str) -> dict[str, Any]:
    return _call(target, component, "GET")


def set_knobs(target: Target, component: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Merge knob changes into a running service (POST /faults); a refused knob is a StackError."""
    return _call(target, component, "POST", changes)


def reset_knobs(target: Target, component: str) -> dict[str, Any]:
    return _call(target, component, "DELETE")


def _call(target: Target, component: str, method: str, body: dict | None = None) -> dict[str, Any]:
    url = target.admin_url(component) + KNOB_PATHS.get(component, "/faults")
    try:
        response = httpx.request(method, url, json=body, headers=target.admin_headers(), timeout=5.0)
    except httpx.HTTPError as exc:
        raise StackError(f"cannot reach {component}'s fault knobs at {url}: {exc}",
                         hint=f"check `gameday status` and `gameday logs {component}`") from None
    if response.status_code >= 400:
        raise StackError(f"{component} refused the fault knobs {body}: {response.text[:300]}",
                         hint="see the allowed knobs with GET " + url)
    return response.json()


class ClusterTargetAdapter:
    """A release of the chart on Kubernetes (services/k8s ClusterTarget) as a drill target.

    Process faults map to the cluster's verbs (kill and restart delete pods, stop and start
    scale to zero and back). Knob faults need each service's admin HTTP, which a cluster
    does not expose: pass the forwarded addresses (`kubectl port-forward`) as
    admin_urls={"producer": "http://127.0.0.1:18080", ...}, and the release's admin key
    (settings.admin_token, GAMEDAY_ADMIN_TOKEN).
    """

    def __init__(self, cluster: Any, settings: Settings, admin_urls: dict[str, str] | None = None) -> None:
        self.cluster = cluster
        self.settings = settings
        self.admin_urls = admin_urls or {}

    def admin_headers(self) -> dict[str, str]:
        return admin_headers(self.settings)

    def chaos(self, action: str, component: str) -> str:
        return self.cluster.chaos(action, component)

    def components(self) -> dict[str, str]:
        return self.cluster.components()

    def endpoint(self, component: str, name: str) -> str | None:
        return self.admin_urls.get(component) if name in ADMIN_ENDPOINT_NAMES else None

    def admin_url(self, component: str) -> str:
        if component in self.admin_urls:
            return self.admin_urls[component]
        raise StackError(f"{component}'s fault knobs are not reachable on the cluster from here",
                         hint=f"kubectl port-forward the {component} service's admin port and pass "
                              f"--admin {component}=http://127.0.0.1:PORT")


def open_target(settings: Settings, kind: str = "local", admin: list[str] | None = None) -> Target:
    """`--target local` (the stack of the run folder) or `--target k8s` (the chart's release)."""
    if kind == "local":
        return LocalTarget(settings)
    if kind == "k8s":
        from ..k8s.cluster import ClusterTarget

        urls = {}
        for pair in admin or []:
            component, sep, url = pair.partition("=")
            if not sep or not url.startswith("http"):
                raise StackError(f"--admin {pair!r}: expected COMPONENT=http://host:port")
            urls[component] = url.rstrip("/")
        return ClusterTargetAdapter(ClusterTarget.connect(), settings, urls)
    raise StackError(f"unknown target {kind!r}", hint="use --target local or --target k8s")
