"""The `gameday` command: a thin layer over the library (parse, call one function, render).

Errors of our own type (GamedayError) are caught once here and printed as `Kind: message`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from ..errors import GamedayError
from . import console as console_commands
from . import drill as drill_commands
from . import images as images_commands
from . import k8s as k8s_commands
from . import model as model_commands
from . import monitor as monitor_commands
from . import pipeline as pipeline_commands
from . import stack as stack_commands
from .common import err_console, state

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
pipeline_commands.register(app)
model_commands.register(app)
monitor_commands.register(app)
k8s_commands.register(app)
images_commands.register(app)


def main() -> None:
    try:
        # Without standalone mode click returns a command's typer.Exit code instead of exiting.
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except GamedayError as exc:
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
