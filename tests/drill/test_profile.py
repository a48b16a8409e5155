"""A stack started outside a drill (plain `gameday up`) lacks the drill profile: the drill finds out
from the running processes' environments, and only for what a restart would change."""

from __future__ import annotations

import os
import subprocess
import sys

from mlgameday.drill.profile import drill_profile, lacking_profile
from mlgameday.stack.supervisor import ComponentStatus


def running(name: str, env: dict[str, str]) -> tuple[ComponentStatus, subprocess.Popen]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                               env={k: v for k, v in os.environ.items() if not k.startswith("GAMEDAY_")} | env)
    return ComponentStatus(name, "running", process.pid, {}, {}, 1.0, 10.0), process


def test_services_started_without_the_profile_are_found_and_only_those() -> None:
    profile = drill_profile()
    plain_monitor, p1 = running("monitor", {})
    drill_monitor, p2 = running("monitor", profile)
    # the rate differs, but the drill sets it through a knob: no restart for that
    other_rate = {**profile, "GAMEDAY_PRODUCER__RATE": "15"}
    producer, p3 = running("producer", other_rate)
    plain_ingest, p4 = running("ingest", {})  # the profile has nothing for ingest
    stopped = ComponentStatus("producer", "stopped", None, {}, {}, None, None)
    try:
        statuses = [plain_monitor, drill_monitor, producer, plain_ingest, stopped]
        assert lacking_profile(statuses, profile) == ["monitor"]
        assert lacking_profile([drill_monitor], profile) == []
    finally:
        for process in (p1, p2, p3, p4):
            process.kill()
            process.wait()
