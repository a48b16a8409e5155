"""`gameday portfolio`: one self-contained HTML case study of a run folder (plotly inlined once, no CDN).

In order: what was built and how it performed (the headline figures), the model cards with their
evaluation (residuals; the precision–recall curve of flagging late trips from each model's real
predictions joined to labels), this stack's serving benchmark and the trade-off between the variants
(`gameday model compare`), the drills with their scores, time to detect and to mitigate and the
ROI of each mitigation, the mock interviews' score sheets, and the impact model's assumptions.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from ..config import Settings
from ..errors import GamedayError
from ..impact import money
from ..impact.model import ImpactModel, default_impact_model
from ..models.store import CARD_FILE, ModelInfo, list_models, use_model_store
from .compare import load_comparison, newest_per_variant
from .drills import SHEET_DIMENSIONS, DrillRecord, read_drills
from .evaluation import LatenessCurve, lateness_curve, lateness_figure, predictions_with_labels, residual_figure

Report = Callable[[str], None]
PAGE_FILE = "portfolio.html"


class PortfolioError(GamedayError):
    kind = "PortfolioError"


@dataclass
class Portfolio:
    path: Path
    models: list[str]
    curves: dict[str, LatenessCurve]
    drills: list[DrillRecord]
    interviews: int
    compared: bool
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "models": self.models, "drills": [d.as_dict() for d in self.drills],
                "interviews": self.interviews, "compared": self.compared, "notes": self.notes,
                "lateness": {name: {"average_precision": c.average_precision, "late_share": c.base_rate,
                                    "rows": c.rows, "threshold_min": c.threshold_min} for name, c in self.curves.items()}}


def _md(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").render(text)


def _fig(fig: Any, first: list[bool]) -> str:
    """A figure's div; plotly.js is inlined with the first one only."""
    out = fig.to_html(full_html=False, include_plotlyjs=first[0], default_width="100%")
    first[0] = False
    return out


def _num(value: float | None, fmt: str = "{:,.1f}", none: str = "–") -> str:
    return none if value is None else fmt.format(value)


def _models_section(models: list[ModelInfo], threshold_min: float, first: list[bool],
                    curves: dict[str, LatenessCurve]) -> str:
    parts = ["<h2 id='models'>Models</h2>",
             "<p>Each variant's model card, then its held-out trips: the ETA it predicted out of sample against the "
             "duration each trip really took. The precision–recall curve flags the trips that end more than "
             f"{threshold_min:g} min after their ETA, scored by the ETA itself.</p>"]
    frames = {}
    for info in models:
        frame = predictions_with_labels(info.path)
        frames[info.variant] = frame
        curves[info.variant] = lateness_curve(frame, threshold_min)
    if curves:
        parts.append(_fig(lateness_figure(curves), first))
        rows = "".join(
            f"<tr><td>{name}</td><td>{c.rows:,}</td><td>{c.base_rate:.1%}</td><td>{c.average_precision:.3f}</td>"
            f"<td>{c.average_precision / c.base_rate if c.base_rate else float('nan'):.1f}×</td>"
            f"<td>{c.at_recall(0.5)[0]:.2f} (flag ETAs above {c.at_recall(0.5)[1]:,.0f} s)</td></tr>"
            for name, c in curves.items())
        parts.append("<table><tr><th>model</th><th>held-out trips</th><th>late share</th><th>average precision</th>"
                     f"<th>lift over chance</th><th>precision at 50% recall</th></tr>{rows}</table>"
                     "<p>The flag's score is the ETA alone, a point estimate whose errors grow with the trip: the lift "
                     "says how much of the lateness the ETA already signals; a model of the error itself (quantile "
                     "regression on the same features) is the next step to flag late trips better.</p>")
    for info in models:
        card = info.path / CARD_FILE
        parts.append(f"<section class='card'><h3>{html.escape(info.variant)} — <code>{html.escape(info.tag)}</code></h3>")
        if card.is_file():
            parts.append("<details><summary>model card</summary>" + _md(card.read_text()) + "</details>")
        parts.append(_fig(residual_figure(frames[info.variant], f"{info.variant}: residuals on held-out trips"), first))
        parts.append("</section>")
    return "\n".join(parts)


