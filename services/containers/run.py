"""Running one of our containers: what it needs (a spec), and two ways to run it.

The stack runs `docker run` in the foreground as the component's process (its output is the
component's log; the container outlives the `gameday` command that started it). The test
fixtures run the same spec with testcontainers, which removes it with the session (and, where
ryuk's image can be had, even when the session is killed). A `ContainerRef` is how the
supervisor handles a running container: the same verbs as a process, through the engine.
"""

from __future__ import annotations

import os
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from ..errors import ImageError
from .engine import docker_client

LOOPBACK = "127.0.0.1"
LABEL = "dev.mlgameday.component"
# What status reports for a container (the same words as for a process).
RUNNING, PAUSED, DEAD = "running", "paused", "dead"


@dataclass
class ContainerSpec:
    image: str
    # container port -> host port, published on loopback only
    ports: dict[int, int] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    # host path -> path in the container
    volumes: dict[str, str] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)
    # uid:gid inside the container; the host user's, so files in bind mounts stay the user's
    user: str | None = None
    labels: dict[str, str] = field(default_factory=dict)


def host_user() -> str:
    return f"{os.getuid()}:{os.getgid()}"


def require_image(ref: str) -> str:
    """The local image's id, or an error saying how to build it (nothing is pulled)."""
    import docker.errors

    client = docker_client()
    try:
        return client.images.get(ref).id
    except docker.errors.ImageNotFound:
        raise ImageError(f"the image {ref} is not in the Docker engine",
                         hint="build the images first: `make images` (or `gameday images build`)") from None
    finally:
        client.close()


def docker_run_argv(spec: ContainerSpec, name: str, cidfile: str) -> list[str]:
    """`docker run` in the foreground; the engine removes the container when it stops."""
    argv = ["docker", "run", "--rm", "--name", name, "--cidfile", cidfile]
    if spec.user:
        argv += ["--user", spec.user]
    for key, value in spec.labels.items():
        argv += ["--label", f"{key}={value}"]
    for inside, outside in spec.ports.items():
        argv += ["--publish", f"{LOOPBACK}:{outside}:{inside}"]
    for key, value in spec.env.items():
        argv += ["--env", f"{key}={value}"]
    for host, inside in spec.volumes.items():
        argv += ["--volume", f"{host}:{inside}"]
    return [*argv, spec.image, *spec.command]


@contextmanager
def testcontainer(spec: ContainerSpec) -> Iterator[str]:
    """Run the spec with testcontainers; yield the container id; removed on exit."""
    from testcontainers.core.config import testcontainers_config
    from testcontainers.core.container import DockerContainer

    require_image(spec.image)
    if not ryuk_available(testcontainers_config.ryuk_image):
        testcontainers_config.ryuk_disabled = True
    container = DockerContainer(spec.image).with_envs(**spec.env)
    for inside in spec.ports:
        container.with_exposed_ports(inside)
    # Published on loopback only (with_bind_ports would take every interface).
    container.ports.update({f"{inside}/tcp": (LOOPBACK, outside) for inside, outside in spec.ports.items()})
    for host, inside in spec.volumes.items():
        container.with_volume_mapping(host, inside, "rw")
    if spec.command:
        container.with_command(spec.command)
    kwargs = {"labels": spec.labels} if spec.labels else {}
    if spec.user:
        kwargs["user"] = spec.user
    container.with_kwargs(**kwargs)
    with container:
        yield container.get_container_id()


def ryuk_available(image: str) -> bool:
    """testcontainers' reaper needs its image: here already, or pulled now (fails fast offline)."""
    import docker.errors

    if os.environ.get("TESTCONTAINERS_RYUK_DISABLED"):
        return False
    client = docker_client(timeout_s=30)
    try:
        client.images.get(image)
        return True
    except docker.errors.ImageNotFound:
        try:
            client.images.pull(image)
            return True
        except docker.errors.APIError:
            return False
    finally:
        client.close()


def container_logs(container_id: str, lines: int = 30) -> str:
    import docker.errors

    client = docker_client()
    try:
        return client.containers.get(container_id).logs(tail=lines).decode(errors="replace")
    except docker.errors.NotFound:
        return "(the container is gone)"
    finally:
        client.close()


@dataclass
class ContainerRef:
    """A running container handled like a process: kill, pause (the engine's freezer), stop.

    client_pid is the `docker run` that started it, reaped here when it is our child."""

    container_id: str
    client_pid: int | None = None

    def _container(self):
        import docker.errors

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
        """Memory in use by the container (page cache excluded), as `docker stats` shows it."""
        container = self._container()
        if container is None or container.status != "running":
            return None
        memory = container.stats(stream=False, one_shot=True).get("memory_stats", {})
        usage = memory.get("usage")
        if usage is None:
            return None
        stats = memory.get("stats", {})
        return usage - stats.get("total_inactive_file", stats.get("inactive_file", 0))

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
