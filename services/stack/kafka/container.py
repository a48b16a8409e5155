"""Kafka in a container (kafka.mode testcontainers), from the local image mlgameday-kafka.

The stack runs it with `docker run` (ContainerKafka): the host's network, the local broker's
listeners and data folder, so it survives down/up and chaos restarts like the local one. The
test fixture runs a throwaway broker with testcontainers (kafka_container): inside it listens
on 0.0.0.0:9092, published on a loopback port and advertised as that port, and its own
connections use an internal listener. Both run the image's gameday-kafka-start.sh.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ...config import Settings
from ...containers.images import image_ref
from ...containers.run import PUBLISH_ADDRESS, ContainerSpec, container_logs, host_user, testcontainer
from ...errors import StackError
from ..component import StackContext
from ..container import ContainerComponent
from ..ports import LOOPBACK, free_port
from ..state import ComponentRecord
from .admin import broker_answers, ensure_topics, wait_until_answers
from .broker import Listeners, jvm_flags, new_cluster_id, server_properties

CLIENT_PORT = 9092  # inside a container behind a published port
DATA_MOUNT = "/var/lib/kafka/data"


def broker_spec(settings: Settings, listeners: Listeners, log_dir: str, **container) -> ContainerSpec:
    """The image, the broker's config in its environment, and how the container is run."""
    heap, tuning = jvm_flags(settings.kafka.heap_mb)
    env = {
        "KAFKA_SERVER_PROPERTIES": server_properties(log_dir, listeners, settings.kafka.partitions),
        "KAFKA_CLUSTER_ID": new_cluster_id(),  # used only to format empty storage
        "KAFKA_HEAP_OPTS": " ".join(heap),
        "KAFKA_JVM_PERFORMANCE_OPTS": " ".join(tuning),
    }
    return ContainerSpec(image=image_ref(settings, "kafka"), env=env, **container)


def stack_broker_spec(settings: Settings, broker_port: int, controller_port: int, data_dir: Path) -> ContainerSpec:
    # The run folder's data/kafka is mounted as is: the local broker's layout, so a run folder
    # keeps its topics whichever mode runs it; its files stay the user's.
    return broker_spec(settings, Listeners.local(broker_port, controller_port), f"{DATA_MOUNT}/log",
                       host_network=True, volumes={str(data_dir): DATA_MOUNT}, user=host_user())


def published_broker_spec(settings: Settings, host_port: int) -> ContainerSpec:
    listeners = Listeners(client=f"0.0.0.0:{CLIENT_PORT}", advertised=f"{PUBLISH_ADDRESS}:{host_port}",
                          controller="127.0.0.1:9093", internal="127.0.0.1:9094")
    return broker_spec(settings, listeners, f"{DATA_MOUNT}/log", ports={CLIENT_PORT: host_port})


class ContainerKafka(ContainerComponent):
    name = "kafka"
    image_key = "kafka"
    port_names = ("broker", "controller")
    stop_timeout_s = 20.0

    def fixed_ports(self, ctx: StackContext) -> dict[str, int]:
        port = ctx.settings.kafka.port
        return {"broker": port} if port else {}

    def spec(self, ctx: StackContext, ports: dict[str, int]) -> ContainerSpec:
        data = ctx.run.data_of(self.name)
        data.mkdir(parents=True, exist_ok=True)
        return stack_broker_spec(ctx.settings, ports["broker"], ports["controller"], data)

    def endpoints(self, ctx: StackContext, ports: dict[str, int]) -> dict[str, str]:
        return {"bootstrap": f"{LOOPBACK}:{ports['broker']}"}

    def answers(self, ctx: StackContext, record: ComponentRecord) -> bool:
        return broker_answers(record.endpoints["bootstrap"])

    def after_ready(self, ctx: StackContext, record: ComponentRecord) -> None:
        created = ensure_topics(record.endpoints["bootstrap"], ctx.settings.kafka.partitions, ctx.settings.topics.all())
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
    with testcontainer(published_broker_spec(settings, port)) as container_id:
        bootstrap = f"{PUBLISH_ADDRESS}:{port}"
        if not wait_until_answers(bootstrap, settings.kafka.ready_timeout_s):
            raise StackError(
                f"the Kafka container {container_id[:12]} did not answer at {bootstrap} within "
                f"{settings.kafka.ready_timeout_s:.0f} s; its log:\n{container_logs(container_id)}",
                hint="raise kafka.ready_timeout_s if the machine is slow",
            )
        yield ContainerBroker(bootstrap, container_id)
