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
    ("incident: model promote fast\n", "incident: a list of gameday commands"),
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


def test_an_answer_outside_the_choices_is_asked_again_then_refused_with_what_to_do(tmp_path) -> None:
    from mlgameday.config import load_settings
    from mlgameday.interview.round import EXPLAIN_ATTEMPTS, Interview

    asked: list[str] = []

    class Mistyping:
        def explain(self, choices: dict) -> dict:
            asked.append("explain")
            return {"signal": None, "component": "the model", "root_cause": "slow-model", "fix": "rollback-model",
                    "reasoning": None}

    said: list[str] = []
    interview = Interview(load_settings(run_dir=tmp_path), Mistyping(), scenario="slow-model", echo=said.append)
    with pytest.raises(InterviewError, match="component 'the model' is not one of the choices") as caught:
        interview._explain(interview.slots["explain"])
    assert len(asked) == EXPLAIN_ATTEMPTS and "gameday answer" in (caught.value.hint or "")
    assert sum("pick one of" in line for line in said) == EXPLAIN_ATTEMPTS
