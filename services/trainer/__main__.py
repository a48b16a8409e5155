"""`python -m mlgameday.trainer [variant ...]`: the one-shot training job (same as `gameday train`)."""

from __future__ import annotations

import json
import sys

from ..config import load_settings
from ..errors import GamedayError
from ..runtime.logs import log_event, setup_logging
from .history import ensure_history
from .train import train
from .variants import VARIANTS


def main() -> None:
    log = setup_logging("trainer")
    variants = tuple(sys.argv[1:]) or tuple(VARIANTS)
    settings = load_settings()
    try:
        ensure_history(settings, None, lambda message: log_event(log, message))
        trained = train(settings, variants, lambda message: log_event(log, message))
    except GamedayError as exc:
        log.error("%s: %s", exc.kind, exc)
        sys.exit(1)
    print(json.dumps([t.as_dict() for t in trained]))


if __name__ == "__main__":
    main()
