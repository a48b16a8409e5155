"""A Docker engine: the one that answers, or one this project starts and later stops.

Where `docker info` fails and we are root on Debian/Ubuntu, `start_engine` installs Debian's
`docker.io` and runs `dockerd` by hand (no systemd needed) with its data root in the cache
folder, outside any work tree, so images and build cache survive. Its pid file marks it as
ours: `stop_engine` stops only an engine it started. Everywhere else the error says how to get one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import psutil

from ..errors import MissingToolError, StackError
from ..runtime.stop import stop_process

Say = Callable[[str], None]  # shows a progress line to the user
# The socket every client (docker CLI, docker SDK, testcontainers) looks at first.
SOCKET = "/var/run/docker.sock"
DEBIAN_PACKAGES = ("docker.io",)  # pulls containerd, runc, iptables and tini (docker-init)
READY_TIMEOUT_S = 60.0

HOW_TO_GET_ONE = (
    "start Docker (Docker Desktop, or `systemctl start docker`), or as root on Debian/Ubuntu run "
    "`gameday images engine start` (installs docker.io and starts dockerd by hand); then check `docker info`"
)


@dataclass(frozen=True)
class EngineHome:
    """The files of an engine this project starts (images.engine_root): data root, pid file, log."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def exec_root(self) -> Path:
        return self.root / "exec"

    @property
    def pid_file(self) -> Path:
        return self.root / "dockerd.pid"

    @property
    def log(self) -> Path:
        return self.root / "dockerd.log"

    def dockerd_argv(self, dockerd: str) -> list[str]:
        return [dockerd, "--data-root", str(self.data), "--exec-root", str(self.exec_root),
                "--pidfile", str(self.pid_file), "--host", f"unix://{SOCKET}",
                "--storage-driver", "overlay2"]


def docker_client(timeout_s: int = 60):
    """A docker SDK client that speaks the engine's API version (an old engine answers too)."""
    import docker

    return docker.from_env(version="auto", timeout=timeout_s)


def engine_problem() -> str | None:
    """None when a Docker engine answers, else why not."""
    try:
        client = docker_client(timeout_s=5)
        try:
            client.ping()
        finally:
            client.close()
        return None
    except Exception as exc:  # the SDK raises several unrelated types here
        return f"{type(exc).__name__}: {exc}"


def require_engine(why: str) -> None:
    if problem := engine_problem():
        raise MissingToolError(f"{why} needs a Docker engine, and none answered ({problem})", hint=HOW_TO_GET_ONE)


def our_dockerd(home: EngineHome) -> psutil.Process | None:
    """The dockerd this project started (from its pid file), if it still runs."""
    try:
        proc = psutil.Process(int(home.pid_file.read_text().strip()))
        cmdline = proc.cmdline()
    except (FileNotFoundError, ValueError, psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    if proc.status() == psutil.STATUS_ZOMBIE or str(home.data) not in cmdline:
        return None
    return proc


def can_start_engine() -> str | None:
    """None when this machine lets us install and start an engine ourselves, else why not."""
    if os.geteuid() != 0:
        return "not root"
    if shutil.which("dockerd") is None and shutil.which("apt-get") is None:
        return "no apt-get to install docker.io with (not Debian/Ubuntu)"
    return None


def start_engine(home: EngineHome, report: Say) -> bool:
    """Make sure an engine answers; start ours if none does. True when this call started it."""
    if engine_problem() is None:
        return False
    if why_not := can_start_engine():
        raise MissingToolError(f"no Docker engine answers, and one cannot be started here ({why_not})",
                               hint=HOW_TO_GET_ONE)
    if shutil.which("dockerd") is None:
        install_packages(DEBIAN_PACKAGES, report)
    if engine_problem() is None:  # the package's own scripts may have started one
        return False
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise MissingToolError("docker.io was installed but `dockerd` is not on PATH", hint=HOW_TO_GET_ONE)
    for path in (home.data, home.exec_root):
        path.mkdir(parents=True, exist_ok=True)
    report(f"starting dockerd by hand (no systemd): data root {home.data}, log {home.log}")
    with open(home.log, "ab") as log:
        proc = subprocess.Popen(home.dockerd_argv(dockerd), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while (problem := engine_problem()) is not None:
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = "\n    ".join(home.log.read_text(errors="replace").splitlines()[-15:])
            if proc.poll() is None:
                proc.terminate()
            raise StackError(f"dockerd did not answer ({problem}); the end of {home.log}:\n    {tail}",
                             hint="fix what the log says (iptables, cgroups, the storage driver), then retry")
        time.sleep(0.5)
    report(f"Docker engine ready (dockerd pid {proc.pid}; stop it with `gameday images engine stop`)")
    return True


def stop_engine(home: EngineHome, report: Say, timeout_s: float = 30.0) -> bool:
    """Stop the dockerd this project started (never another one). True when one was stopped."""
    proc = our_dockerd(home)
    if proc is None:
        return False
    report(f"stopping dockerd (pid {proc.pid}) and its containers")
    stop_process(proc, timeout_s, kill_wait_s=10)
    home.pid_file.unlink(missing_ok=True)
    return True


def install_packages(packages: tuple[str, ...], report: Say) -> None:
    """apt-get install (as root), with the command's output shown on failure."""
    report(f"installing {' '.join(packages)} from the OS packages (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-qq"],
                 ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]):
        done = subprocess.run(argv, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise StackError(f"`{' '.join(argv)}` failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}",
                             hint="check that the machine's apt mirror is reachable")
