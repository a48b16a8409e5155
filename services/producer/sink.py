"""Where events go: a Kafka producer keyed by pickup zone (a zone's events keep their order)."""

from __future__ import annotations

from typing import Protocol

from kafka import KafkaProducer
from kafka.errors import KafkaError

from ..errors import GamedayError


class ProducerError(GamedayError):
    kind = "ProducerError"


Headers = list[tuple[str, bytes]] | None


class Sink(Protocol):
    def send(self, topic: str, key: int, value: bytes, headers: Headers = None) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


class KafkaSink:
    def __init__(self, bootstrap: str, **security) -> None:
        """`security`: runtime.kafka.kafka_options(settings.kafka) (none: PLAINTEXT)."""
        try:
            self.producer = KafkaProducer(
                bootstrap_servers=bootstrap, client_id="gameday-producer",
                acks=1, linger_ms=5, batch_size=256 * 1024, retries=5,
                # One request in flight per broker: retries cannot reorder a zone's events.
                max_in_flight_requests_per_connection=1, **security,
            )
        except (KafkaError, OSError, ValueError) as exc:
            raise ProducerError(f"cannot connect to Kafka at {bootstrap}: {exc}",
                                hint="start the stack with `gameday up`, or check kafka.bootstrap") from None
        self.errors = 0

    def send(self, topic: str, key: int, value: bytes, headers: Headers = None) -> None:
        self.producer.send(topic, key=str(int(key)).encode(), value=value, headers=headers).add_errback(self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.errors += 1

    def flush(self) -> None:
        self.producer.flush(timeout=30)
        if self.errors:
            raise ProducerError(f"{self.errors} events could not be written to Kafka",
                                hint="check the broker (gameday status) and its log")

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.producer.close(timeout=5)
