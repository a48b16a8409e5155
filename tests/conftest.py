"""Shared fixtures. The broker comes from ONE fixture that honours the three Kafka modes,
chosen by the product's own setting GAMEDAY_KAFKA__MODE (local by default; external with
GAMEDAY_KAFKA__BOOTSTRAP; testcontainers: a container of the local image mlgameday-kafka,
built by `make images`). Redis, where a test needs one, follows the same setting.

Two lanes: `make test` runs everything; `make test-unit` (`-m "not integration"`) runs the
tests that need no real part. A test that needs one — the broker or a drill stack fixture, or
a process of the stack (Kafka's JVM, redis-server, a service, BentoML, Prometheus) — must carry
the `integration` marker: without it, it fails at once, naming what it asked for, so the fast
lane never starts a broker behind a test's back.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest
import redis

from mlgameday.config import Settings, load_settings
from mlgameday.containers.run import testcontainer
from mlgameday.stack.kafka.admin import admin_client, ensure_topics
from mlgameday.stack.kafka.container import kafka_container
from mlgameday.stack.kafka.local import LocalKafka
from mlgameday.stack.ports import free_port
from mlgameday.stack.redis import published_redis_spec
from mlgameday.stack.supervisor import Stack

from .drill_stack import after_test, before_test, drill_stack, users_first  # noqa: F401  (a fixture: drills and interviews share it)
from .xdist_split import DrillStackSplit
from .trained import trained_run  # noqa: F401  (a fixture: the trainer and serving tests share it)

# Fixtures that bring up a real part (their dependants inherit them: pytest lists the closure).
REAL_PART_FIXTURES = frozenset({"kafka_bootstrap", "drill_stack"})
# Programs that are real parts of the stack; `python -m mlgameday.<service>` is one too.
REAL_PART_PROGRAMS = frozenset({"java", "redis-server", "bentoml", "prometheus", "mvn"})

# The `gameday` command that starts the stack (`drill` and `train` do too, but a usage mistake of
# theirs is a unit test: their real runs take a stack or broker fixture, caught above).
STARTING_COMMANDS = frozenset({"up"})

_unmarked_test: str | None = None  # the node id of the unmarked test being set up or run


def _real_part(args: object) -> str | None:
    """What real part this command line starts, if any."""
    argv = [str(a) for a in args] if isinstance(args, (list, tuple)) else str(args).split()
    if not argv:
        return None
    program = os.path.basename(argv[0])
    if program in REAL_PART_PROGRAMS:
        return program
    command = argv[1:]
    if "-m" in argv[:-1]:
        module = argv[argv.index("-m") + 1]
        if module not in ("mlgameday", "mlgameday.cli"):  # python -m mlgameday.<service>, bentoml
            return f"python -m {module}" if module.startswith(("mlgameday.", "bentoml")) else None
        program, command = "gameday", argv[argv.index("-m") + 2:]
    if program == "gameday" and command and command[0] in STARTING_COMMANDS:
        return f"gameday {command[0]}"
    return None


class _GuardedPopen(subprocess.Popen):
    def __init__(self, args, *rest, **kwargs):  # noqa: ANN001 - subprocess.Popen's own signature
        if _unmarked_test and (part := _real_part(args)):
            pytest.fail(f"{_unmarked_test} starts {part} (a real part) without @pytest.mark.integration",
                        pytrace=False)
        super().__init__(args, *rest, **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    subprocess.Popen = _GuardedPopen  # subprocess.run and the stack's spawn() look it up at call time


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    global _unmarked_test
    _unmarked_test = None if item.get_closest_marker("integration") else item.nodeid
    if _unmarked_test and (wanted := REAL_PART_FIXTURES & set(getattr(item, "fixturenames", ()))):
        pytest.fail(f"{item.nodeid} uses {', '.join(sorted(wanted))} (a real part) without "
                    "@pytest.mark.integration", pytrace=False)
    before_test(item)  # the shared drill stack runs again for a user after its release


@pytest.hookimpl(trylast=True)  # after the test's own fixtures are torn down
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    global _unmarked_test
    _unmarked_test = None
    after_test(item, nextitem)  # the shared drill stack stops after its last user


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The cluster lane runs only when a -m names it (`make test-k8s`: -m cluster). A -m of the caller's own
    (-m integration) replaces pyproject's -m 'not cluster', and then brought the lane along: it upgraded the
    machine's shared release (gameday-lane) under a cluster lane running beside it."""
    users_first(items)  # the shared drill stack's users: one stack start per process
    if "cluster" in (config.getoption("markexpr") or ""):
        return
    lane = [item for item in items if item.get_closest_marker("cluster")]
    if lane:
        config.hook.pytest_deselected(items=lane)
        items[:] = [item for item in items if not item.get_closest_marker("cluster")]


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> DrillStackSplit | None:
    """`--dist load` (make test) with the drill stack's users dealt out first; another --dist as xdist has it."""
    return DrillStackSplit(config, log) if config.getoption("dist") == "load" else None


