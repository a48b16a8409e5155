"""Helpers of the serving tests: config files, the server process, reading the predictions topic."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx
from kafka import KafkaConsumer

from mlgameday.config import Settings
from mlgameday.runtime.admin_key import admin_headers
from mlgameday.serving.launcher import ServingProcess

from ..trained import HISTORY_RATE, write_config  # noqa: F401  (the serving tests' config files)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server(ServingProcess):
    """The service process on a free port, plus an HTTP client and a /metrics reader."""

    def __init__(self, settings: Settings, config_file: Path, bootstrap: str, log_path: Path) -> None:
        super().__init__(settings, config_file, bootstrap, free_port(), log_path)
        # The tests call as the gameday CLI does: with the run folder's admin key.
        self.client = httpx.Client(base_url=self.url, timeout=30, headers=admin_headers(settings))

    def metric(self, name: str, **labels: str) -> float:
        """Sum of a Prometheus sample (with these labels) on /metrics."""
        total = 0.0
        for line in self.client.get("/metrics").text.splitlines():
            if not line.startswith(name) or line.startswith("#"):
                continue
            head, _, value = line.rpartition(" ")
            metric, _, label_text = head.partition("{")
            if metric != name:
                continue
            if all(f'{k}="{v}"' in label_text for k, v in labels.items()):
                total += float(value)
        return total

    def stop(self) -> None:
        self.client.close()
        super().stop()


def consume_predictions(bootstrap: str, topic: str, trip_ids: set[str], timeout_s: float = 20) -> list[dict]:
    """Every prediction event for these trips on the topic (read from the start), waiting up to timeout_s."""
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, group_id=None, consumer_timeout_ms=1000)
    found: list[dict] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            for record in consumer:
                event = json.loads(record.value)
                if event["trip_id"] in trip_ids:
                    found.append(event)
            if {e["trip_id"] for e in found} >= trip_ids:
                break
    finally:
        consumer.close()
    return found


def trip(trip_id: str, zone: int, **overrides: object) -> dict:
    body = {"trip_id": trip_id, "pickup_zone": zone, "dropoff_zone": 236, "trip_distance": 2.4,
            "passenger_count": 1, "request_time": "2026-01-05T08:30:00+00:00"}
    body.update(overrides)
    return body

