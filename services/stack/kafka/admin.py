"""Talk to a broker's admin API: wait until it answers, create the topics of the design."""

from __future__ import annotations

import time

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from ...config import TopicNames


def admin_client(bootstrap: str, timeout_ms: int = 3000, **security) -> KafkaAdminClient:
    """An admin client; `security` is runtime.kafka.kafka_options(settings.kafka) (none: PLAINTEXT)."""
    return KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="gameday-admin",
        request_timeout_ms=timeout_ms,
        api_version_auto_timeout_ms=timeout_ms,
        **security,
    )


def broker_answers(bootstrap: str, **security) -> bool:
    """True when the admin API lists topics (the broker is up and has a controller)."""
    try:
        client = admin_client(bootstrap, timeout_ms=2000, **security)
    except (KafkaError, OSError, ValueError):
        return False
    try:
        client.list_topics()
        return True
    except (KafkaError, OSError):
        return False
    finally:
        client.close()


def wait_until_answers(bootstrap: str, timeout_s: float, **security) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if broker_answers(bootstrap, **security):
            return True
        time.sleep(0.3)
    return False


def ensure_topics(bootstrap: str, partitions: int, topics: tuple[str, ...] = TopicNames().all(), **security) -> list[str]:
    """Create the missing topics (replication 1 on a single broker). Returns the ones created."""
    client = admin_client(bootstrap, **security)
    try:
        existing = set(client.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            try:
                client.create_topics(
                    [NewTopic(name=t, num_partitions=partitions, replication_factor=1) for t in missing]
                )
            except TopicAlreadyExistsError:
                pass
        return missing
    finally:
        client.close()
