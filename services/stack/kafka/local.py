"""A real single-node KRaft Apache Kafka broker, run as a JVM process with a bounded heap."""

from __future__ import annotations

import base64
import subprocess
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ...config import KafkaSettings
from ...errors import StackError
from ...runtime.kafka import kafka_options
from ..component import Component, LaunchSpec, StackContext
from ..ports import LOOPBACK
from ..state import ComponentRecord
from .admin import broker_answers, ensure_topics
from .jars import JAVA_HINT, ensure_jars, require_tool


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


def server_properties(log_dir: Path, broker_port: int, controller_port: int, partitions: int,
                      scram: ScramUser | None = None) -> str:
    # A static quorum (controller.quorum.voters) rather than a dynamic one: the voter
    # endpoints are not stored in the metadata log, so the broker may come back on
    # other ports after a restart and keep its data.
    # With a SCRAM user, clients authenticate on the broker's listener (SASL_PLAINTEXT); the
    # controller's listener stays internal (loopback, the broker itself is its only client).
    listener = "SASL_PLAINTEXT" if scram else "PLAINTEXT"
    sasl = [
        f"sasl.enabled.mechanisms={scram.mechanism}",
        f"sasl.mechanism.inter.broker.protocol={scram.mechanism}",
        f"listener.name.sasl_plaintext.{scram.mechanism.lower()}.sasl.jaas.config={scram.jaas()}",
    ] if scram else []
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@{LOOPBACK}:{controller_port}",
        f"listeners={listener}://{LOOPBACK}:{broker_port},CONTROLLER://{LOOPBACK}:{controller_port}",
        f"advertised.listeners={listener}://{LOOPBACK}:{broker_port}",
        "controller.listener.names=CONTROLLER",
        f"listener.security.protocol.map={listener}:{listener},CONTROLLER:PLAINTEXT",
        f"inter.broker.listener.name={listener}",
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


class LocalKafka(Component):
    name = "kafka"
    port_names = ("broker", "controller")
    stop_timeout_s = 20.0

    def fixed_ports(self, ctx: StackContext) -> dict[str, int]:
        port = ctx.settings.kafka.port
        return {"broker": port} if port else {}

    def prepare(self, ctx: StackContext) -> None:
        require_tool("java", JAVA_HINT)
        self.libs = ensure_jars(ctx.settings.kafka.jar_cache, ctx.settings.kafka.version, ctx.report)

    def _paths(self, ctx: StackContext) -> tuple[Path, Path, Path]:
        home = ctx.run.data_of(self.name)
        return home, home / "server.properties", home / "log"

    def launch(self, ctx: StackContext, ports: dict[str, int]) -> LaunchSpec:
        home, props, log_dir = self._paths(ctx)
        log_dir.mkdir(parents=True, exist_ok=True)
        scram = ScramUser.of(ctx.settings.kafka)
        props.write_text(server_properties(log_dir, ports["broker"], ports["controller"],
                                           ctx.settings.kafka.partitions, scram))
        props.chmod(0o600)  # it holds the SCRAM password when there is one
        classpath = f"{self.libs}/*"
        # SCRAM users live in the metadata log: they are added when the storage is formatted.
        users_file = home / "scram-user"
        user = f"{scram.mechanism} {scram.name}" if scram else ""
        if not (log_dir / "meta.properties").exists():
            ctx.report(self.name, "formatting KRaft storage" + (f" with SASL user {scram.name}" if scram else ""))
            add_user = ["--add-scram", f"{scram.mechanism}=[name={scram.name},password={scram.password}]"] if scram else []
            result = subprocess.run(
                ["java", "-Xmx128m", "-cp", classpath, "kafka.tools.StorageTool", "format",
                 "-t", new_cluster_id(), "-c", str(props), "--ignore-formatted", *add_user],
                capture_output=True, text=True,
            )
            if result.returncode != 0:
                raise StackError(f"formatting Kafka storage in {log_dir} failed:\n{result.stdout}{result.stderr}")
            users_file.write_text(user)
        elif scram and (not users_file.exists() or users_file.read_text() != user):
            raise StackError(f"the broker's storage in {log_dir} was formatted without the SASL user {scram.name} "
                             f"({scram.mechanism}): SCRAM users are added when the storage is formatted",
                             hint="`gameday down --wipe` (deletes the topics' data) and start again, or keep "
                                  "kafka.security_protocol as the storage was formatted")
        log4j = resources.files("mlgameday.stack.kafka") / "log4j2.properties"
        heap = ctx.settings.kafka.heap_mb
        argv = [
            "java",
            # A bounded footprint: fixed heap, serial GC and capped metaspace/code cache
            # keep the broker's resident memory well under 600 MB on a laptop.
            f"-Xms{heap}m", f"-Xmx{heap}m", "-XX:+UseSerialGC",
            "-XX:MaxMetaspaceSize=96m", "-XX:ReservedCodeCacheSize=64m", "-Xss512k",
            "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}",
            "-cp", classpath, "kafka.Kafka", str(props),
        ]
        return LaunchSpec(argv=argv, cwd=home)

    def endpoints(self, ctx: StackContext, ports: dict[str, int]) -> dict[str, str]:
        return {"bootstrap": f"{LOOPBACK}:{ports['broker']}"}

    def is_ready(self, ctx: StackContext, record: ComponentRecord) -> bool:
        return broker_answers(record.endpoints["bootstrap"], **kafka_options(ctx.settings.kafka))

    def after_ready(self, ctx: StackContext, record: ComponentRecord) -> None:
        created = ensure_topics(record.endpoints["bootstrap"], ctx.settings.kafka.partitions, ctx.settings.topics.all(),
                                **kafka_options(ctx.settings.kafka))
        if created:
            ctx.report(self.name, f"created topics {', '.join(created)}")


class ExternalKafka(Component):
    """A cluster the user runs: nothing to start, only to check and to create topics on."""

    name = "kafka"

    def endpoints(self, ctx: StackContext, ports: dict[str, int]) -> dict[str, str]:
        return {"bootstrap": ctx.settings.kafka.bootstrap or ""}

    def is_ready(self, ctx: StackContext, record: ComponentRecord) -> bool:
        return broker_answers(record.endpoints["bootstrap"], **kafka_options(ctx.settings.kafka))

    def after_ready(self, ctx: StackContext, record: ComponentRecord) -> None:
        ensure_topics(record.endpoints["bootstrap"], ctx.settings.kafka.partitions, ctx.settings.topics.all(),
                      **kafka_options(ctx.settings.kafka))

    def data_paths(self, ctx: StackContext) -> list[Path]:
        return []  # never wipe somebody else's cluster
