"""Small helpers for the stack tests: run the real `gameday` CLI, read and write a topic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
from kafka import KafkaConsumer, KafkaProducer


def gameday(run_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the installed command in a subprocess, as a user would."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GAMEDAY_")}
    # The stack tests are about the infrastructure and the supervisor; the services get
    # their own tests (and the drills run them all together).
    full_env.update({"GAMEDAY_RUN_DIR": str(run_dir), "GAMEDAY_SERVICES": "[]", "COLUMNS": "200", **(env or {})})
    return subprocess.run([sys.executable, "-m", "mlgameday", *args], capture_output=True,
                          text=True, env=full_env, timeout=180)


def status_json(run_dir: Path) -> dict:
    result = gameday(run_dir, "status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def component(status: dict, name: str) -> dict:
    return next(c for c in status["components"] if c["name"] == name)


def processes_using(run_dir: Path) -> list[psutil.Process]:
    """Every live process whose command line mentions the run folder (our broker's config does)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and str(run_dir) in " ".join(proc.info["cmdline"] or []):
                found.append(proc)
        except psutil.NoSuchProcess:
            continue
    return found


def write_events(bootstrap: str, topic: str, count: int) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for i in range(count):
        producer.send(topic, key=str(i % 7).encode(), value=f"event-{i}".encode())
    producer.flush(timeout=30)
    producer.close()


def read_all(bootstrap: str, topic: str, expected: int | None = None, timeout_ms: int = 8000) -> list[str]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=timeout_ms)
    partitions = consumer.partitions_for_topic(topic) or set()
    if not partitions:
        consumer.close()
        return []
    from kafka import TopicPartition

    consumer.assign([TopicPartition(topic, p) for p in partitions])
    consumer.seek_to_beginning()
    values = []
    for message in consumer:
        values.append(message.value.decode())
        if expected is not None and len(values) >= expected:
            break
    consumer.close()
    return values
