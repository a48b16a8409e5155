"""The drill's seam to the trainer and to serving's model selection (live / canary).

Training goes through the trainer's library (the same calls as `gameday train`); model
changes through serving's control module (the same as `gameday model promote|clear`):
a running service hot-swaps, a stopped one picks the choice up at its next start.
"""

from __future__ import annotations

from pathlib import Path

from ..config import Settings
from ..errors import GamedayError
from ..stack.component import Reporter, silent


class ModelOpsError(GamedayError):
    kind = "ModelError"


def model_store(settings: Settings) -> Path:
    return settings.run_path / "bentoml" / "models" / "triptime"


def has_model(settings: Settings) -> bool:
    """True when the stack's model store holds a trained model (checked on disk: no BentoML import)."""
    folder = model_store(settings)
    return folder.is_dir() and any((p / "model.yaml").exists() for p in folder.iterdir() if p.is_dir())


def ensure_trained(settings: Settings, report: Reporter = silent) -> bool:
    """Train every variant once per run folder (creating a labels history first). True when it trained now."""
    if has_model(settings):
        return False
    from ..trainer.history import ensure_history
    from ..trainer.train import train

    report("trainer", "no model yet: creating history and training fast, accurate and worse")
    ensure_history(settings, None, lambda message: report("trainer", message))
    train(settings, report=lambda message: report("trainer", message))
    report("trainer", "ready")
    return True


def serving_models(settings: Settings) -> dict:
    """{"live": {"tag", "variant"} | None, "canary": ... | None, "canary_share": float} of the running service."""
    import httpx

    from ..runtime.admin_key import admin_headers
    from ..serving.control import serving_url

    url = serving_url(settings)
    if url is None:
        raise ModelOpsError("serving is not running", hint="see `gameday status`")
    try:
        return httpx.get(f"{url}/admin/models", headers=admin_headers(settings), timeout=5).json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ModelOpsError(f"serving at {url} did not describe its models: {exc}") from None


def live_model(settings: Settings) -> str | None:
    live = serving_models(settings).get("live")
    return live.get("tag") if isinstance(live, dict) else None


def baseline_tag(settings: Settings, model: str) -> str:
    """A variant → its newest model trained on the whole history; a tag → itself.

    Drills start from those: a candidate's retrain on the last minutes (`gameday train
    --since`) must not become the next scenario's model.
    """
    from ..trainer.model_store import resolve_tag, use_model_store

    use_model_store(settings)
    return resolve_tag(model, whole_history=True)


def promote(settings: Settings, model: str, role: str = "live", share: float | None = None,
            report: Reporter = silent) -> str:
    """Make `model` (a variant: its whole-history model, or a tag) live, or the canary with a share of requests."""
    from ..serving.control import change_models

    report("serving", f"promoting {model} as {role}")
    change_models(settings, baseline_tag(settings, model), canary=share if role == "canary" else None)
    return f"promoted {model} as {role}" + (f" ({share:.0%} of requests)" if role == "canary" and share else "")


def rollback(settings: Settings, previous: str | None, report: Reporter = silent) -> str:
    if not previous:
        return "no previous live model recorded: nothing to roll back"
    promote(settings, previous, role="live", report=report)
    return f"rolled back to {previous}"


def clear_canary(settings: Settings, report: Reporter = silent) -> str:
    from ..serving.control import change_models

    report("serving", "removing the canary")
    change_models(settings, None, clear="canary")
    return "canary removed"
