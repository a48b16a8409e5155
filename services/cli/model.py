"""Model commands: `gameday train`, `gameday model list`, `gameday model promote`, `gameday model clear`."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from .common import console, err_console, print_json, state


def register(app: typer.Typer) -> None:
    app.command()(train)
    model_app = typer.Typer(help="Trained models and which one serves (live, canary, shadow).", no_args_is_help=True)
    model_app.command("list")(model_list)
    model_app.command("promote")(model_promote)
    model_app.command("clear")(model_clear)
    app.add_typer(model_app, name="model")


def train(
    variant: str = typer.Option("all", "--variant", "-v", help="fast, accurate, worse, or all."),
    history: Optional[str] = typer.Option(
        None, "--history", help="Create this much history first if there is none, e.g. 150m (the last 150 min "
                                "of the city at the live rate, fast-forwarded into the stack's broker and ingested)."),
    since: Optional[str] = typer.Option(
        None, "--since", help="Only trips requested in this last stretch, e.g. 30m or 6h (retrain on recent data)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Train ETA models on the labels history (point-in-time features from Feast) into the model store."""
    from ..drill.units import parse_duration
    from ..history import ensure_history
    from ..trainer.train import VARIANTS, train as run_training

    try:
        since_s = None if since is None else parse_duration(since)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from None
    try:
        history_minutes = None if history is None else parse_duration(history) / 60
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--history") from None
    settings = state.settings()
    variants = tuple(VARIANTS) if variant == "all" else (variant,)
    with err_console.status("training") as status:
        def report(message: str) -> None:
            err_console.print(f"  [dim]·[/] {message}")
            status.update(f"training — {message}")

        ensure_history(settings, history_minutes, report)
        trained = run_training(settings, variants, report, since_s=since_s)
    if as_json:
        print_json([t.as_dict() for t in trained])
        return
    table = Table(title="trained models (metrics on the held-out later period)")
    for column in ("tag", "variant", "MAE s", "RMSE s", "p90 |err| s", "mean baseline MAE s", "µs/row (1 row)"):
        table.add_column(column)
    for t in trained:
        m = t.metrics
        table.add_row(t.tag, t.variant, f"{m['mae_s']:.1f}", f"{m['rmse_s']:.1f}", f"{m['p90_abs_error_s']:.1f}",
                      f"{m['baseline_mae_s']:.1f}", f"{m['latency_us_single_row']:.0f}")
    console.print(table)
    console.print(f"model cards and plots: {trained[0].path.parent}/<version>/model_card.md, evaluation.html")


def model_list(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Every trained model, newest first, with its metrics and its role in serving."""
    from ..models.control import current_routing
    from ..models.store import list_models, use_model_store

    settings = state.settings()
    use_model_store(settings)
    models = list_models()
    roles = current_routing(settings)
    if as_json:
        print_json([{**m.as_dict(), "role": roles.get(m.tag)} for m in models])
        return
    if not models:
        console.print("no trained model yet — run `gameday train`")
        return
    table = Table(title=f"models in {models[0].path.parent.parent}")
    for column in ("tag", "variant", "role", "created", "MAE s", "p90 |err| s", "feature service"):
        table.add_column(column)
    for m in models:
        role = roles.get(m.tag, "")
        table.add_row(m.tag, m.variant, f"[bold green]{role}[/]" if role else "", m.created.strftime("%Y-%m-%d %H:%M:%S"),
                      f"{m.metrics.get('mae_s', float('nan')):.1f}", f"{m.metrics.get('p90_abs_error_s', float('nan')):.1f}",
                      m.feature_service)
    console.print(table)


def model_promote(
    tag: str = typer.Argument(..., help="A tag from `gameday model list`, or a variant name (its newest model)."),
    canary: Optional[float] = typer.Option(None, "--canary", min=0.0, max=1.0,
                                           help="Serve this share of traffic with it (role=canary); 0 removes the canary."),
    shadow: bool = typer.Option(False, "--shadow", help="Score it on every request too, publish role=shadow, return nothing."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Switch the live model without downtime (or start a canary / shadow)."""
    from ..models.control import change_models

    result = change_models(state.settings(), tag, canary=canary, shadow=shadow)
    _print_change(result, as_json)


def model_clear(
    role: str = typer.Argument(..., help="canary or shadow"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Stop the canary or the shadow model (the live one keeps serving)."""
    from ..errors import GamedayError
    from ..models.control import change_models

    if role not in ("canary", "shadow"):
        raise GamedayError(f"cannot clear {role!r}", hint="clear canary, or clear shadow")
    _print_change(change_models(state.settings(), None, clear=role), as_json)


def _print_change(result: dict, as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    console.print(f"[green]{result.pop('applied')}[/]")
    for role, value in result.items():
        shown = value["tag"] if isinstance(value, dict) else value
        console.print(f"  {role}: {shown if shown not in (None, 0.0) else '-'}")
