"""`gameday interview`: a timed mock round on the live stack, ending with a score sheet in the debrief."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .common import console, err_console, print_json, progress, state


def register(app: typer.Typer) -> None:
    app.command()(interview)


def interview(
    minutes: float = typer.Option(45.0, "--minutes", min=1, help="The round's length; each phase gets its share."),
    answers: Optional[Path] = typer.Option(
        None, "--answers", help="Answers from a YAML file (question id → text, incident: \\[commands], explain: "
                                "{signal, component, root_cause, fix, reasoning}) instead of the terminal."),
    scenario: Optional[str] = typer.Option(None, "--scenario", help="The incident (default: one at random, hidden)."),
    fast: bool = typer.Option(False, "--fast", help="Accelerated: the short drill and a short measurement load."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Picks the incident and its traffic (default: a new draw)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A mock round: design with follow-ups, a tour of the live stack, a blind incident, its explanation and
    mitigation, a product-impact question — with the interviewer's script and timings, scored for depth,
    breadth and business alignment."""
    from ..interview.candidate import ScriptedCandidate, TerminalCandidate
    from ..interview.round import Interview

    def echo(line: str) -> None:
        console.print(line, highlight=False, markup=False)

    if answers:
        with progress("interview") as report:
            result = Interview(state.settings(), ScriptedCandidate(answers, echo), minutes=minutes, fast=fast,
                               scenario=scenario, seed=seed, echo=echo, report=report).run()
    else:  # no spinner over the candidate's typing: only the finished steps are printed
        result = Interview(state.settings(), TerminalCandidate(echo, console.input), minutes=minutes, fast=fast,
                           scenario=scenario, seed=seed, echo=echo, report=_steps).run()
    if as_json:
        print_json(result.as_dict())
        return
    sheet = result.sheet
    table = Table(title=f"score sheet — {sheet.total:.0%} ({sheet.elapsed_s / 60:.1f} of {sheet.budget_s / 60:.0f} min)")
    for column in ("dimension", "part", "score", "why"):
        table.add_column(column)
    for name, dim in sheet.dimensions.items():
        for part in dim["parts"]:
            table.add_row(name, part["part"], f"{part['score']:.0%}", part["note"])
    console.print(table)
    console.print(f"debrief (with the score sheet): {result.folder / 'debrief.html'}")


def _steps(component: str, message: str) -> None:
    if message == "ready" or message.startswith(("created", "restarted", "training", "pausing")):
        err_console.print(f"  [dim]· {component}: {message}[/]")
