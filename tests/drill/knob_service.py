"""A stand-in service process for the target conformance and profile tests: the real admin server with a
service's real knob model (contracts/knobs.py) and the run folder's key, as a process the stack supervises.
Usage: knob_service.py COMPONENT PORT RUN_DIR"""

from __future__ import annotations

import sys
import threading

from mlgameday.config import load_settings
from mlgameday.contracts.knobs import KNOBS
from mlgameday.runtime.admin_http import AdminServer, Knobs
from mlgameday.runtime.admin_key import admin_token
from mlgameday.runtime.shutdown import install_stop_handlers

if __name__ == "__main__":
    component, port, run_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    stopping = install_stop_handlers()
    token = admin_token(load_settings(run_dir=run_dir))
    knobs = Knobs(KNOBS[component]) if component in KNOBS else None  # the monitor has no knobs
    server = AdminServer(port, lambda: True, knobs=knobs, token=token).start()
    stopping.wait()
    server.stop()
