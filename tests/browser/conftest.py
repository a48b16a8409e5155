"""The browser lane (`make test-browser`, not part of `make test`): the console served by a real
`gameday console` process over a real stack, driven by Debian's chromium through Playwright.

Playwright never downloads a browser here: it launches the system chromium (CHROMIUM, apt's
`chromium`) headless, with the flags a closed network needs (no background connections), in a
fresh profile.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from mlgameday.stack.ports import free_port

from ..conftest import announce

CHROMIUM = os.environ.get("GAMEDAY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
# Where the screenshots go when asked (`make console-screenshots`: docs/console); else the test's tmp folder.
SCREENSHOTS = os.environ.get("GAMEDAY_SCREENSHOTS")
URL_LINE = re.compile(r"^\s*(candidate|interviewer):\s+(\S+)", re.M)
STARTUP_S = 60
# The console is under test here, not how fast a stack starts: on 2 cores shared with other work (load
# 30 seen) serving took more than the default 90 s to be ready, and the drill failed before it began.
CONSOLE_ENV = {"GAMEDAY_READY_TIMEOUT_S": "300", "COLUMNS": "400"}


@dataclass(frozen=True)
class ConsoleUrls:
    base: str
    candidate: str
    interviewer: str
    run_dir: Path


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no chromium at {CHROMIUM}: `make test-browser` installs Debian's chromium "
                    "(apt-get install -y chromium), or set GAMEDAY_CHROMIUM", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright gives each launch a fresh, empty profile of its own (--user-data-dir is its to set).
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def console_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleUrls]:
    """`gameday console` on a free loopback port, over its own run folder (its stack starts with the first drill)."""
    run_dir = tmp_path_factory.mktemp("console-run")
    gameday = shutil.which("gameday", path=str(Path(sys.executable).parent))
    port = free_port()
    log = (run_dir / "console.log").open("w")
    process = subprocess.Popen([gameday, "console", "--port", str(port), "--check-timeout", "90"],
                               env={**os.environ, **CONSOLE_ENV, "GAMEDAY_RUN_DIR": str(run_dir)},
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        urls = _wait_for_urls(run_dir / "console.log", process)
        announce(request, f"console_server: {urls['candidate']} (run folder {run_dir})")
        yield ConsoleUrls(f"http://127.0.0.1:{port}", urls["candidate"], urls["interviewer"], run_dir)
    finally:
        process.send_signal(signal.SIGINT)  # the console stops a running drill and recovers its faults
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        subprocess.run([gameday, "down"], env={**os.environ, "GAMEDAY_RUN_DIR": str(run_dir)},
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=120)


def _wait_for_urls(log: Path, process: subprocess.Popen) -> dict[str, str]:
    import time

    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        found = dict(URL_LINE.findall(log.read_text()))
        if len(found) == 2:
            return found
        if process.poll() is not None:
            pytest.fail(f"gameday console exited ({process.returncode}):\n{log.read_text()}", pytrace=False)
        time.sleep(0.2)
    pytest.fail(f"gameday console printed no URLs in {STARTUP_S}s:\n{log.read_text()}", pytrace=False)


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
