"""A component's memory is its whole process group's: serving's worker, not only its supervisor."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import psutil
import pytest

from mlgameday.stack.process import spawn

# A leader (small) that starts a worker holding ~200 MB, as `bentoml serve` starts its worker.
# The worker touches every page, then writes the ready file named by argv[1]: its memory is settled.
LEADER = """
import subprocess, sys, time
worker = subprocess.Popen([sys.executable, "-c",
    "import pathlib, sys, time; block = bytearray(200 * 2**20); block[::4096] = b'x' * len(block[::4096]); "
    "pathlib.Path(sys.argv[1]).touch(); time.sleep(60)", sys.argv[1]])
time.sleep(60)
"""


def test_group_memory_counts_the_worker(tmp_path: Path) -> None:
    ready = tmp_path / "worker-ready"
    ref = spawn([sys.executable, "-c", LEADER, str(ready)], log_file=tmp_path / "leader.log")
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        members = ref.group_memory()
        assert [pid for pid, _, _ in members][0] == ref.pid, "the leader comes first"
        assert len(members) == 2, members
        leader_rss = psutil.Process(ref.pid).memory_info().rss
        assert leader_rss < 100 * 2**20
        # Two reads a moment apart: the worker's resident pages may move by a few KB between them.
        assert ref.rss_bytes() == pytest.approx(sum(rss for _, _, rss in members), rel=0.01)
        assert ref.rss_bytes() > leader_rss + 200 * 2**20
    finally:
        ref.terminate(timeout_s=5)
    assert ref.group_memory() == []
