"""Stack commands: up, down, status, logs, chaos, config show."""

from __future__ import annotations

import signal
import threading
import time
from typing import TYPE_CHECKING, Optional

import typer
from rich.table import Table

from ..config import settings_as_dict
from ..contracts import LETTERS_COUNTED
from ..errors import StackError
from ..stack.component import CHAOS_ACTIONS
from .common import console, console_for, print_json, progress, state

if TYPE_CHECKING:
    from ..stack.supervisor import ComponentStatus, Stack

STATE_STYLE = {"running": "green", "paused": "yellow", "dead": "red", "stopped": "yellow",
               "external": "cyan", "not started": "dim"}


def register(app: typer.Typer) -> None:
    app.command()(up)
    app.command()(down)
    app.command()(status)
    app.command()(logs)
    app.command()(chaos)
    config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
    config_app.command("show")(config_show)
    app.add_typer(config_app, name="config")


def up(
    foreground: bool = typer.Option(False, "--foreground", "-f",
                                    help="Stay attached; Ctrl-C stops the whole stack."),
    with_prometheus: bool = typer.Option(False, "--with-prometheus",
                                         help="Also start Prometheus scraping the services (needs the OS package)."),
) -> None:
    """Start the stack (Kafka, Redis if asked, the services) and wait until every part is ready."""
    from ..app import open_stack

    settings = state.settings()
    if with_prometheus:
        settings = settings.model_copy(update={"monitor": settings.monitor.model_copy(update={"prometheus": True})})
    started = time.monotonic()
    with progress("starting the stack") as report:
        stack = open_stack(settings, report=report)
        stack.up(settings)
    console.print(f"[green]stack is up[/] in {time.monotonic() - started:.1f}s — run folder {stack.run.root}")
    _print_status(stack)
    if foreground:
        _hold_until_interrupted(stack)


def _hold_until_interrupted(stack: Stack) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    console.print("[dim]attached: Ctrl-C stops the stack[/]")
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    with progress("stopping the stack") as report:
        stack.report = report
        stack.down()
    console.print("stack stopped")


def down(wipe: bool = typer.Option(False, "--wipe", help="Also delete the stack's data (topics, features, models' runs).")) -> None:
    """Stop every process of the stack; nothing is left running."""
    from ..app import open_stack

    with progress("stopping the stack") as report:
        stack = open_stack(state.settings(), report=report)
        stopped = stack.down(wipe=wipe)
    what = ", ".join(stopped) if stopped else "nothing was running"
    console.print(f"stopped: {what}" + (" — data wiped" if wipe else ""))


