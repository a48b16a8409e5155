"""`gameday images`: build the project's images with no registry, list them, and the Docker
engine they need (started here when none answers and we may)."""

from __future__ import annotations

from typing import List, Optional

import typer
from rich.table import Table

from .common import console, err_console, print_json, state

images_app = typer.Typer(help="The images (docker/): built with no registry; the Docker engine.", no_args_is_help=True)
engine_app = typer.Typer(help="The Docker engine: find one, or start Debian's docker.io by hand.",
                         no_args_is_help=True)
images_app.add_typer(engine_app, name="engine")


def register(app: typer.Typer) -> None:
    app.add_typer(images_app, name="images")


def _say(line: str) -> None:
    err_console.print(f"  [dim]·[/] {line}", highlight=False)


@images_app.command()
def build(
    only: Optional[List[str]] = typer.Option(None, "--only", help="An image (and what it starts FROM); repeatable."),
    force: bool = typer.Option(False, "--force", help="Rebuild even when the inputs are unchanged."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Rebuild from scratch (no layer cache; the base too)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Build every image (base, python, app, kafka, redis); unchanged ones are skipped."""
    from ..images.build import Builder

    results = Builder(state.settings(), _say).build(only, force, no_cache)
    if as_json:
        print_json([r.as_dict() for r in results])
        return
    table = Table(title="images")
    for column in ("image", "ref", "size", "time", ""):
        table.add_column(column)
    for r in results:
        table.add_row(r.image.key, r.ref, f"{r.size_bytes / 1e6:.0f} MB", f"{r.seconds:.1f} s",
                      "up to date" if r.cached else "[green]built[/]")
    console.print(table)


@images_app.command("list")
def list_images(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """The project's images: which exist in the engine, and their sizes."""
    from ..containers.images import catalogue, present

    rows = present(state.settings())
    if as_json:
        print_json(rows)
        return
    table = Table(title="images (build them with `make images`)")
    for column in ("image", "ref", "size", "what"):
        table.add_column(column)
    for image in catalogue(state.settings()).values():
        row = rows[image.key]
        size = f"{row['size_mb']} MB" if row["present"] else "[yellow]missing[/]"
        table.add_row(image.key, image.ref, size, image.what)
    console.print(table)


@engine_app.command()
def start() -> None:
    """Make sure a Docker engine answers: as root on Debian/Ubuntu, install docker.io and start
    dockerd by hand (data in images.engine_root) when none does."""
    from ..containers.engine import EngineHome, start_engine

    started = start_engine(EngineHome(state.settings().images.engine_root), _say)
    console.print("started a Docker engine" if started else "a Docker engine answers")


@engine_app.command()
def stop() -> None:
    """Stop the dockerd that `engine start` started (never one it did not start)."""
    from ..containers.engine import EngineHome, stop_engine

    stopped = stop_engine(EngineHome(state.settings().images.engine_root), _say)
    console.print("stopped the Docker engine" if stopped else "no Docker engine of ours runs: nothing to stop")


@engine_app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Whether an engine answers, and whether it is the one `engine start` started."""
    from ..containers.engine import EngineHome, engine_problem, our_dockerd

    problem = engine_problem()
    ours = our_dockerd(EngineHome(state.settings().images.engine_root))
    data = {"answers": problem is None, "problem": problem, "started_here": ours is not None,
            "dockerd_pid": ours.pid if ours else None}
    if as_json:
        print_json(data)
        return
    if problem:
        console.print(f"[red]no Docker engine answers[/] ({problem})")
        raise typer.Exit(1)
    console.print("a Docker engine answers" + (f" (dockerd pid {ours.pid}, started by `gameday images engine start`)"
                                               if ours else " (not started by gameday)"))
