"""Monitor tests: seeded prediction/label streams on a real broker, judged by real Evidently."""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from mlgameday.config import Settings, load_settings
from mlgameday.contracts import Alert, DeadLetter, Prediction, TripCompleted
from mlgameday.monitor.service import MonitorService
from mlgameday.monitor.synthetic import Traffic

SEED = 11
WINDOW = 500

warnings.filterwarnings("ignore", module="sklearn")


@pytest.fixture(scope="session")
def reference_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reference") / "reference.parquet"
    Traffic(seed=SEED - 1).reference(3000).to_parquet(path)
    return path


def read_topic(bootstrap: str, topic: str, model: type, timeout_s: float = 3.0) -> list:
    """Every event of a topic, from the start, parsed as `model`."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             consumer_timeout_ms=int(timeout_s * 1000))
    try:
        consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()])
        consumer.seek_to_beginning()
        return [model.model_validate_json(r.value) for r in consumer]
    finally:
        consumer.close()


@dataclass
class MonitorRun:
    """A monitor on fresh topics of the shared broker, in its own run folder."""

    settings: Settings
    bootstrap: str
    service: MonitorService | None = None
    producer: KafkaProducer = field(init=False)

    def __post_init__(self) -> None:
        self.producer = KafkaProducer(bootstrap_servers=self.bootstrap, linger_ms=5)

    def start(self, lookup: object = None) -> MonitorService:
        """The service; lookup "default" compares with the stack's Feast offline store (skew)."""
        self.service = MonitorService(self.settings, lookup=lookup)
        return self.service

    def send(self, pairs: Iterable[tuple[Prediction, TripCompleted]], labels: bool = True) -> list[TripCompleted]:
        """Publish the predictions (and their labels unless labels=False; then they are returned)."""
        held = []
        topics = self.settings.topics
        for prediction, label in pairs:
            self.producer.send(topics.predictions, key=prediction.trip_id.encode(), value=prediction.to_bytes())
            if labels:
                self.producer.send(topics.trips_completed, key=label.trip_id.encode(), value=label.to_bytes())
            else:
                held.append(label)
        self.producer.flush(30)
        return held

    def send_raw(self, topic: str, value: bytes) -> None:
        self.producer.send(topic, value=value)
        self.producer.flush(30)

    def run_until(self, done: Callable[[MonitorService], bool], timeout_s: float = 60.0) -> MonitorService:
        """Run the service loop in a thread until done(service) or the timeout; then stop it."""
        service = self.service or self.start()
        stopping = threading.Event()
        thread = threading.Thread(target=service.run, args=(stopping,), kwargs={"poll_ms": 200}, daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline and thread.is_alive() and not done(service):
                time.sleep(0.2)
        finally:
            stopping.set()
            thread.join(30)
        assert not thread.is_alive(), "the monitor loop did not stop"
        return service

    def read_topic(self, topic: str, model: type, timeout_s: float = 3.0) -> list:
        return read_topic(self.bootstrap, topic, model, timeout_s)

    def alerts(self) -> list[Alert]:
        return self.read_topic(self.settings.topics.alerts, Alert)

    def dead_letters(self) -> list[DeadLetter]:
        return self.read_topic(self.settings.topics.dlq, DeadLetter)

    def close(self) -> None:
        if self.service is not None:
            self.service.close()
        self.producer.close(10)


@pytest.fixture
def monitor_run(kafka_bootstrap: str, new_topic, tmp_path: Path, reference_file: Path):
    """make(**monitor_overrides) -> MonitorRun with its own topics (predictions on one partition,
    so a shift starts at a known window)."""
    runs: list[MonitorRun] = []

    def make(**overrides: object) -> MonitorRun:
        topics = {
            "predictions": new_topic(partitions=1, prefix="predictions"),
            "trips_completed": new_topic(prefix="labels"),
            "alerts": new_topic(prefix="alerts"),
            "dlq": new_topic(prefix="dlq"),
        }
        monitor = {
            "group_id": f"monitor-test-{len(runs)}-{tmp_path.name}",
            "auto_offset_reset": "earliest",
            "reference_path": str(reference_file),
            "window_rows": WINDOW, "window_s": None, "min_rows": 200, "min_labeled_rows": 100,
            "label_wait_s": 20.0, "max_pending_windows": 20, "save_html": False,
            **overrides,
        }
        settings = load_settings(run_dir=tmp_path / f"run{len(runs)}",
                                 kafka={"mode": "external", "bootstrap": kafka_bootstrap}, topics=topics, monitor=monitor)
        run = MonitorRun(settings, kafka_bootstrap)
        runs.append(run)
        return run

    yield make
    for run in runs:
        run.close()


def judged(n: int) -> Callable[[MonitorService], bool]:
    return lambda service: len(service.results) >= n
