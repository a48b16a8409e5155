"""Ingest started before its topics exist (a release whose topics Job runs after the services start)
takes their partitions once they are created, within its metadata refresh (ingest.pipeline
METADATA_MAX_AGE_MS), not kafka-python's default of five minutes."""

from __future__ import annotations

import time
import uuid

import pytest
from kafka.admin import NewTopic

from mlgameday.ingest.pipeline import METADATA_MAX_AGE_MS, IngestPipeline
from mlgameday.stack.kafka.admin import admin_client

pytestmark = pytest.mark.integration


def test_ingest_subscribed_before_its_topics_exist_takes_them_when_they_come(pipeline_settings, kafka_bootstrap) -> None:
    late = {"trips_requested": f"late-req.{uuid.uuid4().hex[:10]}", "trips_completed": f"late-done.{uuid.uuid4().hex[:10]}"}
    settings = pipeline_settings(topics=late)
    pipeline = IngestPipeline(settings).start()
    client = admin_client(kafka_bootstrap)
    try:
        for _ in range(10):  # joined the group with nothing to take: no topic yet
            pipeline.poll_once()
        assert not pipeline.ready and not pipeline.assigned
        client.create_topics([NewTopic(name=name, num_partitions=3, replication_factor=1) for name in late.values()])
        created = time.monotonic()
        while not pipeline.ready and time.monotonic() - created < 3 * METADATA_MAX_AGE_MS / 1000:
            pipeline.poll_once()
        took = time.monotonic() - created
        assert pipeline.ready, f"no partitions {took:.0f} s after the topics were created: {pipeline.status()}"
        assert {tp.split("[")[0] for tp in pipeline.status()["assigned"]} == set(late.values())
    finally:
        pipeline.close()
        try:
            client.delete_topics(list(late.values()))
        except Exception:  # not created (the test failed before): nothing to delete
            pass
        finally:
            client.close()
