"""The supervisor: start components in dependency order, wait for readiness, stop, signal.

State lives in the run folder, so every `gameday` command (and every test) sees the
same stack: `up` starts detached processes and returns; `down` stops them all.
"""

from __future__ import annotations

import shutil
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from ..config import Settings, load_settings, settings_as_dict
from ..errors import StackError
from .component import CHAOS_ACTIONS, Component, ComponentCatalogue, Reporter, StackContext, silent
from .ports import port_is_free, reuse_or_pick
from .process import DEAD, PAUSED, spawn
from .registry import build_components
from .state import ComponentRecord, RunFolder



@dataclass
class ComponentStatus:
    name: str
    state: str
    pid: int | None
    ports: dict[str, int]
    endpoints: dict[str, str]
    uptime_s: float | None
    rss_mb: float | None  # the whole process group (workers included)
    # {"pid", "name", "rss_mb"} of each process of the group, the leader first.
    processes: list[dict[str, Any]] = field(default_factory=list)
    # The container's id when the component runs in one (kafka.mode testcontainers).
    container: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


class Stack:
    """One stack = one run folder + the components the settings call for."""

    def __init__(self, settings: Settings, components: list[Component] | None = None,
                 report: Reporter = silent, services: ComponentCatalogue | None = None) -> None:
        """`components`: exactly these; else the infrastructure the settings call for, plus the
        `services` catalogue's (mlgameday.app.open_stack hands over the TripTime services)."""
        self.run = RunFolder(settings.run_path)
        self.report = report
        self._fixed_components = components
        self._services = services
        # A stack that is up is handled with the settings it was started with.
        if self.run.state_file.exists() and self.run.settings_file.exists():
            # The file has no secrets: the caller's settings (its environment or config) bring them.
            password = settings.kafka.sasl_password
            secrets = {"kafka": {"sasl_password": password.get_secret_value()}} if password else {}
            settings = load_settings(self.run.settings_file, run_dir=settings.run_dir, **secrets)
        self._use(settings)

    def _use(self, settings: Settings) -> None:
        self.settings = settings
        self.components = (self._fixed_components if self._fixed_components is not None
                           else build_components(settings, self._services))
        self.by_name = {c.name: c for c in self.components}

    def _context(self, records: dict[str, ComponentRecord]) -> StackContext:
        return StackContext(self.settings, self.run, records, self.report)

    # ---- up / down -------------------------------------------------------------------------

    def up(self, settings: Settings | None = None) -> dict[str, ComponentRecord]:
        """Start every component, each after its dependencies are ready; undo all on failure."""
        with self.run.locked():
            if settings is not None:
                self._use(settings)
            running = self.run.live_components()
            if running:
                raise StackError(
                    f"the stack in {self.run.root} is already running ({', '.join(running)})",
                    hint="see `gameday status`, or stop it first with `gameday down`",
                )
            previous = self.run.load()
            records: dict[str, ComponentRecord] = {}
            self.run.save_settings(settings_as_dict(self.settings, secrets="left out"))
            try:
                # A wave's components depend only on earlier waves: launch them together, then wait
                # for each (the Python services spend seconds importing; in turn, they added up).
                for wave in dependency_waves(self.components):
                    launched = [self._launch(c, records, previous.get(c.name)) for c in wave]
                    for component, record in zip(wave, launched):
                        self._await_ready(component, records, record)
                return records
            except BaseException:
                self.report("stack", "start failed: stopping what was started")
                self._stop_all(records)
                self.run.clear()
                raise

    def _start(self, component: Component, records: dict[str, ComponentRecord],
               previous: ComponentRecord | None) -> ComponentRecord:
        record = self._launch(component, records, previous)
        self._await_ready(component, records, record)
        return record

    def _launch(self, component: Component, records: dict[str, ComponentRecord],
                previous: ComponentRecord | None) -> ComponentRecord:
        """Prepare, pick ports, spawn; recorded at once so a failed `up` stops it too."""
        ctx = self._context(records)
        self.report(component.name, "preparing")
        component.prepare(ctx)
        ports = self._assign_ports(component, ctx, records, previous)
        record = ComponentRecord(name=component.name, ports=ports, endpoints=component.endpoints(ctx, ports),
                                 settings_digest=component.settings_digest(self.settings))
        spec = component.launch(ctx, ports)
        if spec is not None:
            self.report(component.name, "starting")
            ref = spawn(spec.argv, log_file=self.run.log_of(component.name),
                        env={**ctx.child_env(), **spec.env}, cwd=spec.cwd)
            record.pid, record.create_time = ref.pid, ref.create_time
        records[component.name] = record
        self.run.save(records)
        return record

    def _await_ready(self, component: Component, records: dict[str, ComponentRecord],
                     record: ComponentRecord) -> None:
        ctx = self._context(records)
        self._wait_ready(component, ctx, record)
        component.after_ready(ctx, record)
        self.run.save(records)
        self.report(component.name, "ready")

    def _assign_ports(self, component: Component, ctx: StackContext,
                      records: dict[str, ComponentRecord], previous: ComponentRecord | None) -> dict[str, int]:
        taken = {p for r in records.values() for p in r.ports.values()}
        ports = {}
        for name, port in component.fixed_ports(ctx).items():
            if not port_is_free(port):
                raise StackError(
                    f"port {port} for {component.name} ({name}) is taken{_port_owner(port)}",
                    hint=f"stop that process, or unset the {component.name} port in the config to use a free one",
                )
            ports[name] = port
        for name in component.port_names:
            if name not in ports:
                ports[name] = reuse_or_pick(previous.ports.get(name) if previous else None, taken)
            taken.add(ports[name])
        return ports

    def _wait_ready(self, component: Component, ctx: StackContext, record: ComponentRecord) -> None:
        timeout = self.settings.ready_timeout_s
        start = time.monotonic()
        self.report(component.name, "waiting until ready")
        while True:
            ref = record.process
            if ref is not None and ref.state() == DEAD:
                raise StackError(
                    f"{component.name} exited while starting; the end of its log:\n{self.log_tail(component.name)}",
                    hint=f"full log: {self.run.log_of(component.name)}",
                )
            if component.is_ready(ctx, record):
                return
            waited = time.monotonic() - start
            if waited > timeout:
                raise StackError(
                    f"{component.name} was not ready after {timeout:.0f} s; the end of its log:\n"
                    f"{self.log_tail(component.name)}",
                    hint="raise ready_timeout_s in the config if the machine is slow",
                )
            self.report(component.name, f"waiting until ready ({waited:.0f}s)")
            time.sleep(0.25)

    def down(self, wipe: bool = False) -> list[str]:
        """Stop every component (reverse order). With wipe, delete their data too."""
        with self.run.locked():
            records = self.run.load()
            stopped = self._stop_all(records)
            self.run.clear()
            if wipe:
                ctx = self._context(records)
                for component in self.components:
                    for path in component.data_paths(ctx):
                        shutil.rmtree(path, ignore_errors=True)
            return stopped

    def _stop_all(self, records: dict[str, ComponentRecord]) -> list[str]:
        stopped = []
        order = [c.name for c in self.components] + [n for n in records if n not in self.by_name]
        for name in reversed(order):
            record = records.get(name)
            if record is None or record.process is None:
                continue
            self.report(name, "stopping")
            timeout = self.by_name[name].stop_timeout_s if name in self.by_name else 15.0
            record.process.terminate(timeout)
            stopped.append(name)
        return stopped

    def reconfigure(self, settings: Settings) -> list[str]:
        """Run with these settings from now on (written to settings.yaml, which the services read), and
        restart the running components whose settings changed: their record's digest differs. Returns
        the restarted ones, in start order."""
        with self.run.locked():
            self._use(settings)
            self.run.save_settings(settings_as_dict(settings, secrets="left out"))
            records = self.run.load()
        stale = [c.name for c in self.components
                 if (record := records.get(c.name)) is not None and record.state() == "running"
                 and record.settings_digest != c.settings_digest(settings)]
        for name in stale:
            self.report(name, "restarting with the new settings")
            self.chaos("restart", name)
        return stale

    # ---- status / logs ---------------------------------------------------------------------

    def status(self) -> list[ComponentStatus]:
        records = self.run.load()
        statuses = []
        for name in [c.name for c in self.components] + [n for n in records if n not in self.by_name]:
            record = records.get(name)
            if record is None:
                statuses.append(ComponentStatus(name, "not started", None, {}, {}, None, None))
                continue
            state = record.state()
            ref = record.process
            alive = state in ("running", "paused")
            members = ref.group_memory() if ref and alive else []
            rss = sum(member_rss for _, _, member_rss in members)
            statuses.append(ComponentStatus(
                name=name, state=state, pid=record.pid, ports=record.ports, endpoints=record.endpoints,
                uptime_s=round(time.time() - record.started_at, 1) if alive else None,
                rss_mb=round(rss / 2**20, 1) if rss else None,
                processes=[{"pid": pid, "name": pname, "rss_mb": round(member_rss / 2**20, 1)}
                           for pid, pname, member_rss in members],
                container=record.container,
            ))
        return statuses

    def status_json(self) -> dict[str, Any]:
        records = self.run.load()
        kafka = records.get("kafka")
        return {
            "run_dir": str(self.run.root),
            "running": any(s.state in ("running", "paused") for s in self.status()),
            "kafka_bootstrap": kafka.endpoints.get("bootstrap") if kafka else None,
            "components": [s.as_dict() for s in self.status()],
        }

    def log_tail(self, component: str, lines: int = 20) -> str:
        path = self.run.log_of(component)
        if not path.exists():
            return "(no log yet)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def endpoint(self, component: str, name: str) -> str | None:
        record = self.run.load().get(component)
        return record.endpoints.get(name) if record else None

    # ---- chaos -----------------------------------------------------------------------------

    def chaos(self, action: str, name: str) -> str:
        """Process-level faults: kill -9, stop, start, pause (SIGSTOP), resume, restart."""
        if action not in CHAOS_ACTIONS:
            raise StackError(f"unknown chaos action {action!r}", hint=f"use one of: {', '.join(CHAOS_ACTIONS)}")
        with self.run.locked():
            records = self.run.load()
            record = records.get(name)
            if record is None:
                known = ", ".join(records) or "none: the stack is not up"
                raise StackError(f"no component {name!r} in the stack", hint=f"components: {known}")
            if record.process is None and action != "start":
                raise StackError(f"{name} is not a process of this stack (it is external); chaos cannot touch it")
            component = self.by_name.get(name)
            ref = record.process
            state = record.state()
            if action == "kill":
                if not ref or not ref.kill():
                    return f"{name} was not running ({state})"
                _wait_dead(ref)
                return f"sent SIGKILL to {name} ({_which(record)})"
            if action == "pause":
                if not ref or not ref.signal_group(signal.SIGSTOP):
                    return f"{name} was not running ({state})"
                return f"sent SIGSTOP to {name} ({_which(record)}): paused"
            if action == "resume":
                if not ref or state != PAUSED:
                    return f"{name} was not paused ({state})"
                ref.signal_group(signal.SIGCONT)
                return f"sent SIGCONT to {name} ({_which(record)}): resumed"
            if action == "stop":
                if ref:
                    ref.terminate(component.stop_timeout_s if component else 15.0)
                record.stopped = True
                self.run.save(records)
                return f"stopped {name} (SIGTERM to {_which(record)})"
            # start / restart: a new process on the same ports, waited until ready.
            if component is None:
                raise StackError(f"{name} is not a component of the current config; cannot start it")
            if ref and ref.alive():
                ref.terminate(component.stop_timeout_s)
            del records[name]
            new = self._start(component, records, previous=record)
            return f"restarted {name} ({_which(new)}) on ports {new.ports or '-'}; ready"


def dependency_waves(components: list[Component]) -> list[list[Component]]:
    """Components grouped so each depends only on earlier groups (input: dependency order)."""
    depth: dict[str, int] = {}
    for component in components:
        depth[component.name] = 1 + max((depth[d] for d in component.depends_on if d in depth), default=-1)
    waves: list[list[Component]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for component in components:
        waves[depth[component.name]].append(component)
    return waves


def _which(record: ComponentRecord) -> str:
    """How messages name what a chaos action hit: a container, or a pid."""
    return f"container {record.container[:12]}" if record.container else f"pid {record.pid}"


def _wait_dead(ref, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and ref.state() != DEAD:
        time.sleep(0.05)


def _port_owner(port: int) -> str:
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
                return f" by pid {conn.pid} ({psutil.Process(conn.pid).name()})"
    except (psutil.AccessDenied, psutil.NoSuchProcess):
        pass
    return " by another process"
