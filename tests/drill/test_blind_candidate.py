"""The acceptance test of blind drills: a scripted candidate that drives only the `gameday` CLI (in
processes of its own, as a person in a second terminal would) and never reads a scenario file.

On a real stack, accelerated: while the drill runs, nothing the candidate can read names the scenario;
every signal an answer choice names is shown by `gameday signals` with its time; the fault stays on
until the candidate fixes it; a fix that is skipped fails the mitigation check; the fix done (upstream
contract back, dead letters replayed with the field mapped) passes it, and the candidate's commands are
on the drill's timeline with their results.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from mlgameday.config import Settings

pytestmark = pytest.mark.integration
# What would give the scenario away: its name, its fault kind, its title's words. (The renamed field itself
# is evidence: the candidate finds it in the dead letters.)
GIVEAWAYS = ("schema-change", "schema_change", "rename_field", "renames trip_distance")
ANSWER = ["--signal", "dlq_rate", "--component", "upstream", "--root-cause", "schema-break", "--fix", "replay-dlq"]


def gameday(run_dir: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "GAMEDAY_RUN_DIR": str(run_dir), "COLUMNS": "80"}
    env.pop("GAMEDAY_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "mlgameday", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def gameday_json(run_dir: Path, *args: str, timeout: float = 300) -> Any:
    done = gameday(run_dir, *args, "--json", timeout=timeout)
    assert done.returncode == 0, f"gameday {' '.join(args)}: {done.stderr[-2000:]}"
    return json.loads(done.stdout)


class BlindDrill:
    """`gameday drill NAME --blind --fast` in a process of its own, its output collected as it comes."""

    def __init__(self, run_dir: Path, name: str, logs: Path, time_limit_min: float = 6.0) -> None:
        env = {**os.environ, "GAMEDAY_RUN_DIR": str(run_dir), "COLUMNS": "100"}
        env.pop("GAMEDAY_CONFIG", None)
        self.stderr = open(logs / "drill.stderr", "w")  # outside the run folder: it is the test's
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlgameday", "drill", name, "--blind", "--fast", "--time-limit", str(time_limit_min)],
            env=env, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_page(self, timeout_s: float = 600) -> str:
        deadline = time.monotonic() + timeout_s
        while "PAGE" not in self.output:
            assert self.process.poll() is None, f"the drill ended before paging: {self.output}\n{self.stderr.name}"
            assert time.monotonic() < deadline, f"no page in {timeout_s}s: {self.output}"
            time.sleep(1.0)
        time.sleep(1.0)  # the rest of the card
        return self.output

    def finish(self, timeout_s: float = 300) -> int:
        code = self.process.wait(timeout=timeout_s)
        self._reader.join(timeout=10)
        self.stderr.close()
        return code


def signals(run_dir: Path) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in gameday_json(run_dir, "signals")["signals"]}


def wait_for_signal(run_dir: Path, name: str, above: float, timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        row = signals(run_dir)[name]
        if row["value"] is not None and row["value"] > above:
            return row
        assert time.monotonic() < deadline, f"{name} never rose above {above}: {row}"
        time.sleep(3.0)


def readable_files(run_dir: Path) -> dict[Path, str]:
    """Everything the candidate can read in the run folder (drill folders, logs, state)."""
    texts = {}
    for path in run_dir.rglob("*"):
        if "data" in path.relative_to(run_dir).parts[:1]:
            continue  # the topics' and stores' data: the events themselves, evidence
        if path.is_file() and path.suffix in ("", ".json", ".jsonl", ".log", ".txt", ".md", ".yaml", ".html", ".progress"):
            try:
                texts[path] = path.read_text(errors="replace")
            except OSError:
                continue
    return texts


def assert_nothing_names_the_scenario(run_dir: Path, *outputs: str) -> None:
    for giveaway in GIVEAWAYS:
        for path, text in readable_files(run_dir).items():
            assert giveaway not in text, f"{path} names the scenario ({giveaway!r}) before the answer"
        for output in outputs:
            assert giveaway not in output, f"a command's output names the scenario ({giveaway!r}): {output[-1500:]}"


def test_a_blind_candidate_who_skips_the_fix_fails_the_mitigation_check(drill_stack: Settings, tmp_path: Path) -> None:
    run_dir = drill_stack.run_path
    drill = BlindDrill(run_dir, "schema-change", tmp_path)
    try:
        page = drill.wait_for_page()
        assert "signals [--watch]" in page and "gameday answer" in page  # the card: what the candidate can use
        choices = gameday_json(run_dir, "answer", "--choices")
        first = wait_for_signal(run_dir, "dlq_rate", above=1.0)
        # Every signal an answer choice names is shown, with a time for those the stack produces now.
        view = gameday_json(run_dir, "signals")
        shown = {row["name"] for row in view["signals"]} | {a["kind"] for a in view["alerts"]}
        assert set(choices["signals"]) <= shown, set(choices["signals"]) - shown
        rows = {row["name"]: row for row in view["signals"]}
        for name in ("throughput", "consumer_lag", "dlq_rate", "dlq_total"):  # sampled now
            assert rows[name]["value"] is not None and rows[name]["at"] > time.time() - 30, rows[name]
        for name in ("latency_p50_ms", "latency_p99_ms", "feature_age_s", "fallback_share", "mae_s", "bias_s"):
            assert rows[name]["value"] is not None and rows[name]["at"] is not None, rows[name]  # while predicted
        assert any(name.startswith("consumer_lag.") for name in rows)
        assert view["dlq_reasons"], view
        status = gameday(run_dir, "status")
        assert_nothing_names_the_scenario(run_dir, page, status.stdout, json.dumps(view))
        # The fault waits for the fix: half a minute later the dead letters are still coming.
        time.sleep(30)
        later = wait_for_signal(run_dir, "dlq_total", above=signals(run_dir)["dlq_total"]["value"] or 0)
        assert later["at"] > first["at"] + 25
        assert signals(run_dir)["dlq_rate"]["value"] > 1.0
        # The right diagnosis, no fix: the mitigation check fails, naming what is missing.
        result = gameday_json(run_dir, "answer", *ANSWER, "--check-timeout", "20",
                              "--reasoning", "dead letters climbing; did not replay them")
    finally:
        code = drill.finish()
    assert code == 0, drill.output
    assert result["scenario"] == "schema-change" and not result["mitigated"], result
    levels = {level["level"]: level["score"] for level in result["levels"]}
    # The reasoning puts no figure on the incident's cost: the impact level gets nothing.
    assert levels == {"detection": 1.0, "localization": 1.0, "root_cause": 1.0, "mitigation": 0.5, "impact": 0.0}, result
    checks = " | ".join(result["mitigation_checks"])
    assert "not replayed" in checks and "missing" in checks, checks
    assert result["answer"]["reasoning"] == "dead letters climbing; did not replay them"
    assert result["response"]["detected_s"] is not None and result["response"]["mitigated_s"] is None


def test_a_blind_candidate_who_fixes_the_contract_and_replays_passes(drill_stack: Settings, tmp_path: Path) -> None:
    run_dir = drill_stack.run_path
    drill = BlindDrill(run_dir, "schema-change", tmp_path)
    try:
        drill.wait_for_page()
        wait_for_signal(run_dir, "dlq_rate", above=1.0)
        stats = gameday_json(run_dir, "dlq", "stats")
        assert stats, stats
        tail = gameday(run_dir, "dlq", "tail", "-n", "3")
        assert tail.returncode == 0, tail.stderr
        # The fix: the upstream contract back (the simulator's `chaos recover KIND`, no parameters needed),
        # then the dead letters replayed with the renamed field mapped back.
        recovered = gameday(run_dir, "chaos", "recover", "rename_field")
        assert recovered.returncode == 0, recovered.stderr
        time.sleep(5)  # letters of events already in flight
        renamed_to = _renamed_field(run_dir)
        replay = gameday_json(run_dir, "dlq", "replay", "--rename", f"{renamed_to}=trip_distance", timeout=300)
        assert replay["replayed"] > 0, replay
        # Letters of events still in flight at the first replay: once they stop, a second replay takes them
        # (the replay group remembers what was sent).
        deadline = time.monotonic() + 120
        while (signals(run_dir)["dlq_rate"]["value"] or 0) > 0:
            assert time.monotonic() < deadline, "dead letters kept coming after the contract was restored"
            time.sleep(3)
        gameday_json(run_dir, "dlq", "replay", "--rename", f"{renamed_to}=trip_distance", timeout=300)
        result = gameday_json(run_dir, "answer", *ANSWER, "--check-timeout", "120",
                              "--reasoning", "renamed field upstream; contract restored, letters replayed")
    finally:
        code = drill.finish()
    assert code == 0, drill.output
    levels = {level["level"]: level["score"] for level in result["levels"]}
    assert result["mitigated"] and levels == {"detection": 1.0, "localization": 1.0, "root_cause": 1.0,
                                              "mitigation": 1.0, "impact": 0.0}, result  # no cost figure given
    response = result["response"]
    assert response["detected_s"] is not None and response["first_change_s"] >= response["detected_s"]
    # The candidate's commands are on the revealed timeline, changes with their results.
    folder = Path(result["folder"])
    marks = [json.loads(line) for line in (folder / "timeline.jsonl").read_text().splitlines()]
    actions = {m["name"]: m["detail"] for m in marks if m.get("type") == "mark" and m["kind"] == "action"}
    assert actions["chaos recover rename_field"]["effect"] == "change"
    assert "back to normal" in actions["chaos recover rename_field"]["result"]
    assert any(name.startswith("dlq replay") and d["effect"] == "change" for name, d in actions.items()), actions
    assert actions["signals --json"]["effect"] == "look"


def _renamed_field(run_dir: Path) -> str:
    """What the candidate reads in the dead letters: the field the events carry instead of trip_distance."""
    letters = gameday_json(run_dir, "dlq", "tail", "-n", "5")
    for letter in letters:
        original = letter.get("original")
        event = json.loads(original) if isinstance(original, str) else original
        if isinstance(event, dict) and "trip_distance" not in event:
            extra = [k for k in event if "dist" in k]
            if extra:
                return extra[0]
    raise AssertionError(f"no renamed distance field in the dead letters: {letters}")
