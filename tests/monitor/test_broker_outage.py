"""A broker outage delays the monitor's alerts; it neither stops the monitor nor loses them.

On its own broker (it is killed): the first version flushed every alert with a 10 s timeout
and died on it in the broker-outage drill.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from mlgameday.config import load_settings
from mlgameday.contracts import Alert, utcnow
from mlgameday.monitor.service import MonitorService
from mlgameday.stack.kafka.local import LocalKafka
from mlgameday.stack.supervisor import Stack

from .conftest import read_topic

pytestmark = pytest.mark.integration


def sent(service: MonitorService, topic: str) -> float:
    return service.metrics.published.labels(topic, "sent")._value.get()


def test_an_alert_raised_while_the_broker_is_down_is_sent_when_it_is_back(tmp_path: Path, reference_file: Path) -> None:
    broker = Stack(load_settings(run_dir=tmp_path / "broker"), components=[LocalKafka()])
    broker.up()
    try:
        bootstrap = broker.endpoint("kafka", "bootstrap")
        settings = load_settings(run_dir=tmp_path / "run", kafka={"mode": "external", "bootstrap": bootstrap},
                                 monitor={"reference_path": str(reference_file)})
        service = MonitorService(settings)
        service.connect()
        topic = settings.topics.alerts
        broker.chaos("kill", "kafka")

        alert = Alert(event_id="outage-alert", event_time=utcnow(), kind="freshness.stale", score=0.6, threshold=0.2, window=7,
                      message="raised during the outage")
        started = time.monotonic()
        service.publish(alert)                       # neither raises nor blocks the judging loop
        assert time.monotonic() - started < 5
        assert sent(service, topic) == 0

        stopping = threading.Event()
        loop = threading.Thread(target=service.run, args=(stopping,), kwargs={"poll_ms": 200}, daemon=True)
        loop.start()
        try:
            time.sleep(3)                            # the loop runs on through the outage
            assert loop.is_alive() and sent(service, topic) == 0
            broker.chaos("start", "kafka")
            deadline = time.monotonic() + 60
            while sent(service, topic) < 1 and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            stopping.set()
            loop.join(30)
        assert sent(service, topic) == 1             # retried through the restart, counted once
        assert [a.message for a in read_topic(bootstrap, topic, Alert)] == ["raised during the outage"]
        service.close()
    finally:
        broker.down()
