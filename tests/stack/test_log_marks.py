"""A drill's start and end are marked in every component's log."""

from __future__ import annotations

import json
from pathlib import Path

from mlgameday.stack.state import RunFolder


def test_a_run_boundary_is_one_json_line_in_every_log(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    folder.ensure()
    folder.log_of("ingest").write_text('{"msg": "batch written"}\n')
    folder.log_of("monitor").write_text("")
    folder.mark_logs("drill 3f2a started", drill="3f2a")
    for name in ("ingest", "monitor"):
        last = json.loads(folder.log_of(name).read_text().splitlines()[-1])
        assert last["msg"] == "===== drill 3f2a started =====" and last["drill"] == "3f2a"
    assert folder.log_of("ingest").read_text().startswith('{"msg": "batch written"}\n')
