"""Kafka in a container via testcontainers, where a Docker engine exists.

`gameday up` with kafka.mode=testcontainers runs `python -m mlgameday.stack.kafka.container FILE`
as the kafka component: it starts the container, writes the bootstrap address to FILE,
and holds the container until SIGTERM.
"""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ...errors import StackError
from ...runtime.kafka import kafka_options
from ..component import Component, LaunchSpec, StackContext
from ..state import ComponentRecord
from .admin import broker_answers, ensure_topics

KAFKA_IMAGE = "apache/kafka:4.1.1"


def docker_engine_problem() -> str | None:
    """None when a Docker engine answers (and testcontainers is installed), else why not."""
    try:
        import testcontainers  # noqa: F401  (the `docker` extra)
    except ImportError:
        return "testcontainers is not installed: pip install -e .[docker]"
    try:
        import docker

        docker.from_env().ping()
        return None
    except Exception as exc:  # docker raises several unrelated types here
        return f"{type(exc).__name__}: {exc}"


def require_docker_engine() -> None:
    if problem := docker_engine_problem():
        raise StackError(
            f"kafka.mode 'testcontainers' needs a Docker engine, and none answered ({problem})",
            hint="start Docker, or use kafka.mode local (a JVM broker, the default) or external",
        )


@contextmanager
def kafka_container(image: str = KAFKA_IMAGE) -> Iterator[str]:
    """Yield the bootstrap address of a Kafka container, removed on exit."""
    require_docker_engine()
    from testcontainers.community.kafka import KafkaContainer

    with KafkaContainer(image).with_kraft() as container:
        yield container.get_bootstrap_server()


class ContainerKafka(Component):
    name = "kafka"

    def _address_file(self, ctx: StackContext) -> Path:
        return ctx.run.data_of(self.name) / "bootstrap"

    def prepare(self, ctx: StackContext) -> None:
        require_docker_engine()
        self._address_file(ctx).unlink(missing_ok=True)

    def launch(self, ctx: StackContext, ports: dict[str, int]) -> LaunchSpec:
        path = self._address_file(ctx)
        path.parent.mkdir(parents=True, exist_ok=True)
        return LaunchSpec([sys.executable, "-m", "mlgameday.stack.kafka.container", str(path)])

    def is_ready(self, ctx: StackContext, record: ComponentRecord) -> bool:
        path = self._address_file(ctx)
        if not path.exists():
            return False
        record.endpoints["bootstrap"] = path.read_text().strip()
        return broker_answers(record.endpoints["bootstrap"], **kafka_options(ctx.settings.kafka))

    def after_ready(self, ctx: StackContext, record: ComponentRecord) -> None:
        ensure_topics(record.endpoints["bootstrap"], ctx.settings.kafka.partitions, ctx.settings.topics.all(),
                      **kafka_options(ctx.settings.kafka))


def _hold(address_file: Path) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with kafka_container() as bootstrap:
        address_file.write_text(bootstrap)
        stop.wait()


if __name__ == "__main__":
    _hold(Path(sys.argv[1]))
