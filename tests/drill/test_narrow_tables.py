"""Every table a candidate reads during a drill fits an 80-column terminal without cutting what it is read
for: on a real stack with a trained model, dead letters and a real drift alert, `status`, `model list`,
`features get`, `signals`, `dlq tail`, `alerts` and `monitor` run at COLUMNS=80; no line is longer than 80
characters and each key value (tag, port, address, time, alert kind, zone) appears whole on one line.
`--wide` prints what the narrow table leaves out."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from mlgameday.config import Settings
from mlgameday.stack.endpoints import kafka_bootstrap

pytestmark = pytest.mark.integration
CLOCK = re.compile(r"\b\d\d:\d\d:\d\d\b")


def gameday(run_dir: Path, *args: str, columns: int = 80) -> str:
    env = {**os.environ, "GAMEDAY_RUN_DIR": str(run_dir), "COLUMNS": str(columns)}
    env.pop("GAMEDAY_CONFIG", None)
    done = subprocess.run([sys.executable, "-m", "mlgameday", *args], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"gameday {' '.join(args)}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done.stdout


def as_json(run_dir: Path, *args: str) -> Any:
    return json.loads(gameday(run_dir, *args, "--json", columns=200))


def narrow(run_dir: Path, *args: str) -> list[str]:
    """The command's lines at 80 columns, none longer."""
    lines = gameday(run_dir, *args).splitlines()
    too_long = [line for line in lines if len(line) > 80]
    assert not too_long, f"gameday {' '.join(args)} at 80 columns:\n" + "\n".join(too_long)
    return lines


def assert_whole(lines: list[str], values: list[str], command: str) -> None:
    """Each value on one line, unbroken (a value folded over two lines is found on neither)."""
    missing = [v for v in values if not any(v in line for line in lines)]
    assert not missing, f"{command}: not whole at 80 columns: {missing}\n" + "\n".join(lines)


def clock(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone().strftime("%H:%M:%S")


@pytest.fixture(scope="module")
def busy_stack(drill_stack: Settings) -> Settings:
    """The drill stack with dead letters on its topic and a drift alert raised (then the fault recovered)."""
    run_dir = drill_stack.run_path
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap(drill_stack), acks="all")
    for i in range(5):
        producer.send(drill_stack.topics.trips_requested, value=b'{"event_id": "narrow-%d", not json' % i)
    producer.flush(timeout=30)
    producer.close()
    gameday(run_dir, "chaos", "inject", "shift_feature", "--param", "column=trip_distance", "--param", "multiply=3")
    try:
        deadline = time.monotonic() + 240
        while not as_json(run_dir, "alerts") and time.monotonic() < deadline:
            time.sleep(5)
    finally:
        gameday(run_dir, "chaos", "recover", "shift_feature")
    assert as_json(run_dir, "alerts"), "no alert within 4 minutes of a ×3 trip-distance shift"
    return drill_stack


def test_status_keeps_ports_pids_and_addresses_whole(busy_stack: Settings) -> None:
    run_dir = busy_stack.run_path
    components = as_json(run_dir, "status")["components"]
    values = [c["name"] for c in components]
    for c in components:
        values += [f"{k}={v}" for k, v in c["ports"].items()] + list(c["endpoints"].values())
        values += [str(c["pid"])] if c.get("pid") else []
    assert_whole(narrow(run_dir, "status"), values, "status")
    wide = gameday(run_dir, "status", "--wide").splitlines()
    assert any(line.count("MB") for line in wide), "status --wide shows the memory"


def test_model_list_keeps_tags_and_times_whole(busy_stack: Settings) -> None:
    run_dir = busy_stack.run_path
    models = as_json(run_dir, "model", "list")
    values = [m["tag"] for m in models] + [datetime.fromisoformat(m["created"]).strftime("%m-%d %H:%M") for m in models]
    values += [m["role"] for m in models if m["role"]]
    assert_whole(narrow(run_dir, "model", "list"), values, "model list")
    assert_whole(gameday(run_dir, "model", "list", "--wide").splitlines(), [models[0]["feature_service"]],
                 "model list --wide")


def test_features_get_keeps_zones_and_times_whole(busy_stack: Settings) -> None:
    run_dir = busy_stack.run_path
    lines = narrow(run_dir, "features", "get", "--zone", "132", "--zone", "4")
    for zone in (132, 4):  # live features: the time and age move between two calls, their form does not
        row = next(line for line in lines if re.match(rf"│ {zone}\s", line))
        assert (CLOCK.search(row) and re.search(r"│ \d+\.\d s\s+│", row)) or "no row" in row, row
    wide = gameday(run_dir, "features", "get", "--zone", "132", "--wide").splitlines()
    assert any(re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", line) for line in wide), wide


def test_signals_keeps_names_and_times_whole(busy_stack: Settings) -> None:
    run_dir = busy_stack.run_path
    names = [row["name"] for row in as_json(run_dir, "signals")["signals"]]
    lines = narrow(run_dir, "signals")
    for name in names:
        row = next((line for line in lines if line.startswith(f"│ {name} ")), None)
        assert row is not None, f"signal {name} not whole at 80 columns:\n" + "\n".join(lines)
        assert CLOCK.search(row) or " - " in row, row
    assert any("meaning" in line for line in gameday(run_dir, "signals", "--wide").splitlines())


def test_dlq_tail_keeps_times_consumers_and_topics_whole(busy_stack: Settings) -> None:
    run_dir = busy_stack.run_path
    letters = as_json(run_dir, "dlq", "tail", "-n", "5")
    assert letters
    values = [v for letter in letters for v in (clock(letter["event_time"]), letter["consumer"], letter["source_topic"])]
    assert_whole(narrow(run_dir, "dlq", "tail", "-n", "5"), values, "dlq tail")
    where = [f"{letter['source_topic']}[{letter['partition']}]@{letter['offset']}" for letter in letters]
    assert_whole(gameday(run_dir, "dlq", "tail", "-n", "5", "--wide").splitlines(), where, "dlq tail --wide")


def test_alerts_keep_times_kinds_and_columns_whole(busy_stack: Settings) -> None:
    run_dir = busy_stack.run_path
    found = as_json(run_dir, "alerts")
    values = [v for a in found for v in (clock(a["event_time"]), a["kind"], a.get("column") or "-")]
    assert_whole(narrow(run_dir, "alerts"), values, "alerts")
    messages = [a["message"][:20] for a in found if a.get("message")]
    assert_whole(gameday(run_dir, "alerts", "--wide").splitlines(), messages, "alerts --wide")


def test_monitor_keeps_times_and_alert_names_whole(busy_stack: Settings) -> None:
    run_dir = busy_stack.run_path
    windows = as_json(run_dir, "monitor", "--last", "60")["windows"]
    values = [clock(w["judged_at"]) for w in windows] + [name for w in windows for name in w["alerts"]]
    assert any(w["alerts"] for w in windows), "the drift alert's window is among the last 60"
    assert_whole(narrow(run_dir, "monitor", "--last", "60"), values, "monitor")
