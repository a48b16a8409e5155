"""A fault is recovered however the command that injected it ends: Ctrl-C, an error — and SIGTERM or
SIGHUP, which used to kill it with the fault still on. The `gameday` command runs for real against a
producer admin server (the real knob model, the run folder's key) that stands in for the stack's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from mlgameday.config import load_settings
from mlgameday.contracts.knobs import ProducerFaults
from mlgameday.runtime.admin_http import AdminServer, Knobs
from mlgameday.runtime.admin_key import admin_token
from mlgameday.runtime.shutdown import Terminated, recovered_on_exit
from mlgameday.stack.state import ComponentRecord, RunFolder


@pytest.fixture
def producer_knobs(tmp_path):
    """A run folder whose stack's producer is an admin server in this process."""
    settings = load_settings(run_dir=tmp_path / "run")
    server = AdminServer(0, lambda: True, knobs=Knobs(ProducerFaults), token=admin_token(settings)).start()
    RunFolder(settings.run_path).save({"producer": ComponentRecord(
        "producer", endpoints={"http": f"http://127.0.0.1:{server.port}"})})
    yield settings, server
    server.stop()


def _burst(settings) -> subprocess.Popen:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GAMEDAY_")}, "GAMEDAY_RUN_DIR": str(settings.run_path)}
    return subprocess.Popen([sys.executable, "-m", "mlgameday", "chaos", "inject", "burst",
                             "--param", "multiply=5", "--param", "seconds=120"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(condition, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_killed_burst_puts_the_rate_back(producer_knobs, signum) -> None:
    settings, server = producer_knobs
    command = _burst(settings)
    try:
        _wait_for(lambda: server.knobs.value.rate_multiplier == 5 or command.poll() is not None)
        assert command.poll() is None, command.communicate()
        command.send_signal(signum)
        out, err = command.communicate(timeout=60)
    finally:
        command.kill()
    assert command.returncode == 128 + signum, err
    assert server.knobs.value.rate_multiplier == 1.0, out + err  # recovered through the admin endpoint
    assert "back to" in out, out


def test_recovery_runs_at_exit_when_the_block_was_not_left(tmp_path) -> None:
    """An exit that skips the caller's cleanup (os._exit aside) still recovers: atexit."""
    marker = tmp_path / "recovered"
    script = ("import sys, threading\n"
              "from mlgameday.runtime.shutdown import recovered_on_exit\n"
              f"cm = recovered_on_exit(lambda: open({str(marker)!r}, 'a').write('x'))\n"
              "cm.__enter__()\n"
              "sys.exit(3)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert marker.read_text() == "x"


def test_sigterm_unwinds_the_main_thread_and_the_handlers_come_back() -> None:
    before = signal.getsignal(signal.SIGTERM)
    recovered = []
    with pytest.raises(Terminated) as ended:
        with recovered_on_exit(lambda: recovered.append("at exit")):
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
            finally:
                recovered.append("finally")
    assert ended.value.code == 128 + signal.SIGTERM
    assert recovered == ["finally"]  # the block was left: atexit will not run it again
    assert signal.getsignal(signal.SIGTERM) is before
