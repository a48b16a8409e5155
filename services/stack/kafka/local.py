"""A real single-node KRaft Apache Kafka broker, run as a JVM process with a bounded heap."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ...errors import StackError
from ..component import Component, LaunchSpec, StackContext
from ..ports import LOOPBACK
from ..state import ComponentRecord
from .admin import broker_answers, ensure_topics
from .broker import Listeners, jvm_flags, log4j_config, new_cluster_id, server_properties
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
        props.write_text(server_properties(log_dir, Listeners.local(ports["broker"], ports["controller"]),
                                           ctx.settings.kafka.partitions))
        classpath = f"{self.libs}/*"
        if not (log_dir / "meta.properties").exists():
            ctx.report(self.name, "formatting KRaft storage")
            result = subprocess.run(
                ["java", "-Xmx128m", "-cp", classpath, "kafka.tools.StorageTool", "format",
                 "-t", new_cluster_id(), "-c", str(props), "--ignore-formatted"],
                capture_output=True, text=True,
            )
            if result.returncode != 0:
                raise StackError(f"formatting Kafka storage in {log_dir} failed:\n{result.stdout}{result.stderr}")
        heap, tuning = jvm_flags(ctx.settings.kafka.heap_mb)
        argv = ["java", *heap, *tuning, f"-Dlog4j2.configurationFile={log4j_config()}",
                "-cp", classpath, "kafka.Kafka", str(props)]
        return LaunchSpec(argv=argv, cwd=home)

    def endpoints(self, ctx: StackContext, ports: dict[str, int]) -> dict[str, str]:
        return {"bootstrap": f"{LOOPBACK}:{ports['broker']}"}

    def is_ready(self, ctx: StackContext, record: ComponentRecord) -> bool:
        return broker_answers(record.endpoints["bootstrap"])

    def after_ready(self, ctx: StackContext, record: ComponentRecord) -> None:
        created = ensure_topics(record.endpoints["bootstrap"], ctx.settings.kafka.partitions)
        if created:
            ctx.report(self.name, f"created topics {', '.join(created)}")


class ExternalKafka(Component):
    """A cluster the user runs: nothing to start, only to check and to create topics on."""

    name = "kafka"

    def endpoints(self, ctx: StackContext, ports: dict[str, int]) -> dict[str, str]:
        return {"bootstrap": ctx.settings.kafka.bootstrap or ""}

    def is_ready(self, ctx: StackContext, record: ComponentRecord) -> bool:
        return broker_answers(record.endpoints["bootstrap"])

    def after_ready(self, ctx: StackContext, record: ComponentRecord) -> None:
        ensure_topics(record.endpoints["bootstrap"], ctx.settings.kafka.partitions)

    def data_paths(self, ctx: StackContext) -> list[Path]:
        return []  # never wipe somebody else's cluster
