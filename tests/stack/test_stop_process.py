"""stop_process: SIGTERM first, SIGKILL only for a process that ignores it (real child processes)."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil

from mlgameday.runtime.stop import stop_process

IGNORES_TERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"


def test_a_process_that_exits_on_sigterm_is_not_killed() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    assert stop_process(psutil.Process(child.pid), grace_s=10) == -15  # SIGTERM ended it


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace() -> None:
    child = subprocess.Popen([sys.executable, "-c", IGNORES_TERM], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"  # its handler is set
    started = time.monotonic()
    assert stop_process(psutil.Process(child.pid), grace_s=1) == -9
    assert time.monotonic() - started >= 1
