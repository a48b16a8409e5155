"""Kafka in a container (kafka.mode testcontainers), from the local image mlgameday-kafka.

Inside, the broker listens on 0.0.0.0:9092, published on a loopback port of the host and
advertised as that port; its own connections use an internal listener. The stack runs it
with `docker run` (ContainerKafka: data in the run folder, survives down/up), the test
fixture with testcontainers (kafka_container: a throwaway broker). One spec for both.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ...config import Settings
from ...containers.images import image_ref
from ...containers.run import LOOPBACK, ContainerSpec, container_logs, host_user, testcontainer
from ...errors import StackError
from ..component import StackContext
from ..container import ContainerComponent
from ..ports import free_port
from ..state import ComponentRecord
from .admin import broker_answers, ensure_topics, wait_until_answers
from .broker import Listeners, jvm_flags, new_cluster_id, server_properties

CLIENT_PORT = 9092
# The run folder's data/kafka is mounted here: the same layout as the local broker's, so a
# run folder keeps its topics whichever mode runs it.
DATA_MOUNT = "/var/lib/kafka/data"


def broker_spec(settings: Settings, host_port: int, data_dir: Path | None = None) -> ContainerSpec:
    listeners = Listeners(client=f"0.0.0.0:{CLIENT_PORT}", advertised=f"{LOOPBACK}:{host_port}",
                          controller="127.0.0.1:9093", internal="127.0.0.1:9094")
    heap, tuning = jvm_flags(settings.kafka.heap_mb)
    return ContainerSpec(
        image=image_ref(settings, "kafka"),
        ports={CLIENT_PORT: host_port},
        env={
            "KAFKA_SERVER_PROPERTIES": server_properties(f"{DATA_MOUNT}/log", listeners, settings.kafka.partitions),
            "KAFKA_CLUSTER_ID": new_cluster_id(),  # used only to format empty storage
            "KAFKA_HEAP_OPTS": " ".join(heap),
            "KAFKA_JVM_PERFORMANCE_OPTS": " ".join(tuning),
        },
        volumes={str(data_dir): DATA_MOUNT} if data_dir else {},
        # Files in the run folder belong to the user, as the local broker's do.
        user=host_user() if data_dir else None,
    )


class ContainerKafka(ContainerComponent):
    name = "kafka"
    image_key = "kafka"
    port_names = ("broker",)
    stop_timeout_s = 20.0

    def fixed_ports(self, ctx: StackContext) -> dict[str, int]:
        port = ctx.settings.kafka.port
        return {"broker": port} if port else {}

    def spec(self, ctx: StackContext, ports: dict[str, int]) -> ContainerSpec:
        data = ctx.run.data_of(self.name)
        data.mkdir(parents=True, exist_ok=True)
        return broker_spec(ctx.settings, ports["broker"], data)

    def endpoints(self, ctx: StackContext, ports: dict[str, int]) -> dict[str, str]:
        return {"bootstrap": f"{LOOPBACK}:{ports['broker']}"}

    def answers(self, ctx: StackContext, record: ComponentRecord) -> bool:
        return broker_answers(record.endpoints["bootstrap"])

    def after_ready(self, ctx: StackContext, record: ComponentRecord) -> None:
        created = ensure_topics(record.endpoints["bootstrap"], ctx.settings.kafka.partitions)
        if created:
            ctx.report(self.name, f"created topics {', '.join(created)}")


@dataclass(frozen=True)
class ContainerBroker:
    bootstrap: str
    container_id: str


@contextmanager
def kafka_container(settings: Settings) -> Iterator[ContainerBroker]:
    """A throwaway broker in a container (testcontainers), removed on exit."""
    port = free_port()
    with testcontainer(broker_spec(settings, port)) as container_id:
        bootstrap = f"{LOOPBACK}:{port}"
        if not wait_until_answers(bootstrap, settings.kafka.ready_timeout_s):
            raise StackError(
                f"the Kafka container {container_id[:12]} did not answer at {bootstrap} within "
                f"{settings.kafka.ready_timeout_s:.0f} s; its log:\n{container_logs(container_id)}",
                hint="raise kafka.ready_timeout_s if the machine is slow",
            )
        yield ContainerBroker(bootstrap, container_id)
