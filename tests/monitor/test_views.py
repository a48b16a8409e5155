"""What `gameday monitor` and `gameday alerts` show: a stalled monitor named, alerts of a stretch only."""

from __future__ import annotations

from datetime import datetime, timezone

from mlgameday.monitor.views import alerts_since, stalled_for, window_row


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def test_a_monitor_that_stopped_judging_windows_is_called_stalled() -> None:
    now = 10_000.0
    windows = [{"judged_at": _iso(now - 700)}, {"judged_at": _iso(now - 650)}]
    assert stalled_for(windows, window_s=60, now=now) == 650
    assert stalled_for(windows, window_s=300, now=now) is None  # 3 windows of 5 min: not late yet
    assert stalled_for([{"judged_at": _iso(now - 30)}], window_s=5, now=now) is None  # 2 minutes at least
    assert stalled_for([], window_s=60, now=now) is None


def test_alerts_since_keeps_the_stretch_asked_for() -> None:
    alerts = [{"event_time": _iso(100.0), "kind": "drift.detected"}, {"event_time": _iso(200.0), "kind": "quality.bias"}]
    assert [a["kind"] for a in alerts_since(alerts, 150.0)] == ["quality.bias"]
    assert alerts_since(alerts, None) == alerts


def test_a_window_row_has_its_times() -> None:
    row = window_row({"index": 3, "status": "ok", "n_rows": 500, "n_labeled": 400, "judged_at": _iso(300.0),
                      "first_event": _iso(200.0), "last_event": _iso(260.0)})
    assert (row["judged_at"], row["first_event"], row["last_event"]) == (_iso(300.0), _iso(200.0), _iso(260.0))
