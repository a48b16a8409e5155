"""The images as they run: the suite's broker is a container of mlgameday-kafka, the app image
runs the project's code as the chart's user, the Kafka image has the chart's scripts, and an
unchanged image is not rebuilt."""

from __future__ import annotations

import json
import subprocess

import pytest

from mlgameday.config import load_settings
from mlgameday.containers.images import catalogue
from mlgameday.images.build import Builder

from ..conftest import announce

pytestmark = [pytest.mark.integration, pytest.mark.containers]


def images():
    return catalogue(load_settings())


def run(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", "run", "--rm", *argv], capture_output=True, text=True, timeout=timeout)


def test_the_suites_broker_is_a_container_of_the_kafka_image(kafka_bootstrap: str, engine, request) -> None:
    port = kafka_bootstrap.rsplit(":", 1)[1]
    publishing = [c for c in engine.containers.list()
                  if any(b["HostPort"] == port for b in (c.ports.get("9092/tcp") or []))]
    assert len(publishing) == 1, f"no container publishes the broker's port {port}"
    broker = publishing[0]
    announce(request, f"the broker at {kafka_bootstrap} is container {broker.id} ({broker.image.tags})")
    assert broker.status == "running"
    assert images()["kafka"].ref in broker.image.tags
    assert broker.ports["9092/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": port}]
    # The JVM inside is the broker (kafka.Kafka), not a stand-in.
    top = broker.top()  # ps -ef inside
    assert any("kafka.Kafka" in " ".join(proc) for proc in top["Processes"]), top


def test_the_app_image_runs_the_projects_code_as_the_charts_user() -> None:
    probe = ("import json, os, sys, feast, bentoml, evidently, lightgbm, mlgameday.serving.service; "
             "from importlib.metadata import version; "
             "print(json.dumps({'python': sys.version.split()[0], 'uid': os.getuid(), "
             "'mlgameday': version('mlgameday'), 'feast': version('feast')}))")
    done = run("--entrypoint", "python", images()["app"].ref, "-c", probe)
    assert done.returncode == 0, done.stderr[-3000:]
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    from importlib.metadata import version

    assert facts["python"].startswith("3.11.")
    assert facts["uid"] == 10001  # the chart's runAsUser
    assert facts["mlgameday"] == version("mlgameday") and facts["feast"] == version("feast")


def test_the_app_images_entry_point_names_the_services() -> None:
    done = run(images()["app"].ref)
    assert done.returncode == 2
    assert "producer|ingest|serving|riders|monitor|trainer" in done.stderr


def test_the_kafka_image_has_the_charts_topic_script_and_user(kafka_bootstrap: str) -> None:
    # The chart's topics Job runs /opt/kafka/bin/kafka-topics.sh; here against the suite's broker
    # (host network: the published port is on the host's loopback).
    done = run("--network", "host", images()["kafka"].ref,
               "/opt/kafka/bin/kafka-topics.sh", "--bootstrap-server", kafka_bootstrap, "--list")
    assert done.returncode == 0, done.stderr[-3000:]
    assert {"trips.requested", "trips.completed", "predictions", "alerts", "dlq"} <= set(done.stdout.split())
    assert run(images()["kafka"].ref, "id", "-u").stdout.strip() == "1000"  # the chart's runAsUser


def test_an_unchanged_image_is_not_rebuilt() -> None:
    lines: list[str] = []
    settings = load_settings()
    first = {b.image.key: b for b in Builder(settings, lines.append).build(["redis"])}
    again = {b.image.key: b for b in Builder(settings, lines.append).build(["redis"])}
    assert list(again) == ["base", "redis"]
    assert all(b.cached for b in again.values()), lines
    assert {k: b.image_id for k, b in again.items()} == {k: b.image_id for k, b in first.items()}
