"""The engine's guard rails, without touching the real engine: how a started dockerd is
recognised as ours, and that `stop` never stops a process it did not start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mlgameday.containers.engine import SOCKET, EngineHome, our_dockerd, stop_engine


def test_dockerd_keeps_its_data_and_state_in_the_engine_home(tmp_path: Path) -> None:
    home = EngineHome(tmp_path / "docker")
    argv = home.dockerd_argv("/usr/sbin/dockerd")
    assert argv[argv.index("--data-root") + 1] == str(tmp_path / "docker" / "data")
    assert argv[argv.index("--exec-root") + 1] == str(tmp_path / "docker" / "exec")
    assert argv[argv.index("--pidfile") + 1] == str(home.pid_file)
    # The default socket: every client (docker CLI, SDK, testcontainers) finds it without DOCKER_HOST.
    assert argv[argv.index("--host") + 1] == f"unix://{SOCKET}"


def test_stop_leaves_alone_a_process_it_did_not_start(tmp_path: Path) -> None:
    home = EngineHome(tmp_path / "docker")
    home.root.mkdir(parents=True)
    assert our_dockerd(home) is None and stop_engine(home, print) is False  # no pid file

    # A pid file that names someone else's process (a recycled pid, another dockerd).
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        home.pid_file.write_text(str(other.pid))
        assert our_dockerd(home) is None
        assert stop_engine(home, print) is False
        assert other.poll() is None  # still running
        home.pid_file.write_text("not a pid")
        assert our_dockerd(home) is None
    finally:
        other.kill()
        other.wait()


def test_stop_stops_the_process_that_runs_with_our_data_root(tmp_path: Path) -> None:
    home = EngineHome(tmp_path / "docker")
    home.root.mkdir(parents=True)
    # A stand-in whose command line carries our data root, as the dockerd we start does.
    ours = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "--data-root", str(home.data)])
    try:
        home.pid_file.write_text(str(ours.pid))
        assert our_dockerd(home).pid == ours.pid
        assert stop_engine(home, print, timeout_s=10) is True
        assert ours.wait(10) is not None
        assert not home.pid_file.exists()
    finally:
        if ours.poll() is None:
            ours.kill()
