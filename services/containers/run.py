"""Running one of our containers: what it needs (a spec), and two ways to run it.

The stack runs `docker run` in the foreground as the component's process (its output is the
component's log; the container outlives the `gameday` command that started it). The test
fixtures run a spec with testcontainers, which removes it with the session (and, where
ryuk's image can be had, even when the session is killed).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from ..errors import ImageError
from .engine import docker_client

# Published ports are reachable from this host only.
PUBLISH_ADDRESS = "127.0.0.1"
LABEL = "dev.mlgameday.component"


@dataclass
class ContainerSpec:
    image: str
    # container port -> host port, published on PUBLISH_ADDRESS only
    ports: dict[int, int] = field(default_factory=dict)
    # The host's network instead (no published ports): the service listens on the host's
    # loopback itself, and nothing stands between clients and it (see stack/container.py).
    host_network: bool = False
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
    if spec.host_network:
        argv += ["--network", "host"]
    for key, value in spec.labels.items():
        argv += ["--label", f"{key}={value}"]
    for inside, outside in spec.ports.items():
        argv += ["--publish", f"{PUBLISH_ADDRESS}:{outside}:{inside}"]
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
    # Published on PUBLISH_ADDRESS only (with_bind_ports would take every interface).
    container.ports.update({f"{inside}/tcp": (PUBLISH_ADDRESS, outside) for inside, outside in spec.ports.items()})
    for host, inside in spec.volumes.items():
        container.with_volume_mapping(host, inside, "rw")
    if spec.command:
        container.with_command(spec.command)
    kwargs: dict[str, str] = {}
    if spec.user:
        kwargs["user"] = spec.user
    if spec.host_network:
        kwargs["network_mode"] = "host"
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
