"""The drill's seam to the trainer and the serving's model selection.

Everything goes through the `gameday train` / `gameday model ...` commands of the
trainer+serving part (their documented interface), run as subprocesses with --json so
the drill never depends on their internals.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import GamedayError
from ..stack.component import Reporter, silent


class ModelOpsError(GamedayError):
    kind = "ModelError"


def model_store(settings: Settings) -> Path:
    return settings.run_path / "bentoml" / "models" / "triptime"


def has_model(settings: Settings, variant: str | None = None) -> bool:
    """True when the stack's model store holds a trained model (of that variant)."""
    folder = model_store(settings)
    if not folder.is_dir():
        return False
    versions = [p for p in folder.iterdir() if p.is_dir()]
    if variant is None:
        return bool(versions)
    return any(f'variant: {variant}' in (p / "model.yaml").read_text(errors="replace")
               for p in versions if (p / "model.yaml").exists())


def gameday(settings: Settings, *args: str, timeout_s: float = 600) -> str:
    """Run a `gameday` subcommand against the same run folder; its stdout, or a ModelOpsError."""
    env = {**os.environ, "GAMEDAY_RUN_DIR": str(settings.run_path)}
    cmd = [sys.executable, "-m", "mlgameday", *args]
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise ModelOpsError(f"`gameday {' '.join(args)}` did not finish in {timeout_s:.0f} s") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-8:]
        raise ModelOpsError(f"`gameday {' '.join(args)}` failed:\n  " + "\n  ".join(tail),
                            hint="run it yourself to see the whole output")
    return done.stdout


def ensure_trained(settings: Settings, report: Reporter = silent) -> bool:
    """Train the variants once per run folder. Returns True when it trained now."""
    if has_model(settings):
        return False
    report("trainer", "no model yet: training (fast, accurate, worse)")
    gameday(settings, "train")
    report("trainer", "ready")
    return True


def _json(text: str) -> Any:
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    return json.loads(text[start:]) if start >= 0 else {}


def serving_models(settings: Settings) -> dict[str, Any]:
    """What serving answers with: {"live": tag, "canary": tag|None, "canary_share": float, ...}."""
    return _json(gameday(settings, "model", "status", "--json", timeout_s=60))


def live_model(settings: Settings) -> str | None:
    return serving_models(settings).get("live")


def promote(settings: Settings, model: str, role: str = "live", share: float | None = None,
            report: Reporter = silent) -> str:
    """Make `model` (a variant or a tag) the live model, or the canary with a share of traffic."""
    args = ["model", "promote", model, "--role", role]
    if share is not None:
        args += ["--share", str(share)]
    report("serving", f"promoting {model} as {role}")
    gameday(settings, *args, timeout_s=120)
    return f"promoted {model} as {role}" + (f" ({share:.0%} of requests)" if share is not None else "")


def rollback(settings: Settings, previous: str | None, report: Reporter = silent) -> str:
    if not previous:
        return "no previous live model recorded: nothing to roll back"
    return promote(settings, previous, role="live", report=report).replace("promoted", "rolled back to")


def clear_canary(settings: Settings, report: Reporter = silent) -> str:
    report("serving", "removing the canary")
    gameday(settings, "model", "promote", "none", "--role", "canary", timeout_s=120)
    return "canary removed"
