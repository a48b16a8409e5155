"""The accounting soak: live traffic on a whole local stack with malformed and hostile events
mixed in, kill -9 of ingest, serving and the monitor and a broker restart at seeded random
moments; then `gameday audit` must account for every event on trips.* (applied, or
dead-lettered with a reason) — none unaccounted, none pending — and agree with ingest's totals.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone

import httpx
import psutil
import pytest
from kafka import KafkaProducer

from mlgameday.config import load_settings
from mlgameday.runtime.admin_key import admin_headers
from mlgameday.app import open_stack
from mlgameday.history import create_history
from mlgameday.trainer.train import train

pytestmark = pytest.mark.integration

SOAK_S = 75
RATE = 10  # trips/s: the density of the history the model trains on and of the live traffic
FAULTS = [("kill", "ingest"), ("kill", "serving"), ("kill", "monitor"), ("restart", "kafka")]


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, timezone.utc).isoformat().replace("+00:00", "Z")


def hostile_events(now: float) -> list[bytes]:
    """What an outside client might send: from the future, without an id, ~1 MB, not JSON."""
    def trip(**changes) -> bytes:
        event = {"event_id": uuid.uuid4().hex, "event_time": _iso(now), "schema_version": 1,
                 "trip_id": f"hostile-{uuid.uuid4().hex[:8]}", "pickup_zone": 161, "dropoff_zone": 236,
                 "trip_distance": 2.0, "passenger_count": 1, **changes}
        return json.dumps({k: v for k, v in event.items() if v is not None}).encode()

    return [trip(event_time=_iso(now + 365 * 86400)), trip(event_time=_iso(now + 3600)), trip(event_id=None),
            trip(event_id=None), trip(padding="x" * 900_000), b"\x00\xffnot json", b"[]"]


def gameday(run_dir, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GAMEDAY_RUN_DIR": str(run_dir)}
    env.pop("GAMEDAY_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "mlgameday", *args], env=env, capture_output=True, text=True,
                          timeout=180)


def test_after_a_soak_with_faults_the_audit_accounts_for_every_trip_event(tmp_path) -> None:
    run_dir = tmp_path / "run"
    base = dict(run_dir=run_dir, serving={"model": "fast"}, producer={"rate": RATE, "time_scale": 20})
    # A model first (serving starts only with one): a little history, the fast variant.
    settings = load_settings(**base, services=[])
    stack = open_stack(settings)
    stack.up()
    try:
        create_history(settings, 100, report=lambda _: None)  # the shortest history training takes
        train(settings, variants=("fast",))
        stack.down()
        settings = load_settings(**base, services=["ingest", "producer", "serving", "riders", "monitor"])
        stack = open_stack(settings)
        stack.up()

        producer_admin = stack.endpoint("producer", "http")
        knobs = httpx.post(f"{producer_admin}/faults", json={"malformed_share": 0.03, "null_share": 0.01},
                           headers=admin_headers(settings), timeout=5)
        assert knobs.status_code == 200, knobs.text  # the knobs answer only with the run folder's key
        rng = random.Random(13)
        at = sorted(rng.uniform(10, SOAK_S - 25) for _ in FAULTS)
        faults = rng.sample(FAULTS, len(FAULTS))
        started = time.monotonic()
        hostile_sent = False
        for (action, component), when in zip(faults, at):
            time.sleep(max(0.0, started + when - time.monotonic()))
            if not hostile_sent:
                _send(stack, hostile_events(time.time()))
                hostile_sent = True
            if action == "kill":
                stack.chaos("kill", component)
                time.sleep(rng.uniform(1, 4))
                stack.chaos("start", component)
            else:
                stack.chaos("restart", component)
        time.sleep(max(0.0, started + SOAK_S - time.monotonic()))
        stack.chaos("stop", "producer")  # the end of traffic: what is on the topics now is what must be accounted

        done = gameday(run_dir, "audit", "--json", "--wait", "90")
        status = gameday(run_dir, "status", "--json")
    finally:
        stack.down()
        time.sleep(2)
        left = processes_of(run_dir)
        for proc in left:  # never leak them, even when the check below fails
            proc.kill()

    assert not left, f"processes of the stack left after the kills and `down`: {[p.info for p in left]}"

    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    events = sum(report["events"].values())
    print(f"soak audit: {events} events, applied {report['applied']}, dead-lettered {report['dead_lettered']}, "
          f"predicted {report['predicted']} of {report['requests']} requests; reasons {report['reasons']}")
    assert events > 2 * RATE * SOAK_S + 20_000  # the history (~43k trips at 10/s) and the live traffic
    assert not report["unaccounted"] or not sum(report["unaccounted"].values()), report["examples"]
    assert not sum(report["pending"].values()), report["pending"]
    assert report["checks"] == []
    reasons = report["reasons"]
    assert reasons.get("event_time ahead of ingest's clock") == 2
    assert reasons.get("event_id: missing", 0) >= 2
    assert reasons.get("padding: unexpected field") == 1
    assert any(r.startswith("invalid JSON") for r in reasons) and sum(reasons.values()) > 50
    # The riders asked serving for the live requests throughout (the history's were never asked for;
    # requests in flight when serving was killed lose their prediction).
    assert report["predicted"] >= 0.5 * RATE * SOAK_S
    totals = json.loads(status.stdout)["ingest"]
    assert totals["dead_lettered"] == sum(report["dead_lettered"].values())


def processes_of(run_dir) -> list[psutil.Process]:
    """Every process started for this run folder (the stack gives each GAMEDAY_RUN_DIR)."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            if proc.environ().get("GAMEDAY_RUN_DIR") == str(run_dir.resolve()):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def _send(stack: Stack, values: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=stack.endpoint("kafka", "bootstrap"), acks="all",
                             max_request_size=2 * 2**20)
    try:
        for value in values:
            producer.send("trips.requested", key=b"161", value=value).get(timeout=30)
    finally:
        producer.close()
