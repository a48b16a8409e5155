"""`gameday impact`: the impact model's assumptions and formulas, or a recorded drill's incident costed again."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .common import console, print_json


def register(app: typer.Typer) -> None:
    app.command()(impact)


def impact(
    drill: Optional[Path] = typer.Option(None, "--drill", help="A drill's folder (.gameday/drills/...): cost its "
                                                                "incident with the model below."),
    model_file: Optional[Path] = typer.Option(None, "--model", help="An impact model YAML (default: impact/triptime.yaml)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """What an incident costs and a model is worth: every assumption with its source, and the formulas."""
    from ..drill.debrief import impact_markdown
    from ..drill.incident import estimate_drill
    from ..impact import estimate, load_impact_model, value
    from rich.markdown import Markdown

    model = load_impact_model(model_file)
    if drill is not None:
        found = estimate_drill(drill, model)
        if as_json:
            print_json(found.as_dict() if found else None)
        elif found is None:
            console.print("no fault was injected in that drill: no incident to cost")
        else:
            console.print(Markdown("\n".join(impact_markdown(found, model, assumptions=False))))
        return
    if as_json:
        print_json(model.model_dump())
        return
    table = Table(title=f"impact model ({model_file or 'impact/triptime.yaml'})")
    for column in ("assumption", "value", "unit", "source"):
        table.add_column(column)
    for name, assumption in model.assumptions():
        table.add_row(name, f"{assumption.value:g}", assumption.unit, " ".join(assumption.source.split()))
    console.print(table)
    console.print(f"net revenue per trip: {model.business.revenue_per_trip:.2f} {model.currency}; "
                  f"one extra minute of ETA error costs {model.per_trip_cost_of_error_minute():.3f} per trip")
    console.print(Markdown("## An incident's cost\n" + estimate.__doc__.split("\n", 2)[2]))
    console.print(Markdown("## A model's value, a mitigation's return\n" + value.__doc__.split("\n", 2)[2]))
