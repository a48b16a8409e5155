"""`gameday up/status/down/chaos` against a real broker in a run folder of the test's own."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from mlgameday.stack.kafka.admin import admin_client, ensure_topics

from .helpers import component, gameday, processes_using, read_all, status_json, write_events

pytestmark = [pytest.mark.integration, pytest.mark.local_broker]  # they start and kill the local broker process


@pytest.fixture
def run_dir(tmp_path: Path):
    path = tmp_path / "run"
    yield path
    gameday(path, "down")  # never leave a broker behind, whatever the test did
    assert processes_using(path) == []


def test_up_reports_ready_then_down_leaves_no_process(run_dir: Path) -> None:
    result = gameday(run_dir, "up")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "kafka ready" in result.stderr

    status = status_json(run_dir)
    kafka = component(status, "kafka")
    assert kafka["state"] == "running" and kafka["pid"]
    assert status["kafka_bootstrap"] == kafka["endpoints"]["bootstrap"]
    assert set(kafka["ports"]) == {"broker", "controller"}
    client = admin_client(status["kafka_bootstrap"])
    assert {"trips.requested", "trips.completed", "predictions", "alerts", "dlq"} <= set(client.list_topics())
    client.close()

    twin = gameday(run_dir, "up")
    assert twin.returncode == 1
    assert "already running" in twin.stderr

    down = gameday(run_dir, "down")
    assert down.returncode == 0 and "kafka" in down.stdout
    assert processes_using(run_dir) == []
    assert component(status_json(run_dir), "kafka")["state"] == "not started"


def test_data_survives_down_and_up_but_not_wipe(run_dir: Path) -> None:
    assert gameday(run_dir, "up").returncode == 0
    bootstrap = status_json(run_dir)["kafka_bootstrap"]
    ensure_topics(bootstrap, 3, ("keep.me",))
    write_events(bootstrap, "keep.me", 500)
    assert gameday(run_dir, "down").returncode == 0

    assert gameday(run_dir, "up").returncode == 0
    bootstrap = status_json(run_dir)["kafka_bootstrap"]
    assert len(read_all(bootstrap, "keep.me", expected=500)) == 500

    assert gameday(run_dir, "down", "--wipe").returncode == 0
    assert gameday(run_dir, "up").returncode == 0
    bootstrap = status_json(run_dir)["kafka_bootstrap"]
    assert read_all(bootstrap, "keep.me", timeout_ms=2000) == []


def test_kill_pause_and_restart_the_broker(run_dir: Path) -> None:
    assert gameday(run_dir, "up").returncode == 0
    bootstrap = status_json(run_dir)["kafka_bootstrap"]
    ensure_topics(bootstrap, 3, ("survivor",))
    write_events(bootstrap, "survivor", 300)

    paused = gameday(run_dir, "chaos", "pause", "kafka")
    assert paused.returncode == 0 and "SIGSTOP" in paused.stdout
    assert component(status_json(run_dir), "kafka")["state"] == "paused"
    assert gameday(run_dir, "chaos", "resume", "kafka").returncode == 0
    assert component(status_json(run_dir), "kafka")["state"] == "running"

    killed = gameday(run_dir, "chaos", "kill", "kafka")
    assert killed.returncode == 0 and "SIGKILL" in killed.stdout
    assert component(status_json(run_dir), "kafka")["state"] == "dead"

    restarted = gameday(run_dir, "chaos", "restart", "kafka")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    status = status_json(run_dir)
    assert component(status, "kafka")["state"] == "running"
    assert len(read_all(status["kafka_bootstrap"], "survivor", expected=300)) == 300


def test_taken_port_is_a_clear_error_and_nothing_is_left(run_dir: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = gameday(run_dir, "up", env={"GAMEDAY_KAFKA__PORT": str(port)})
    assert result.returncode == 1
    assert f"port {port} for kafka (broker) is taken" in result.stderr
    assert processes_using(run_dir) == []


def test_failed_up_stops_what_it_started(run_dir: Path) -> None:
    # Kafka starts first, then Redis cannot: the broker must not be left running.
    result = gameday(run_dir, "up", env={"GAMEDAY_ONLINE_STORE": "redis",
                                        "GAMEDAY_REDIS__BINARY": "/nonexistent/redis-server"})
    assert result.returncode == 1
    assert "MissingTool" in result.stderr and "apt-get install -y redis-server" in result.stderr
    assert processes_using(run_dir) == []
    assert component(status_json(run_dir), "kafka")["state"] == "not started"


def test_bad_config_fails_before_starting_anything(run_dir: Path) -> None:
    result = gameday(run_dir, "up", env={"GAMEDAY_KAFKA__PARTITIONS": "0"})
    assert result.returncode == 1
    assert "kafka.partitions = '0'" in result.stderr and "greater than or equal to 1" in result.stderr
    assert processes_using(run_dir) == []


def test_redis_online_store_starts_a_real_redis(run_dir: Path) -> None:
    import redis

    result = gameday(run_dir, "up", env={"GAMEDAY_ONLINE_STORE": "redis"})
    assert result.returncode == 0, result.stdout + result.stderr
    url = component(status_json(run_dir), "redis")["endpoints"]["url"]
    client = redis.Redis.from_url(url)
    assert client.ping()
    client.set("gameday:probe", "1")
    assert gameday(run_dir, "chaos", "restart", "redis").returncode == 0
    assert client.get("gameday:probe") == b"1"  # snapshot on shutdown, loaded on start
