"""The debrief of a drill: debrief.md and one self-contained debrief.html (plotly inlined, no CDN).

Both hold: the verdict per expected signal, the timeline of faults and signals, the plots
(drift, MAE, latency p99, consumer lag, freshness and the rest over time), the evidence
(Evidently reports, alert events, dead-letter reasons) and the brief.
"""

from __future__ import annotations

import html
import json
import os
import shutil
from pathlib import Path
from typing import Any

from ..config import Settings
from ..contracts import LETTERS_COUNTED
from ..impact import IncidentEstimate, money
from ..impact.model import ImpactModel, default_impact_model
from .expect import Outcome
from .timeline import Timeline

# Plots, in order: (series, title). Only series with samples are drawn.
PLOTS = (
    ("drift_share", "drift share (monitor)"),
    ("mae_s", "online MAE of live predictions, s"),
    ("served_mae_s", "online MAE of the ETAs riders saw (live + canary), s"),
    ("late_share", "share of trips late past their ETA (impact model's threshold)"),
    ("latency_p99_ms", "serving latency p99, ms"),
    ("latency_over_slo_ms", "mean latency above the SLO, ms"),
    ("consumer_lag", "consumer lag, events"),
    ("feature_age_s", "feature age (freshness), s"),
    ("fallback_share", "share of predictions on fallback features"),
    ("throughput", "predictions per second"),
    ("dlq_rate", "dead letters per second (one per consumer that refused an event)"),
    ("canary_mae_ratio", "canary MAE / live MAE"),
    ("mean.trip_distance", "mean trip_distance of requests, miles"),
    ("mean.mean_speed_30m", "mean mean_speed_30m served"),
    ("unanswered_requests", "requests without a prediction"),
)
MARK_COLORS = {"fault": "#d62728", "recover": "#2ca02c", "alert": "#ff7f0e", "dlq": "#9467bd", "phase": "#7f7f7f",
               "note": "#17becf", "action": "#1f77b4"}


def evidence(timeline: Timeline, settings: Settings | None) -> dict[str, Any]:
    """Evidently reports and alert events of this drill."""
    alerts = [{"t": m.t, "kind": m.name, **m.detail} for m in timeline.marks_of("alert")]
    reports = sorted({a["evidence_path"] for a in alerts if a.get("evidence_path")})
    if settings is not None:
        monitor_data = settings.run_path / "data" / "monitor"
        if monitor_data.is_dir():
            newer = [p for p in monitor_data.rglob("*.html") if p.stat().st_mtime >= timeline.t0]
            reports += [str(p) for p in sorted(newer)[-20:] if str(p) not in reports]
    dlq = [{"t": m.t, "reason": m.detail.get("reason"), "source_topic": m.detail.get("source_topic")}
           for m in timeline.marks_of("dlq")]
    return {"reports": reports, "alerts": alerts, "dead_letters": dlq}


def keep_reports(reports: list[str], folder: Path) -> list[str]:
    """The drill's own links to the reports it cites (folder/evidence/), so the debrief outlives the
    monitor's pruning; a hard link costs no space (a copy where links are not possible). A report
    already gone is listed where it was."""
    kept = []
    for source in map(Path, reports):
        if not source.is_file():
            kept.append(str(source))
            continue
        target = folder / "evidence" / source.name
        target.parent.mkdir(exist_ok=True)
        if not target.exists():
            try:
                os.link(source, target)
            except OSError:  # another file system, or links not allowed
                shutil.copyfile(source, target)
        kept.append(str(target))
    return kept


