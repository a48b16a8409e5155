"""`gameday up` to all-ready with jars cached, and the broker's resident memory (median of N).

Baseline, in the same run: the same Kafka jars started bare the way `kafka-server-start.sh`
does by default (1 GB heap, G1), timed until its admin API answers. Prints JSON lines.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from mlgameday.config import load_settings
from mlgameday.stack.kafka.admin import wait_until_answers
from mlgameday.stack.kafka.jars import ensure_jars
from mlgameday.stack.kafka.broker import Listeners, new_cluster_id, server_properties
from mlgameday.stack.ports import free_port
from mlgameday.app import open_stack


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def time_gameday_up(root: Path) -> tuple[float, float]:
    settings = load_settings(run_dir=root)
    stack = open_stack(settings)
    started = time.perf_counter()
    stack.up(settings)
    elapsed = time.perf_counter() - started
    time.sleep(2)  # let the broker settle before reading its memory
    rss = next(s.rss_mb for s in stack.status() if s.name == "kafka")
    stack.down(wipe=True)
    return elapsed, rss


def time_bare_broker(root: Path, libs: Path) -> tuple[float, float]:
    broker, controller = free_port(), free_port()
    props = root / "server.properties"
    props.write_text(server_properties(root / "log", Listeners.local(broker, controller), 3))
    subprocess.run(["java", "-cp", f"{libs}/*", "kafka.tools.StorageTool", "format", "-t", new_cluster_id(),
                    "-c", str(props)], check=True, capture_output=True)
    started = time.perf_counter()
    # kafka-server-start.sh's defaults: -Xmx1G -Xms1G with G1.
    proc = subprocess.Popen(["java", "-Xmx1G", "-Xms1G", "-XX:+UseG1GC", "-cp", f"{libs}/*", "kafka.Kafka", str(props)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_until_answers(f"127.0.0.1:{broker}", 60):
            raise RuntimeError("bare broker did not answer")
        elapsed = time.perf_counter() - started
        time.sleep(2)
        rss = psutil.Process(proc.pid).memory_info().rss / 2**20
    finally:
        proc.terminate()
        proc.wait(30)
    return elapsed, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 runs instead of 5")
    args = parser.parse_args()
    runs = 2 if args.quick else args.runs
    settings = load_settings()
    libs = ensure_jars(settings.kafka.jar_cache, settings.kafka.version, lambda c, m: print(m, file=sys.stderr))

    ours, bare = [], []
    for i in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-up-") as tmp:
            seconds, rss = time_gameday_up(Path(tmp) / "run")
            ours.append((seconds, rss))
            emit(bench="stack_startup", subject="gameday up", run=i, seconds=round(seconds, 2), broker_rss_mb=round(rss, 1))
        with tempfile.TemporaryDirectory(prefix="bench-bare-") as tmp:
            seconds, rss = time_bare_broker(Path(tmp), libs)
            bare.append((seconds, rss))
            emit(bench="stack_startup", subject="bare broker (stock 1G heap)", run=i, seconds=round(seconds, 2),
                 broker_rss_mb=round(rss, 1))

    up_s = statistics.median(s for s, _ in ours)
    up_rss = statistics.median(r for _, r in ours)
    bare_s = statistics.median(s for s, _ in bare)
    bare_rss = statistics.median(r for _, r in bare)
    emit(bench="stack_startup", summary=True, runs=runs,
         gameday_up_median_s=round(up_s, 2), broker_rss_median_mb=round(up_rss, 1),
         bare_broker_median_s=round(bare_s, 2), bare_broker_rss_median_mb=round(bare_rss, 1),
         time_ratio_vs_bare=round(up_s / bare_s, 2), rss_ratio_vs_bare=round(up_rss / bare_rss, 2),
         target_up_s=15, target_rss_mb=600,
         meets_target=up_s <= 15 and up_rss <= 600)


if __name__ == "__main__":
    main()
