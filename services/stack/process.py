"""The handles the supervisor starts, inspects and signals: an OS process (and its children)
by pid, or a container through the Docker engine (kafka.mode testcontainers)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

# What `status` shows for a component.
RUNNING, PAUSED, DEAD, STOPPED = "running", "paused", "dead", "stopped"


@dataclass
class ProcessRef:
    """A pid plus its start time, so a recycled pid is never mistaken for our process."""

    pid: int
    create_time: float

    def process(self) -> psutil.Process | None:
        try:
            proc = psutil.Process(self.pid)
            if abs(proc.create_time() - self.create_time) > 1.0:
                return None
            return proc
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None

    def state(self) -> str:
        proc = self.process()
        if proc is None:
            return DEAD
        try:
            status = proc.status()
        except psutil.NoSuchProcess:
            return DEAD
        if status == psutil.STATUS_ZOMBIE:
            _reap(self.pid)
            return DEAD
        if status == psutil.STATUS_STOPPED:
            return PAUSED
        return RUNNING

    def alive(self) -> bool:
        return self.state() in (RUNNING, PAUSED)

    def rss_bytes(self) -> int | None:
        """Resident memory of the component: its process, group and descendants (serving's BentoML
        supervisor holds ~90 MB, its worker several hundred)."""
        members = self.group_memory()
        return sum(rss for _, _, rss in members) if members else None

    def members(self) -> list[psutil.Process]:
        """The process, its group and every descendant that left the group (BentoML's supervisor
        starts its workers in sessions of their own), the leader first; [] when it is gone."""
        leader = self.process()
        if leader is None:
            return []
        try:
            descendants = leader.children(recursive=True)
        except psutil.NoSuchProcess:
            descendants = []
        found = {proc.pid: proc for proc in [leader, *_group_members(self.pid), *descendants]}
        return sorted(found.values(), key=lambda proc: (proc.pid != self.pid, proc.pid))

    def group_memory(self) -> list[tuple[int, str, int]]:
        """(pid, process name, resident bytes) of each of members()."""
        found = []
        for proc in self.members():
            try:
                found.append((proc.pid, proc.name(), proc.memory_info().rss))
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return found

    def signal_group(self, sig: int) -> bool:
        """Signal the process group (the process was started as a session leader)."""
        if self.process() is None:
            return False
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            return False
        except PermissionError:
            os.kill(self.pid, sig)
        return True

    def kill(self) -> bool:
        """SIGKILL the process group and every descendant that left it (BentoML's workers run in
        their own group: killing only the group left them serving, as orphans, after a chaos kill)."""
        members = self.members()
        if not members:
            return False
        killed = self.signal_group(signal.SIGKILL)
        for proc in members[1:]:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        return killed

    def terminate(self, timeout_s: float = 15.0) -> None:
        """SIGTERM, wait, then SIGKILL: no process of the group is left behind."""
        proc = self.process()
        if proc is None:
            return
        members = _group_members(self.pid)
        if self.state() == PAUSED:
            self.signal_group(signal.SIGCONT)
        self.signal_group(signal.SIGTERM)
        _, alive = psutil.wait_procs(members, timeout=timeout_s)
        for leftover in alive:
            try:
                leftover.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(alive, timeout=5)
        _reap(self.pid)


def _group_members(pgid: int) -> list[psutil.Process]:
    members = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(proc.pid) == pgid:
                members.append(proc)
        except (ProcessLookupError, psutil.NoSuchProcess, PermissionError):
            continue
    return members


def _reap(pid: int) -> None:
    # Only our own children can be reaped; for others this is a harmless no-op.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def spawn(argv: list[str], *, log_file: Path, env: dict[str, str] | None = None,
          cwd: Path | None = None) -> ProcessRef:
    """Start a detached process (own session) whose stdout and stderr append to log_file."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} start: {' '.join(argv)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    return ProcessRef(proc.pid, psutil.Process(proc.pid).create_time())


@dataclass
class ContainerRef:
    """A running container handled like a process: kill, pause (the engine's freezer), stop.

    client_pid is the `docker run` that started it, reaped here when it is our child."""

    container_id: str
    client_pid: int | None = None

    def _container(self):
        import docker.errors

        from ..containers.engine import docker_client

        client = docker_client(timeout_s=30)
        try:
            return client.containers.get(self.container_id)
        except docker.errors.NotFound:
            return None
        finally:
            client.close()

    def state(self) -> str:
        container = self._container()
        if container is None:
            self._reap_client()
            return DEAD
        return {"running": RUNNING, "paused": PAUSED, "created": RUNNING, "restarting": RUNNING}.get(
            container.status, DEAD)

    def alive(self) -> bool:
        return self.state() in (RUNNING, PAUSED)

    def rss_bytes(self) -> int | None:
        members = self.group_memory()
        return members[0][2] if members else None

    def group_memory(self) -> list[tuple[int, str, int]]:
        """[(pid of the container's init as the engine sees it, "container <id>", bytes in use)]:
        the memory `docker stats` shows (page cache excluded), for the whole container."""
        container = self._container()
        if container is None or container.status != "running":
            return []
        memory = container.stats(stream=False, one_shot=True).get("memory_stats", {})
        usage = memory.get("usage")
        if usage is None:
            return []
        stats = memory.get("stats", {})
        in_use = usage - stats.get("total_inactive_file", stats.get("inactive_file", 0))
        return [(container.attrs["State"]["Pid"], f"container {self.container_id[:12]}", in_use)]

    def kill(self) -> bool:
        return self.signal_group(signal.SIGKILL)

    def signal_group(self, sig: int) -> bool:
        """SIGSTOP/SIGCONT pause and unpause the whole container; other signals go to its init."""
        import docker.errors

        container = self._container()
        if container is None or container.status not in ("running", "paused"):
            return False
        try:
            if sig == signal.SIGSTOP:
                container.pause()
            elif sig == signal.SIGCONT:
                container.unpause()
            else:
                container.kill(signal=signal.Signals(sig).name)
        except docker.errors.APIError:
            return False
        return True

    def terminate(self, timeout_s: float = 15.0) -> None:
        """`docker stop` (SIGTERM, then SIGKILL after the timeout); wait until it is removed."""
        import docker.errors

        container = self._container()
        if container is None:
            return
        try:
            if container.status == "paused":
                container.unpause()
            container.stop(timeout=max(1, int(timeout_s)))
        except docker.errors.NotFound:
            return
        except docker.errors.APIError:
            pass  # already stopping or removed: wait below
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and self._container() is not None:
            time.sleep(0.1)
        self._reap_client(wait_s=5)

    def _reap_client(self, wait_s: float = 0.0) -> None:
        """Collect the exit of the `docker run` client if this process started it (else a no-op)."""
        if self.client_pid is None:
            return
        deadline = time.monotonic() + wait_s
        while True:
            try:
                pid, _ = os.waitpid(self.client_pid, os.WNOHANG)
            except ChildProcessError:
                return
            if pid or time.monotonic() >= deadline:
                return
            time.sleep(0.05)
