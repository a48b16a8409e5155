"""Model commands: `gameday train`, `gameday model list|promote|clear|compare`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .common import console, console_for, err_console, print_json, state


def register(app: typer.Typer) -> None:
    app.command()(train)
    model_app = typer.Typer(help="Trained models and which one serves (live, canary, shadow).", no_args_is_help=True)
    model_app.command("list")(model_list)
    model_app.command("promote")(model_promote)
    model_app.command("clear")(model_clear)
    model_app.command("compare")(model_compare)
    app.add_typer(model_app, name="model")


def train(
    variant: str = typer.Option("all", "--variant", "-v", help="fast, accurate, worse, or all."),
    history: Optional[str] = typer.Option(
        None, "--history", help="Create this much history first if there is none, e.g. 150m (the last 150 min "
                                "of the city at the live rate, fast-forwarded into the stack's broker and ingested)."),
    since: Optional[str] = typer.Option(
        None, "--since", help="Only trips requested in this last stretch, e.g. 30m or 6h (retrain on recent data)."),
    if_missing: bool = typer.Option(False, "--if-missing", help="Only the variants with no model in the store yet."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Train ETA models on the labels history (point-in-time features from Feast) into the model store."""
    from ..drill.units import parse_duration
    from ..history import ensure_history
    from ..trainer.train import VARIANTS, train as run_training, untrained_variants

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
    if if_missing:
        asked, variants = variants, untrained_variants(settings, variants)
        if not variants:
            err_console.print(f"  [dim]·[/] a model of {', '.join(asked)} is in the store already: nothing to train")
            if as_json:
                print_json([])
            return
    with err_console.status("training") as status:
        def report(message: str) -> None:
            err_console.print(f"  [dim]·[/] {message}")
            status.update(f"training — {message}")

        ensure_history(settings, history_minutes, report)
        trained = run_training(settings, variants, report, since_s=since_s)
    if as_json:
        print_json([t.as_dict() for t in trained])
        return
    table = Table(title="trained models (on the held-out later period; p90: of |error|; base: the MAE of "
                        "quoting the mean; µs: one row)")
    for column in ("tag", "variant", "MAE s", "RMSE s", "p90 s", "base s", "µs"):
        # At 80 columns too: a tag is what you promote, it is never cut.
        table.add_column(column, overflow="fold", no_wrap=column in ("tag", "variant"))
    for t in trained:
        m = t.metrics
        table.add_row(t.tag, t.variant, f"{m['mae_s']:.1f}", f"{m['rmse_s']:.1f}", f"{m['p90_abs_error_s']:.1f}",
                      f"{m['baseline_mae_s']:.1f}", f"{m['latency_us_single_row']:.0f}")
    console.print(table)
    console.print(f"model cards and plots: {trained[0].path.parent}/<version>/model_card.md, evaluation.html")


def model_list(wide: bool = typer.Option(False, "--wide", help="The feature service too, whatever the terminal's width."),
               as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
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
    columns = ("tag", "variant", "role", "created", "MAE s", "p90 s") + (("feature service",) if wide else ())
    for column in columns:
        table.add_column(column, overflow="fold")
    for m in models:
        role = roles.get(m.tag, "")
        row = [m.tag, m.variant, f"[bold green]{role}[/]" if role else "",
               m.created.strftime("%Y-%m-%d %H:%M:%S" if wide else "%m-%d %H:%M"),
               f"{m.metrics.get('mae_s', float('nan')):.1f}", f"{m.metrics.get('p90_abs_error_s', float('nan')):.1f}"]
        table.add_row(*row, *((m.feature_service,) if wide else ()))
    console_for(wide).print(table)


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


def model_compare(
    rate: float = typer.Option(10.0, "--rate", min=0.5, max=500, help="Predictions per second of the measuring load."),
    seconds: float = typer.Option(15.0, "--seconds", min=2, max=600, help="How long each variant is measured."),
    offline: bool = typer.Option(False, "--offline", help="No load: offline and online MAE only (no running stack needed)."),
    impact: Optional[Path] = typer.Option(None, "--impact", help="An impact model YAML (default: impact/triptime.yaml)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Each variant's offline and online MAE, p50/p99 latency, CPU and cost per million predictions, value per day.

    Latency and CPU are measured on the running stack: each variant is promoted live in turn under a short
    real load, and the routing is restored afterwards."""
    from ..impact import load_impact_model, money
    from ..portfolio.compare import compare_models

    model = load_impact_model(impact)
    with err_console.status("comparing models") as status:
        def report(message: str) -> None:
            err_console.print(f"  [dim]·[/] {message}")
            status.update(f"comparing models — {message}")

        result = compare_models(state.settings(), rate=rate, seconds=seconds, measure=not offline, impact=model,
                                report=report)
    if as_json:
        print_json(result.as_dict())
        return
    cur = result.currency
    table = Table(title=f"models on this stack (load {result.rate:g}/s × {result.seconds:g}s each; "
                        f"latency: the service's, SLO {result.slo_ms:g} ms; load average {result.load_avg_1m})")
    for column in ("variant", "MAE offline s", "MAE online s", "p50 ms", "p99 ms", "CPU ms/pred",
                   f"{cur} / 1M preds", f"value {cur}/day"):
        table.add_column(column, justify="right" if column != "variant" else "left")

    def num(value: float | None, digits: int = 1) -> str:
        return "–" if value is None else f"{value:,.{digits}f}"

    for v in result.variants:
        online = "–" if v.online_mae_s is None else f"{v.online_mae_s:,.1f} ({v.online_labels:,} labels)"
        table.add_row(v.variant, num(v.offline_mae_s), online, num(v.p50_ms, 2), num(v.p99_ms, 2),
                      num(v.cpu_ms_per_prediction, 3), "–" if v.cost_per_million is None else money(v.cost_per_million, cur),
                      "–" if v.value_per_day is None else money(v.value_per_day, cur))
    console.print(table)
    console.print("value per day: against quoting every trip the mean duration (the trainer's baseline MAE), minus "
                  "the requests lost above the SLO and the serving cost — the assumptions: `gameday impact`")
    for note in result.notes:
        err_console.print(f"[yellow]! {note}[/]")
