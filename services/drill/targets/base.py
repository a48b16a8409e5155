"""What a drill needs from where it runs: the Target interface, and the state of a component.

A target knows the components and their state, sends process-level actions (chaos) to a component,
reaches each service's admin endpoint (fault knobs, model control) with the admin key, and says which
components a drill needs there. The engine talks only to this seam; each target (local stack,
cluster) is one module, and tests/drill/test_target_conformance.py runs one suite against each.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import StrEnum
from typing import Any, ClassVar

import httpx

from ...config import Settings
from ...errors import StackError
from ...runtime.admin_key import admin_headers
from ...stack.component import Reporter, silent

# Where a component serves its fault knobs (the BentoML service mounts its admin app at /admin).
KNOB_PATHS = {"serving": "/admin/faults"}


class State(StrEnum):
    """A component's state, the same words on every target."""

    UP = "up"              # running and answering (an external part counts as up)
    DEGRADED = "degraded"  # some of its replicas are not ready (a cluster)
    PAUSED = "paused"      # frozen (SIGSTOP)
    STOPPED = "stopped"    # stopped on purpose (chaos stop, scaled to zero)
    DEAD = "dead"          # crashed, or no replica ready
    DONE = "done"          # a one-shot job that finished (the trainer on a cluster)
    ABSENT = "absent"      # not started, or not part of the deployment


class Target(ABC):
    kind: ClassVar[str] = ""
    # The components a drill needs on this target (the traffic, the pipeline, serving, the monitor).
    required: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abstractmethod
    def components(self) -> dict[str, State]:
        """Component name -> its state."""

    @abstractmethod
    def chaos(self, action: str, component: str) -> str:
        """A process-level action (kill, stop, start, restart; locally also pause, resume); what was done."""

    @abstractmethod
    def endpoint(self, component: str, name: str) -> str | None:
        """An address a component publishes (its admin/HTTP base URL under "http"), or None."""

    def close(self) -> None:
        """Release what the target holds open for the drill (a cluster's port-forwards)."""

    def admin_url(self, component: str) -> str:
        if url := self.endpoint(component, "http"):
            return url
        known = ", ".join(self.components()) or "none"
        raise StackError(f"{component} has no admin HTTP endpoint on this {self.kind} target",
                         hint=f"components: {known}; see `gameday status`")

    def admin_headers(self) -> dict[str, str]:
        return admin_headers(self.settings)

    # ---- model control: serving's admin API, the same on every target ------------------------

    def serving_models(self) -> dict[str, Any]:
        """{"live": {"tag", "variant"} | None, "canary": ... | None, "canary_share": float}."""
        return _admin_call(self, "serving", "GET", "/admin/models")

    def zone_features(self, zones: list[int]) -> list[dict[str, Any]]:
        """The zones' online features as serving reads them: [{"zone_id", "values", "event_time"}]."""
        query = "&".join(f"zone={int(z)}" for z in zones)
        return _admin_call(self, "serving", "GET", f"/admin/features?{query}")["zones"]

    def live_model(self) -> str | None:
        live = self.serving_models().get("live")
        return live.get("tag") if isinstance(live, dict) else None

    def resolve_model(self, model: str) -> str:
        """A variant or a tag → what to ask serving for (serving resolves a variant to its newest model)."""
        return model

    def promote(self, model: str, role: str = "live", share: float | None = None, report: Reporter = silent) -> str:
        """Make `model` (a variant or a tag) live, or the canary with a share of requests."""
        report("serving", f"promoting {model} as {role}")
        _admin_call(self, "serving", "POST", "/admin/promote",  # loading a model takes seconds
                    {"tag": self.resolve_model(model), "canary": share if role == "canary" else None}, timeout_s=60.0)
        return f"promoted {model} as {role}" + (f" ({share:.0%} of requests)" if role == "canary" and share else "")

    def rollback(self, previous: str | None, report: Reporter = silent) -> str:
        if not previous:
            return "no previous live model recorded: nothing to roll back"
        self.promote(previous, role="live", report=report)
        return f"rolled back to {previous}"

    def clear_canary(self, report: Reporter = silent) -> str:
        report("serving", "removing the canary")
        _admin_call(self, "serving", "POST", "/admin/promote", {"tag": None, "clear": "canary"}, timeout_s=60.0)
        return "canary removed"


def get_knobs(target: Target, component: str) -> dict[str, Any]:
    return _admin_call(target, component, "GET", KNOB_PATHS.get(component, "/faults"))


def set_knobs(target: Target, component: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Merge knob changes into a running service (POST /faults); a refused knob is a StackError."""
    return _admin_call(target, component, "POST", KNOB_PATHS.get(component, "/faults"), changes)


def reset_knobs(target: Target, component: str) -> dict[str, Any]:
    return _admin_call(target, component, "DELETE", KNOB_PATHS.get(component, "/faults"))


def run_action(target: Target, component: str, action: str, timeout_s: float = 40.0) -> dict[str, Any]:
    """POST /actions/ACTION on a service's admin endpoint (e.g. the monitor's reset); what it answered."""
    return _admin_call(target, component, "POST", f"/actions/{action}", timeout_s=timeout_s)


def _admin_call(target: Target, component: str, method: str, path: str, body: dict | None = None,
                timeout_s: float = 5.0) -> dict[str, Any]:
    url = target.admin_url(component) + path
    try:
        response = httpx.request(method, url, json=body, headers=target.admin_headers(), timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise StackError(f"cannot reach {component}'s admin endpoint at {url}: {exc}",
                         hint=f"check `gameday status` and `gameday logs {component}`") from None
    if response.status_code >= 400:
        raise StackError(f"{component} refused {method} {path} {body or ''}: {response.text[:300]}",
                         hint="see what it takes with GET " + url)
    return response.json()