def render_markdown(result: Any, timeline: Timeline, proof: dict[str, Any], counts: dict[str, Any]) -> str:
    scenario = result.scenario
    from .precision import tally

    counts_by_verdict = tally(result.alerts)
    verdict = ("PASSED: no signal fired and no alert (control run)" if result.control and result.passed else
               "FAILED: a signal or an alert fired without a fault (control run)" if result.control else
               "PASSED: every expected signal fired in time, and no other alert" if result.passed else
               "FAILED: an expected signal did not fire, or an alert the scenario does not explain fired")
    lines = [f"# Debrief: {scenario.name}{' (control)' if result.control else ''}", "",
             f"**{scenario.title}** — {verdict}.", "",
             f"Mode: {'accelerated (--fast)' if result.fast else 'normal'}; target {result.target}; wall time {result.wall_s:.0f}s;"
             f" run folder `{result.folder}`.", "",
             "## Expected signals", "", "| signal | expected | fired | after | value | why not |", "|---|---|---|---|---|---|"]
    for o in result.outcomes:
        lines.append(f"| `{o.expectation.signal}` | {o.expectation.describe()} | {'yes' if o.fired else 'no'} |"
                     f" {'' if o.after_s is None else f'{o.after_s:.0f}s'} |"
                     f" {'' if o.value is None else f'{o.value:.3g}'} | {o.reason} |")
    if result.mitigation:
        lines += ["", "## The fix, tried live", "", "The faults were recovered (what the right fix does); each check:", ""]
        lines += [f"- {'held' if m.held else 'NOT held'}: {m.check} ({m.detail})" for m in result.mitigation]
    if result.unmitigated:
        lines += ["", "## The fix, skipped", "",
                  "Before that, with the faults still on, the same checks a blind candidate's answer gets — as if "
                  "they had answered once the symptoms set in and changed nothing. They must not all hold"
                  + (": they all did, so this check cannot tell a fix from none." if result.passes_unmitigated
                     else ", and they did not:"), ""]
        lines += [f"- {'held' if m.held else 'failed'}: {m.check} ({m.detail})" for m in result.unmitigated]
    lines += ["", "## Every alert", "",
              "Expected: named by the scenario. Consequence: allowed to follow the fault. Baseline noise: "
              "before any fault (a stack at rest must raise none). Unexpected: after the fault, explained by "
              "nothing the scenario says.", "",
              "Counts: " + ", ".join(f"{v} {k}" for k, v in counts_by_verdict.items()) + ".", ""]
    if result.alerts:
        lines += ["| t (s) | alert | score | verdict |", "|---|---|---|---|"]
        lines += [f"| {a.t:.0f} | `{a.name}` | {'' if a.score is None else f'{a.score:.3g}'} | {a.verdict} |"
                  for a in result.alerts]
    else:
        lines.append("No alert fired.")
    lines += _answer_section(result)
    lines += impact_markdown(result.impact)
    if result.drawn:
        lines += ["", "Fault parameters drawn for this blind run: "
                  + "; ".join(f"{d['kind']} at {d['at']:.0f}s {json.dumps(d['params'])}" for d in result.drawn)]
    lines += ["", "## Timeline", "", "| t (s) | what | detail |", "|---|---|---|"]
    for m in sorted(timeline.marks, key=lambda m: m.t):
        detail = ", ".join(f"{k}={v}" for k, v in m.detail.items() if v not in (None, "", {}, []))
        lines.append(f"| {m.t:.1f} | {m.kind}: {m.name} | {detail[:160]} |")
    lines += ["", "## Evidence", ""]
    lines += [f"- Evidently report: `{p}`" for p in proof["reports"]] or ["- no Evidently report in this run"]
    lines += [f"- alert at {a['t']:.0f}s: {a['kind']}" + (f" on {a['column']}" if a.get("column") else "")
              + (f" (score {a['score']:.3g})" if isinstance(a.get("score"), (int, float)) else "") for a in proof["alerts"]]
    if counts:
        lines += [f"- events seen: {json.dumps(counts.get('events', {}))}",
                  f"- dead letters: {counts.get('dlq_total', 0)} by reason {json.dumps(counts.get('dlq_reasons', {}))} "
                  f"({LETTERS_COUNTED})"]
    lines += ["", f"Plots: [debrief.html](debrief.html). Timeline data: `timeline.jsonl`.", ""]
    if scenario.folder is not None and scenario.brief_path.is_file():
        lines += ["---", "", scenario.brief_path.read_text().strip(), ""]
    return "\n".join(lines)


