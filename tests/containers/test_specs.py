"""How our containers are asked for, before any engine: `docker run`'s command line, the
broker's listeners inside a container, Redis's arguments (pure logic, no Docker needed)."""

from __future__ import annotations

from pathlib import Path

from mlgameday.config import load_settings
from mlgameday.containers.run import ContainerSpec, docker_run_argv
from mlgameday.stack.kafka.broker import Listeners, server_properties
from mlgameday.stack.kafka.container import DATA_MOUNT, broker_spec
from mlgameday.stack.redis import redis_spec


def props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line)


def test_docker_run_publishes_on_loopback_only_and_removes_the_container() -> None:
    spec = ContainerSpec(image="mlgameday-redis:7.0", ports={6379: 41234}, env={"A": "x=1\ny"},
                         volumes={"/run/data": "/data"}, command=["redis-server", "--port", "6379"],
                         user="1000:1000", labels={"dev.mlgameday.component": "redis"})
    argv = docker_run_argv(spec, "gameday-abc-redis", "/run/redis.cid")
    assert argv[:3] == ["docker", "run", "--rm"]
    assert argv[argv.index("--name") + 1] == "gameday-abc-redis"
    assert argv[argv.index("--cidfile") + 1] == "/run/redis.cid"
    assert argv[argv.index("--publish") + 1] == "127.0.0.1:41234:6379"
    assert argv[argv.index("--env") + 1] == "A=x=1\ny"  # one argument, no shell in between
    assert argv[argv.index("--volume") + 1] == "/run/data:/data"
    assert argv[argv.index("--user") + 1] == "1000:1000"
    assert argv[argv.index("--label") + 1] == "dev.mlgameday.component=redis"
    assert argv[-4:] == ["mlgameday-redis:7.0", "redis-server", "--port", "6379"]


def test_the_local_broker_listens_and_advertises_one_loopback_address(tmp_path: Path) -> None:
    p = props(server_properties(tmp_path / "log", Listeners.local(39092, 39093), 3))
    assert p["listeners"] == "PLAINTEXT://127.0.0.1:39092,CONTROLLER://127.0.0.1:39093"
    assert p["advertised.listeners"] == "PLAINTEXT://127.0.0.1:39092"
    assert p["inter.broker.listener.name"] == "PLAINTEXT"
    assert p["listener.security.protocol.map"] == "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
    assert p["controller.quorum.voters"] == "1@127.0.0.1:39093"
    assert p["log.dirs"] == str(tmp_path / "log")


def test_a_container_broker_advertises_the_published_port_and_talks_to_itself_inside(tmp_path: Path) -> None:
    settings = load_settings(run_dir=tmp_path / "run", kafka={"heap_mb": 256, "partitions": 4})
    spec = broker_spec(settings, 41000, tmp_path / "data")
    p = props(spec.env["KAFKA_SERVER_PROPERTIES"])
    assert spec.ports == {9092: 41000}
    assert p["listeners"].split(",")[0] == "PLAINTEXT://0.0.0.0:9092"  # reachable through the published port
    assert p["advertised.listeners"].split(",")[0] == "PLAINTEXT://127.0.0.1:41000"  # what clients on the host use
    # 127.0.0.1:41000 does not exist inside the container: the broker's own connections use INTERNAL.
    assert p["inter.broker.listener.name"] == "INTERNAL" and "INTERNAL://127.0.0.1:9094" in p["listeners"]
    assert p["log.dirs"] == f"{DATA_MOUNT}/log" and p["num.partitions"] == "4"
    assert spec.volumes == {str(tmp_path / "data"): DATA_MOUNT}
    assert spec.user  # the run folder's files stay the user's
    assert spec.env["KAFKA_HEAP_OPTS"] == "-Xms256m -Xmx256m"
    assert "-XX:+UseSerialGC" in spec.env["KAFKA_JVM_PERFORMANCE_OPTS"]
    assert spec.image == "mlgameday-kafka:4.1.1"


def test_a_throwaway_broker_keeps_its_data_in_the_container(tmp_path: Path) -> None:
    spec = broker_spec(load_settings(run_dir=tmp_path / "run"), 41000)
    assert spec.volumes == {} and spec.user is None  # the image's own user and storage


def test_redis_in_a_container_listens_inside_and_snapshots_to_the_mount(tmp_path: Path) -> None:
    spec = redis_spec(load_settings(run_dir=tmp_path / "run"), 41001, tmp_path / "redis")
    assert spec.image == "mlgameday-redis:7.0" and spec.ports == {6379: 41001}
    args = spec.command
    assert args[0] == "redis-server"
    assert args[args.index("--bind") + 1] == "0.0.0.0" and args[args.index("--dir") + 1] == "/data"
    assert args[args.index("--save") + 1] == "3600 1"
    assert spec.volumes == {str(tmp_path / "redis"): "/data"}


def test_testcontainers_mode_runs_the_infrastructure_in_containers(tmp_path: Path) -> None:
    from mlgameday.stack.kafka.container import ContainerKafka
    from mlgameday.stack.kafka.local import LocalKafka
    from mlgameday.stack.redis import ContainerRedis, LocalRedis
    from mlgameday.stack.registry import infrastructure

    def kinds(**overrides):
        return [type(c) for c in infrastructure(load_settings(run_dir=tmp_path / "run", **overrides))]

    assert kinds(kafka={"mode": "testcontainers"}, online_store="redis") == [ContainerKafka, ContainerRedis]
    assert kinds(kafka={"mode": "local"}, online_store="redis") == [LocalKafka, LocalRedis]
    assert kinds(kafka={"mode": "testcontainers"}) == [ContainerKafka]  # SQLite: no Redis at all
