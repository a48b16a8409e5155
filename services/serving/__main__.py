"""`python -m mlgameday.serving`: the service's one entry point — `bentoml serve` of TripTime
on settings.serving.port, with the stack's model store (BENTOML_HOME) in the environment."""

from __future__ import annotations

import os
import sys

from ..config import load_settings
from ..models.store import bentoml_env


def main() -> None:
    settings = load_settings()
    os.environ.update(bentoml_env(settings))
    argv = [sys.executable, "-m", "bentoml", "serve", "mlgameday.serving.service:TripTime",
            "--host", settings.serving.host, "--port", str(settings.serving.port or 3000)]
    # exec: bentoml becomes this process, so the supervisor's signals reach it directly.
    os.execv(sys.executable, argv)


if __name__ == "__main__":
    main()
