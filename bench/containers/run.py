"""The containers lane's figures: image builds (cached, and with --cold from scratch) and the
broker's time to ready in a container vs the local JVM broker (the baseline), in the same run.

Broker: N rounds, each a fresh run folder (storage formatted on first start, like a first
`gameday up`), timed from `up` until the admin API answers and the topics exist; then the
broker's memory (RSS of the JVM / the container's memory as `docker stats` shows it).
Prints JSON lines, then a summary with the ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from mlgameday.config import load_settings
from mlgameday.images.build import Builder
from mlgameday.stack.kafka.container import ContainerKafka
from mlgameday.stack.kafka.local import LocalKafka
from mlgameday.stack.supervisor import Stack


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def time_broker_up(root: Path, mode: str) -> tuple[float, float | None]:
    settings = load_settings(run_dir=root, kafka={"mode": mode})
    stack = Stack(settings, components=[ContainerKafka() if mode == "testcontainers" else LocalKafka()])
    started = time.perf_counter()
    stack.up()
    elapsed = time.perf_counter() - started
    try:
        time.sleep(2)  # let the broker settle before reading its memory
        rss = next(s.rss_mb for s in stack.status() if s.name == "kafka")
    finally:
        stack.down(wipe=True)
    return elapsed, rss


def builds(cold: bool) -> None:
    settings = load_settings()
    for label, kwargs in ([("cold", {"force": True, "nocache": True})] if cold else []) + [("cached", {})]:
        started = time.perf_counter()
        results = Builder(settings, lambda line: None).build(**kwargs)
        total = time.perf_counter() - started
        for r in results:
            emit(kind="image", build=label, image=r.image.key, ref=r.ref, size_mb=round(r.size_bytes / 1e6),
                 seconds=round(r.seconds, 1), cached=r.cached)
        emit(kind="build", build=label, seconds=round(total, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 rounds")
    parser.add_argument("--cold", action="store_true",
                        help="also rebuild every image from scratch first (no layer cache; minutes)")
    args = parser.parse_args()
    rounds = 2 if args.quick else args.rounds
    builds(args.cold)
    times: dict[str, list[float]] = {"local": [], "testcontainers": []}
    memory: dict[str, list[float]] = {"local": [], "testcontainers": []}
    with tempfile.TemporaryDirectory(prefix="bench-containers-") as tmp:
        for i in range(rounds):
            # Alternate, so a busy moment of the machine falls on both.
            for mode in ("local", "testcontainers"):
                seconds, rss = time_broker_up(Path(tmp) / f"{mode}-{i}", mode)
                times[mode].append(seconds)
                if rss:
                    memory[mode].append(rss)
                emit(kind="broker_up", mode=mode, round=i, seconds=round(seconds, 2), memory_mb=rss)
    local, container = statistics.median(times["local"]), statistics.median(times["testcontainers"])
    emit(kind="summary", rounds=rounds,
         broker_ready_s={"container": round(container, 2), "local_jvm": round(local, 2),
                         "ratio": round(container / local, 2)},
         broker_memory_mb={"container": round(statistics.median(memory["testcontainers"])),
                           "local_jvm": round(statistics.median(memory["local"]))})


if __name__ == "__main__":
    main()