def _compare_section(comparison: dict[str, Any] | None, first: list[bool]) -> str:
    if comparison is None:
        return ("<h2 id='serving'>Serving benchmark and trade-off</h2><p class='missing'>Not measured yet: run "
                "<code>gameday model compare</code> on the running stack, then <code>gameday portfolio</code> again.</p>")
    import plotly.graph_objects as go

    cur = comparison["currency"]
    variants = comparison["variants"]
    rows = "".join(_compare_row(v, cur) for v in variants)
    fig = go.Figure()
    names = [v["variant"] for v in variants]
    fig.add_trace(go.Bar(x=names, y=[v["p50_ms"] for v in variants], name="p50"))
    fig.add_trace(go.Bar(x=names, y=[v["p99_ms"] for v in variants], name="p99"))
    fig.add_hline(y=comparison["slo_ms"], line_dash="dash", annotation_text=f"SLO {comparison['slo_ms']:g} ms")
    fig.update_layout(title="Serving latency on this stack (the service's own, features + model), ms", barmode="group",
                      height=360, margin={"l": 50, "r": 20, "t": 60, "b": 40})
    return (f"<h2 id='serving'>Serving benchmark and trade-off</h2><p>Measured {html.escape(comparison['measured_at'])} by "
            f"<code>gameday model compare</code>: each variant live in turn on the running stack under "
            f"{comparison['rate']:g} predictions/s for {comparison['seconds']:g} s besides the riders' traffic "
            f"(load average {comparison['load_avg_1m']}). Online MAE: the monitor's windows of that model. Value per "
            f"day: against quoting every trip the mean duration, minus latency losses and serving cost.</p>"
            + _fig(fig, first) +
            "<table><tr><th>variant</th><th>MAE offline, s</th><th>MAE online, s</th><th>p50 ms</th><th>p99 ms</th>"
            f"<th>CPU ms / prediction</th><th>{cur} / 1M predictions</th><th>value {cur} / day</th></tr>{rows}</table>")


def _compare_row(v: dict[str, Any], cur: str) -> str:
    online = "–" if v["online_mae_s"] is None else f"{v['online_mae_s']:,.1f} ({v['online_labels']:,} labels)"
    cells = [v["variant"], _num(v["offline_mae_s"]), online, _num(v["p50_ms"], "{:,.2f}"), _num(v["p99_ms"], "{:,.2f}"),
             _num(v["cpu_ms_per_prediction"], "{:,.3f}"),
             "–" if v["cost_per_million"] is None else money(v["cost_per_million"], cur),
             "–" if v["value_per_day"] is None else money(v["value_per_day"], cur)]
    return "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"


def _drills_section(drills: list[DrillRecord], currency: str) -> str:
    if not drills:
        return ("<h2 id='drills'>Drills</h2><p class='missing'>No drill yet: <code>gameday drill NAME</code> or "
                "<code>gameday drill --random --blind</code> then <code>gameday answer</code>.</p>")

    def secs(value: float | None) -> str:
        return "–" if value is None else f"{value:.0f} s"

    rows = "".join(
        f"<tr><td>{html.escape(d.scenario)}{' (blind)' if d.blind else ''}</td>"
        f"<td class='{'pass' if d.passed else 'fail'}'>{'passed' if d.passed else 'failed'}</td>"
        f"<td>{'–' if d.score is None else f'{d.score:.0%}'}"
        f"{'' if not d.levels else ' <small>(' + ', '.join(f'{k} {v:.0%}' for k, v in d.levels.items()) + ')</small>'}</td>"
        f"<td>{secs(d.time_to_detect_s)}</td><td>{secs(d.time_to_mitigate_s)} <small>{html.escape(d.end_reason)}</small></td>"
        f"<td>{'–' if d.cost_per_hour is None else money(d.cost_per_hour, currency) + '/h'}</td>"
        f"<td>{_num(d.riders_affected, '{:,.0f}')}</td>"
        f"<td title='{html.escape(d.roi_formula)}'>{'–' if d.roi is None else f'{d.roi:,.1f}×'}</td></tr>" for d in drills)
    return ("<h2 id='drills'>Drills</h2><p>Time to detect: the first expected signal after the fault. Time to "
            "mitigate: the fault until the mitigation held (or the fault's recovery). Cost and riders: the debrief's "
            "impact estimate from the measured signals. ROI: the cost avoided against an unmitigated incident, over "
            "the engineers' time and the follow-up (hover for the formula).</p>"
            "<table><tr><th>scenario</th><th>verdict</th><th>answer score</th><th>time to detect</th>"
            f"<th>time to mitigate</th><th>cost</th><th>riders affected</th><th>mitigation ROI</th></tr>{rows}</table>")


