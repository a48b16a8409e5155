"""The installed command answers a usage mistake with click's short message and exit code 2, never a
traceback (typer >= 0.2x raises its own copy of click's exceptions)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(("args", "names"), [
    (["--bogus"], "No such option: --bogus"),
    (["train", "--since", "yesterday"], "Invalid value for --since"),
    (["drill", "no-such-scenario", "--fast", "--bogus"], "No such option: --bogus"),
])
def test_a_usage_mistake_gets_a_short_error_and_exit_code_2(args: list[str], names: str, tmp_path) -> None:
    done = subprocess.run([sys.executable, "-m", "mlgameday", *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stderr
    assert names in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert "--help" in done.stderr  # says what to do next
