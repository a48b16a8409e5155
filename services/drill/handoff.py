"""Handing `gameday answer` to the blind drill that runs in another terminal, through its folder.

The answer command writes answer.request.json; the drill process (which alone knows the scenario)
picks it up, checks the mitigation, scores, writes the progress of its checks to answer.progress and
the score to answer.json, which the command prints. Files, not a socket: nothing to listen on, the run
folder's permissions are the access control, and a crashed drill leaves a readable trail.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..config import Settings
from ..stack.component import Reporter, silent
from .active import ActiveDrill
from .answer import Answer, AnswerError

REQUEST_FILE = "answer.request.json"
PROGRESS_FILE = "answer.progress"
RESULT_FILE = "answer.json"
# Beyond the mitigation check's own timeout: recovering the faults and writing the debrief.
WAIT_MARGIN_S = 180.0


def submit_answer(settings: Settings, answer: Answer, check_timeout_s: float,
                  report: Reporter = silent) -> dict[str, Any]:
    """Hand the answer to the running blind drill and wait for its score (dict of answer.json)."""
    drill = ActiveDrill.load(settings)
    if not drill.blind:
        raise AnswerError(f"drill {drill.id} is not blind: it ends by itself and writes its debrief",
                          hint="start a blind one with `gameday drill --random --blind`")
    folder = drill.run_folder
    request = folder / REQUEST_FILE
    if request.exists():
        raise AnswerError(f"drill {drill.id} already has an answer and is scoring it",
                          hint=f"its score will be in {folder / RESULT_FILE}")
    for stale in (folder / RESULT_FILE, folder / PROGRESS_FILE):  # a refused earlier answer's
        stale.unlink(missing_ok=True)
    _write_json(request, {"answer": asdict(answer), "check_timeout_s": check_timeout_s, "submitted_at": time.time()})
    deadline = time.monotonic() + check_timeout_s + WAIT_MARGIN_S
    shown = 0
    while True:
        result = _read_json(folder / RESULT_FILE)
        lines = _lines(folder / PROGRESS_FILE)
        for line in lines[shown:]:
            report("drill", line)
        shown = len(lines)
        if result is not None:
            if "error" in result:
                raise AnswerError(f"drill {drill.id} refused the answer: {result['error']}",
                                  hint="see the choices with `gameday answer --choices`")
            return result
        if not drill.alive():
            raise AnswerError(f"the drill process {drill.pid} ended before scoring the answer",
                              hint=f"see its terminal and {folder}; its faults were recovered when it ended")
        if time.monotonic() > deadline:
            raise AnswerError(f"drill {drill.id} did not score the answer in {check_timeout_s + WAIT_MARGIN_S:.0f}s",
                              hint="see the drill's terminal; the answer stays in its folder")
        time.sleep(0.5)


class AnswerDesk:
    """The drill process's side: is there an answer, say how its check goes, give the score."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def pending(self) -> tuple[Answer, float] | None:
        data = _read_json(self.folder / REQUEST_FILE)
        if data is None:
            return None
        try:
            return Answer(**data["answer"]), float(data.get("check_timeout_s", 60.0))
        except (KeyError, TypeError, ValueError):
            return None

    def say(self, line: str) -> None:
        with open(self.folder / PROGRESS_FILE, "a") as progress:
            progress.write(line.replace("\n", " ") + "\n")

    def done(self, result: dict[str, Any]) -> Path:
        return _write_json(self.folder / RESULT_FILE, result)

    def refuse(self, why: str) -> None:
        """An answer the drill cannot score: said to the waiting command, and the desk open again."""
        self.done({"error": why})
        (self.folder / REQUEST_FILE).unlink(missing_ok=True)


def _write_json(path: Path, data: dict) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)
    return path


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except OSError:
        return []
