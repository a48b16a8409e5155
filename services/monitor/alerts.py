"""From a judged window to alerts: one finding per check, hysteresis (k of the last n judged
windows, or at once for a decisive failure), and the contracts.Alert event for the ones that just
started failing.

Alert kinds (contracts.AlertKind): drift.detected (per column), prediction.drift,
quality.mae_increase, quality.bias (score = mean error, signed: positive = over-predicting),
quality.too_good (score = how far the MAE fell below the reference's), quality.slice_mae (per slice),
freshness.stale (score = share of stale predictions, or their median feature age when that decided),
features.missing (per zone feature), skew.detected (per column), labels.missing (info).
freshness.stale, features.missing and skew.detected need no label: they are judged soon after the window
closes (screening), the rest once its labels are in.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ..config import MonitorSettings
from ..contracts import Alert, AlertKind, new_event_id, utcnow
from .results import Freshness, WindowResult


@dataclass(frozen=True)
class Finding:
    kind: str
    column: str | None
    score: float
    threshold: float
    failed: bool
    message: str
    # A failure no chance fluctuation of a healthy stack produces (half the features past their age budget,
    # half the labels gone): it alerts on its first window instead of waiting for the hysteresis' k.
    decisive: bool = False

    @property
    def key(self) -> tuple[str, str | None]:
        return self.kind, self.column


def findings(result: WindowResult, cfg: MonitorSettings) -> list[Finding]:
    """Every check the window could be judged on; checks without enough data are left out."""
    return screening_findings(result, cfg) + judged_findings(result, cfg)


def screening_findings(result: WindowResult, cfg: MonitorSettings) -> list[Finding]:
    """The checks that need no label — freshness, missing features, skew — judged soon after the window closed."""
    out: list[Finding] = []
    if result.status != "ok":
        return out
    if (f := result.freshness) is not None and f.n:
        out.append(freshness_finding(f, cfg))
    for column, share in result.missing.items():
        out.append(Finding(AlertKind.FEATURES_MISSING, column, share, cfg.missing_share, share > cfg.missing_share,
                           f"{column} missing or NaN for {share:.0%} of predictions: they got the training median"))
    for s in result.skew:
        out.append(Finding(AlertKind.SKEW, s.column, s.relative_difference, cfg.skew_threshold, s.skewed,
                           f"{s.column}: served mean {s.served_mean:.3g} vs offline {s.offline_mean:.3g} "
                           f"({s.relative_difference:.0%} apart, {s.pairs} predictions)"))
    return out


def freshness_finding(f: Freshness, cfg: MonitorSettings) -> Finding:
    """Stale when too many predictions used features past the age budget; decisively so when the median
    prediction did (cfg.median_age_s): quiet zones keep the share rule noisy at rest, the median is not."""
    if cfg.median_age_s is not None and f.p50_s is not None and f.p50_s > cfg.median_age_s:
        return Finding(AlertKind.STALE_FEATURES, None, f.p50_s, cfg.median_age_s, True,
                       f"half the predictions used features older than {f.p50_s:.0f}s (median age; "
                       f"limit {cfg.median_age_s:.0f}s); {f.stale_share:.0%} past the {cfg.max_feature_age_s:.0f}s budget",
                       decisive=True)
    return Finding(AlertKind.STALE_FEATURES, None, f.stale_share, cfg.stale_share, f.stale_share > cfg.stale_share,
                   f"{f.stale_share:.0%} of predictions used stale or missing features "
                   f"(p95 age {f.p95_s if f.p95_s is not None else float('nan'):.0f}s, "
                   f"limit {cfg.max_feature_age_s:.0f}s)")


def judged_findings(result: WindowResult, cfg: MonitorSettings) -> list[Finding]:
    """The checks judged once the window's labels are in (or waited for): drift and prediction drift
    (Evidently's report), quality, slices, the labels themselves."""
    out: list[Finding] = []
    if result.status != "ok":
        return out
    for d in result.drift:
        out.append(Finding(AlertKind.DRIFT, d.column, d.score, d.threshold, d.drifted,
                           f"{d.column}: {d.method} {d.score:.3f} vs threshold {d.threshold:.3f}"))
    if (p := result.prediction_drift) is not None:
        out.append(Finding(AlertKind.PREDICTION_DRIFT, p.column, p.score, p.threshold, p.drifted,
                           f"predictions: {p.method} {p.score:.3f} vs threshold {p.threshold:.3f}"))
    if (q := result.quality) is not None:
        out.append(Finding(AlertKind.MAE_INCREASE, None, q.mae_increase, cfg.mae_increase,
                           q.mae_increase > cfg.mae_increase,
                           f"MAE {q.mae:.0f}s vs reference {q.ref_mae:.0f}s ({q.mae_increase:+.0%}) on {q.n} labelled trips"))
        limit = cfg.bias_share * q.ref_mae
        direction = "over-predicts" if q.bias > 0 else "under-predicts"
        out.append(Finding(AlertKind.BIAS, None, q.bias, limit, abs(q.bias) > limit,
                           f"mean error (prediction - actual) {q.bias:+.0f}s: the model {direction}; "
                           f"limit ±{limit:.0f}s ({cfg.bias_share:.0%} of reference MAE)"))
        out.append(Finding(AlertKind.TOO_GOOD, None, -q.mae_increase, cfg.too_good, -q.mae_increase > cfg.too_good,
                           f"MAE {q.mae:.0f}s is {-q.mae_increase:.0%} below the hold-out MAE {q.ref_mae:.0f}s: "
                           f"are the labels following the predictions?"))
    for sq in result.slices:
        out.append(Finding(AlertKind.SLICE_MAE, sq.slice, sq.increase, cfg.slice_mae_increase,
                           sq.increase > cfg.slice_mae_increase,
                           f"{sq.slice} trips: MAE {sq.mae:.0f}s vs their reference {sq.ref_mae:.0f}s "
                           f"({sq.increase:+.0%}) on {sq.n} labelled trips of the last windows"))
    # Decisive where labels_due_s says when a window's labels are in (measured: at rest 99% by then): under half
    # of them is no chance fluctuation. Without it, 2 of 3 windows.
    out.append(Finding(AlertKind.LABELS_MISSING, None, 1 - result.label_coverage, 1 - cfg.labels_missing_below,
                       cfg.labels_missing(result.label_coverage),
                       f"{result.n_labeled}/{result.n_rows} predictions had their label when judged",
                       decisive=cfg.labels_due_s is not None))
    return out


class Hysteresis:
    """A check alerts when it failed in k of its last n judged windows (a decisive failure: at once), once
    per episode: it re-arms only after n windows in a row pass."""

    def __init__(self, k: int, n: int) -> None:
        self.k, self.n = k, n
        self._history: dict[tuple[str, str | None], deque[bool]] = {}
        self.active: set[tuple[str, str | None]] = set()

    def failing(self) -> list[tuple[str, str | None]]:
        """Checks with a failed window in their recent history (one more may make an alert)."""
        return sorted((key for key, history in self._history.items() if any(history)), key=str)

    def update(self, found: list[Finding]) -> list[Finding]:
        """Record the window's findings; return those that start an alert now."""
        firing = []
        for f in found:
            history = self._history.setdefault(f.key, deque(maxlen=self.n))
            history.append(f.failed)
            if f.key not in self.active and (sum(history) >= self.k or f.failed and f.decisive):
                self.active.add(f.key)
                firing.append(f)
            elif f.key in self.active and not any(history) and len(history) == self.n:
                self.active.discard(f.key)
        return firing


def to_alert(finding: Finding, window: int, evidence_path: str | None) -> Alert:
    return Alert(event_id=new_event_id(), event_time=utcnow(), kind=finding.kind, column=finding.column, score=finding.score,
                 threshold=finding.threshold, window=window, evidence_path=evidence_path,
                 message=finding.message)
