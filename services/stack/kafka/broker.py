"""The broker's configuration wherever it runs (a local JVM, a container): server.properties,
the JVM's flags, the cluster id, the logging config."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ...config import KafkaSettings
from ..ports import LOOPBACK


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding, not starting with '-'."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid


@dataclass(frozen=True)
class ScramUser:
    """The SASL/SCRAM user a local broker is formatted with (kafka.security_protocol SASL_PLAINTEXT)."""

    mechanism: str
    name: str
    password: str

    @classmethod
    def of(cls, kafka: KafkaSettings) -> "ScramUser | None":
        if kafka.security_protocol != "SASL_PLAINTEXT":
            return None
        assert kafka.sasl_username and kafka.sasl_password  # the settings' validator requires them
        return cls(kafka.sasl_mechanism, kafka.sasl_username, kafka.sasl_password.get_secret_value())

    def jaas(self) -> str:
        return (f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{self.name}" '
                f'password="{self.password}";')


@dataclass(frozen=True)
class Listeners:
    """Where the broker listens (host:port each) and what it tells clients."""

    client: str
    advertised: str
    controller: str
    # A separate listener for the broker's own connections, where the advertised address is
    # not reachable from where the broker runs (a container behind a published port).
    internal: str | None = None

    @classmethod
    def local(cls, broker_port: int, controller_port: int) -> "Listeners":
        address = f"{LOOPBACK}:{broker_port}"
        return cls(client=address, advertised=address, controller=f"{LOOPBACK}:{controller_port}")


def server_properties(log_dir: Path | str, listeners: Listeners, partitions: int,
                      scram: ScramUser | None = None) -> str:
    # With a SCRAM user, clients authenticate on the broker's listener (SASL_PLAINTEXT); the
    # controller's listener stays internal (loopback, the broker itself is its only client).
    client = "SASL_PLAINTEXT" if scram else "PLAINTEXT"
    names = [client, "CONTROLLER"] + (["INTERNAL"] if listeners.internal else [])
    bound = [f"{client}://{listeners.client}", f"CONTROLLER://{listeners.controller}"]
    advertised = [f"{client}://{listeners.advertised}"]
    if listeners.internal:
        bound.append(f"INTERNAL://{listeners.internal}")
        advertised.append(f"INTERNAL://{listeners.internal}")
    protocols = {name: "PLAINTEXT" if name in ("CONTROLLER", "INTERNAL") else client for name in names}
    sasl = [
        f"sasl.enabled.mechanisms={scram.mechanism}",
        f"sasl.mechanism.inter.broker.protocol={scram.mechanism}",
        f"listener.name.sasl_plaintext.{scram.mechanism.lower()}.sasl.jaas.config={scram.jaas()}",
    ] if scram else []
    # A static quorum (controller.quorum.voters) rather than a dynamic one: the voter
    # endpoints are not stored in the metadata log, so the broker may come back on
    # other ports after a restart and keep its data.
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@{listeners.controller}",
        f"listeners={','.join(bound)}",
        f"advertised.listeners={','.join(advertised)}",
        "controller.listener.names=CONTROLLER",
        f"listener.security.protocol.map={','.join(f'{name}:{protocols[name]}' for name in names)}",
        f"inter.broker.listener.name={'INTERNAL' if listeners.internal else client}",
        *sasl,
        f"log.dirs={log_dir}",
        f"num.partitions={partitions}",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=3",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        # Consumer groups join at once instead of after the default 3 s pause.
        "group.initial.rebalance.delay.ms=0",
        # After a kill -9 the controller refuses the broker's new registration until the old
        # session expires (default 9 s): a restarted broker answered ~10 s late. One node on
        # loopback can heartbeat often and expire fast.
        "broker.heartbeat.interval.ms=500",
        "broker.session.timeout.ms=2500",
        "auto.create.topics.enable=false",
        "",
    ])


def jvm_flags(heap_mb: int) -> tuple[list[str], list[str]]:
    """(heap flags, the rest): a bounded footprint — fixed heap, serial GC and capped
    metaspace/code cache keep the broker's resident memory well under 600 MB on a laptop."""
    heap = [f"-Xms{heap_mb}m", f"-Xmx{heap_mb}m"]
    tuning = ["-XX:+UseSerialGC", "-XX:MaxMetaspaceSize=96m", "-XX:ReservedCodeCacheSize=64m", "-Xss512k",
              "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"]
    return heap, tuning


def log4j_config() -> Path:
    """Warnings and the startup lines, to stdout (the component's log)."""
    return Path(str(resources.files("mlgameday.stack.kafka") / "log4j2.properties"))
