"""`python -m mlgameday.riders`: the rider app (stack component "riders"), admin HTTP on $GAMEDAY_RIDERS__PORT."""

from __future__ import annotations

import os

from ..config import load_settings
from ..errors import ConfigError
from .service import run


def main() -> None:
    port = os.environ.get("GAMEDAY_RIDERS__PORT")
    if not port:
        raise ConfigError("GAMEDAY_RIDERS__PORT is not set", hint="the stack sets it; by hand: GAMEDAY_RIDERS__PORT=0")
    run(load_settings(), int(port))


if __name__ == "__main__":
    main()
