"""A real single-node KRaft Apache Kafka broker, run as a JVM process with a bounded heap."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ...errors import StackError
from ...runtime.kafka import kafka_options
from ..component import Component, LaunchSpec, StackContext
from ..ports import LOOPBACK
from ..state import ComponentRecord
from .admin import broker_answers, ensure_topics
from .broker import Listeners, ScramUser, jvm_flags, log4j_config, new_cluster_id, server_properties
from .jars import JAVA_HINT, ensure_jars, require_tool


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
        props.write_text(server_properties(log_dir, Listeners.local(ports["broker"], ports["controller"]),
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
        heap, tuning = jvm_flags(ctx.settings.kafka.heap_mb)
        argv = ["java", *heap, *tuning, f"-Dlog4j2.configurationFile={log4j_config()}",
                "-cp", classpath, "kafka.Kafka", str(props)]
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
