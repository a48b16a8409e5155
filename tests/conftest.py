"""Shared fixtures. The broker comes from ONE fixture that honours the three Kafka modes,
chosen by the product's own setting GAMEDAY_KAFKA__MODE (local by default; external with
GAMEDAY_KAFKA__BOOTSTRAP; testcontainers where a Docker engine exists)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest

from mlgameday.config import Settings, load_settings
from mlgameday.stack.kafka.admin import admin_client, ensure_topics
from mlgameday.stack.kafka.container import kafka_container
from mlgameday.stack.kafka.local import LocalKafka
from mlgameday.stack.supervisor import Stack


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real broker's bootstrap address, with the design's topics created."""
    settings = load_settings(run_dir=tmp_path_factory.mktemp("kafka-fixture"))
    mode = settings.kafka.mode
    if mode == "testcontainers":
        with kafka_container() as bootstrap:
            ensure_topics(bootstrap, settings.kafka.partitions)
            yield bootstrap
    elif mode == "external":
        assert settings.kafka.bootstrap
        ensure_topics(settings.kafka.bootstrap, settings.kafka.partitions)
        yield settings.kafka.bootstrap
    else:
        stack = Stack(settings, components=[LocalKafka()])
        stack.up()
        try:
            yield stack.endpoint("kafka", "bootstrap")
        finally:
            stack.down()


@pytest.fixture
def new_topic(kafka_bootstrap: str) -> Callable[..., str]:
    """Create a fresh topic (unique name) so tests sharing the broker never see each other's events."""
    from kafka.admin import NewTopic

    created: list[str] = []

    def make(partitions: int = 3, prefix: str = "test") -> str:
        name = f"{prefix}.{uuid.uuid4().hex[:10]}"
        client = admin_client(kafka_bootstrap)
        try:
            client.create_topics([NewTopic(name=name, num_partitions=partitions, replication_factor=1)])
        finally:
            client.close()
        created.append(name)
        return name

    yield make
    if created:
        client = admin_client(kafka_bootstrap)
        try:
            client.delete_topics(created)
        except Exception:
            pass
        finally:
            client.close()


@pytest.fixture
def stack_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a stack of the test's own, in a temporary run folder."""

    def make(**overrides: object) -> Settings:
        return load_settings(run_dir=tmp_path / "run", **overrides)

    return make
