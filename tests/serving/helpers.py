"""Helpers of the serving tests: config files, the server process, reading the predictions topic."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import yaml
from kafka import KafkaConsumer

from mlgameday.config import Settings
from mlgameday.stack.component import StackContext
from mlgameday.stack.state import ComponentRecord, RunFolder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(path: Path, run_dir: Path, bootstrap: str, suffix: str, **serving: object) -> Path:
    """A gameday.yaml of the test's own: unique topics and consumer group on the shared broker."""
    config = {
        "run_dir": str(run_dir),
        "kafka": {"mode": "external", "bootstrap": bootstrap},
        "producer": {"requested_topic": f"req.{suffix}", "completed_topic": f"done.{suffix}"},
        "ingest": {"requested_topic": f"req.{suffix}", "completed_topic": f"done.{suffix}",
                   "dlq_topic": f"dlq.{suffix}", "group_id": f"ingest-{suffix}", "checkpoint_interval_s": 0.5},
        "serving": {"predictions_topic": f"pred.{suffix}", **serving},
    }
    path.write_text(yaml.safe_dump(config))
    return path


class Server:
    """`python -m mlgameday.serving` (→ bentoml serve) as the stack's ServingComponent launches it."""

    def __init__(self, settings: Settings, config_file: Path, bootstrap: str, log_path: Path) -> None:
        from mlgameday.serving.component import ServingComponent

        port = free_port()
        component = ServingComponent()
        run = RunFolder(settings.run_path)
        records = {"kafka": ComponentRecord("kafka", endpoints={"bootstrap": bootstrap})}
        ctx = StackContext(settings, run, records)
        component.prepare(ctx)
        spec = component.launch(ctx, {"http": port})
        assert spec is not None, "the component skipped serving: no model in the store"
        env = {**os.environ, **ctx.child_env(), **spec.env, "GAMEDAY_CONFIG": str(config_file)}
        self.url = component.endpoints(ctx, {"http": port})["http"]
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(spec.argv, env=env, cwd=spec.cwd, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.client = httpx.Client(base_url=self.url, timeout=30)
        self._wait_ready(timeout_s=90)

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serving exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"serving not ready after {timeout_s}s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        return self.log_path.read_bytes()[-4000:].decode(errors="replace")

    def metric(self, name: str, **labels: str) -> float:
        """Sum of a Prometheus sample (with these labels) on /metrics."""
        total = 0.0
        for line in self.client.get("/metrics").text.splitlines():
            if not line.startswith(name) or line.startswith("#"):
                continue
            head, _, value = line.rpartition(" ")
            metric, _, label_text = head.partition("{")
            if metric != name:
                continue
            if all(f'{k}="{v}"' in label_text for k, v in labels.items()):
                total += float(value)
        return total

    def stop(self) -> None:
        self.client.close()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=5)
        self._log.close()


def consume_predictions(bootstrap: str, topic: str, trip_ids: set[str], timeout_s: float = 20) -> list[dict]:
    """Every prediction event for these trips on the topic (read from the start), waiting up to timeout_s."""
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, group_id=None, consumer_timeout_ms=1000)
    found: list[dict] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            for record in consumer:
                event = json.loads(record.value)
                if event["trip_id"] in trip_ids:
                    found.append(event)
            if {e["trip_id"] for e in found} >= trip_ids:
                break
    finally:
        consumer.close()
    return found


def trip(trip_id: str, zone: int, **overrides: object) -> dict:
    body = {"trip_id": trip_id, "pickup_zone": zone, "dropoff_zone": 236, "trip_distance": 2.4,
            "passenger_count": 1, "request_time": "2026-01-05T08:30:00+00:00"}
    body.update(overrides)
    return body

