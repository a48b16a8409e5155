"""How our containers are asked for, before any engine: `docker run`'s command line, the
broker's listeners inside a container, Redis's arguments (pure logic, no Docker needed)."""

from __future__ import annotations

from pathlib import Path

from mlgameday.config import load_settings
from mlgameday.containers.run import ContainerSpec, docker_run_argv
from mlgameday.stack.kafka.broker import Listeners, server_properties
from mlgameday.stack.kafka.container import DATA_MOUNT, published_broker_spec, stack_broker_spec
from mlgameday.stack.redis import published_redis_spec, stack_redis_spec


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


def test_the_stacks_broker_container_is_the_local_broker_on_the_hosts_network(tmp_path: Path) -> None:
    settings = load_settings(run_dir=tmp_path / "run", kafka={"heap_mb": 256, "partitions": 4})
    spec = stack_broker_spec(settings, 41000, 41001, tmp_path / "data")
    argv = docker_run_argv(spec, "gameday-x-kafka", "/x.cid")
    assert argv[argv.index("--network") + 1] == "host" and "--publish" not in argv
    p = props(spec.env["KAFKA_SERVER_PROPERTIES"])
    # The same listeners as the local broker's: nothing between the clients and the broker.
    assert p["listeners"] == "PLAINTEXT://127.0.0.1:41000,CONTROLLER://127.0.0.1:41001"
    assert p["advertised.listeners"] == "PLAINTEXT://127.0.0.1:41000"
    assert p["log.dirs"] == f"{DATA_MOUNT}/log" and p["num.partitions"] == "4"
    assert spec.volumes == {str(tmp_path / "data"): DATA_MOUNT}
    assert spec.user  # the run folder's files stay the user's
    assert spec.env["KAFKA_HEAP_OPTS"] == "-Xms256m -Xmx256m"
    assert "-XX:+UseSerialGC" in spec.env["KAFKA_JVM_PERFORMANCE_OPTS"]
    assert spec.image == "mlgameday-kafka:4.1.1"


def test_a_throwaway_broker_advertises_its_published_port_and_talks_to_itself_inside(tmp_path: Path) -> None:
    spec = published_broker_spec(load_settings(run_dir=tmp_path / "run"), 41000)
    p = props(spec.env["KAFKA_SERVER_PROPERTIES"])
    assert spec.ports == {9092: 41000} and not spec.host_network
    assert p["listeners"].split(",")[0] == "PLAINTEXT://0.0.0.0:9092"  # reachable through the published port
    assert p["advertised.listeners"].split(",")[0] == "PLAINTEXT://127.0.0.1:41000"  # what clients on the host use
    # 127.0.0.1:41000 does not exist inside the container: the broker's own connections use INTERNAL.
    assert p["inter.broker.listener.name"] == "INTERNAL" and "INTERNAL://127.0.0.1:9094" in p["listeners"]
    assert spec.volumes == {} and spec.user is None  # the image's own user and storage


def test_redis_in_a_container_runs_as_the_local_one_or_behind_a_published_port(tmp_path: Path) -> None:
    settings = load_settings(run_dir=tmp_path / "run")
    stack = stack_redis_spec(settings, 41001, tmp_path / "redis")
    assert stack.image == "mlgameday-redis:7.0" and stack.host_network and stack.ports == {}
    args = stack.command
    assert args[0] == "redis-server"
    assert args[args.index("--port") + 1] == "41001" and args[args.index("--bind") + 1] == "127.0.0.1"
    assert args[args.index("--dir") + 1] == "/data" and args[args.index("--save") + 1] == "3600 1"
    assert stack.volumes == {str(tmp_path / "redis"): "/data"}
    throwaway = published_redis_spec(settings, 41002)
    assert throwaway.ports == {6379: 41002} and not throwaway.host_network
    assert throwaway.command[throwaway.command.index("--bind") + 1] == "0.0.0.0"


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


def test_a_container_broker_with_sasl_is_refused_at_start(tmp_path: Path) -> None:
    import pytest

    from mlgameday.errors import ConfigError

    with pytest.raises(ConfigError) as error:
        load_settings(run_dir=tmp_path / "run", kafka={"mode": "testcontainers", "security_protocol": "SASL_PLAINTEXT",
                                                       "sasl_username": "u", "sasl_password": "p"})
    assert "kafka.mode 'testcontainers' runs its broker without SASL or TLS" in str(error.value)