def _interviews_section(drills: list[DrillRecord]) -> str:
    sheets = [d for d in drills if d.score_sheet is not None]
    if not sheets:
        return ("<h2 id='interviews'>Mock interviews</h2><p class='missing'>None yet: <code>gameday interview</code>.</p>")
    rows = []
    for d in sheets:
        sheet = d.score_sheet or {}
        dims = sheet.get("dimensions", {})
        rows.append(f"<tr><td>{html.escape(str(sheet.get('started_at', ''))[:16])}</td><td>{sheet.get('total', 0):.0%}</td>"
                    + "".join(f"<td>{dims.get(name, {}).get('score', 0):.0%}</td>" for name in SHEET_DIMENSIONS)
                    + f"<td>{sheet.get('elapsed_s', 0) / 60:.0f} / {sheet.get('budget_s', 0) / 60:.0f} min</td>"
                    + f"<td>{html.escape(d.scenario)}</td></tr>")
    heads = "".join(f"<th>{name}</th>" for name in SHEET_DIMENSIONS)
    return ("<h2 id='interviews'>Mock interviews</h2><p>The score sheet of each timed round (<code>gameday interview"
            "</code>): its blind incident is among the drills above.</p><table><tr><th>started</th><th>total</th>"
            f"{heads}<th>time used</th><th>incident</th></tr>{''.join(rows)}</table>")


def _assumptions_section(impact: ImpactModel) -> str:
    rows = "".join(f"<tr><td><code>{name}</code></td><td>{a.value:g}</td><td>{html.escape(a.unit)}</td>"
                   f"<td>{html.escape(' '.join(a.source.split()))}</td></tr>" for name, a in impact.assumptions())
    return ("<h2 id='assumptions'>Impact model</h2><p>Every money figure above rests on these "
            f"(<code>impact/triptime.yaml</code>).</p><table><tr><th>assumption</th><th>value</th><th>unit</th>"
            f"<th>source</th></tr>{rows}</table>")


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1150px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
code { background: #f4f4f4; padding: 0 3px; } .pass { color: #2ca02c; } .fail { color: #d62728; }
.missing { color: #888; } .card { border-top: 1px solid #ddd; margin-top: 1.5em; }
.headline { display: flex; gap: 1em; flex-wrap: wrap; } .headline div { background: #f6f8fa; padding: 0.6em 1em; border-radius: 6px; }
.headline b { display: block; font-size: 1.4em; }
"""


def build_portfolio(settings: Settings, out: Path | None = None, impact: ImpactModel | None = None,
                    report: Report = lambda _: None) -> Portfolio:
    """Write the case study of the run folder to `out` (default: <run>/portfolio.html)."""
    impact = impact or default_impact_model()
    use_model_store(settings)
    models = newest_per_variant(list_models())
    if not models:
        raise PortfolioError("no trained model in this run folder: nothing to show yet",
                             hint="run `gameday drill data-drift` (it trains) or `gameday train`, then portfolio again")
    first = [True]
    curves: dict[str, LatenessCurve] = {}
    report("model cards, residuals, precision–recall from the held-out predictions")
    models_html = _models_section(models, impact.eta_error.late_threshold.value, first, curves)
    report("serving benchmark")
    comparison = load_comparison(settings)
    compare_html = _compare_section(comparison, first)
    report("drills")
    drills = read_drills(settings, impact)
    drills_html = _drills_section(drills, impact.currency)
    interviews_html = _interviews_section(drills)
    interviews = sum(1 for d in drills if d.score_sheet is not None)
    scored = [d.score for d in drills if d.score is not None]
    detect = [d.time_to_detect_s for d in drills if d.time_to_detect_s is not None]
    best = min(models, key=lambda m: m.metrics.get("mae_s", float("inf")))
    headline = "".join(f"<div><b>{value}</b>{html.escape(label)}</div>" for value, label in (
        (f"{best.metrics['mae_s']:.0f} s", f"best held-out MAE ({best.variant}; quoting the mean: "
                                           f"{best.metrics['baseline_mae_s']:.0f} s)"),
        (f"{curves[best.variant].average_precision:.2f}", f"average precision, late > "
                                                          f"{impact.eta_error.late_threshold.value:g} min ({best.variant})"),
        (str(len(drills)), "drills completed"),
        ("–" if not scored else f"{sum(scored) / len(scored):.0%}", "mean answer score (blind drills)"),
        ("–" if not detect else f"{sorted(detect)[len(detect) // 2]:.0f} s", "median time to detect"),
        (str(interviews), "mock interviews"),
    ))
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>TripTime case study</title><style>{STYLE}</style></head><body>
<h1>TripTime: a live ETA platform, broken and fixed</h1>
<p>Kafka → Feast → BentoML → Evidently on one machine; the models, the serving benchmark and the incidents below were
measured on this stack (run folder <code>{html.escape(str(settings.run_path))}</code>, {stamp}).</p>
<div class="headline">{headline}</div>
<p><a href="#models">Models</a> · <a href="#serving">Serving benchmark</a> · <a href="#drills">Drills</a> ·
<a href="#interviews">Mock interviews</a> · <a href="#assumptions">Impact model</a></p>
{models_html}
{compare_html}
{drills_html}
{interviews_html}
{_assumptions_section(impact)}
</body></html>
"""
    path = out or settings.run_path / PAGE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page)
    return Portfolio(path, [m.tag for m in models], curves, drills, interviews, comparison is not None)
