"""The files a running drill shares with the candidate's commands (no stack needed): the active-drill
record, the journal of the candidate's commands, the answer handoff and the signals snapshot."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

import psutil
import pytest

from mlgameday.config import load_settings
from mlgameday.drill.active import ActiveDrill, NoActiveDrill, new_drill_id
from mlgameday.drill.answer import Answer, AnswerError, unanswered
from mlgameday.drill.catalog import Catalog
from mlgameday.drill.handoff import AnswerDesk, submit_answer
from mlgameday.drill.journal import CHANGE, LOOK, JournalReader, kind_of, record
from mlgameday.drill.signals import ALERT_SIGNALS, SERIES_SIGNALS
from mlgameday.drill.snapshot import alert_rows, read_snapshot, signal_rows, write_snapshot
from mlgameday.drill.timeline import Timeline


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(run_dir=tmp_path / "run")


def test_drill_ids_are_neutral() -> None:
    ids = {new_drill_id() for _ in range(50)}
    assert all(len(i) == 4 and int(i, 16) >= 0 for i in ids) and len(ids) > 40


def test_commands_are_looks_or_changes() -> None:
    assert kind_of(["status"]) == LOOK
    assert kind_of(["signals", "--watch"]) == LOOK
    assert kind_of(["dlq", "stats"]) == LOOK
    assert kind_of(["dlq", "replay", "--dry-run"]) == LOOK
    assert kind_of(["dlq", "replay", "--rename", "a=b"]) == CHANGE
    assert kind_of(["chaos", "recover", "rename_field"]) == CHANGE
    assert kind_of(["chaos", "kinds"]) == LOOK
    assert kind_of(["model", "promote", "fast"]) == CHANGE
    assert kind_of(["train"]) == CHANGE
    assert kind_of(["answer", "--component", "x"]) is None
    assert kind_of(["drill", "--blind", "--random"]) is None
    assert kind_of([]) is None


def test_a_running_drill_record_is_found_and_a_dead_one_is_cleared(settings, tmp_path: Path) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        path = ActiveDrill.path(settings)
        path.parent.mkdir(parents=True)
        record = ActiveDrill(id="beef", folder=str(tmp_path), pid=other.pid,
                             pid_started=psutil.Process(other.pid).create_time(), started_at=time.time(),
                             blind=True, deadline=None)
        path.write_text(json.dumps(asdict(record)))
        assert ActiveDrill.current(settings).id == "beef" and ActiveDrill.load(settings).pid == other.pid
    finally:
        other.kill()
        other.wait()
    assert ActiveDrill.current(settings) is None and not path.exists()  # its process is gone
    mine = ActiveDrill.claim(settings, "cafe", tmp_path, True, 60)
    assert ActiveDrill.load(settings).id == "cafe" and mine.deadline > time.time()
    mine.release(settings)
    with pytest.raises(NoActiveDrill):
        ActiveDrill.load(settings)


def test_commands_are_journalled_only_while_a_drill_runs(settings, tmp_path: Path) -> None:
    folder = tmp_path / "drill"
    folder.mkdir()
    assert record(settings, ["status"], 0, time.time()) is None  # no drill: nothing written
    drill = ActiveDrill.claim(settings, "abcd", folder, True, None)
    reader = JournalReader(folder)
    assert reader.new() == []
    record(settings, ["status"], 0, time.time())
    record(settings, ["chaos", "recover", "rename_field"], 0, time.time(), result="producer knobs back to normal")
    record(settings, ["answer", "--fix", "x"], 0, time.time())  # the answer is not an action
    with open(folder / "actions.jsonl", "a") as journal:
        journal.write('{"at": 1, "sec')  # a line being written: read next time
    actions = reader.new()
    assert [(a.command, a.kind) for a in actions] == [("status", LOOK), ("chaos recover rename_field", CHANGE)]
    assert actions[1].result == "producer knobs back to normal"
    with open(folder / "actions.jsonl", "a") as journal:
        journal.write('onds": 0.1, "command": "logs ingest", "kind": "look", "exit_code": 0}\n')
    assert [a.command for a in reader.new()] == ["logs ingest"]
    drill.release(settings)


def test_an_answer_is_handed_to_the_drill_and_its_score_back(settings, tmp_path: Path) -> None:
    folder = tmp_path / "drill"
    folder.mkdir()
    drill = ActiveDrill.claim(settings, "abcd", folder, True, None)
    desk = AnswerDesk(folder)
    assert desk.pending() is None

    def the_drill() -> None:
        while (pending := desk.pending()) is None:
            time.sleep(0.05)
        answer, timeout = pending
        desk.say("checking the mitigation")
        desk.done({"total": 0.75, "answer": asdict(answer), "check_timeout_s": timeout})

    thread = threading.Thread(target=the_drill)
    thread.start()
    lines: list[str] = []
    given = Answer("upstream", "schema-break", "replay-dlq", "dlq_rate", reasoning="dead letters, renamed field")
    result = submit_answer(settings, given, 12.0, report=lambda _, line: lines.append(line))
    thread.join()
    assert result["total"] == 0.75 and result["answer"]["reasoning"] == "dead letters, renamed field"
    assert result["check_timeout_s"] == 12.0 and lines == ["checking the mitigation"]
    with pytest.raises(AnswerError, match="already has an answer"):
        submit_answer(settings, given, 12.0)
    drill.release(settings)
    with pytest.raises(NoActiveDrill, match="no blind drill"):
        submit_answer(settings, given, 12.0)


def test_the_signals_snapshot_has_every_series_with_times_and_no_scenario(tmp_path: Path) -> None:
    timeline = Timeline(t0=time.time() - 100)
    for t in range(40, 100, 2):
        timeline.sample("dlq_rate", 8.0 if t >= 70 else 0.0, at=float(t))
        timeline.sample("consumer_lag.ingest", 5.0, at=float(t))
    timeline.mark("alert", "freshness.stale", at=80.0)
    timeline.mark("fault", "rename_field", at=70.0, params={"old": "trip_distance"})  # never in the file
    path = write_snapshot(tmp_path, "abcd", timeline, {"missing field trip_distance": 3}, 2.0)
    text = path.read_text()
    assert "rename_field" not in text and "fault" not in text
    snapshot = read_snapshot(tmp_path)
    rows = {row.name: row for row in signal_rows(snapshot)}
    assert set(SERIES_SIGNALS) <= set(rows) and "consumer_lag.ingest" in rows
    assert rows["dlq_rate"].value == 8.0 and rows["dlq_rate"].low == 0.0 and rows["dlq_rate"].high == 8.0
    assert rows["dlq_rate"].at == pytest.approx(timeline.t0 + 98)
    assert rows["latency_p99_ms"].value is None  # not sampled: shown, empty
    alerts = {a["kind"]: a for a in alert_rows(snapshot)}
    assert set(alerts) == set(ALERT_SIGNALS) and alerts["freshness.stale"]["count"] == 1


def test_an_unanswered_drill_scores_nothing_at_every_level() -> None:
    score = unanswered(Catalog().get("schema-change"), "no answer before the time limit")
    assert score.total == 0 and not score.mitigated
    assert [level.expected for level in score.levels][1:] == ["upstream", "schema-break", "replay-dlq",
                                                             "(a quantified impact statement)"]


def test_the_drill_puts_the_candidates_commands_on_its_timeline_and_picks_up_the_answer(settings, tmp_path: Path) -> None:
    from types import SimpleNamespace

    from mlgameday.drill.handoff import REQUEST_FILE
    from mlgameday.drill.oncall import OnCall

    folder = tmp_path / "drill"
    folder.mkdir()
    drill = ActiveDrill.claim(settings, "abcd", folder, True, 600)
    catalog = Catalog()
    timeline = Timeline()
    watcher = SimpleNamespace(dlq_reasons={"missing field": 2}, sample_every=2.0)  # what tick reads of it
    oncall = OnCall(settings, catalog.get("schema-change"), catalog.choices, None, timeline, watcher, drill, None)
    oncall.page(lambda page: None)
    time.sleep(0.05)
    record(settings, ["dlq", "stats"], 0, time.time())
    record(settings, ["chaos", "recover", "rename_field"], 0, time.time(), result="producer knobs back to normal")
    assert oncall.tick() is None
    marks = [(m.name, m.detail["effect"]) for m in timeline.marks_of("action")]
    assert marks == [("dlq stats", LOOK), ("chaos recover rename_field", CHANGE)]
    assert 0 <= oncall.response.detected_s <= oncall.response.first_change_s < 5
    assert "rename_field" not in (folder / "signals.json").read_text()
    (folder / REQUEST_FILE).write_text(json.dumps({"answer": asdict(Answer("upstream", "gremlins", "replay-dlq")),
                                                   "check_timeout_s": 5}))
    assert oncall.tick() is None  # not one of the choices: refused, the drill goes on
    assert "gremlins" in json.loads((folder / "answer.json").read_text())["error"]
    assert not (folder / REQUEST_FILE).exists()  # the desk is open for a corrected answer
    (folder / REQUEST_FILE).write_text(json.dumps({"answer": asdict(Answer("upstream", "schema-break", "replay-dlq")),
                                                   "check_timeout_s": 5}))
    assert oncall.tick().root_cause == "schema-break"
    drill.release(settings)
