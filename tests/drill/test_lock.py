"""One drill at a time on a stack: the run folder's drill lock, across processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlgameday.config import load_settings
from mlgameday.drill.lock import DrillBusy, exclusive_drill, lock_path, running_drill

HOLD = """
import sys, time
from mlgameday.config import load_settings
from mlgameday.drill.lock import exclusive_drill
with exclusive_drill(load_settings(run_dir=sys.argv[1]), "drill data-drift"):
    print("holding", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(run_dir=tmp_path / "run")


def test_a_second_drill_is_refused_naming_the_first(settings) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(settings.run_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        assert running_drill(settings)["pid"] == holder.pid
        with pytest.raises(DrillBusy) as busy:
            with exclusive_drill(settings, "drill slow-model"):
                pytest.fail("a second drill ran beside the first")
        assert f"drill data-drift is already running on this stack (pid {holder.pid}" in str(busy.value)
        assert busy.value.holder["what"] == "drill data-drift"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # The kernel released a killed holder's lock: no stale lock.
    assert running_drill(settings) is None
    with exclusive_drill(settings, "drill slow-model"):
        assert running_drill(settings)["pid"] == os.getpid()
    assert running_drill(settings) is None


def test_the_lock_is_released_when_the_drill_fails(settings) -> None:
    with pytest.raises(RuntimeError):
        with exclusive_drill(settings, "a blind drill"):
            raise RuntimeError("the drill broke")
    assert running_drill(settings) is None
    assert lock_path(settings).read_text() == ""  # nothing left that names a drill
