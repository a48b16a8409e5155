"""Dead-letter commands: `gameday dlq tail | stats | replay`."""

from __future__ import annotations

from typing import Any, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ..contracts import LETTERS_COUNTED
from .common import console, console_for, err_console, parse_since, print_json, state


def register(app: typer.Typer) -> None:
    dlq_app = typer.Typer(help="The dead-letter topic: what was refused, why, and replaying it.", no_args_is_help=True)
    dlq_app.command("tail")(dlq_tail)
    dlq_app.command("stats")(dlq_stats)
    dlq_app.command("replay")(dlq_replay)
    app.add_typer(dlq_app, name="dlq")


def dlq_tail(
    last: int = typer.Option(20, "--last", "-n", min=1, max=10_000, help="How many of the newest letters."),
    wide: bool = typer.Option(False, "--wide", help="Every column, whatever the terminal's width."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The newest dead letters: when, who refused the event, from where, and why."""
    from ..dlq.stats import tail

    letters = tail(state.settings(), last)
    if as_json:
        print_json([letter.model_dump(mode="json") for letter in letters])  # with the original: what to map
        return
    if not letters:
        console.print("the dead-letter topic is empty")
        return
    table = Table(title=f"the newest {len(letters)} dead letters")
    table.add_column("time", no_wrap=True)
    table.add_column("consumer", no_wrap=True)
    table.add_column("source", no_wrap=True)
    table.add_column("reason", overflow="fold", ratio=1)
    if wide:
        table.add_column("bytes", justify="right")
    for letter in letters:
        where = f"{letter.source_topic}[{letter.partition}]@{letter.offset}" if wide else letter.source_topic
        row = [letter.event_time.strftime("%H:%M:%S"), escape(letter.consumer), escape(where), escape(letter.reason[:300])]
        table.add_row(*row, *([f"{letter.original_size or 0:,}"] if wide else []))
    console_for(wide).print(table)


def dlq_stats(
    since: Optional[str] = typer.Option(None, "--since", help="Only letters of this last stretch, e.g. 10m (default: all)."),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds to read the topic at most."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Dead letters by reason, source topic, consumer and minute — and whether each consumer's own
    count agrees with the topic."""
    from ..dlq.stats import stats

    since_s = parse_since(since)
    with err_console.status("reading the dead-letter topic") as status:
        result = stats(state.settings(), since_s, timeout,
                       progress=lambda p: status.update(f"reading the dead-letter topic — {p.read:,} of {p.total:,}"))
    if as_json:
        print_json(result.as_dict())
        return
    what = "since " + since if since else "on the topic"
    console.print(f"{result.distinct:,} dead letters {what}"
                  + (f" ({result.total - result.distinct:,} sent twice after a restart)" if result.total > result.distinct else "")
                  + (f"; {result.not_letters:,} records that are not dead letters" if result.not_letters else ""))
    if result.by_reason:
        console.print(f"[dim]{LETTERS_COUNTED}[/]", highlight=False)
        console.print(_reasons_table(result))
    for title, counts in (("source topic", result.by_source),):
        if not counts:
            continue
        table = Table(title=f"by {title}")
        table.add_column(title, overflow="fold", ratio=1)
        table.add_column("letters", justify="right", no_wrap=True)
        for key, count in counts.most_common(15):
            table.add_row(key, f"{count:,}")
        console.print(table)
    if result.by_minute:
        minutes = sorted(result.by_minute.items())[-15:]
        console.print("by minute (UTC): " + ", ".join(
            f"{_hhmm(t)} {n:,}" for t, n in minutes), highlight=False)
    for check in result.agreement:
        if check.agrees is None:
            console.print(f"[yellow]?[/] {check.consumer}: {check.on_topic:,} on the topic; its own count is not "
                          f"available ({check.source})", highlight=False)
        elif check.agrees:
            console.print(f"[green]✓[/] {check.consumer}: {check.on_topic:,} on the topic = {check.counted:,} in "
                          f"{check.source}", highlight=False)
        else:
            console.print(f"[red]✗[/] {check.consumer}: {check.on_topic:,} on the topic ≠ {check.counted:,} in "
                          f"{check.source}", highlight=False)


def _reasons_table(result: Any) -> Table:
    """Letters by reason, a column per consumer (what its metric and its log summaries count) and the total."""
    consumers = [consumer for consumer, _ in result.by_consumer.most_common()]
    table = Table(title="letters by reason and consumer")
    table.add_column("reason", overflow="fold", ratio=1)
    for consumer in consumers:
        table.add_column(consumer, justify="right", overflow="fold")
    table.add_column("all", justify="right", no_wrap=True)
    for reason, count in result.by_reason.most_common(15):
        table.add_row(escape(reason), *(f"{result.by_consumer_reason[c, reason]:,}" for c in consumers), f"{count:,}")
    table.add_row("[bold]all[/]", *(f"{result.by_consumer[c]:,}" for c in consumers), f"{result.distinct:,}")
    return table


def _hhmm(epoch_s: int) -> str:
    import time

    return time.strftime("%H:%M", time.gmtime(epoch_s))


def dlq_replay(
    rename: list[str] = typer.Option([], "--rename", help="Map a field on the way: OLD=NEW (repeatable)."),
    source_topic: Optional[str] = typer.Option(None, "--source-topic", help="Only events from this topic."),
    reason_contains: Optional[str] = typer.Option(None, "--reason", help="Only events whose reason contains this."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would be replayed; send nothing."),
    timeout: float = typer.Option(120.0, "--timeout", help="Stop after this many seconds (what was sent is kept)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Re-publish the dead-lettered originals to their source topic (after fixing the cause): what the
    topic held when the command started, since the last replay."""
    from ..dlq.replay import parse_renames, replay

    renames = parse_renames(rename)
    with err_console.status("replaying the DLQ") as status:
        report = replay(state.settings(), renames=renames, source_topic=source_topic, reason_contains=reason_contains,
                        dry_run=dry_run, timeout_s=timeout,
                        progress=lambda r, p: status.update(
                            f"replaying the DLQ — read {p.read:,} of {p.total:,}, {r.replayed:,} "
                            f"{'to send' if dry_run else 'sent'}"))
    verb = "would replay" if dry_run else "replayed"
    summary = (f"read {report.read:,} dead letters in {report.seconds:.0f}s; {verb} {report.replayed:,} "
               f"({', '.join(f'{t}: {n:,}' for t, n in report.by_topic.items()) or 'none'})")
    state.result = summary
    if as_json:
        print_json(report.as_dict())
        return
    console.print(summary, highlight=False)
    for why, count in report.skipped.items():
        console.print(f"  skipped {count:,}: {why}", highlight=False)
    if report.left:
        err_console.print(f"[yellow]stopped at the timeout with {report.left:,} letters left[/]: run it again "
                          "(it resumes where it stopped) or give it longer (--timeout)")
