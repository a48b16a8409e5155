"""Which models answer: the live one, an optional canary (a share of traffic) and shadow.

The choice is persisted in <run_dir>/serving/routing.json so a restart keeps it; the
running service swaps models in memory without downtime (a new ModelSet replaces the
old one in a single reference assignment, after the new models are loaded).
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from ..config import Settings
from ..errors import GamedayError
from .store import EtaModel, load_model, resolve_tag


@dataclass(frozen=True)
class Routing:
    """Tags per role (persisted form)."""

    live: str | None = None
    canary: str | None = None
    canary_share: float = 0.0
    shadow: str | None = None

    def change(self, tag: str | None, *, canary: float | None = None, shadow: bool = False,
               clear: str | None = None) -> "Routing":
        """The routing after `gameday model promote` (tag already resolved)."""
        if clear == "canary" or canary == 0:
            return replace(self, canary=None, canary_share=0.0)
        if clear == "shadow":
            return replace(self, shadow=None)
        if tag is None:
            raise GamedayError("promote needs a model tag", hint="see `gameday model list`")
        if shadow:
            return replace(self, shadow=tag)
        if canary is not None:
            return replace(self, canary=tag, canary_share=float(canary))
        # A full promotion ends a canary or shadow of the same model.
        return Routing(live=tag,
                       canary=None if self.canary == tag else self.canary,
                       canary_share=0.0 if self.canary == tag else self.canary_share,
                       shadow=None if self.shadow == tag else self.shadow)


def routing_file(settings: Settings) -> Path:
    # Outside data/ on purpose: `down --wipe` keeps models, so it keeps the choice too.
    return settings.run_path / "serving" / "routing.json"


def load_routing(settings: Settings) -> Routing:
    path = routing_file(settings)
    if not path.exists():
        return Routing()
    try:
        return Routing(**json.loads(path.read_text()))
    except (ValueError, TypeError) as exc:
        raise GamedayError(f"cannot read {path}: {exc}", hint="delete the file to serve the configured model") from None


def save_routing(settings: Settings, routing: Routing) -> None:
    path = routing_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(routing), indent=2))
    os.replace(tmp, path)


@dataclass(frozen=True)
class ModelSet:
    """The loaded models of one routing. Immutable: a promotion builds a new one."""

    routing: Routing
    live: EtaModel
    canary: EtaModel | None = None
    shadow: EtaModel | None = None

    def split(self, trip_ids: list[str]) -> list[tuple[EtaModel, str, np.ndarray | None]]:
        """(model, role, row indices) per answering model; indices None: every row (no canary).

        A trip id always lands on the same side: the canary gets the ids whose hash bucket is below its share.
        """
        if self.canary is None or self.routing.canary_share <= 0:
            return [(self.live, "live", None)]
        to_canary = np.array([_bucket(trip_id) < self.routing.canary_share for trip_id in trip_ids])
        groups = [(self.canary, "canary", np.flatnonzero(to_canary)), (self.live, "live", np.flatnonzero(~to_canary))]
        return [group for group in groups if len(group[2])]

    def describe(self) -> dict:
        def one(model: EtaModel | None) -> dict | None:
            return None if model is None else {"tag": model.tag, "variant": model.variant, "metrics": model.metrics}

        return {"live": one(self.live), "canary": one(self.canary), "canary_share": self.routing.canary_share,
                "shadow": one(self.shadow)}


def _bucket(trip_id: str) -> float:
    return (zlib.crc32(trip_id.encode()) % 10_000) / 10_000


def load_model_set(settings: Settings, routing: Routing, cache: ModelSet | None = None) -> ModelSet:
    """Load the models a routing names; the live one defaults to settings.serving.model."""
    live_tag = routing.live or resolve_tag(settings.serving.model)
    routing = replace(routing, live=live_tag)
    loaded = {m.tag: m for m in (cache.live, cache.canary, cache.shadow) if m is not None} if cache else {}

    def get(tag: str | None) -> EtaModel | None:
        if tag is None:
            return None
        if tag not in loaded:
            loaded[tag] = load_model(tag)
        return loaded[tag]

    return ModelSet(routing=routing, live=get(live_tag), canary=get(routing.canary), shadow=get(routing.shadow))
