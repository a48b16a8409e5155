"""Where answers come from: a YAML file (checked up front) or the terminal."""

from __future__ import annotations

import pytest

from mlgameday.interview.candidate import ScriptedCandidate, TerminalCandidate
from mlgameday.interview.script import InterviewError


def test_a_scripted_candidate_reads_each_answer_by_question_id(tmp_path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text("design: Kafka then Feast\nexplain: {component: model, fix: rollback-model}\n")
    said: list[str] = []
    candidate = ScriptedCandidate(path, said.append)
    assert candidate.say("design", "?") == "Kafka then Feast" and candidate.say("tour", "?") == ""
    assert said == ["[candidate] Kafka then Feast", "[candidate] (no answer)"]
    given = candidate.explain({})
    assert given["component"] == "model" and given["signal"] is None and given["reasoning"] is None


@pytest.mark.parametrize("text, match", [
    ("- just a list\n", "expected a mapping"),
    ("explain: {component: model, cause: x}\n", r"explain: takes signal, .* \(not cause\)"),
    ("design: [unclosed\n", "cannot read the answers"),
])
def test_a_bad_answers_file_is_refused_up_front_saying_what_is_wrong(tmp_path, text: str, match: str) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text(text)
    with pytest.raises(InterviewError, match=match):
        ScriptedCandidate(path, print)


def test_a_terminal_candidate_answers_until_an_empty_line() -> None:
    typed = iter(["Kafka topics,", "then Feast", ""])
    said: list[str] = []
    candidate = TerminalCandidate(said.append, lambda prompt: next(typed))
    assert candidate.say("design", "?") == "Kafka topics,\nthen Feast"
    answers = iter(["latency_p99_ms", "model", "slow-model", "rollback-model", "it cost $500 an hour", ""])
    candidate = TerminalCandidate(said.append, lambda prompt: next(answers))
    given = candidate.explain({"components": {"model": ""}, "root_causes": {"slow-model": ""},
                               "fixes": {"rollback-model": ""}})
    assert given == {"signal": "latency_p99_ms", "component": "model", "root_cause": "slow-model",
                     "fix": "rollback-model", "reasoning": "it cost $500 an hour"}
