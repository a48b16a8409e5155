"""Wall time of each drill from a cold `gameday drill` (stack down; Kafka jars and the model cached).

For each scenario, normal and accelerated (`--fast`): stop the stack, then time
`gameday drill NAME [--fast] --json` end to end (bring-up, warm-up, faults, checks,
debrief). Baseline, in the same run: a cold `gameday up` + `gameday down` of the same
stack, so the ratio shows how much of a drill is the drill itself. Targets: <= 180 s per
drill, <= 90 s accelerated. Prints JSON lines.

--warm: the stack stays up between drills (as in the test suite, or an interviewer's second drill):
each drill's wall time against what its signals need (the warm-up plus the moment the last expected
signal fired), so the ratio is the drill's own overhead — the fix tried live, the fix skipped, the
debrief. Target: <= 60 s accelerated.

    .venv/bin/python bench/drill/bench_drill.py --quick          # 2 scenarios, accelerated only
    .venv/bin/python bench/drill/bench_drill.py                  # every scenario, both modes (~40 min)
    .venv/bin/python bench/drill/bench_drill.py --modes fast     # every scenario, accelerated (~20 min)
    .venv/bin/python bench/drill/bench_drill.py --modes fast --warm   # every scenario on a warm stack
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

QUICK = ("slow-model", "schema-change")
TARGET_S = {"normal": 180.0, "fast": 90.0}
WARM_TARGET_S = {"normal": 180.0, "fast": 60.0}


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def gameday(run_dir: Path, *args: str, timeout_s: float = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "GAMEDAY_RUN_DIR": str(run_dir)}
    return subprocess.run([sys.executable, "-m", "mlgameday", *args], env=env, capture_output=True,
                          text=True, timeout=timeout_s)


def timed(run_dir: Path, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = gameday(run_dir, *args)
    return time.perf_counter() - started, done


def prepare(run_dir: Path) -> None:
    """Jars and a trained model in the run folder: one unmeasured drill does both."""
    if not (run_dir / "bentoml" / "models" / "triptime").is_dir():
        emit(step="prepare", note="first run: fetching jars, creating history, training (not measured)")
        gameday(run_dir, "drill", QUICK[0], "--fast", timeout_s=1800)
    gameday(run_dir, "down")


def signals_need_s(result: dict) -> float | None:
    """The baseline of a warm drill: seconds from its start until the last expected signal fired (the
    warm-up included) — what any drill of the scenario has to wait for."""
    refs = result.get("refs") or {}
    fired = [refs[o["after"]] + o["after_s"] for o in result.get("outcomes") or []
             if o.get("fired") and o.get("after_s") is not None and o.get("after") in refs]
    return round(max(fired), 1) if fired else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}, accelerated")
    parser.add_argument("--run-dir", type=Path, default=Path("/tmp/gameday-bench-drill/run"))
    parser.add_argument("--scenarios", nargs="*", help="a subset by name")
    parser.add_argument("--modes", nargs="*", choices=("fast", "normal"), help="default: both (--quick: fast)")
    parser.add_argument("--warm", action="store_true", help="the stack stays up between drills")
    args = parser.parse_args()
    from mlgameday.drill.catalog import Catalog

    names = list(QUICK) if args.quick else (args.scenarios or Catalog().names())
    modes = tuple(args.modes or (("fast",) if args.quick else ("fast", "normal")))
    args.run_dir.mkdir(parents=True, exist_ok=True)
    prepare(args.run_dir)

    up_s, _ = timed(args.run_dir, "up")
    gameday(args.run_dir, "down")
    emit(bench="drill", step="baseline", what="cold gameday up (all services ready)", wall_s=round(up_s, 1))

    if args.warm:  # up with the drills' settings (one unmeasured drill): the first measured drill restarts nothing
        gameday(args.run_dir, "drill", QUICK[0], "--fast")
    for mode in modes:
        for name in names:
            if not args.warm:
                gameday(args.run_dir, "down")
            wall_s, done = timed(args.run_dir, "drill", name, *(["--fast"] if mode == "fast" else []), "--json")
            try:  # the JSON result comes first; a failed drill adds its error line after it
                result, _ = json.JSONDecoder().raw_decode(done.stdout.lstrip())
            except ValueError:
                result = {"passed": False, "error": (done.stderr or done.stdout)[-400:]}
            if args.warm:
                needed_s = signals_need_s(result)
                emit(bench="drill-warm", scenario=name, mode=mode, wall_s=round(wall_s, 1), drill_s=result.get("wall_s"),
                     passed=result.get("passed"), target_s=WARM_TARGET_S[mode], within_target=wall_s <= WARM_TARGET_S[mode],
                     baseline_signals_s=needed_s, ratio_to_signals=round(wall_s / needed_s, 2) if needed_s else None,
                     **({"error": result["error"]} if "error" in result else {}))
                continue
            emit(bench="drill", scenario=name, mode=mode, wall_s=round(wall_s, 1),
                 drill_s=result.get("wall_s"), passed=result.get("passed"), target_s=TARGET_S[mode],
                 within_target=wall_s <= TARGET_S[mode], baseline_up_s=round(up_s, 1),
                 ratio_to_up=round(wall_s / up_s, 2), **({"error": result["error"]} if "error" in result else {}))
    gameday(args.run_dir, "down")


if __name__ == "__main__":
    main()