def announce(request: pytest.FixtureRequest, line: str) -> None:
    """A line in the test run's output, whatever the capture mode (e.g. which container serves)."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():  # fd 1 is captured while a fixture runs
        reporter.ensure_newline()
        reporter.write_line(line)


@pytest.fixture(scope="session")
def kafka_bootstrap(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real broker's bootstrap address, with the design's topics created."""
    settings = load_settings(run_dir=tmp_path_factory.mktemp("kafka-fixture"))
    mode = settings.kafka.mode
    if mode == "testcontainers":
        with kafka_container(settings) as broker:
            announce(request, f"kafka_bootstrap: broker in container {broker.container_id} "
                              f"({settings.kafka.mode}, image {broker_image(settings)}) at {broker.bootstrap}")
            ensure_topics(broker.bootstrap, settings.kafka.partitions)
            yield broker.bootstrap
    elif mode == "external":
        assert settings.kafka.bootstrap
        ensure_topics(settings.kafka.bootstrap, settings.kafka.partitions)
        yield settings.kafka.bootstrap
    else:
        stack = Stack(settings, components=[LocalKafka()])
        stack.up()
        try:
            yield stack.endpoint("kafka", "bootstrap")
        finally:
            stack.down()


def broker_image(settings: Settings) -> str:
    from mlgameday.containers.images import image_ref

    return image_ref(settings, "kafka")


@pytest.fixture
def redis_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A real Redis, empty: a container of mlgameday-redis in testcontainers mode, else the OS's redis-server."""
    settings = load_settings(run_dir=tmp_path / "run")
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    if settings.kafka.mode == "testcontainers":
        with testcontainer(published_redis_spec(settings, port)) as container_id:
            announce(request, f"redis_url: Redis in container {container_id} at {url}")
            wait_for_redis(url)
            yield url
        return
    binary = shutil.which("redis-server")
    assert binary, "redis-server is required (apt-get install -y redis-server)"
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        wait_for_redis(url)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def wait_for_redis(url: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if redis.Redis.from_url(url, socket_timeout=1).ping():
                return
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture
def new_topic(kafka_bootstrap: str) -> Callable[..., str]:
    """Create a fresh topic (unique name) so tests sharing the broker never see each other's events."""
    from kafka.admin import NewTopic

    created: list[str] = []

    def make(partitions: int = 3, prefix: str = "test") -> str:
        name = f"{prefix}.{uuid.uuid4().hex[:10]}"
        client = admin_client(kafka_bootstrap)
        try:
            client.create_topics([NewTopic(name=name, num_partitions=partitions, replication_factor=1)])
        finally:
            client.close()
        created.append(name)
        return name

    yield make
    if created:
        client = admin_client(kafka_bootstrap)
        try:
            client.delete_topics(created)
        except Exception:
            pass
        finally:
            client.close()


@pytest.fixture
def stack_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a stack of the test's own, in a temporary run folder."""

    def make(**overrides: object) -> Settings:
        return load_settings(run_dir=tmp_path / "run", **overrides)

    return make
