"""Kafka unreachable: predictions are still served; the ones that cannot be published are counted, not hung on."""

from __future__ import annotations

import pytest

import shutil
import time

from mlgameday.config import load_settings

from .helpers import Server, free_port, trip, write_config

pytestmark = pytest.mark.integration  # needs a real broker / server


def test_without_kafka_responses_are_served_and_drops_counted(trained_run, tmp_path):
    dead_broker = f"127.0.0.1:{free_port()}"  # nothing listens there
    # A copy of the run folder: a second `bentoml serve` on the same model store (BENTOML_HOME) would
    # wipe the Prometheus files of the session's server, if it runs (bentoml cleans the directory at start).
    run_dir = tmp_path / "run"
    shutil.copytree(trained_run.settings.run_path, run_dir, ignore=shutil.ignore_patterns("prometheus_multiproc_dir"))
    config = write_config(tmp_path / "no-kafka.yaml", run_dir, dead_broker, trained_run.suffix, publish_buffer=10)
    server = Server(load_settings(config), config, dead_broker, tmp_path / "serving.log")
    try:
        started = time.monotonic()
        for i in range(40):
            response = server.client.post("/predict", json=trip(f"nokafka-{i}", 161))
            assert response.status_code == 200, response.text
        batch = server.client.post("/predict_batch", json={"trips": [trip(f"nokafka-b{i}", 161) for i in range(50)]})
        assert batch.status_code == 200 and len(batch.json()["predictions"]) == 50
        assert time.monotonic() - started < 20  # no request waited on the broker
        # 90 predictions, none can be published: each is counted as dropped, by reason
        # (buffer_full when the buffer of 10 overflows, kafka_unavailable for what reached the publisher).
        deadline = time.monotonic() + 15
        while server.metric("gameday_serving_prediction_publish_drops_total") < 90 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert server.metric("gameday_serving_prediction_publish_drops_total") == 90
        assert server.metric("gameday_serving_prediction_publish_drops_total", reason="kafka_unavailable") > 0
        assert server.metric("gameday_serving_predictions_published_total") == 0
        assert server.client.get("/readyz").status_code == 200
    finally:
        server.stop()
