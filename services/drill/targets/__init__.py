"""Where a drill runs: the Target interface (base.py) and one module per target (local, cluster)."""

from __future__ import annotations

from ...config import Settings
from ...errors import StackError
from .base import KNOB_PATHS, State, Target, get_knobs, reset_knobs, run_action, set_knobs
from .local import LocalTarget


def open_target(settings: Settings, kind: str = "local", admin: list[str] | None = None,
                namespace: str | None = None) -> Target:
    """`--target local` (the stack of the run folder) or `--target k8s` (the chart's release: with no
    --admin addresses, its services forwarded to this machine until the target's close())."""
    if kind == "local":
        return LocalTarget(settings)
    if kind == "k8s":
        from ...k8s.cluster import ClusterTarget
        from .cluster import ClusterDrillTarget, connect_release

        if not admin:
            return connect_release(settings, ClusterTarget.connect(namespace))
        urls = {}
        for pair in admin or []:
            component, sep, url = pair.partition("=")
            if not sep or not url.startswith("http"):
                raise StackError(f"--admin {pair!r}: expected COMPONENT=http://host:port")
            urls[component] = url.rstrip("/")
        return ClusterDrillTarget(ClusterTarget.connect(namespace), settings, urls)
    raise StackError(f"unknown target {kind!r}", hint="use --target local or --target k8s")


__all__ = ["KNOB_PATHS", "LocalTarget", "State", "Target", "get_knobs", "open_target", "reset_knobs", "run_action",
           "set_knobs"]
