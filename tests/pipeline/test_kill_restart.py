"""kill -9 of a real ingest process mid-stream, then a restart: features end exactly as without the kill."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from mlgameday.features.history import load_trip_labels
from mlgameday.features.store import open_store
from mlgameday.producer.run import ProduceOptions, produce

from .conftest import end_offsets, history_options, valid_events
from .reference import reference_features
from .test_online_features import assert_online_equals_reference

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_ingest(settings, port: int, log, **env_overrides: str) -> subprocess.Popen:
    cfg = settings.ingest
    env = {**os.environ, "GAMEDAY_RUN_DIR": str(settings.run_path), "GAMEDAY_KAFKA__MODE": "external",
           "GAMEDAY_KAFKA__BOOTSTRAP": settings.kafka.bootstrap, "GAMEDAY_INGEST__PORT": str(port),
           "GAMEDAY_INGEST__GROUP_ID": cfg.group_id, "GAMEDAY_TOPICS__TRIPS_REQUESTED": settings.topics.trips_requested,
           "GAMEDAY_TOPICS__TRIPS_COMPLETED": settings.topics.trips_completed, "GAMEDAY_TOPICS__DLQ": settings.topics.dlq,
           # Small batches and frequent checkpoints: the kill lands between checkpoints, mid-stream.
           "GAMEDAY_INGEST__MAX_POLL_RECORDS": "100", "GAMEDAY_INGEST__CHECKPOINT_INTERVAL_S": "0.4", **env_overrides}
    return subprocess.Popen([sys.executable, "-m", "mlgameday.ingest"], env=env, stdout=log, stderr=subprocess.STDOUT)


def status(port: int) -> dict:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/status", timeout=1).json()
    except (httpx.HTTPError, ValueError):
        return {}


def applied(port: int) -> int:
    return sum(status(port).get("offsets", {}).values())


def test_kill_9_mid_stream_then_restart_ends_exactly_as_without_the_kill(pipeline_settings, tmp_path) -> None:
    settings = pipeline_settings()
    produce(settings, history_options(12_000, 864, seed=41))
    total = sum(end_offsets(settings.kafka.bootstrap, [settings.topics.trips_requested, settings.topics.trips_completed]).values())
    assert total > 18_000

    port = free_port()
    log = open(tmp_path / "ingest.log", "ab")
    first = start_ingest(settings, port, log)
    try:
        # Kill once a checkpoint exists and a good part is applied: ingest is fast enough to pass 30%
        # before its first checkpoint, and a kill then would test a cold start, not a resume.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = status(port)
            if sum(now.get("offsets", {}).values()) >= total * 0.3 and max(now.get("seq", {}).values(), default=0) >= 1:
                break
            time.sleep(0.05)
        at_kill = applied(port)
        assert total * 0.3 <= at_kill < total, f"progress {at_kill}/{total}: not mid-stream"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()

    second = start_ingest(settings, port, log)
    try:
        deadline = time.monotonic() + 90
        while applied(port) < total and time.monotonic() < deadline:
            time.sleep(0.2)
        assert applied(port) == total, (tmp_path / "ingest.log").read_text()[-3000:]
        resumed_from = status(port)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
        log.close()

    assert second.returncode == 0
    assert max(resumed_from["seq"].values()) >= 1
    events = valid_events(settings)
    assert_online_equals_reference(open_store(settings), reference_features(events))
    labels = load_trip_labels(settings)
    assert len(labels) == sum(1 for e in events if e.__class__.__name__ == "TripCompleted")
    # The restart re-read what the killed process had applied after its last checkpoint.
    restored = [line for line in (tmp_path / "ingest.log").read_text().splitlines() if "restored checkpoint" in line]
    assert restored, "the second process did not resume from a checkpoint"