def impact_markdown(estimate: IncidentEstimate | None, model: ImpactModel | None = None,
                    assumptions: bool = True) -> list[str]:
    """The incident's cost: the headline, each term's formula with its numbers, the measured inputs and
    the assumptions they are priced with (impact/triptime.yaml)."""
    if estimate is None:
        return []
    model = model or default_impact_model()
    lines = ["", "## Impact", "", f"**{estimate.headline()}.**", ""]
    signals = estimate.signals
    if signals is not None and signals.window is not None:
        lines += [f"The incident: {signals.window[0]:.0f}s → {signals.window[1]:.0f}s of the drill "
                  f"({signals.end_reason}); each signal's mean over it against the warm-up before the fault.", "",
                  "| measured signal | incident | warm-up | excess | samples |", "|---|---|---|---|---|"]
        lines += [f"| `{m.name}` ({m.unit}) | {_num(m.incident)} | {_num(m.baseline)} | {_num(m.excess)} | {m.samples} |"
                  for m in signals.all()]
    lines += ["", "| term | value | formula |", "|---|---|---|"]
    lines += [f"| {t.name} | {_term_value(t.value, t.unit, estimate.currency)} | {t.formula} |" for t in estimate.terms]
    lines += [f"- note: {note}" for note in estimate.notes]
    if not assumptions:
        return lines
    lines += ["", "<details><summary>Assumptions (impact/triptime.yaml)</summary>", "",
              "| assumption | value | unit | source |", "|---|---|---|---|"]
    lines += [f"| `{name}` | {a.value:g} | {a.unit} | {' '.join(a.source.split())} |" for name, a in model.assumptions()]
    lines += ["", "</details>"]
    return lines


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


def _term_value(value: float, unit: str, currency: str) -> str:
    if unit.startswith(currency):
        return money(value, currency) + unit[len(currency):]
    if unit == "share":
        return f"{value:.2%}"
    return f"{value:,.1f} {unit}"


def _answer_section(result: Any) -> list[str]:
    """Blind: the candidate's answer, its score per level, the mitigation checks and the response times."""
    score = getattr(result, "score", None)
    if score is None:
        return []
    lines = ["", "## The candidate's answer", "", f"Score: {score.total:.0%}.", "",
             "| level | score | answer | expected | note |", "|---|---|---|---|---|"]
    lines += [f"| {lv.level} | {lv.score:.0%} | {lv.given or '-'} | {lv.expected} | {lv.note} |" for lv in score.levels]
    lines += [f"- mitigation check: {check}" for check in score.mitigation_checks]
    if result.response is not None:
        times = result.response.as_dict()
        lines += ["", "Response (seconds from the page): " + ", ".join(
            f"{k} {v}" for k, v in times.items() if k != "paged_at" and v not in (None, False))]
    reasoning = getattr(result.answer, "reasoning", "") if result.answer is not None else ""
    if reasoning:
        lines += ["", "Reasoning, in the candidate's words:", "", "> " + reasoning.replace("\n", "\n> ")]
    return lines


