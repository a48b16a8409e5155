"""Change which model serves, from outside the service (`gameday model promote`); the drill's model
faults go through their target (drill/targets/base.py), on the local stack or a cluster.

When the stack's serving component is running, the change goes to its admin endpoint
(models are hot-swapped, the choice persisted by the service). When it is not, the
choice is written to the run folder and applies at the next start.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from ..config import Settings
from ..errors import GamedayError
from ..runtime.admin_key import admin_headers
from ..stack.endpoints import service_url
from .routing import load_routing, save_routing
from .store import MODEL_NAME, model_store_home


def serving_url(settings: Settings) -> str | None:
    """The running serving component's base URL, or None when it is not running."""
    return service_url(settings, "serving", running=True)


def model_folder(settings: Settings) -> Path:
    return model_store_home(settings) / "models" / MODEL_NAME


def has_model(settings: Settings) -> bool:
    """True when the stack's model store holds a trained model (checked on disk: no BentoML import)."""
    folder = model_folder(settings)
    return folder.is_dir() and any((p / "model.yaml").exists() for p in folder.iterdir() if p.is_dir())


def change_models(settings: Settings, tag: str | None, *, canary: float | None = None, shadow: bool = False,
                  clear: str | None = None) -> dict:
    """Promote `tag` (live, canary share or shadow) or clear a role; returns the new routing."""
    from .store import resolve_tag, use_model_store

    use_model_store(settings)
    resolved = resolve_tag(tag) if tag else None
    url = serving_url(settings)
    if url is not None:
        body = {"tag": resolved, "canary": canary, "shadow": shadow, "clear": clear}
        try:
            response = httpx.post(f"{url}/admin/promote", json=body, headers=admin_headers(settings), timeout=60)
        except httpx.HTTPError as exc:
            raise GamedayError(f"serving at {url} did not answer: {exc}",
                               hint="check `gameday status` and `gameday logs serving`") from None
        if response.status_code != 200:
            raise GamedayError(f"serving refused the change: {response.text}")
        return {"applied": "live (hot-swapped)", **response.json()}
    routing = load_routing(settings).change(resolved, canary=canary, shadow=shadow, clear=clear)
    save_routing(settings, routing)
    return {"applied": "saved; serving is not running, it will start with this choice",
            "live": routing.live, "canary": routing.canary, "canary_share": routing.canary_share,
            "shadow": routing.shadow}


def current_routing(settings: Settings) -> dict[str, str]:
    """Tag → role (live, canary, shadow) as the running service or the saved choice says."""
    url = serving_url(settings)
    if url is not None:
        try:
            described = httpx.get(f"{url}/admin/models", headers=admin_headers(settings), timeout=5).json()
            return {v["tag"]: role for role, v in described.items() if isinstance(v, dict) and v}
        except (httpx.HTTPError, ValueError):
            pass
    routing = load_routing(settings)
    roles = {routing.live: "live", routing.canary: "canary", routing.shadow: "shadow"}
    return {tag: role for tag, role in roles.items() if tag}


def baseline_tag(settings: Settings, model: str) -> str:
    """A variant → its newest model trained on the whole history; a tag → itself.

    Drills start from those: a candidate's retrain on the last minutes (`gameday train
    --since`) must not become the next scenario's model.
    """
    from .store import resolve_tag, use_model_store

    use_model_store(settings)
    return resolve_tag(model, whole_history=True)
