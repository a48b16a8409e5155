"""The Redis online store path: the same stream gives the same features through Redis."""

from __future__ import annotations

import pytest
import redis

from mlgameday.features.online import read_zone_features
from mlgameday.features.store import open_store
from mlgameday.producer.run import ProduceOptions, produce

from .conftest import history_options, ingest_until_drained, valid_events
from .reference import reference_features
from .test_online_features import assert_online_equals_reference

pytestmark = pytest.mark.integration


def test_redis_online_store_serves_the_reference_features(pipeline_settings, redis_url) -> None:
    settings = pipeline_settings(online_store="redis", redis={"url": redis_url})
    produce(settings, history_options(1200, 144, seed=51))
    ingest_until_drained(settings)
    store = open_store(settings)
    assert store.config.online_store.type == "redis"
    assert_online_equals_reference(store, reference_features(valid_events(settings)))
    assert redis.Redis.from_url(redis_url).dbsize() > 100        # the rows really are in Redis
    assert read_zone_features(store, [264])[264].event_time is None  # a zone with no trips: no row
