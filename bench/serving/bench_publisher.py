"""Prediction publishing benchmark: serving's publisher vs the kafka-python path it replaced.

Self-contained: starts a Kafka broker of its own. Hands the same prediction rows (1000-row
batches, as /predict_batch makes them) to
- project: serving/publisher.py's PredictionPublisher (its publishing process: events written
  with msgspec, sent with librdkafka), as fast as it takes them;
- baseline: what the publishing process did before — one pydantic contracts.Prediction per
  row, sent with kafka-python (acks=1, linger 20 ms) — in a process of its own;
and reports rows/s until every row is acknowledged by the broker, the publishing process's
CPU µs per row (the figure that does not move with the machine's other load), and drops.
At ~50,000 rows/s of batch traffic (bench/serving) the baseline would need more than a core.

    .venv/bin/python bench/serving/bench_publisher.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import psutil

BATCH = 1000


def emit(**fields: object) -> None:
    print(json.dumps({"bench": "publisher", **fields, "load_avg_1m": round(os.getloadavg()[0], 2)}), flush=True)


def make_batches(n_rows: int, prefix: str) -> list:
    from mlgameday.contracts import MODEL_FEATURES
    from mlgameday.serving.publisher import PredictionBatch

    rng = np.random.default_rng(7)
    now = datetime.now(timezone.utc)
    batches = []
    for j in range(n_rows // BATCH):
        zones = rng.integers(1, 264, BATCH).tolist()
        batches.append(PredictionBatch(
            trip_ids=[f"{prefix}-{j}-{i}" for i in range(BATCH)], pickup_zones=zones, model_tag="triptime:bench",
            role="live", features=rng.uniform(0.5, 30, (BATCH, len(MODEL_FEATURES))),
            predictions=rng.uniform(60, 3000, BATCH).tolist(), latency_ms=3.2, event_time=now,
            zone_freshness={z: (4.2, False, []) for z in set(zones)}))
    return batches


def run_project(bootstrap: str, topic: str, n_rows: int) -> dict:
    from mlgameday.serving.publisher import PredictionPublisher

    drops: dict[str, int] = {}
    publisher = PredictionPublisher(bootstrap, topic, capacity=n_rows,
                                    on_drop=lambda reason, n: drops.__setitem__(reason, drops.get(reason, 0) + n),
                                    on_sent=lambda n: None).start()
    batches = make_batches(n_rows, "project")
    time.sleep(2)  # the publishing process has started and connected
    child = psutil.Process(publisher._process.pid)
    cpu_before = sum(child.cpu_times()[:2])
    started = time.perf_counter()
    for batch in batches:
        publisher.publish(batch)
    while publisher.sent + publisher.dropped < n_rows and time.perf_counter() - started < 600:
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    cpu_s = sum(child.cpu_times()[:2]) - cpu_before
    publisher.stop()
    return {"rows": n_rows, "published": publisher.sent, "dropped": drops, "seconds": round(seconds, 2),
            "rows_per_s": round(publisher.sent / seconds), "cpu_us_per_row": round(cpu_s / n_rows * 1e6, 2)}


def _baseline_process(bootstrap: str, topic: str, n_rows: int, out) -> None:
    from kafka import KafkaProducer

    from mlgameday.contracts import MODEL_FEATURES, Prediction

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=20, client_id="bench-baseline")
    batches = make_batches(n_rows, "baseline")
    acked, failed = [0], [0]
    cpu_before, started = time.process_time(), time.perf_counter()
    for batch in batches:
        for i, row in enumerate(batch.features.tolist()):
            zone = batch.pickup_zones[i]
            age, stale, missing = batch.zone_freshness[zone]
            event = Prediction(event_time=batch.event_time, trip_id=batch.trip_ids[i], pickup_zone=zone,
                               model_tag=batch.model_tag, role=batch.role, features=dict(zip(MODEL_FEATURES, row)),
                               prediction_s=batch.predictions[i], latency_ms=batch.latency_ms,
                               feature_age_s=age, stale=stale, missing=missing)
            future = producer.send(topic, key=event.trip_id.encode(), value=event.to_bytes())
            future.add_callback(lambda _m: acked.__setitem__(0, acked[0] + 1))
            future.add_errback(lambda _e: failed.__setitem__(0, failed[0] + 1))
    producer.flush(timeout=600)
    seconds = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_before
    producer.close()
    out.send({"rows": n_rows, "published": acked[0], "dropped": {"kafka_error": failed[0]} if failed[0] else {},
              "seconds": round(seconds, 2), "rows_per_s": round(acked[0] / seconds),
              "cpu_us_per_row": round(cpu_s / n_rows * 1e6, 2)})


def run_baseline(bootstrap: str, topic: str, n_rows: int) -> dict:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_baseline_process, args=(bootstrap, topic, n_rows, send))
    process.start()
    result = receive.recv()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="prediction publishing: librdkafka publisher vs kafka-python")
    parser.add_argument("--quick", action="store_true", help="50,000 rows instead of 200,000")
    args = parser.parse_args()
    from kafka.admin import NewTopic

    from mlgameday.config import load_settings
    from mlgameday.stack.kafka.admin import admin_client
    from mlgameday.stack.kafka.local import LocalKafka
    from mlgameday.stack.supervisor import Stack

    n_rows = 50_000 if args.quick else 200_000
    root = Path(tempfile.mkdtemp(prefix="bench-publisher-"))
    broker = Stack(load_settings(run_dir=root / "kafka"), components=[LocalKafka()])
    broker.up()
    try:
        bootstrap = broker.endpoint("kafka", "bootstrap")
        topics = {name: f"pred-{name}.{uuid.uuid4().hex[:6]}" for name in ("project", "baseline")}
        client = admin_client(bootstrap)
        try:
            client.create_topics([NewTopic(topic, 3, 1) for topic in topics.values()])
        finally:
            client.close()
        project = run_project(bootstrap, topics["project"], n_rows)
        emit(target="publisher (msgspec + librdkafka)", **project)
        baseline = run_baseline(bootstrap, topics["baseline"], n_rows)
        emit(target="baseline (pydantic + kafka-python)", **baseline)
        emit(test="summary", project=project, baseline=baseline,
             ratio_rows_per_s=round(project["rows_per_s"] / baseline["rows_per_s"], 2),
             ratio_cpu_per_row=round(project["cpu_us_per_row"] / baseline["cpu_us_per_row"], 3),
             machine={"cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)})
    finally:
        broker.down()


if __name__ == "__main__":
    sys.exit(main())
