"""The candidate's commands during a drill: every `gameday` command run on the run folder while a drill
runs is appended to the drill's actions.jsonl (the CLI does it at its edge, once per command), and the
drill process puts them on its timeline — what was looked at, what was changed, with what result.

A command either looks (status, logs, signals, alerts, dlq stats, ...) or changes the system (chaos,
a DLQ replay, a promotion, a training, ...): the first look after the fault is when the candidate
started investigating; the changes are the mitigation, and `nothing_changed` checks there were none.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..config import Settings

JOURNAL_FILE = "actions.jsonl"
LOOK, CHANGE = "look", "change"
# Commands (their first words) that change the system; any other command only looks. The drill itself
# and the answer are the drill's own business, not actions.
CHANGES = (("chaos",), ("dlq", "replay"), ("model", "promote"), ("model", "clear"), ("train",), ("produce",),
           ("up",), ("down",))
NOT_ACTIONS = (("drill",), ("answer",), ("scenarios",))
# Options that make a changing command a look.
LOOK_FLAGS = ("--dry-run", "--help", "--choices")
LOOKING_SUBCOMMANDS = (("chaos", "kinds"),)


@dataclass
class Action:
    at: float          # wall time the command started
    seconds: float
    command: str       # as typed, after `gameday`
    kind: str          # look | change
    exit_code: int
    result: str = ""   # a changing command's one-line outcome
    error: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def kind_of(argv: list[str]) -> str | None:
    """look, change, or None for what is not a candidate's action (no command, the drill, the answer)."""
    words = [a for a in argv if not a.startswith("-")]
    if not words or any(tuple(words[:len(p)]) == p for p in NOT_ACTIONS):
        return None
    if any(flag in argv for flag in LOOK_FLAGS) or any(tuple(words[:len(p)]) == p for p in LOOKING_SUBCOMMANDS):
        return LOOK
    return CHANGE if any(tuple(words[:len(p)]) == p for p in CHANGES) else LOOK


def record(settings: Settings, argv: list[str], exit_code: int, started: float, result: str | None = None,
           error: str | None = None) -> Action | None:
    """Append the command to the running drill's journal (nothing when no drill runs)."""
    from .active import ActiveDrill

    kind = kind_of(argv)
    if kind is None:
        return None
    drill = ActiveDrill.current(settings)
    if drill is None:
        return None
    action = Action(at=started, seconds=round(time.time() - started, 2), command=" ".join(argv), kind=kind,
                    exit_code=exit_code, result=(result or "")[:500] if kind == CHANGE else "",
                    error=(error or "")[:500])
    with open(drill.run_folder / JOURNAL_FILE, "a") as journal:
        journal.write(json.dumps(action.as_dict()) + "\n")
    return action


class JournalReader:
    """The drill process's side: the actions appended since the last read."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / JOURNAL_FILE
        self._position = 0

    def new(self) -> list[Action]:
        try:
            with open(self.path, "rb") as journal:
                journal.seek(self._position)
                data = journal.read()
        except FileNotFoundError:
            return []
        complete = data[:data.rfind(b"\n") + 1]  # a line being written is read next time
        self._position += len(complete)
        actions = []
        for line in complete.decode(errors="replace").splitlines():
            try:
                actions.append(Action(**json.loads(line)))
            except (ValueError, TypeError):
                continue
        return actions
