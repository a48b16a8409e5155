"""A component run as a Docker container from one of the project's local images (kafka.mode
testcontainers): `docker run` in the foreground is its process and its output the log; once
the container exists, the record carries its id and the supervisor acts on the container.

The stack's containers use the host's network and listen on loopback ports as the local
processes do. Behind a published port (docker-proxy), kafka-python's producer had not resumed
45 s after a broker restart in 2 of 4 tries and the broker-outage drill saw no traffic after
the recovery; on the host's network it resumed every time, as with the local broker.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from ..containers.engine import docker_client, require_engine
from ..containers.images import image_ref
from ..containers.run import LABEL, ContainerSpec, docker_run_argv, require_image
from ..errors import MissingToolError
from .component import Component, LaunchSpec, StackContext
from .state import ComponentRecord


class ContainerComponent(Component):
    """Subclasses say which image (a key of the image catalogue) and how to run it."""

    image_key: str = ""

    def spec(self, ctx: StackContext, ports: dict[str, int]) -> ContainerSpec:
        raise NotImplementedError

    def container_name(self, ctx: StackContext) -> str:
        """One name per run folder and component: a leftover of a crashed run is found and replaced."""
        digest = hashlib.sha256(str(ctx.run.root).encode()).hexdigest()[:10]
        return f"gameday-{digest}-{self.name}"

    def _cidfile(self, ctx: StackContext) -> Path:
        return ctx.run.root / f"{self.name}.cid"

    def prepare(self, ctx: StackContext) -> None:
        require_engine(f"{self.name} in a container (kafka.mode testcontainers)")
        if shutil.which("docker") is None:
            raise MissingToolError("the `docker` command was not found; the stack runs its containers with it",
                                   hint="install the Docker CLI (Debian/Ubuntu: apt-get install -y docker.io)")
        require_image(image_ref(ctx.settings, self.image_key))
        _remove_container(self.container_name(ctx))
        self._cidfile(ctx).unlink(missing_ok=True)

    def launch(self, ctx: StackContext, ports: dict[str, int]) -> LaunchSpec:
        spec = self.spec(ctx, ports)
        spec.labels = {LABEL: self.name, "dev.mlgameday.run": str(ctx.run.root), **spec.labels}
        return LaunchSpec(docker_run_argv(spec, self.container_name(ctx), str(self._cidfile(ctx))))

    def is_ready(self, ctx: StackContext, record: ComponentRecord) -> bool:
        if record.container is None:
            cidfile = self._cidfile(ctx)
            container_id = cidfile.read_text().strip() if cidfile.exists() else ""
            if not container_id:
                return False
            record.container = container_id
        return self.answers(ctx, record)

    def answers(self, ctx: StackContext, record: ComponentRecord) -> bool:
        """The service in the container answers (its own readiness check)."""
        raise NotImplementedError


def _remove_container(name: str) -> None:
    """Force-remove a container by name if one exists (a leftover of a run that crashed)."""
    import docker.errors

    client = docker_client()
    try:
        client.containers.get(name).remove(force=True)
    except docker.errors.NotFound:
        pass
    finally:
        client.close()
