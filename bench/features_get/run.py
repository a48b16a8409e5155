"""`gameday features get --zone Z` from a fresh process: answered by serving's open store (the project)
against two baselines in the same run — a bare interpreter start (`python -c pass`: the floor any
command pays) and opening a Feast store in the command (what it did before, and still does with --store
or when serving is down). Median of N alternated rounds; JSON lines, then the ratios. Target: < 1 s.

Needs a running stack with a model (`gameday up` after `gameday train`, or a drill's stack) in the run
folder (GAMEDAY_RUN_DIR or ./.gameday).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def timed(*extra: str) -> tuple[float, float]:
    return _run([sys.executable, "-m", "mlgameday", "features", "get", "--zone", "132", "--json", *extra])


def _run(command: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) of the command: the CPU time says less about the other work on the cores."""
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr[-1000:]}")
    return elapsed, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="3 rounds")
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    project, store, bare = [], [], []
    for i in range(rounds):
        project.append(timed())
        store.append(timed("--store"))
        bare.append(_run([sys.executable, "-c", "pass"]))
        emit(round=i, **{f"{name}_{kind}_s": round(value, 3) for name, runs in
                         (("serving", project), ("store", store), ("bare_python", bare))
                         for kind, value in zip(("wall", "cpu"), runs[-1])})
    summary: dict[str, float] = {}
    for name, runs in (("serving", project), ("store", store), ("bare_python", bare)):
        summary[f"{name}_wall_s"] = round(statistics.median(r[0] for r in runs), 3)
        summary[f"{name}_cpu_s"] = round(statistics.median(r[1] for r in runs), 3)
    emit(summary="features get (medians)", **summary,
         store_over_serving_wall=round(summary["store_wall_s"] / summary["serving_wall_s"], 2),
         serving_over_bare_wall=round(summary["serving_wall_s"] / summary["bare_python_wall_s"], 1),
         under_1s=summary["serving_wall_s"] < 1.0, load_average=round(os.getloadavg()[0], 1))


if __name__ == "__main__":
    main()
