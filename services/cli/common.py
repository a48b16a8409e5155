"""What every command shares: the console, the loaded settings, the progress reporter."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from rich.console import Console

from ..config import Settings, load_settings

console = Console(stderr=False)
err_console = Console(stderr=True)


@dataclass
class CliState:
    config_file: Path | None = None
    _settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_file)
        return self._settings


state = CliState()


def print_json(data: Any) -> None:
    # Plain print, not rich: scripts parse this.
    print(json.dumps(data, indent=2, default=str))


@contextmanager
def progress(title: str) -> Iterator[Any]:
    """A spinner whose line shows the latest `component: message`; each finished step is printed."""
    with err_console.status(title) as status:
        def report(component: str, message: str) -> None:
            if message == "ready":
                err_console.print(f"  [green]✓[/] {component} ready")
            elif message.startswith(("created", "fetching", "formatting")):
                err_console.print(f"  [dim]·[/] {component}: {message}")
            status.update(f"{title} — [bold]{component}[/]: {message}")

        yield report
