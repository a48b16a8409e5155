"""Ingest throughput (Kafka → online store, one process) and feature freshness at a fixed rate.

For each online store (SQLite, Redis):
  throughput   a pre-filled backlog of trip events drained by one in-process ingest: events/s
  baseline     the naive pipeline on the same backlog: one Feast online write per event
               (same parsing and windows), events/s, and the ratio ingest / baseline
  freshness    a load process (load.py) sends a live stream at 5,000 events/s (requests + labels)
               and reports the rate it achieved; per written event, online write time - event
               time: p50 / p99
Targets: >= 20,000 events/s sustained; freshness p99 <= 1 s at 5,000 events/s.
Prints JSON lines. `--quick` runs a small backlog and a short freshness window.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# Before prometheus_client is imported (by feast or us): keep metric values in memory, as the
# ingest service does (see services/ingest/__main__.py), not in feast's multiprocess files.
for _name in ("PROMETHEUS_MULTIPROCESS_DIR", "PROMETHEUS_MULTIPROC_DIR"):
    os.environ.pop(_name, None)
import prometheus_client  # noqa: E402,F401  (first, as in the service: feast's import would switch it to files)

import numpy as np  # noqa: E402
import redis as redis_client  # noqa: E402

from mlgameday.config import load_settings  # noqa: E402
from mlgameday.contracts import TripCompleted, TripRequested
from mlgameday.features.online import push_online, rows_frame
from mlgameday.features.store import open_store
from mlgameday.ingest.gc_policy import relax_gc
from mlgameday.ingest.pipeline import IngestPipeline
from mlgameday.ingest.windows import ZoneWindows, speed_micro_mph
from mlgameday.producer.run import ProduceOptions, produce
from mlgameday.stack.kafka.admin import ensure_topics
from mlgameday.stack.kafka.local import LocalKafka
from mlgameday.stack.supervisor import Stack


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_for(root: Path, bootstrap: str, tag: str, store: str, redis_url: str | None):
    topics = {"trips_requested": f"bench.{tag}.req", "trips_completed": f"bench.{tag}.done", "dlq": f"bench.{tag}.dlq"}
    ensure_topics(bootstrap, 3, tuple(topics.values()))
    return load_settings(run_dir=root / tag, kafka={"mode": "external", "bootstrap": bootstrap},
                         online_store=store, redis={"url": redis_url}, topics=topics,
                         ingest={"group_id": f"bench-{tag}", "checkpoint_interval_s": 2.0})


def drain(settings, total: int, timeout_s: float = 300) -> tuple[float, float]:
    """Drain the backlog with one pipeline: (events/s, ingest CPU seconds per 10k events)."""
    pipeline = IngestPipeline(settings).start()
    consumed = received = 0
    started = cpu_started = None
    deadline = time.monotonic() + timeout_s
    while consumed < total and time.monotonic() < deadline:
        result = pipeline.poll_once()
        if result:
            consumed += result.received
            if started is None:  # timed from the first batch on: joining the group is not throughput
                started, cpu_started = time.perf_counter(), time.process_time()
            else:
                received += result.received
    elapsed = time.perf_counter() - (started or time.perf_counter())
    cpu = time.process_time() - (cpu_started or time.process_time())
    pipeline.close()
    return (received / elapsed if elapsed else float("nan")), (cpu / received * 10_000 if received else float("nan"))


def naive(settings, limit: int, timeout_s: float = 300) -> float:
    """One Feast write per event: the same parsing and windows, no per-batch aggregation."""
    from kafka import KafkaConsumer

    cfg = settings.ingest
    store = open_store(settings)
    consumer = KafkaConsumer(settings.topics.trips_requested, settings.topics.trips_completed, bootstrap_servers=settings.kafka.bootstrap,
                             group_id=f"{cfg.group_id}-naive", auto_offset_reset="earliest", enable_auto_commit=False)
    windows = ZoneWindows()
    done = 0
    started = time.perf_counter()
    deadline = time.monotonic() + timeout_s
    try:
        while done < limit and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=200, max_records=500).items():
                model = TripRequested if tp.topic == settings.topics.trips_requested else TripCompleted
                for record in records:
                    if done >= limit:
                        break
                    event = model.model_validate_json(record.value)
                    window = windows.zone(event.pickup_zone)
                    t = event.event_time.timestamp()
                    if model is TripRequested:
                        window.add_request(t)
                    else:
                        window.add_completion(t, speed_micro_mph(event.trip_distance, event.duration_s))
                    now = time.time()
                    push_online(store, rows_frame([(event.pickup_zone, *window.features(),
                                                    _utc(window.clock), _utc(now))]))
                    done += 1
    finally:
        consumer.close()
    return done / (time.perf_counter() - started)


def _utc(seconds: float):
    from datetime import datetime, timezone

    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def freshness(settings, seconds: float, events_per_s: float) -> dict:
    """A load process (bench/ingest/load.py) at events_per_s (half requests, half labels once warm);
    ingest in this process. Per written event: online write time - event time."""
    samples: list[np.ndarray] = []

    def on_batch(result) -> None:
        samples.append(result.freshness_s)

    pipeline = IngestPipeline(settings, on_batch=on_batch).start()
    # Warm up: join the group before the stream starts.
    deadline = time.monotonic() + 30
    while not pipeline.ready and time.monotonic() < deadline:
        pipeline.poll_once()
    pipeline.poll_once()
    load = subprocess.Popen([sys.executable, str(Path(__file__).with_name("load.py")), "--bootstrap", settings.kafka.bootstrap,
                             "--requested", settings.topics.trips_requested, "--completed", settings.topics.trips_completed,
                             "--rate", str(events_per_s), "--seconds", str(seconds)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    started = time.monotonic()
    samples.clear()
    cpu_started = time.process_time()
    while load.poll() is None and time.monotonic() - started < seconds + 90:
        pipeline.poll_once()
    for _ in range(20):
        pipeline.poll_once()
    cpu = time.process_time() - cpu_started
    pipeline.close()
    if load.poll() is None:
        load.kill()
    out, err = load.communicate(timeout=10)
    sent = json.loads(out) if out.strip().startswith(b"{") else {"error": err.decode()[-500:]}
    values = np.concatenate(samples) if samples else np.empty(0)
    return {"load": sent, "achieved_events_per_s": sent.get("events_per_s"), "written_events": int(len(values)),
            "ingest_cpu_share": round(cpu / (time.monotonic() - started), 2),
            "p50_s": round(float(np.percentile(values, 50)), 4) if len(values) else None,
            "p99_s": round(float(np.percentile(values, 99)), 4) if len(values) else None,
            "max_s": round(float(values.max()), 4) if len(values) else None}


def start_redis(root: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(root)], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        try:
            if redis_client.Redis.from_url(url).ping():
                break
        except redis_client.RedisError:
            time.sleep(0.05)
    return proc, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small backlog, short freshness window")
    parser.add_argument("--bootstrap", help="use this broker instead of starting one")
    parser.add_argument("--stores", default="sqlite,redis")
    args = parser.parse_args()
    relax_gc()  # as the ingest service does (its __main__)
    # A backlog of 6 h of history at 4.6 trips/s (0.7/s --quick): ~100k trips, 200k events, then the label hour.
    history_rate = 0.7 if args.quick else 4.63
    naive_events = 1_000 if args.quick else 3_000
    fresh_s = 10 if args.quick else 30

    root = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    stack = None
    redis_proc = None
    try:
        bootstrap = args.bootstrap
        if not bootstrap:
            stack = Stack(load_settings(run_dir=root / "kafka"), components=[LocalKafka()])
            stack.up()
            bootstrap = stack.endpoint("kafka", "bootstrap")
        for store in args.stores.split(","):
            redis_url = None
            if store == "redis":
                redis_proc, redis_url = start_redis(root)
            settings = settings_for(root, bootstrap, f"{store}-tp", store, redis_url)
            report = produce(settings, ProduceOptions(history_s=7 * 3600, rate=history_rate, seed=1))
            rate, cpu_per_10k = drain(settings, report.events)
            base = naive(settings, naive_events)
            emit(bench="ingest_throughput", store=store, backlog_events=report.events,
                 events_per_s=round(rate, 1), cpu_s_per_10k_events=round(cpu_per_10k, 3), baseline="one Feast write per event", baseline_events_per_s=round(base, 1),
                 ratio=round(rate / base, 1), target_events_per_s=20_000)
            fresh = freshness(settings_for(root, bootstrap, f"{store}-fresh", store, redis_url), fresh_s, 5_000)
            emit(bench="feature_freshness", store=store, target_events_per_s=5_000, target_p99_s=1.0, **fresh)
            if redis_proc:
                redis_proc.terminate()
                redis_proc.wait(10)
                redis_proc = None
    finally:
        if redis_proc:
            redis_proc.terminate()
        if stack:
            stack.down()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
