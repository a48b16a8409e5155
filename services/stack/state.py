"""The run folder: state.json (what runs where), logs/, data/. One folder is one stack."""

from __future__ import annotations

import fcntl
import json
import os
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

from ..errors import StackError
from .process import DEAD, ContainerRef, ProcessRef


@dataclass
class ComponentRecord:
    """What the supervisor knows about one started component."""

    name: str
    pid: int | None = None
    create_time: float | None = None
    ports: dict[str, int] = field(default_factory=dict)
    # Addresses others use to reach it, e.g. {"bootstrap": "127.0.0.1:39092"}.
    endpoints: dict[str, str] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)
    # Set by `gameday chaos stop`: a deliberate stop, shown as "stopped" not "dead".
    stopped: bool = False
    # A component run as a container: its id. Chaos, status and `down` then act on the
    # container (through the engine), and pid is the `docker run` client that started it.
    container: str | None = None
    # The digest of the settings the component was started with (Component.settings_digest): a
    # component whose settings changed since is restarted by Stack.reconfigure.
    settings_digest: str | None = None

    @property
    def process(self) -> ProcessRef | ContainerRef | None:
        if self.container is not None:
            return ContainerRef(self.container, client_pid=self.pid)
        if self.pid is None or self.create_time is None:
            return None
        return ProcessRef(self.pid, self.create_time)

    def state(self) -> str:
        if self.stopped:
            return "stopped"
        ref = self.process
        # A component with no process of its own (an external broker) is "external".
        return ref.state() if ref else "external"


class RunFolder:
    """Paths and the persisted state of one stack."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.logs = root / "logs"
        self.data = root / "data"
        self.state_file = root / "state.json"
        # The effective settings `up` ran with: later commands and the service processes
        # read the stack as it was started, whatever the shell's config says now.
        self.settings_file = root / "settings.yaml"
        self.lock_file = root / ".lock"

    def ensure(self) -> None:
        for path in (self.root, self.logs, self.data):
            path.mkdir(parents=True, exist_ok=True)

    def log_of(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    def data_of(self, component: str) -> Path:
        return self.data / component

    def load(self) -> dict[str, ComponentRecord]:
        if not self.state_file.exists():
            return {}
        raw = json.loads(self.state_file.read_text())
        return {name: ComponentRecord(**rec) for name, rec in raw.get("components", {}).items()}

    def save(self, records: dict[str, ComponentRecord]) -> None:
        self.ensure()
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"components": {n: asdict(r) for n, r in records.items()}}, indent=2))
        os.replace(tmp, self.state_file)

    def clear(self) -> None:
        self.state_file.unlink(missing_ok=True)

    def save_settings(self, data: dict) -> None:
        import yaml

        self.ensure()
        self.settings_file.write_text(yaml.safe_dump(data, sort_keys=False))

    def live_components(self) -> list[str]:
        return [name for name, rec in self.load().items()
                if rec.process is not None and rec.process.state() != DEAD]

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Serialize `up`/`down`/`chaos` on one run folder across processes."""
        self.ensure()
        with open(self.lock_file, "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StackError(
                    f"another gameday command is changing the stack in {self.root}",
                    hint="wait for it to finish, or check `gameday status`",
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
