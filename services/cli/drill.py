"""Drill commands: drill, scenarios, answer — and the fault kinds of `gameday chaos`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer
from pydantic import ValidationError
from rich.table import Table

from ..drill.units import format_duration
from .common import console, console_for, err_console, print_json, progress, state

FAULT_ACTIONS = ("inject", "recover", "kinds")

if TYPE_CHECKING:
    from ..drill.catalog import Catalog


def register(app: typer.Typer) -> None:
    app.command()(drill)
    app.command()(scenarios)
    app.command()(answer)
    app.command()(signals)


def drill(
    name: Optional[str] = typer.Argument(None, help="A scenario from `gameday scenarios`."),
    fast: bool = typer.Option(False, "--fast", help="Accelerated: short warm-up and bounds (about 90 s)."),
    blind: bool = typer.Option(False, "--blind", help="Hide the scenario; investigate, then `gameday answer`."),
    random_pick: bool = typer.Option(False, "--random", help="Pick a scenario at random (with --blind: practice)."),
    control: bool = typer.Option(False, "--control", help="Same traffic and seed, no fault: nothing may fire."),
    seed: int = typer.Option(42, "--seed", help="Traffic seed (same seed, same trips)."),
    scenarios_dir: Optional[Path] = typer.Option(None, "--scenarios", help="Catalog folder (default: scenarios/)."),
    target: str = typer.Option("local", "--target", help="local (the stack of the run folder) or k8s (the chart's release)."),
    admin: list[str] = typer.Option([], "--admin", help="k8s: a forwarded admin address COMPONENT=http://127.0.0.1:PORT "
                                    "(default: the release's services forwarded for the drill)."),
    namespace: Optional[str] = typer.Option(None, "--namespace", "-n", help="k8s: the release's namespace "
                                            "(default: the kubeconfig context's)."),
    time_limit: float = typer.Option(20.0, "--time-limit", help="Blind: minutes from the page until the drill ends unanswered."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable result."),
) -> None:
    """Run a scenario on the live stack: deploy, warm up, break, watch the signals, write the debrief.

    Exits 1 when an expected signal did not fire (and says which)."""
    from ..drill.catalog import Catalog
    from ..drill.runner import Drill

    catalog = Catalog(scenarios_dir)
    if random_pick == bool(name):
        raise typer.BadParameter("give a scenario NAME, or --random (not both)")
    scenario = catalog.pick_random() if random_pick else catalog.get(name)
    settings = state.settings()
    label = "a hidden scenario" if blind else scenario.name
    from ..drill.targets import open_target

    cluster = open_target(settings, target, admin, namespace) if target != "local" else None
    try:
        with progress(f"drill: {label}") as report:
            result = Drill(cluster.settings if cluster else settings, scenario, fast=fast, blind=blind,
                           control=control, report=report, seed=seed, target=cluster,
                           time_limit_s=time_limit * 60, on_page=_print_page).run()
    finally:
        if cluster is not None:
            cluster.close()
    if as_json:
        print_json(result.as_dict())
    elif blind:
        _print_score(result.answer_dict(), result.scenario.name)
        return
    else:
        _print_result(result)
    if not result.passed:
        from ..drill.precision import false_alarms
        from ..drill.runner import DrillError

        what = "fired without a fault" if result.control else "did not fire"
        problems = [f"expected signals {what}: " + ", ".join(
            f"{o.expectation.signal} ({o.reason or o.expectation.describe()})" for o in result.missing())
        ] if result.missing() else []
        noise = result.alerts if result.control else false_alarms(result.alerts)
        problems += [f"the fix did not mitigate: {m.detail}" for m in result.mitigation if not m.held]
        if result.passes_unmitigated:
            problems.append("the mitigation check passed with the fix skipped (it cannot tell a fix from none): "
                            + "; ".join(m.detail for m in result.unmitigated))
        if noise:
            problems.append("alerts the scenario does not explain: " + ", ".join(
                f"{a.name} at {a.t:.0f}s ({a.verdict})" for a in noise))
        raise DrillError(f"{result.scenario.name}: " + "; ".join(problems),
                         hint=f"see the debrief: {result.debrief.get('markdown', result.folder)}")


def _print_page(page: Any) -> None:
    """The blind drill's page: symptoms, the clock, what the candidate can use (nothing names the scenario)."""
    import time

    console.print(f"\n[bold red]PAGE[/] drill {page.drill_id} — answer by "
                  f"{time.strftime('%H:%M:%S', time.localtime(page.deadline))} "
                  f"({(page.deadline - time.time()) / 60:.0f} min)\n")
    console.print(f"  {page.symptoms}\n")
    console.print(
        "What you can use, in another terminal (this one keeps the drill running; every command you run\n"
        "there is written to the drill's timeline):\n"
        "  look:  gameday status | signals [--watch] | alerts --drill | monitor | logs NAME |\n"
        "         dlq stats | dlq tail | features get | model list\n"
        "  act:   gameday chaos start|restart|resume NAME | chaos recover KIND | dlq replay |\n"
        "         model promote TAG | model clear | train\n"
        "  answer: gameday answer --signal S --component C --root-cause R --fix F --reasoning '...'\n"
        "          (the choices: gameday answer --choices). The faults stay on until you fix them;\n"
        "          the answer checks that your fix worked before it scores.\n")


