"""Monitor commands: monitor (latest windows), alerts, report open."""

from __future__ import annotations

import os
import shutil
import webbrowser

import typer
from rich.table import Table

from ..monitor.views import latest_report, latest_windows, local_alerts, topic_alerts, window_row
from ..runtime.kafka import kafka_options
from ..stack.endpoints import kafka_bootstrap
from .common import console, print_json, state


def register(app: typer.Typer) -> None:
    app.command("monitor")(monitor)
    app.command("alerts")(alerts)
    report_app = typer.Typer(help="The monitor's Evidently reports.", no_args_is_help=True)
    report_app.command("open")(report_open)
    app.add_typer(report_app, name="report")


def _fmt(value: object, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec) if isinstance(value, float) else str(value)


def monitor(last: int = typer.Option(10, "--last", "-n", help="How many windows."),
            as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """The latest judged windows: drift share, worst column, MAE, bias, freshness, alerts."""
    rows = [window_row(w) for w in latest_windows(state.settings(), last)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no window judged yet — is the monitor running (`gameday status`) and is traffic flowing?")
        return
    table = Table(title="monitor windows (error = prediction - actual; bias > 0 over-predicts)")
    for column in ("window", "status", "rows", "labelled", "drift share", "worst column", "pred drift",
                   "MAE s", "bias s", "age p95 s", "stale", "alerts"):
        table.add_column(column)
    for r in rows:
        table.add_row(str(r["window"]), r["status"], str(r["rows"]), str(r["labelled"]), _fmt(r["drift_share"], ".2f"),
                      r["worst_column"] or "-", _fmt(r["prediction_drift"]), _fmt(r["mae_s"], ".0f"),
                      _fmt(r["bias_s"], "+.0f"), _fmt(r["feature_age_p95_s"], ".0f"), _fmt(r["stale_share"], ".0%"),
                      "[red]" + ", ".join(r["alerts"]) + "[/]" if r["alerts"] else "")
    console.print(table)


def alerts(as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
           from_topic: bool = typer.Option(False, "--from-topic",
                                           help="Read the alerts topic of the running stack instead of the monitor's record.")) -> None:
    """Alerts the monitor published (after hysteresis)."""
    settings = state.settings()
    if from_topic:
        bootstrap = kafka_bootstrap(settings)
        found = topic_alerts(bootstrap, settings.topics.alerts, **kafka_options(settings.kafka))
    else:
        found = local_alerts(settings)
    if as_json:
        print_json(found)
        return
    if not found:
        console.print("no alerts")
        return
    table = Table(title="alerts")
    for column in ("time", "window", "kind", "column", "score", "threshold", "message"):
        table.add_column(column)
    for a in found:
        table.add_row(a["event_time"][:19], str(a["window"]), f"[bold]{a['kind']}[/]", a.get("column") or "-",
                      f"{a['score']:.3g}", f"{a['threshold']:.3g}", a.get("message", ""))
    console.print(table)


def report_open() -> None:
    """Print the latest window report's path; open it in a browser when one is available."""
    path = latest_report(state.settings())
    print(path)
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or shutil.which("open")
    if has_display:
        try:
            webbrowser.get()
        except webbrowser.Error:
            return
        webbrowser.open(path.as_uri())
