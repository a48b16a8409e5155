"""The `gameday` command: a thin layer over the library (parse, call one function, render).

Errors of our own type (GamedayError) are caught once here and printed as `Kind: message`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import typer

from ..errors import GamedayError
from . import console as console_commands
from . import dlq as dlq_commands
from . import drill as drill_commands
from . import images as images_commands
from . import impact as impact_commands
from . import interview as interview_commands
from . import k8s as k8s_commands
from . import model as model_commands
from . import monitor as monitor_commands
from . import pipeline as pipeline_commands
from . import portfolio as portfolio_commands
from . import stack as stack_commands
from .common import console, err_console, state

app = typer.Typer(
    name="gameday",
    help="GameDays for ML systems: deploy, break and explain a live Kafka + Feast + BentoML + Evidently stack.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _global_options(
    config: Optional[Path] = typer.Option(
        None, "--config", "-c", help="YAML config file (default: $GAMEDAY_CONFIG or ./gameday.yaml)."),
) -> None:
    state.config_file = config
    state._settings = None  # a fresh read per invocation (tests invoke many in one process)


# Order of `gameday --help`: the stack, the drills, then each part of TripTime.
stack_commands.register(app)
drill_commands.register(app)
console_commands.register(app)
dlq_commands.register(app)
pipeline_commands.register(app)
model_commands.register(app)
impact_commands.register(app)
portfolio_commands.register(app)
interview_commands.register(app)
monitor_commands.register(app)
k8s_commands.register(app)
images_commands.register(app)


def main() -> None:
    started = time.time()
    # A changing command's result on the drill's timeline: the one line it sets (state.result), or its last line.
    console.record = True
    try:
        _run()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        _journal(started, code)
        raise


_failure: list[str] = []


def _run() -> None:
    try:
        # Without standalone mode click returns a command's typer.Exit code instead of exiting.
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except GamedayError as exc:
        _failure.append(f"{exc.kind}: {exc}")
        err_console.print(f"[bold red]{exc.kind}:[/] {exc}", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # usage errors, from click or from typer's own copy of it (typer >= 0.2x)
        import click

        if isinstance(exc, (click.ClickException, typer.TyperException)) and hasattr(exc, "show"):
            exc.show()
            sys.exit(exc.exit_code)
        raise


def _journal(started: float, code: int) -> None:
    """Put the command on the running drill's timeline (drill/journal.py); never in the command's way."""
    from ..drill.journal import record

    try:
        lines = [line.strip() for line in console.export_text(clear=True).splitlines() if line.strip()]
        result = state.result or (lines[-1] if lines else "")
        record(state.settings(), sys.argv[1:], code, started, result=result, error=_failure[-1] if _failure else "")
    except Exception:
        pass
