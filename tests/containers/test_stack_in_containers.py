"""`gameday up/status/chaos/down` with kafka.mode testcontainers: Kafka and Redis run as
containers of the local images, with the same promises as the local processes — data that
survives down/up, chaos on the container itself, nothing left behind."""

from __future__ import annotations

from pathlib import Path

from docker.errors import NotFound
import pytest
import redis

from mlgameday.stack.kafka.admin import admin_client, broker_answers, ensure_topics

from ..conftest import announce
from ..stack.helpers import component, gameday, processes_using, read_all, status_json, write_events

pytestmark = [pytest.mark.integration, pytest.mark.containers]
CONTAINERS = {"GAMEDAY_KAFKA__MODE": "testcontainers", "GAMEDAY_ONLINE_STORE": "redis"}


def up(run_dir: Path, **env: str):
    return gameday(run_dir, "up", env={**CONTAINERS, **env})


@pytest.fixture
def run_dir(tmp_path: Path, engine):
    path = tmp_path / "run"
    yield path
    gameday(path, "down")  # never leave a container behind, whatever the test did
    assert processes_using(path) == []
    assert engine.containers.list(all=True, filters={"label": f"dev.mlgameday.run={path}"}) == []


def test_up_runs_kafka_and_redis_as_containers_of_the_local_images(run_dir: Path, engine, request) -> None:
    result = up(run_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "kafka ready" in result.stderr and "redis ready" in result.stderr
    status = status_json(run_dir)
    kafka, store = component(status, "kafka"), component(status, "redis")
    for part, image in ((kafka, "mlgameday-kafka:4.1.1"), (store, "mlgameday-redis:7.0")):
        assert part["state"] == "running" and part["container"], part
        container = engine.containers.get(part["container"])
        announce(request, f"gameday up: {part['name']} is container {container.id} ({image})")
        assert container.status == "running" and image in container.image.tags
        assert container.labels["dev.mlgameday.run"] == str(run_dir)
    for part in (kafka, store):  # on the host's network: no proxy between the clients and them
        assert engine.containers.get(part["container"]).attrs["HostConfig"]["NetworkMode"] == "host"
    client = admin_client(status["kafka_bootstrap"])
    assert {"trips.requested", "trips.completed", "predictions", "alerts", "dlq"} <= set(client.list_topics())
    client.close()
    assert redis.Redis.from_url(store["endpoints"]["url"]).ping()
    assert kafka["rss_mb"] and kafka["rss_mb"] < 600  # the bounded heap holds in the container too

    table = gameday(run_dir, "status")
    assert f"container {kafka['container'][:12]}" in table.stdout

    down = gameday(run_dir, "down")
    assert down.returncode == 0 and "kafka" in down.stdout and "redis" in down.stdout
    for part in (kafka, store):
        with pytest.raises(NotFound):
            engine.containers.get(part["container"])
    assert component(status_json(run_dir), "kafka")["state"] == "not started"


def test_data_survives_down_and_up_but_not_wipe(run_dir: Path) -> None:
    assert up(run_dir).returncode == 0
    status = status_json(run_dir)
    ensure_topics(status["kafka_bootstrap"], 3, ("keep.me",))
    write_events(status["kafka_bootstrap"], "keep.me", 500)
    redis.Redis.from_url(component(status, "redis")["endpoints"]["url"]).set("gameday:probe", "1")
    assert gameday(run_dir, "down").returncode == 0

    assert up(run_dir).returncode == 0
    status = status_json(run_dir)
    assert len(read_all(status["kafka_bootstrap"], "keep.me", expected=500)) == 500
    assert redis.Redis.from_url(component(status, "redis")["endpoints"]["url"]).get("gameday:probe") == b"1"

    assert gameday(run_dir, "down", "--wipe").returncode == 0
    assert up(run_dir).returncode == 0
    status = status_json(run_dir)
    assert read_all(status["kafka_bootstrap"], "keep.me", timeout_ms=2000) == []


def test_chaos_acts_on_the_broker_container(run_dir: Path, engine) -> None:
    assert up(run_dir).returncode == 0
    status = status_json(run_dir)
    bootstrap, first = status["kafka_bootstrap"], component(status, "kafka")["container"]
    ensure_topics(bootstrap, 3, ("survivor",))
    write_events(bootstrap, "survivor", 300)

    paused = gameday(run_dir, "chaos", "pause", "kafka")
    assert paused.returncode == 0 and "SIGSTOP" in paused.stdout and first[:12] in paused.stdout
    assert engine.containers.get(first).status == "paused"
    assert component(status_json(run_dir), "kafka")["state"] == "paused"
    assert not broker_answers(bootstrap)  # frozen: connections hang, nothing answers
    assert gameday(run_dir, "chaos", "resume", "kafka").returncode == 0
    assert component(status_json(run_dir), "kafka")["state"] == "running"

    killed = gameday(run_dir, "chaos", "kill", "kafka")
    assert killed.returncode == 0 and "SIGKILL" in killed.stdout
    assert component(status_json(run_dir), "kafka")["state"] == "dead"
    with pytest.raises(NotFound):
        engine.containers.get(first)  # killed and removed by the engine

    started = gameday(run_dir, "chaos", "start", "kafka")
    assert started.returncode == 0, started.stdout + started.stderr
    status = status_json(run_dir)
    kafka = component(status, "kafka")
    assert kafka["state"] == "running" and kafka["container"] != first
    assert status["kafka_bootstrap"] == bootstrap  # same port: clients reconnect where they were
    assert len(read_all(bootstrap, "survivor", expected=300)) == 300


def test_a_missing_image_is_a_clear_error_and_nothing_is_left(run_dir: Path) -> None:
    result = up(run_dir, GAMEDAY_KAFKA__VERSION="9.9.9")
    assert result.returncode == 1
    assert "the image mlgameday-kafka:9.9.9 is not in the Docker engine" in result.stderr
    assert "make images" in result.stderr
    assert processes_using(run_dir) == []
