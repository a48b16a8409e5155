"""The watcher's pure parts for the services' /metrics: samples with labels, gauges, a histogram's quantile."""

from __future__ import annotations

from mlgameday.drill.watch import gauges_of, histogram_quantile, parse_samples

METRICS = """# HELP gameday_ingest_events_total Events
gameday_ingest_events_total{outcome="applied",topic="trips.requested"} 120.0
gameday_ingest_events_total{outcome="late",topic="trips.requested"} 7.0
gameday_ingest_events_total{outcome="late",topic="trips.completed"} 3.0
gameday_serving_worker_rss_bytes{pid="11"} 3.0e8
gameday_serving_worker_rss_bytes{pid="12"} 4.0e8
gameday_monitor_mae 10.0
gameday_monitor_mae NaN
gameday_other 1.0
"""


def test_parse_samples_keeps_labels_and_leaves_out_nan_and_other_metrics() -> None:
    samples = parse_samples(METRICS, ("gameday_ingest_events_total", "gameday_monitor_mae"))
    assert ("gameday_ingest_events_total", {"outcome": "late", "topic": "trips.completed"}, 3.0) in samples
    assert [s for s in samples if s[0] == "gameday_monitor_mae"] == [("gameday_monitor_mae", {}, 10.0)]
    assert not any(name == "gameday_other" for name, _, _ in samples)


def test_gauges_sum_counts_and_take_the_max_of_memory() -> None:
    samples = parse_samples(METRICS, ("gameday_serving_worker_rss_bytes", "gameday_ingest_events_total"))
    gauges = gauges_of(samples, ("gameday_serving_worker_rss_bytes", "gameday_ingest_events_total"))
    assert gauges == {"gameday_serving_worker_rss_bytes": 4.0e8, "gameday_ingest_events_total": 130.0}


def test_histogram_quantile_reads_what_was_counted_between_two_scrapes() -> None:
    before = {"0.01": 10.0, "0.05": 10.0, "0.1": 10.0, "+Inf": 10.0}
    now = {"0.01": 11.0, "0.05": 108.0, "0.1": 110.0, "+Inf": 110.0}  # 100 new reads: 1, 97, 2 per bucket
    assert histogram_quantile(now, before, 0.5, scale=1000.0) == 50.0
    assert histogram_quantile(now, before, 0.99, scale=1000.0) == 100.0
    assert histogram_quantile(now, None, 0.99) is None                # the first scrape: nothing to compare
    assert histogram_quantile(before, before, 0.99) is None           # nothing counted since
    beyond = {**now, "+Inf": 200.0}                                   # 90 reads slower than the last bound
    assert histogram_quantile(beyond, before, 0.99) == 0.1


def test_dead_letters_are_counted_as_the_topic_counts_them_by_id_and_reason_kind() -> None:
    from mlgameday.contracts import dead_letter_of
    from mlgameday.drill.timeline import Timeline
    from mlgameday.drill.watch import Watcher

    watcher = Watcher("127.0.0.1:9", None, Timeline())  # not started: no broker is asked
    first = dead_letter_of(b"{", source_topic="trips.completed", partition=0, offset=5, consumer="ingest",
                           reason="invalid JSON: EOF while parsing at line 1 column 1")
    same_record_other_consumer = dead_letter_of(b"{", source_topic="trips.completed", partition=0, offset=5,
                                                consumer="monitor", reason=first.reason)
    other = dead_letter_of(b'{"x": 1}', source_topic="trips.requested", partition=1, offset=9, consumer="ingest",
                           reason="passenger_count: Input should be a valid integer (got 'many')")
    for letter in (first, first, same_record_other_consumer, other):  # `first` sent again after a restart
        watcher._on_event("dlq", letter.to_bytes(), now=100.0)
    assert watcher.dlq_total == 3
    assert watcher.dlq_reasons == {"invalid JSON: EOF while parsing": 2, "passenger_count: Input should be a valid integer": 1}
    assert [m.name for m in watcher.timeline.marks_of("dlq")] == ["invalid JSON: EOF while parsing",
                                                                  "passenger_count: Input should be a valid integer"]


def test_an_accelerated_drill_reads_shares_over_a_shorter_window_and_latency_over_the_same() -> None:
    from mlgameday.drill.timeline import Timeline
    from mlgameday.drill.watch import Seen, Watcher

    def seen(t: float, missing: bool, latency_ms: float) -> Seen:
        return Seen(t, "live", latency_ms, missing, False, missing, 1.0, {})

    # 10 s of predictions, one every 0.1 s: the first 5 s with a feature missing and slow, the last 5 s fine.
    rows = [seen(100.0 + i / 10, i < 50, 300.0 if i < 50 else 10.0) for i in range(100)]
    series = {}
    for factor in (1.0, 0.5):
        watcher = Watcher("127.0.0.1:9", None, Timeline(), time_factor=factor)  # not started
        watcher._predictions.extend(rows)
        series[factor] = watcher._event_series(now=110.0)
    assert series[1.0]["missing_share"] == 0.5 and series[0.5]["missing_share"] == 0.0  # the fix shows at once
    assert series[1.0]["throughput"] == series[0.5]["throughput"] == 10.0
    assert series[1.0]["latency_p99_ms"] == series[0.5]["latency_p99_ms"] == 300.0  # a tail needs its 10 s


def test_label_lag_is_the_median_time_to_a_label_and_none_once_labels_stop_coming() -> None:
    import json

    from mlgameday.drill.timeline import Timeline
    from mlgameday.drill.watch import Watcher

    watcher = Watcher("127.0.0.1:9", None, Timeline(), time_factor=0.5)  # not started; reads the last 5 s
    topics = watcher.topics

    def predict(trip: str, at: float) -> None:
        event = {"trip_id": trip, "role": "live", "prediction_s": 600.0, "latency_ms": 5.0}
        watcher._on_event(topics.predictions, json.dumps(event).encode(), now=at)

    def label(trip: str, at: float) -> None:
        watcher._on_event(topics.trips_completed, json.dumps({"trip_id": trip, "duration_s": 660.0}).encode(), now=at)

    for i, lag in enumerate((2.0, 3.0, 2.0, 4.0)):  # labels seconds after their prediction, arriving at 107-110 s
        predict(f"t{i}", 107.0 + i - lag)
        label(f"t{i}", 107.0 + i)
    predict("late", 20.0)  # and one 90 s late (a slowed label feed), arriving at 110 s
    label("late", 110.0)
    assert watcher._event_series(now=111.0)["label_lag_s"] == 3.0   # the median of 2, 2, 3, 4, 90
    assert watcher._event_series(now=120.0)["label_lag_s"] is None  # none in the last 5 s: no sample, not an old one
    assert not watcher._predicted                                   # a labelled trip is forgotten