def _print_score(data: dict[str, Any], scenario: str | None = None) -> None:
    if data.get("error"):
        err_console.print(f"[red]{data['error']}[/]")
        return
    table = Table(title=f"the scenario was: {scenario or data.get('scenario')} — score {data.get('total', 0):.0%}")
    for column in ("level", "score", "your answer", "expected", "note"):
        table.add_column(column)
    for level in data.get("levels", []):
        table.add_row(level["level"], f"{level['score']:.0%}", level.get("given") or "-", level["expected"],
                      level.get("note", ""))
    console.print(table)
    for check in data.get("mitigation_checks", []):
        console.print(f"  mitigation check: {check}")
    response = data.get("response") or {}
    shown = {k: v for k, v in response.items() if k != "paged_at" and v not in (None, False)}
    if shown:
        console.print("  response (s from the page): " + ", ".join(f"{k} {v}" for k, v in shown.items()))
    debrief = (data.get("debrief") or {}).get("html") or data.get("folder")
    console.print(f"debrief (with the brief: root cause and fix): {debrief}")


def _print_result(result: Any) -> None:
    table = Table(title=f"{result.scenario.name}{' (control)' if result.control else ''}: "
                        f"{'passed' if result.passed else 'FAILED'} in {result.wall_s:.0f}s")
    for column in ("signal", "expected", "fired", "after", "why not"):
        table.add_column(column)
    for o in result.outcomes:
        ok = o.fired != result.control
        table.add_row(o.expectation.signal, o.expectation.describe(),
                      f"[{'green' if ok else 'red'}]{'yes' if o.fired else 'no'}[/]",
                      "" if o.after_s is None else f"{o.after_s:.0f}s", o.reason)
    console.print(table)
    if result.alerts:
        alerts = Table(title="every alert of the run")
        for column in ("t", "alert", "score", "verdict"):
            alerts.add_column(column)
        for a in result.alerts:
            colour = "green" if a.verdict in ("expected", "consequence") and not result.control else "red"
            alerts.add_row(f"{a.t:.0f}s", a.name, "" if a.score is None else f"{a.score:.3g}", f"[{colour}]{a.verdict}[/]")
        console.print(alerts)
    else:
        console.print("no alert in this run")
    if result.unmitigated:
        colour = "red" if result.passes_unmitigated else "green"
        console.print(f"fix skipped (faults on): [{colour}]the mitigation check "
                      f"{'PASSED without a fix' if result.passes_unmitigated else 'fails, as it must'}[/]")
    for m in result.mitigation:
        colour = "green" if m.held else "red"
        console.print(f"fix tried live: [{colour}]{'held' if m.held else 'NOT held'}[/] {m.check} ({m.detail})")
    for kind, path in result.debrief.items():
        console.print(f"  {kind}: {path}")
    for o in result.missing():
        what = "fired without a fault" if result.control else "did not fire"
        err_console.print(f"[red]✗ {o.expectation.signal} {what}[/]: {o.reason or o.expectation.describe()}")
    for name in result.crashed:
        err_console.print(f"[yellow]! {name} died during the drill[/] (no fault aimed at it): see `gameday logs {name}`;"
                          " the next drill restarts it")


