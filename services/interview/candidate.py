"""Where the candidate's answers come from: the terminal (a person) or a file (a rehearsal script, a test).

A file is YAML: the text of each question by id (`design`, `design.duplicates`, …, `tour`, `impact`), the
commands run during the incident (`incident: [status, model promote fast]`: `gameday` commands, on this
run folder), and the structured answer (`explain: {signal, component, root_cause, fix, reasoning}`).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Protocol

import yaml

from ..config import Settings
from .script import InterviewError

EXPLAIN_FIELDS = ("signal", "component", "root_cause", "fix", "reasoning")
COMMAND_TIMEOUT_S = 120.0
FILE_HINT = ("a YAML mapping: question id (design, design.duplicates, tour, impact…) → text; incident: a list of "
             "gameday commands; explain: a mapping of signal, component, root_cause, fix, reasoning")


class Candidate(Protocol):
    def say(self, question_id: str, question: str) -> str: ...
    def investigate(self, settings: Settings) -> None: ...
    def explain(self, choices: dict[str, dict[str, str]]) -> dict[str, str | None]: ...


def run_gameday(settings: Settings, command: str, echo: Callable[[str], None]) -> int:
    """One `gameday` command on this run folder, as the candidate would type it; its output echoed."""
    argv = [sys.executable, "-m", "mlgameday", *shlex.split(command)]
    env = {**os.environ, "GAMEDAY_RUN_DIR": str(settings.run_path)}
    echo(f"$ gameday {command}")
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        echo(f"  (gave up after {COMMAND_TIMEOUT_S:.0f}s)")
        return 124
    for line in (done.stdout + done.stderr).rstrip().splitlines()[-40:]:
        echo("  " + line)
    return done.returncode


class ScriptedCandidate:
    """Answers from a YAML file; the incident's commands run for real on the stack."""

    def __init__(self, path: Path, echo: Callable[[str], None]) -> None:
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InterviewError(f"cannot read the answers {path}: {exc}", hint=FILE_HINT) from None
        if not isinstance(data, dict):
            raise InterviewError(f"{path}: expected a mapping of question id → answer", hint=FILE_HINT)
        self.data: dict[str, Any] = data
        self.path, self.echo = Path(path), echo
        if not isinstance(data.get("incident") or [], list):  # checked now: later, a blind drill would be on
            raise InterviewError(f"{path}: incident: a list of gameday commands", hint=FILE_HINT)
        explain = data.get("explain") or {}
        unknown = set(explain) - set(EXPLAIN_FIELDS)
        if not isinstance(explain, dict) or unknown:
            raise InterviewError(f"{path}: explain: takes {', '.join(EXPLAIN_FIELDS)}"
                                 + (f" (not {', '.join(sorted(unknown))})" if unknown else ""), hint=FILE_HINT)

    def say(self, question_id: str, question: str) -> str:
        text = str(self.data.get(question_id) or "")
        self.echo(f"[candidate] {text.strip() or '(no answer)'}")
        return text

    def investigate(self, settings: Settings) -> None:
        for command in self.data.get("incident") or []:
            run_gameday(settings, str(command), self.echo)

    def explain(self, choices: dict[str, dict[str, str]]) -> dict[str, str | None]:
        given = self.data.get("explain") or {}
        return {name: (None if given.get(name) is None else str(given[name])) for name in EXPLAIN_FIELDS}


class TerminalCandidate:
    """A person at the terminal: multi-line answers end with an empty line; the incident is worked in
    another terminal (or with commands typed here)."""

    def __init__(self, echo: Callable[[str], None], read: Callable[[str], str] = input) -> None:
        self.echo, self.read = echo, read

    def _lines(self) -> str:
        lines = []
        while (line := self.read("> " if not lines else "  ")).strip():
            lines.append(line)
        return "\n".join(lines)

    def say(self, question_id: str, question: str) -> str:
        self.echo("(answer; an empty line ends it)")
        return self._lines()

    def investigate(self, settings: Settings) -> None:
        self.echo("Type gameday commands here (e.g. `status`, `model list`), or work in another terminal;"
                  " an empty line when you are done.")
        while (command := self.read("gameday> ").strip()):
            run_gameday(settings, command, self.echo)

    def explain(self, choices: dict[str, dict[str, str]]) -> dict[str, str | None]:
        given: dict[str, str | None] = {}
        for name in EXPLAIN_FIELDS:
            if name == "reasoning":
                self.echo("reasoning: what happened, why, and what it cost (an empty line ends it)")
                given[name] = self._lines() or None
                continue
            options = choices.get(name + "s" if name != "root_cause" else "root_causes", {})
            self.echo(f"{name}: one of {', '.join(options)}")
            given[name] = self.read(f"{name}> ").strip() or None
        return given