def figures(timeline: Timeline, outcomes: list[Outcome] | None = None) -> list[Any]:
    """The plotly figures: the event timeline, then one panel per observed series."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    marks = sorted(timeline.marks, key=lambda m: m.t)
    end = max([m.t for m in marks] + [p[0] for pts in timeline.samples.values() for p in pts[-1:]] + [1.0])
    lanes = ["phase", "fault", "recover", "alert", "dlq", "note", "action"]
    events = go.Figure()
    for lane in lanes:
        items = [m for m in marks if m.kind == lane]
        if not items:
            continue
        events.add_trace(go.Scatter(
            x=[m.t for m in items], y=[lane] * len(items), mode="markers+text", name=lane,
            text=[m.name for m in items], textposition="top center",
            marker={"size": 12, "color": MARK_COLORS.get(lane), "symbol": "diamond"},
            hovertext=[f"{m.name}: {json.dumps(m.detail, default=str)[:200]}" for m in items], hoverinfo="text+x"))
    _fault_spans(events, marks)
    events.update_layout(title="Faults and signals", xaxis_title="seconds since the drill started", height=360,
                         xaxis_range=[0, end * 1.02], margin={"l": 60, "r": 20, "t": 50, "b": 40})
    present = [(name, title) for name, title in PLOTS if timeline.series(name)]
    result = [events]
    if present:
        series = make_subplots(rows=len(present), cols=1, shared_xaxes=True, subplot_titles=[t for _, t in present],
                               vertical_spacing=min(0.08, 0.5 / len(present)))
        for row, (name, _) in enumerate(present, start=1):
            points = timeline.series(name)
            series.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines",
                                        name=name, showlegend=False), row=row, col=1)
        _fault_spans(series, marks)
        series.update_layout(height=220 * len(present) + 80, title="Signals over time",
                             margin={"l": 60, "r": 20, "t": 60, "b": 40})
        series.update_xaxes(range=[0, end * 1.02])
        result.append(series)
    return result


def _fault_spans(fig: Any, marks: list) -> None:
    """Shade each fault from its injection to its recovery (or the end)."""
    starts = {m.detail.get("index"): m.t for m in marks if m.kind == "fault"}
    ends = {m.detail.get("index"): m.t for m in marks if m.kind == "recover"}
    last = max([m.t for m in marks] + [0.0])
    for index, start in starts.items():
        fig.add_vrect(x0=start, x1=ends.get(index, last), fillcolor="#d62728", opacity=0.08, line_width=0)


def render_html(result: Any, timeline: Timeline, markdown_text: str) -> str:
    """One page, no network: plotly.js is inlined once, the markdown rendered to HTML."""
    from markdown_it import MarkdownIt

    plots = []
    for i, fig in enumerate(figures(timeline, result.outcomes)):
        plots.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0), default_width="100%"))
    body = MarkdownIt("commonmark").enable("table").render(markdown_text)
    title = html.escape(f"Debrief: {result.scenario.name}")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }}
code {{ background: #f4f4f4; padding: 0 3px; }}
.verdict-pass {{ color: #2ca02c; }} .verdict-fail {{ color: #d62728; }}
</style></head><body>
<h1 class="{'verdict-pass' if result.passed else 'verdict-fail'}">{title}: {'passed' if result.passed else 'failed'}</h1>
{''.join(plots)}
{body}
</body></html>
"""


def write_debrief(result: Any, timeline: Timeline, settings: Settings | None,
                  counts: dict[str, Any] | None = None) -> dict[str, Path]:
    """debrief.md, debrief.html, evidence.json and a copy of the brief into the run folder."""
    folder: Path = result.folder
    proof = evidence(timeline, settings)
    proof["reports"] = keep_reports(proof["reports"], folder)
    markdown_text = render_markdown(result, timeline, proof, counts or {})
    paths = {"markdown": folder / "debrief.md", "html": folder / "debrief.html", "evidence": folder / "evidence.json"}
    paths["markdown"].write_text(markdown_text)
    paths["html"].write_text(render_html(result, timeline, markdown_text))
    paths["evidence"].write_text(json.dumps(proof, indent=2, default=str))
    if result.scenario.folder is not None and result.scenario.brief_path.is_file():
        (folder / "brief.md").write_text(result.scenario.brief_path.read_text())
    return paths



def add_to_debrief(folder: Path, markdown_lines: list[str]) -> None:
    """A section added after the drill (a mock interview's score sheet): appended to debrief.md, and
    rendered into debrief.html before its end."""
    from markdown_it import MarkdownIt

    text = "\n".join(markdown_lines) + "\n"
    md, page = folder / "debrief.md", folder / "debrief.html"
    md.write_text((md.read_text() if md.is_file() else "") + text)
    if page.is_file():
        body = MarkdownIt("commonmark").enable("table").render(text)
        page.write_text(page.read_text().replace("</body></html>", body + "</body></html>", 1))
