"""Dead-letter counts agree wherever a user sees them: a real stack (broker, ingest and monitor processes)
is sent known bad events of three reasons among good ones; then, per consumer and reason, the letters on
the dlq topic == the consumer's Prometheus counter == the sum of its log's summary lines == what
`gameday dlq stats` prints == what was sent. A bad label is refused by both ingest and the monitor: two
letters (contracts.LETTERS_COUNTED)."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from mlgameday.contracts import DeadLetter, TripCompleted, TripRequested, reason_kind

from .helpers import component, gameday, read_all, status_json

pytestmark = pytest.mark.integration

# serving too: with no model trained it is skipped, and `status` says why (at 80 columns, below).
ENV = {"GAMEDAY_SERVICES": '["ingest", "monitor", "serving"]', "GAMEDAY_INGEST__LOG_INTERVAL_S": "1"}
BAD_JSON, WRONG_TYPE, MISSING = 7, 5, 4  # requests that are not JSON, requests with a text passenger_count, labels without trip_distance
GOOD = 30
SUMMARY = "dead-lettered events: "  # runtime/logs.RepeatedEvents' summary lines, "<what>: N in the last Ts"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Path]:
    run_dir = tmp_path / "run"
    started = gameday(run_dir, "up", env=ENV)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield run_dir
    finally:
        gameday(run_dir, "down", "--wipe", env=ENV)


def _events(now: datetime) -> dict[str, list[bytes]]:
    run = uuid.uuid4().hex[:6]
    stamp = now.isoformat()
    fields = dict(schema_version=1, pickup_zone=132, dropoff_zone=10, trip_distance=2.5, passenger_count=1)
    good_requests = [TripRequested(event_id=f"{run}-r{i}", event_time=now, trip_id=f"{run}-t{i}", **fields).to_bytes()
                     for i in range(GOOD)]
    good_labels = [TripCompleted(event_id=f"{run}-c{i}", event_time=now, trip_id=f"{run}-t{i}", pickup_time=now,
                                 duration_s=600, **fields).to_bytes() for i in range(GOOD)]
    not_json = [b'{"event_id": "%s-j%d", not json' % (run.encode(), i) for i in range(BAD_JSON)]
    wrong_type = [json.dumps({**fields, "event_id": f"{run}-w{i}", "event_time": stamp, "trip_id": f"{run}-w{i}",
                              "passenger_count": "many"}).encode() for i in range(WRONG_TYPE)]
    label = {k: v for k, v in fields.items() if k != "trip_distance"}
    missing = [json.dumps({**label, "event_id": f"{run}-m{i}", "event_time": stamp, "trip_id": f"{run}-m{i}",
                           "pickup_time": stamp, "duration_s": 600}).encode() for i in range(MISSING)]
    return {"trips.requested": good_requests + not_json + wrong_type, "trips.completed": good_labels + missing}


def _metric_by_reason(url: str, name: str) -> Counter:
    found: Counter = Counter()
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=5).text):
        for sample in family.samples:
            if sample.name == name:
                found[sample.labels["reason"]] += int(sample.value)
    return found


def _log_summaries(log: Path) -> Counter:
    """The summary lines' counts by reason kind (the kind of a line is "<topic>: <reason kind>")."""
    found: Counter = Counter()
    for line in log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and str(entry.get("msg", "")).startswith(SUMMARY) and "by_kind" in entry:
            for kind, count in entry["by_kind"].items():
                found[kind.split(": ", 1)[1]] += count
    return found


def _topic_by_reason(bootstrap: str) -> dict[str, Counter]:
    letters = [DeadLetter.model_validate_json(raw) for raw in read_all(bootstrap, "dlq", timeout_ms=3000)]
    found: dict[str, Counter] = {}
    for letter in {letter.event_id: letter for letter in letters}.values():
        found.setdefault(letter.consumer, Counter())[reason_kind(letter.reason)] += 1
    return found


def test_dead_letter_counts_agree_across_topic_metrics_logs_and_dlq_stats(stack: Path) -> None:
    status = status_json(stack)
    bootstrap = component(status, "kafka")["endpoints"]["bootstrap"]
    urls = {name: component(status, name)["endpoints"]["http"] for name in ("ingest", "monitor")}
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for topic, values in _events(datetime.now(timezone.utc)).items():
        for i, value in enumerate(values):
            producer.send(topic, key=str(132 + i % 3).encode(), value=value)
    producer.flush(timeout=30)
    producer.close()

    not_json = "invalid JSON: Invalid JSON: key must be a string"
    wrong_type = "passenger_count: Input should be a valid integer, unable to parse string as an i"
    missing = "trip_distance: missing"
    sent = {"ingest": Counter({not_json: BAD_JSON, wrong_type: WRONG_TYPE, missing: MISSING}),
            "monitor": Counter({missing: MISSING})}
    logs = {name: stack / "logs" / f"{name}.log" for name in ("ingest", "monitor")}
    metrics = {"ingest": "gameday_ingest_dead_letters_total", "monitor": "gameday_monitor_dead_letters_total"}

    # Poll until every count reached what was sent (the monitor summarises every 10 s), or the deadline.
    deadline = time.monotonic() + 90
    while True:
        topic = _topic_by_reason(bootstrap)
        seen = {name: {"topic": topic.get(name, Counter()), "metric": _metric_by_reason(urls[name], metrics[name]),
                       "log": _log_summaries(logs[name])} for name in sent}
        if all(count == sent[name] for name in sent for count in seen[name].values()) or time.monotonic() > deadline:
            break
        time.sleep(1)
    for name in sent:
        assert seen[name] == {"topic": sent[name], "metric": sent[name], "log": sent[name]}, name

    stats = gameday(stack, "dlq", "stats", "--json", env=ENV)
    assert stats.returncode == 0, stats.stderr
    printed = json.loads(stats.stdout)
    assert printed["by_consumer_reason"] == {name: dict(counts) for name, counts in sent.items()}
    assert printed["by_reason"] == dict(sent["ingest"] + sent["monitor"])
    assert printed["distinct"] == BAD_JSON + WRONG_TYPE + 2 * MISSING
    assert all(check["agrees"] for check in printed["agreement"]), printed["agreement"]
    assert "one letter per consumer" in printed["counted"]

    text = gameday(stack, "dlq", "stats", env=ENV)
    assert text.returncode == 0, text.stderr
    assert f"{BAD_JSON + WRONG_TYPE + 2 * MISSING} dead letters on the topic" in text.stdout
    table = {line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:-1]]
             for line in text.stdout.splitlines() if line.count("│") >= 4}
    columns = next(line for line in text.stdout.splitlines() if "reason" in line and "ingest" in line)
    ingest_first = columns.index("ingest") < columns.index("monitor")
    for reason, count in (sent["ingest"] + sent["monitor"]).items():
        row = table[reason]
        by_consumer = [str(sent["ingest"][reason]), str(sent["monitor"][reason])]
        assert row == (by_consumer if ingest_first else by_consumer[::-1]) + [str(count)], (reason, row)

    described = gameday(stack, "status", env={**ENV, "COLUMNS": "80"})
    lines = described.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), described.stdout
    text = " ".join(line.strip() for line in lines)  # the sentences under the table wrap at 80
    assert f"dead-lettered {BAD_JSON + WRONG_TYPE + MISSING}" in text
    assert f"monitor: dead-lettered {MISSING} since it started" in text
    assert "serving: skipped: no trained model yet" in text