def scenarios(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable list."),
    markdown: bool = typer.Option(False, "--markdown", help="The catalog README (scenarios/README.md)."),
    scenarios_dir: Optional[Path] = typer.Option(None, "--scenarios", help="Catalog folder (default: scenarios/)."),
) -> None:
    """The scenario catalog: name, title, duration and what each one teaches."""
    from ..drill.catalog import Catalog, render_markdown, scenario_summary

    catalog = Catalog(scenarios_dir)
    if markdown:
        print(render_markdown(catalog), end="")
        return
    items = [scenario_summary(s) for s in catalog.all()]
    if as_json:
        print_json(items)
        return
    table = Table(title=f"scenarios in {catalog.root}")
    for column in ("name", "title", "duration", "fast", "what it teaches"):
        table.add_column(column)
    for item in items:
        table.add_row(item["name"], item["title"], format_duration(item["duration_s"]),
                      format_duration(item["fast_duration_s"]), item["teaches"])
    console.print(table)


def answer(
    component: Optional[str] = typer.Option(None, "--component", help="Which component is at fault."),
    root_cause: Optional[str] = typer.Option(None, "--root-cause", help="Which root cause (see --choices)."),
    fix: Optional[str] = typer.Option(None, "--fix", help="Which fix (see --choices)."),
    signal: Optional[str] = typer.Option(None, "--signal", help="The signal or alert that showed it."),
    reasoning: Optional[str] = typer.Option(
        None, "--reasoning", help="Free text: what happened, why, and what it cost (money per hour, riders); "
                                  "credited for a quantified impact statement. `-` reads it from stdin."),
    choices: bool = typer.Option(False, "--choices", help="List the possible answers and exit."),
    check_timeout: float = typer.Option(60.0, "--check-timeout", help="Seconds to wait for your fix's outcome."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Answer the running blind drill; get a score per level (detection, localization, root cause, mitigation)."""
    from ..drill.answer import Answer, validate_answer
    from ..drill.catalog import Catalog
    from ..drill.handoff import submit_answer

    catalog = Catalog()
    if choices:
        _print_choices(catalog, as_json)
        return
    missing = [flag for flag, value in (("--component", component), ("--root-cause", root_cause), ("--fix", fix))
               if not value]
    if missing:
        raise typer.BadParameter(f"give {', '.join(missing)} (see `gameday answer --choices`)")
    if reasoning == "-":
        import sys

        reasoning = sys.stdin.read()
    given = Answer(component=component, root_cause=root_cause, fix=fix, signal=signal, reasoning=reasoning)
    validate_answer(given, catalog.choices)
    with progress("handing the answer to the drill") as report:
        result = submit_answer(state.settings(), given, check_timeout, report)
    if as_json:
        print_json(result)
        return
    _print_score(result)


def signals(
    watch: bool = typer.Option(False, "--watch", help="Refresh every 2 s until Ctrl-C."),
    wide: bool = typer.Option(False, "--wide", help="Every column, whatever the terminal's width."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The live signals with their times: throughput, consumer lag per group, latency p50/p99, fallback
    share, DLQ rate and reasons, feature age, drift share, MAE/bias, the alerts (of the running drill, or
    sampled from the stack for ~12 s when no drill runs)."""
    import time

    from ..drill.snapshot import current_snapshot, signals_view

    while True:
        snapshot = current_snapshot(state.settings())
        if as_json:
            print_json(signals_view(snapshot))
            return
        if watch:
            console.clear()
        _print_signals(snapshot, wide)
        if not watch:
            return
        time.sleep(2.0)


def _print_signals(snapshot: dict[str, Any], wide: bool) -> None:
    import time

    from ..drill.snapshot import alert_rows, signal_rows

    def clock(at: float | None) -> str:
        return time.strftime("%H:%M:%S", time.localtime(at)) if at else "-"

    def num(v: float | None) -> str:
        return "-" if v is None else f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"

    where = f"drill {snapshot['drill']}" if snapshot.get("drill") else "the stack (no drill running)"
    table = Table(title=f"signals of {where} at {clock(snapshot.get('updated_at'))}")
    for column in ("signal", "now", "at", "min 60s", "max 60s") + (("meaning",) if wide else ()):
        table.add_column(column, overflow="fold")
    for row in signal_rows(snapshot):
        table.add_row(row.name, num(row.value), clock(row.at), num(row.low), num(row.high),
                      *((row.meaning,) if wide else ()))
    console_for(wide).print(table)
    reasons = snapshot.get("dlq_reasons") or {}
    console.print("dead letters by reason: " + (", ".join(f"{k} {v:,}" for k, v in sorted(reasons.items())) or "none"))
    fired = [a for a in alert_rows(snapshot) if a["count"]]
    console.print("alerts: " + ("; ".join(f"{a['kind']} ×{a['count']} (last {clock(a['last_at'])})"
                                          + (f" on {', '.join(a['columns'])}" if a["columns"] else "")
                                          for a in fired) or "none"))


def _print_choices(catalog: Catalog, as_json: bool) -> None:
    from ..drill.signals import ALL_SIGNALS

    c = catalog.choices
    data = {"signals": ALL_SIGNALS, "components": c.components, "root_causes": c.root_causes, "fixes": c.fixes}
    if as_json:
        print_json(data)
        return
    for title, items in data.items():
        table = Table(title=title)
        table.add_column("id")
        table.add_column("meaning")
        for key, text in items.items():
            table.add_row(key, text)
        console.print(table)


def fault_chaos(action: str, kind: Optional[str], params: list[str], target: str = "local",
                admin: list[str] | None = None) -> None:
    """`gameday chaos inject KIND --param k=v`, `gameday chaos recover KIND`, `gameday chaos kinds`."""
    import time

    from ..drill.faults import REGISTRY, FaultContext, injector
    from ..drill.targets import open_target
    from ..runtime.shutdown import recovered_on_exit

    if action == "kinds" or not kind:
        table = Table(title="fault kinds (gameday chaos inject KIND --param key=value)")
        for column in ("kind", "family", "what it does", "params"):
            table.add_column(column)
        for name, inj in REGISTRY.items():
            table.add_row(name, inj.family, inj.summary, ", ".join(inj.Params.model_fields) or "-")
        console.print(table)
        return
    fault = injector(kind)
    try:
        parsed = fault.parse(_parse_params(params))
    except ValidationError as exc:
        if action == "recover" and not params and fault.recovers_without_params:
            parsed = None  # `chaos recover KIND`: whatever parameters it was injected with
        else:
            _params_error(kind, exc)
    settings = state.settings()
    with progress(f"chaos {action} {kind}") as report:
        ctx = FaultContext(target=open_target(settings, target, admin), settings=settings, report=report)
        seconds = fault.recover_after_s(parsed) if action == "inject" else None
        if not seconds:
            message = fault.inject(ctx, parsed) if action == "inject" else fault.recover(ctx, parsed)
            state.result = message
            console.print(f"[bold magenta]chaos[/] {message}")
            return
        # A burst ends by itself, however this command ends (the handlers are in place before it starts).
        try:
            with recovered_on_exit(lambda: fault.recover(ctx, parsed)):
                console.print(f"[bold magenta]chaos[/] {fault.inject(ctx, parsed)}")
                report("chaos", f"holding the {kind} for {seconds:.0f}s")
                time.sleep(seconds)
        finally:
            console.print(f"[bold magenta]chaos[/] {fault.recover(ctx, parsed)}")


def _params_error(kind: str, exc: ValidationError) -> None:
    from ..drill.scenario import ScenarioError, describe_error

    problems = "; ".join(describe_error(err, kind) for err in exc.errors())
    raise ScenarioError(f"params of {kind}: {problems}", hint="see the params with `gameday chaos kinds`") from None


def _parse_params(pairs: list[str]) -> dict[str, Any]:
    """k=v pairs; values parsed as YAML scalars/lists (2.5 -> float, [1,2] -> list, none -> None)."""
    import yaml

    from ..drill.scenario import ScenarioError

    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ScenarioError(f"--param {pair!r}: expected key=value, e.g. --param multiply=2.5")
        value = yaml.safe_load(raw)
        params[key] = None if isinstance(value, str) and value.lower() == "none" else value
    return params
