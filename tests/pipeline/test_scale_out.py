"""Ingest scaled out: replicas in one consumer group, through a rebalance when one joins and
when one dies (kill -9), end with exactly the features one process computes — each
partition's state follows it through its checkpoint."""

from __future__ import annotations

import signal

import pytest

from mlgameday.features.history import load_trip_labels
from mlgameday.features.store import open_store
from mlgameday.producer.run import produce

from .conftest import end_offsets, history_options, valid_events, wait_for
from .reference import reference_features
from .test_kill_restart import free_port, start_ingest, status
from .test_online_features import assert_online_equals_reference

pytestmark = pytest.mark.integration


def partitions_of(port: int) -> set[str]:
    return set(status(port).get("assigned", []))


def test_replicas_through_a_join_and_a_kill_end_as_one_process(pipeline_settings, tmp_path) -> None:
    settings = pipeline_settings()
    produce(settings, history_options(12_000, 864, seed=43))
    ends = end_offsets(settings.kafka.bootstrap, [settings.topics.trips_requested, settings.topics.trips_completed])
    total = sum(ends.values())
    partitions = {tp[1] for tp in ends}
    assert len(partitions) == 3 and total > 18_000

    log = open(tmp_path / "ingest.log", "ab")
    first_port, second_port = free_port(), free_port()
    # Batches and checkpoints small enough that the join and the kill land mid-stream, between checkpoints.
    pace = {"GAMEDAY_INGEST__MAX_POLL_RECORDS": "300", "GAMEDAY_INGEST__CHECKPOINT_INTERVAL_S": "0.5"}
    first = start_ingest(settings, first_port, log, **pace)
    second = None
    try:
        wait_for(lambda: sum(status(first_port).get("offsets", {}).values()) >= total * 0.15, 60,
                 "the first replica applied 15% of the events")
        # A second replica joins: the group rebalances, the first hands partitions over.
        second = start_ingest(settings, second_port, log, **pace)
        wait_for(lambda: partitions_of(first_port) and partitions_of(second_port), 60,
                 "both replicas hold partitions")
        split = (partitions_of(first_port), partitions_of(second_port))
        assert not split[0] & split[1], split
        # Each replica holds partition p of both topics (the state of a zone needs both).
        for held in split:
            numbers = {name.rsplit("[", 1)[1] for name in held}
            assert len(held) == 2 * len(numbers), held
        wait_for(lambda: max(status(second_port).get("seq", {"-": 0}).values()) >= 1, 60,
                 "the second replica checkpointed its partitions")
        second.send_signal(signal.SIGKILL)  # mid-stream, after a checkpoint, with work since it
        second.wait(10)
        # Its partitions come back to the first replica (after the group's session timeout), restored
        # from the dead replica's checkpoints.
        wait_for(lambda: len(partitions_of(first_port)) == 2 * len(partitions), 60,
                 "the survivor holds every partition")
        wait_for(lambda: sum(status(first_port).get("offsets", {}).values()) == total, 240,
                 "the survivor applied every event")
        final = status(first_port)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(30)
        log.close()

    assert first.returncode == 0
    assert final["totals"]["duplicate"] == 0 and final["totals"]["dead_lettered"] == 0, final["totals"]
    events = valid_events(settings)
    # Exactly what one process computes from the same events (test_online_features checks the
    # reference against a single ingest).
    assert_online_equals_reference(open_store(settings), reference_features(events))
    labels = load_trip_labels(settings)
    completed = sum(1 for e in events if e.__class__.__name__ == "TripCompleted")
    assert len(labels) == completed and labels["trip_id"].is_unique
    text = (tmp_path / "ingest.log").read_text()
    assert "restored checkpoint" in text, "no partition was resumed from another replica's checkpoint"


def test_a_stalled_fetch_is_sought_again_and_every_event_applied(pipeline_settings, caplog) -> None:
    """The consumer's position jumps past what the state applied (what a stalled fetch after a rebalance
    looks like from inside): with nothing fetched for ingest.stall_s and a backlog, ingest seeks the
    partitions behind to where their state is, says so, and applies every event."""
    from kafka import TopicPartition

    from mlgameday.ingest.pipeline import IngestPipeline

    settings = pipeline_settings(ingest={"stall_s": 2.0, "max_poll_records": 200})
    produce(settings, history_options(3_000, 240, seed=47))
    ends = end_offsets(settings.kafka.bootstrap, [settings.topics.trips_requested, settings.topics.trips_completed])
    pipeline = IngestPipeline(settings).start()

    def polled_until(done) -> bool:
        pipeline.poll_once()
        return done()

    try:
        wait_for(lambda: polled_until(lambda: sum(pipeline.offsets.values()) > 0), 60, "ingest applied a first batch")
        skipped = TopicPartition(settings.topics.trips_requested, 0)
        pipeline.consumer.seek_to_end(skipped)  # the state is behind, the consumer past it
        wait_for(lambda: polled_until(lambda: all(pipeline.offsets.get(k, 0) >= v for k, v in ends.items())), 90,
                 "every event applied")
        assert pipeline.metrics.refetches._value.get() >= 1
    finally:
        pipeline.close()
    [warning] = [r for r in caplog.records if "partitions sought again" in r.getMessage()]
    [view] = [v for v in warning.fields["partitions"] if v["partition"] == f"{skipped.topic}[0]"]
    assert view["position"] > view["offset"] and view["log_end"] > view["offset"], view  # what the warning shows
    events = valid_events(settings)
    assert pipeline.totals["written"] + pipeline.totals["late"] == len(events), (pipeline.totals, len(events))
