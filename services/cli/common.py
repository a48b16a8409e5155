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
    # What a command that changes the system did, in one line: the drill's journal keeps it (drill/journal.py).
    result: str | None = None

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


def console_for(wide: bool) -> Console:
    """Where a table prints: the terminal (its columns chosen to fit 80), or with --wide as wide as the
    table needs (every column, nothing cut; the terminal wraps the lines)."""
    return Console(width=max(console.width, 220)) if wide else console


def parse_since(value: str | None) -> float | None:
    """`--since 10m` → 600.0 seconds (None stays None)."""
    if value is None:
        return None
    from ..drill.units import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        import typer

        raise typer.BadParameter(str(exc), param_hint="--since") from None
