"""`gameday portfolio`: the run folder as one self-contained HTML case study."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import console, err_console, print_json, state


def register(app: typer.Typer) -> None:
    app.command()(portfolio)


def portfolio(
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Where to write it (default: <run folder>/portfolio.html)."),
    impact: Optional[Path] = typer.Option(None, "--impact", help="An impact model YAML (default: impact/triptime.yaml)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Model cards with residuals and a precision–recall curve, the serving benchmark, drills with scores,
    time to detect and to mitigate, ROI of each mitigation — one HTML file, no network needed to open it."""
    from ..impact import load_impact_model
    from ..portfolio.page import build_portfolio

    with err_console.status("writing the portfolio") as status:
        result = build_portfolio(state.settings(), out, load_impact_model(impact),
                                 report=lambda message: status.update(f"writing the portfolio — {message}"))
    if as_json:
        print_json(result.as_dict())
        return
    console.print(f"portfolio: {result.path}  ({len(result.models)} models, {len(result.drills)} drills, "
                  f"{result.interviews} mock interviews)")
    if not result.compared:
        err_console.print("[yellow]! no serving benchmark yet[/]: `gameday model compare`, then portfolio again")
