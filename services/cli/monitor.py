"""Monitor commands: monitor (latest windows), alerts, report open."""

from __future__ import annotations

import os
import shutil
import webbrowser

import typer
from rich.table import Table

from .common import console, console_for, err_console, print_json, state


def register(app: typer.Typer) -> None:
    app.command("monitor")(monitor)
    app.command("alerts")(alerts)
    report_app = typer.Typer(help="The monitor's Evidently reports.", no_args_is_help=True)
    report_app.command("open")(report_open)
    app.add_typer(report_app, name="report")


def _fmt(value: object, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec) if isinstance(value, float) else str(value)


def monitor(last: int = typer.Option(10, "--last", "-n", help="How many windows."),
            wide: bool = typer.Option(False, "--wide", help="Every column, whatever the terminal's width."),
            as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """The latest judged windows with their times: drift share, worst column, MAE, bias, freshness, alerts.
    Warns when the monitor stopped judging windows."""
    from ..monitor.views import latest_windows, stalled_for, window_row

    settings = state.settings()
    windows = latest_windows(settings, last)
    rows = [window_row(w) for w in windows]
    stalled = stalled_for(windows, settings.monitor.window_s)
    if as_json:
        print_json({"windows": rows, "stalled_s": stalled})
        return
    if not rows:
        console.print("no window judged yet — is the monitor running (`gameday status`) and is traffic flowing?")
        return
    table = Table(title="monitor windows (error = prediction - actual; bias > 0 over-predicts)")
    columns = ["judged", "window", "status", "rows", "lab.", "drift", "MAE s", "bias s", "alerts"]
    if wide:
        columns[1:1] = ["events from", "to"]
        columns[-1:-1] = ["worst column", "pred drift", "age p95 s", "stale"]
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column in ("judged", "events from", "to"))
    for r in rows:
        cells = {"judged": _clock(r["judged_at"]), "events from": _clock(r["first_event"]), "to": _clock(r["last_event"]),
                 "window": str(r["window"]), "status": r["status"], "rows": str(r["rows"]), "lab.": str(r["labelled"]),
                 "drift": _fmt(r["drift_share"], ".2f"), "worst column": r["worst_column"] or "-",
                 "pred drift": _fmt(r["prediction_drift"]), "MAE s": _fmt(r["mae_s"], ".0f"),
                 "bias s": _fmt(r["bias_s"], "+.0f"), "age p95 s": _fmt(r["feature_age_p95_s"], ".0f"),
                 "stale": _fmt(r["stale_share"], ".0%"),
                 "alerts": _alerts_cell(r["alerts"], wide)}
        table.add_row(*(cells[c] for c in columns))
    console_for(wide).print(table)
    if not wide:  # at 80 columns the alerts' names do not fit a cell: one line per window that raised any
        for r in rows:
            if r["alerts"]:
                console.print(f"  {_clock(r['judged_at'])} window {r['window']}: [red]{_names(r['alerts'])}[/]",
                              highlight=False)
    if stalled is not None:
        err_console.print(f"[bold yellow]! the monitor has judged no window for {stalled / 60:.0f} min[/] "
                          "(it should every window): see `gameday logs monitor` and `gameday status`")


def _alerts_cell(alerts: list[str], wide: bool) -> str:
    if not alerts:
        return ""
    return "[red]" + (_names(alerts) if wide else f"{len(alerts)} ↓") + "[/]"


def _names(alerts: list[str]) -> str:
    """Alert names as text, not markup: rich would take the "[trip_distance]" of "drift.detected[trip_distance]"
    for a style and drop it."""
    from rich.markup import escape

    return escape(", ".join(alerts))


def _clock(iso: str | None) -> str:
    from datetime import datetime

    return datetime.fromisoformat(iso).astimezone().strftime("%H:%M:%S") if iso else "-"


def alerts(as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
           wide: bool = typer.Option(False, "--wide", help="The message and evidence too, whatever the terminal's width."),
           since: str | None = typer.Option(None, "--since", help="Only alerts of this last stretch, e.g. 10m."),
           drill: bool = typer.Option(False, "--drill", help="Only alerts since the running drill started."),
           from_topic: bool = typer.Option(False, "--from-topic",
                                           help="Read the alerts topic of the running stack instead of the monitor's record.")) -> None:
    """Alerts the monitor published (after hysteresis), oldest first."""
    import time

    from ..drill.active import ActiveDrill, NoActiveDrill
    from ..drill.units import parse_duration
    from ..monitor.views import alerts_since, local_alerts, topic_alerts
    from ..runtime.kafka import kafka_options
    from ..stack.endpoints import kafka_bootstrap

    settings = state.settings()
    start = time.time() - parse_duration(since) if since else None
    if drill:
        running = ActiveDrill.current(settings)
        if running is None:
            raise NoActiveDrill("no drill is running on this run folder", hint="use --since 10m instead")
        start = max(start or 0.0, running.started_at)
    if from_topic:
        bootstrap = kafka_bootstrap(settings)
        found = topic_alerts(bootstrap, settings.topics.alerts, **kafka_options(settings.kafka))
    else:
        found = local_alerts(settings)
    found = alerts_since(found, start)
    if as_json:
        print_json(found)
        return
    if not found:
        console.print("no alerts" + (" in that stretch" if start else ""))
        return
    table = Table(title="alerts")
    for column in ("time", "window", "kind", "column", "score", "limit") + (("message", "evidence") if wide else ()):
        # A time, a kind or a column is never broken at 80 columns; a message or a path may wrap.
        table.add_column(column, overflow="fold", no_wrap=column in ("time", "kind", "column"))
    for a in found:
        table.add_row(_clock(a["event_time"]), str(a["window"]), f"[bold]{a['kind']}[/]", a.get("column") or "-",
                      f"{a['score']:.3g}", f"{a['threshold']:.3g}",
                      *((a.get("message") or "", a.get("evidence_path") or "-") if wide else ()))
    console_for(wide).print(table)


def report_open() -> None:
    """Print the latest window report's path; open it in a browser when one is available."""
    from ..monitor.views import latest_report

    path = latest_report(state.settings())
    print(path)
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or shutil.which("open")
    if has_display:
        try:
            webbrowser.get()
        except webbrowser.Error:
            return
        webbrowser.open(path.as_uri())
