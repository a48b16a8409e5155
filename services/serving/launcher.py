"""Start the service outside a stack — as the stack's component would — for tests and benchmarks."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx

from ..config import Settings
from ..errors import GamedayError
from ..stack.component import StackContext
from ..stack.state import ComponentRecord, RunFolder
from .component import ServingComponent


class ServingProcess:
    """`python -m mlgameday.serving` (→ bentoml serve) on `port`, with its output in `log_path`.

    `config_file` is passed as GAMEDAY_CONFIG so the process reads the same settings.
    """

    def __init__(self, settings: Settings, config_file: Path, bootstrap: str, port: int, log_path: Path,
                 ready_timeout_s: float = 90) -> None:
        component = ServingComponent()
        records = {"kafka": ComponentRecord("kafka", endpoints={"bootstrap": bootstrap})}
        ctx = StackContext(settings, RunFolder(settings.run_path), records)
        component.prepare(ctx)
        spec = component.launch(ctx, {"http": port})
        if spec is None:
            raise GamedayError(f"no trained model in {settings.run_path}", hint="run `gameday train` first")
        self.url = component.endpoints(ctx, {"http": port})["http"]
        self.log_path = log_path
        self._log = open(log_path, "ab")
        env = {**os.environ, **ctx.child_env(), **spec.env, "GAMEDAY_CONFIG": str(Path(config_file).resolve())}
        self.proc = subprocess.Popen(spec.argv, env=env, cwd=spec.cwd, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        try:
            self._wait_ready(ready_timeout_s)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise GamedayError(f"serving exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise GamedayError(f"serving not ready after {timeout_s:.0f}s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        return self.log_path.read_bytes()[-4000:].decode(errors="replace")

    def stop(self) -> None:
        """SIGTERM to the process group (bentoml and its worker), SIGKILL after 20 s."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=5)
        self._log.close()
