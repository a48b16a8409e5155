"""Broker-side batching (ingest.fetch_min_kb / fetch_wait_ms): a trickle far below the minimum
fetch size still flows (the wait bounds the delay), and its features are exact."""

from __future__ import annotations

import pytest

from mlgameday.features.store import open_store
from mlgameday.producer.run import ProduceOptions, produce

from .conftest import history_options, ingest_until_drained, valid_events
from .reference import reference_features
from .test_online_features import assert_online_equals_reference

pytestmark = pytest.mark.integration


def test_a_trickle_below_the_fetch_minimum_is_ingested_within_the_wait(pipeline_settings) -> None:
    settings = pipeline_settings(ingest={"fetch_min_kb": 4096, "fetch_wait_ms": 200})
    produce(settings, history_options(20, 3, seed=3))  # a few dozen events, ~10 KB
    pipeline = ingest_until_drained(settings, timeout_s=30)
    assert pipeline.totals["written"] > 0
    config = pipeline.consumer_options()
    assert (config["fetch_min_bytes"], config["fetch_max_wait_ms"]) == (4096 * 1024, 200)
    assert_online_equals_reference(open_store(settings), reference_features(valid_events(settings)))