def status(wide: bool = typer.Option(False, "--wide", help="Uptime and memory too, whatever the terminal's width."),
           as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Each component's state, pid, ports and addresses; what ingest made of the events (late ones too)."""
    from ..app import open_stack
    from ..dlq.stats import monitor_count
    from ..ingest.status import describe_totals, ingest_totals

    stack = open_stack(state.settings())
    totals = ingest_totals(stack.settings)
    monitor_since, monitor_letters = monitor_count(stack.settings)
    if as_json:
        print_json({**stack.status_json(), "ingest": totals,
                    "monitor": {"dead_lettered": monitor_letters, "since": monitor_since}})
        return
    _print_status(stack, wide)
    if totals:
        console.print(describe_totals(totals), highlight=False)
    if monitor_letters:
        console.print(f"monitor: dead-lettered {monitor_letters:,} since it started · dead letters are {LETTERS_COUNTED}; "
                      "`gameday dlq stats` has them by reason", highlight=False)


def _print_status(stack: Stack, wide: bool = False) -> None:
    """At 80 columns: every component's state, pid, ports and addresses, wrapped rather than cut;
    uptime and memory with --wide."""
    table = Table(title=f"stack in {stack.run.root}")
    columns = ("component", "state", "pid", "ports", "address") + (("uptime", "memory") if wide else ())
    for column in columns:  # an address is never broken; the ports wrap, one per line
        table.add_column(column, no_wrap=column in ("address", "component"), overflow="fold")
    skipped = []
    for s in stack.status():
        style = STATE_STYLE.get(s.state, "")
        addresses = {k: v for k, v in s.endpoints.items() if k != "skipped"}
        if "skipped" in s.endpoints:  # a sentence, not an address: said under the table, where it can wrap
            skipped.append(f"{s.name}: {s.endpoints['skipped']}")
        row = [s.name, f"[{style}]{s.state}[/]", f"container {s.container[:12]}" if s.container else str(s.pid or "-"),
               "\n".join(f"{k}={v}" for k, v in s.ports.items()) or "-",
               "\n".join(addresses.values()) or ("skipped" if "skipped" in s.endpoints else "-")]
        if wide:
            row += [f"{s.uptime_s:.0f}s" if s.uptime_s is not None else "-", _memory(s)]
        table.add_row(*row)
    console_for(wide).print(table)
    for line in skipped:
        console.print(line, highlight=False)


def _memory(s: ComponentStatus) -> str:
    """The group's total; with workers, how it splits (serving: supervisor + worker + publisher)."""
    if not s.rss_mb:
        return "-"
    if len(s.processes) < 2:
        return f"{s.rss_mb:.0f} MB"
    return f"{s.rss_mb:.0f} MB (" + " + ".join(f"{p['rss_mb']:.0f}" for p in s.processes) + ")"


def logs(
    component: str = typer.Argument(..., help="kafka, redis, ingest, serving, monitor, producer"),
    lines: int = typer.Option(40, "--lines", "-n", help="How many lines from the end."),
) -> None:
    """Print the end of a component's log."""
    from ..app import open_stack

    stack = open_stack(state.settings())
    path = stack.run.log_of(component)
    if not path.exists():
        raise StackError(f"no log for {component!r} in {stack.run.logs}",
                         hint="check the name with `gameday status`")
    print(stack.log_tail(component, lines))


def chaos(
    action: str = typer.Argument(..., help=f"One of: {', '.join(CHAOS_ACTIONS)}; or inject, recover, kinds."),
    component: Optional[str] = typer.Argument(None, help="The component, e.g. kafka (for inject/recover: the fault kind)."),
    param: list[str] = typer.Option([], "--param", "-p", help="inject/recover: a fault param key=value (repeatable)."),
    target: str = typer.Option("local", "--target", help="local, or k8s (the chart's release on a cluster)."),
    admin: list[str] = typer.Option([], "--admin", help="k8s knob faults: COMPONENT=http://127.0.0.1:PORT (port-forward)."),
    markdown: bool = typer.Option(False, "--markdown", help="kinds: the fault docs of scenarios/FORMAT.md."),
) -> None:
    """Process-level faults: kill -9, stop, start, pause (SIGSTOP), resume, restart.
    Fault kinds of the scenarios: `chaos inject KIND --param k=v`, `chaos recover KIND`, `chaos kinds`."""
    from ..app import open_stack
    from .drill import FAULT_ACTIONS, fault_chaos

    if action == "kinds" and markdown:
        from ..drill.faults import REGISTRY
        from ..drill.faults.docs import fault_docs

        print(fault_docs(REGISTRY), end="")
        return
    if action in FAULT_ACTIONS:
        return fault_chaos(action, component, param, target, admin)
    if target != "local":  # the process verbs, on the cluster: the process fault kinds
        return fault_chaos("inject", action, [f"component={component}"], target, admin)
    if component is None:
        raise typer.BadParameter(f"chaos {action} needs a component, e.g. `gameday chaos {action} kafka`")
    with progress(f"chaos {action} {component}") as report:
        message = open_stack(state.settings(), report=report).chaos(action, component)
    console.print(f"[bold magenta]chaos[/] {message}")


def config_show(as_json: bool = typer.Option(False, "--json")) -> None:
    """Print the effective configuration (defaults < YAML file < GAMEDAY_* variables)."""
    import yaml

    data = settings_as_dict(state.settings())
    if as_json:
        print_json(data)
    else:
        print(yaml.safe_dump(data, sort_keys=False), end="")
