"""Pipeline commands: `produce` (trip events to Kafka), `features get` (a zone's online features),
`audit` (what became of every trip event)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from ..contracts import ZONE_IDS, ZONE_RANGE
from .common import console, console_for, err_console, print_json, state


def register(app: typer.Typer) -> None:
    app.command()(produce)
    app.command()(audit)
    features_app = typer.Typer(help="Read the feature store.", no_args_is_help=True)
    features_app.command("get")(features_get)
    app.add_typer(features_app, name="features")


def produce(
    rate: Optional[float] = typer.Option(None, "--rate", help="Trip requests per second (live, and a history's density). Default: producer.rate."),
    duration: Optional[float] = typer.Option(None, "--duration", help="Seconds of live traffic."),
    events: Optional[int] = typer.Option(None, "--events", help="Number of trips (each: a request, later its label)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Simulator seed. Default: producer.seed."),
    history: Optional[str] = typer.Option(
        None, "--history", help="Fast-forward the last DURATION of the city (e.g. 150m) at --rate, as fast as possible: "
                                "requests until an hour before now, their labels until now. Only before any live trip."),
    replay: Optional[Path] = typer.Option(
        None, "--replay", help="Replay a TLC yellow-taxi parquet file as the history (shifted to end now)."),
    time_scale: Optional[float] = typer.Option(None, "--time-scale", help="Live: labels come duration/time_scale s after the request."),
    label_wait: float = typer.Option(60.0, "--label-wait", help="Live: seconds to wait for outstanding labels at the end."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Send trip events (trips.requested, then trips.completed) to Kafka."""
    from ..drill.units import parse_duration
    from ..producer.run import ProduceOptions, produce as run_produce
    from ..producer.sink import ProducerError

    if rate is not None and rate <= 0:
        raise ProducerError(f"--rate must be > 0 (got {rate})")
    try:
        history_s = None if history is None else parse_duration(history)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--history") from None
    options = ProduceOptions(rate=rate, duration_s=duration, trips=events, seed=seed, history_s=history_s,
                             replay=replay, time_scale=time_scale, label_wait_s=label_wait)
    report = run_produce(state.settings(), options).as_dict()
    if as_json:
        print_json(report)
        return
    console.print(f"sent [bold]{report['events']}[/] events ({report['trips']} trips) in {report['elapsed_s']} s"
                  f" — {report['events_per_s']} events/s")
    for topic, count in report["by_topic"].items():
        console.print(f"  {topic}: {count}")
    for kind, count in report["faults"].items():
        console.print(f"  [yellow]{kind}[/]: {count}")
    if report["labels_not_emitted"]:
        console.print(f"  [dim]labels not yet due (not sent): {report['labels_not_emitted']}[/]")


def audit(
    wait: float = typer.Option(60.0, "--wait", help="Seconds to wait for ingest to commit what is on the topics."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Account for every event on trips.*: applied by ingest, dead-lettered with a reason, or pending;
    and which trip requests were predicted. Exit 1 when an event is unaccounted for."""
    from ..drill.audit import audit as run_audit

    with err_console.status("auditing the trip topics") as spinner:
        report = run_audit(state.settings(), wait_s=wait, progress=lambda message: spinner.update(message))
    if as_json:
        print_json(report.as_dict())
    else:
        table = Table("topic", "events", "applied", "dead-lettered", "pending", "unaccounted",
                      title="every event on the trip topics")
        for topic, count in sorted(report.events.items()):
            lost = report.unaccounted[topic]
            table.add_row(topic, f"{count:,}", f"{report.applied[topic]:,}", f"{report.dead_lettered[topic]:,}",
                          f"{report.pending[topic]:,}", f"[red]{lost:,}[/]" if lost else "0")
        console.print(table)
        console.print(f"trip requests predicted: {report.predicted:,} of {report.requests:,}"
                      f" ({report.requests - report.predicted:,} without a prediction on the predictions topic)")
        for reason, count in report.reasons.most_common(10):
            console.print(f"  dead-lettered {count:,}: {reason}", highlight=False)
        for example in report.examples:
            console.print(f"  [red]unaccounted[/] {example['topic']}[{example['partition']}] offset "
                          f"{example['offset']}: {example['why']}", highlight=False)
        for check in report.checks:
            console.print(f"  [yellow]check[/]: {check}", highlight=False)
    if report.total_unaccounted:
        raise typer.Exit(1)


def features_get(
    zone: list[int] = typer.Option(..., "--zone", "-z", help=f"Pickup zone id ({ZONE_RANGE}); repeat for several."),
    from_store: bool = typer.Option(False, "--store", help="Open the online store here instead of asking serving (slower)."),
    wide: bool = typer.Option(False, "--wide", help="Event times with their date and zone, whatever the terminal's width."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """A zone's online features and their age (asked of serving, which has the store open)."""
    bad = [z for z in zone if z not in ZONE_IDS]
    if bad:
        raise typer.BadParameter(f"{bad[0]} is not a zone id: zones are {ZONE_RANGE}", param_hint="--zone")
    now = datetime.now(timezone.utc)
    found = _zone_features(zone, from_store)  # zone -> (values, event time)

    def age_s(event_time: datetime | None) -> float | None:
        return None if event_time is None else (now - event_time).total_seconds()

    if as_json:
        print_json([{"zone_id": z, "values": values, "event_time": at, "age_s": age_s(at)}
                    for z, (values, at) in found.items()])
        return
    table = Table()
    for column in ("zone", "requests 15m", "completed 30m", "speed 30m mph", "event time", "age"):
        table.add_column(column, overflow="fold", no_wrap=column in ("zone", "event time", "age"))
    for z, (v, at) in found.items():
        age = age_s(at)
        table.add_row(str(z), _fmt(v["requests_15m"], 0), _fmt(v["completed_30m"], 0), _fmt(v["mean_speed_30m"], 2),
                      (at.astimezone().isoformat(timespec="milliseconds") if wide else at.astimezone().strftime("%H:%M:%S"))
                      if at else "-", f"{age:.1f} s" if age is not None else "no row")
    console_for(wide).print(table)


def _zone_features(zones: list[int], from_store: bool = False) -> dict[int, tuple[dict, datetime | None]]:
    """From the store serving has open (well under a second); when serving is not up, from a store
    opened here (importing Feast and opening its registry take seconds)."""
    from ..drill.targets import LocalTarget
    from ..errors import GamedayError

    settings = state.settings()
    if not from_store:
        try:
            rows = LocalTarget(settings).zone_features(zones)
            return {r["zone_id"]: (r["values"], datetime.fromisoformat(r["event_time"]) if r["event_time"] else None)
                    for r in rows}
        except GamedayError:
            pass  # serving is not up: the store itself
    # Imported here: importing feast sets process-wide env (metrics dirs) that `gameday up` must not pass on.
    from ..features.online import read_zone_features
    from ..features.store import open_store

    return {z: (f.values, f.event_time) for z, f in read_zone_features(open_store(settings), zones).items()}


def _fmt(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
