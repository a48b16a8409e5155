"""`gameday features get --zone Z` from a fresh process: answered by serving's open store (the project)
against opening a Feast store in the command (the baseline: what the command did before, and still
does with --store or when serving is down). Median of N alternated rounds; JSON lines, then the ratio.

Needs a running stack with a model (`gameday up` after `gameday train`, or a drill's stack) in the run
folder (GAMEDAY_RUN_DIR or ./.gameday).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def timed(*extra: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "mlgameday", "features", "get", "--zone", "132", "--json", *extra],
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"gameday features get {' '.join(extra)} failed: {done.stderr[-1000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="3 rounds")
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    project, baseline = [], []
    for i in range(rounds):
        project.append(timed())
        baseline.append(timed("--store"))
        emit(round=i, serving_s=round(project[-1], 3), store_s=round(baseline[-1], 3))
    p, b = statistics.median(project), statistics.median(baseline)
    emit(summary="features get", serving_median_s=round(p, 3), store_median_s=round(b, 3), ratio=round(b / p, 2))


if __name__ == "__main__":
    main()
