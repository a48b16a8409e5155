"""Shared fixtures. The broker comes from ONE fixture that honours the three Kafka modes,
chosen by the product's own setting GAMEDAY_KAFKA__MODE (local by default; external with
GAMEDAY_KAFKA__BOOTSTRAP; testcontainers where a Docker engine exists).

Two lanes: `make test` runs everything; `make test-unit` (`-m "not integration"`) runs the
tests that need no real part. A test that needs one — the broker or a drill stack fixture, or
a process of the stack (Kafka's JVM, redis-server, a service, BentoML, Prometheus) — must carry
the `integration` marker: without it, it fails at once, naming what it asked for, so the fast
lane never starts a broker behind a test's back.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest

from mlgameday.config import Settings, load_settings
from mlgameday.stack.kafka.admin import admin_client, ensure_topics
from mlgameday.stack.kafka.container import kafka_container
from mlgameday.stack.kafka.local import LocalKafka
from mlgameday.stack.supervisor import Stack

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


def pytest_runtest_teardown(item: pytest.Item) -> None:
    global _unmarked_test
    _unmarked_test = None


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real broker's bootstrap address, with the design's topics created."""
    settings = load_settings(run_dir=tmp_path_factory.mktemp("kafka-fixture"))
    mode = settings.kafka.mode
    if mode == "testcontainers":
        with kafka_container() as bootstrap:
            ensure_topics(bootstrap, settings.kafka.partitions)
            yield bootstrap
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
