"""Redis for Feast's online store (online_store: redis): the OS package's redis-server on
loopback, or the mlgameday-redis image in a container when kafka.mode is testcontainers."""

from __future__ import annotations

import shutil
from pathlib import Path

import redis as redis_client

from ..config import Settings
from ..containers.images import image_ref
from ..containers.run import ContainerSpec, host_user
from ..errors import MissingToolError
from .component import Component, LaunchSpec, StackContext
from .container import ContainerComponent
from .ports import LOOPBACK
from .state import ComponentRecord

REDIS_HINT = "install it from the OS packages (Debian/Ubuntu: `apt-get install -y redis-server`)"
REDIS_PORT = 6379
DATA_MOUNT = "/data"


def redis_args(port: int, bind: str, data_dir: Path | str) -> list[str]:
    """redis-server's arguments, wherever it runs."""
    return [
        "--port", str(port), "--bind", bind,
        "--dir", str(data_dir), "--daemonize", "no",
        # Snapshot on shutdown so online features survive `down` + `up`, like Kafka's data.
        "--save", "3600 1", "--appendonly", "no", "--maxmemory", "512mb",
    ]


class _Redis(Component):
    name = "redis"

    def endpoints(self, ctx: StackContext, ports: dict[str, int]) -> dict[str, str]:
        return {"url": f"redis://{LOOPBACK}:{ports['redis']}/0", "address": f"{LOOPBACK}:{ports['redis']}"}

    def is_ready(self, ctx: StackContext, record: ComponentRecord) -> bool:
        try:
            return bool(redis_client.Redis.from_url(record.endpoints["url"], socket_timeout=1).ping())
        except redis_client.RedisError:
            return False


class LocalRedis(_Redis):
    port_names = ("redis",)

    def prepare(self, ctx: StackContext) -> None:
        if shutil.which(ctx.settings.redis.binary) is None:
            raise MissingToolError(
                f"`{ctx.settings.redis.binary}` was not found; online_store 'redis' needs it", hint=REDIS_HINT)

    def launch(self, ctx: StackContext, ports: dict[str, int]) -> LaunchSpec:
        data = ctx.run.data_of(self.name)
        data.mkdir(parents=True, exist_ok=True)
        argv = [ctx.settings.redis.binary, *redis_args(ports["redis"], LOOPBACK, data), "--protected-mode", "yes"]
        return LaunchSpec(argv=argv, cwd=data)


def stack_redis_spec(settings: Settings, port: int, data_dir: Path) -> ContainerSpec:
    """The stack's Redis: the host's network, the local one's arguments, data in the run folder."""
    return ContainerSpec(
        image=image_ref(settings, "redis"), host_network=True,
        command=["redis-server", *redis_args(port, LOOPBACK, DATA_MOUNT), "--protected-mode", "yes"],
        volumes={str(data_dir): DATA_MOUNT}, user=host_user(),
    )


def published_redis_spec(settings: Settings, host_port: int) -> ContainerSpec:
    """A throwaway Redis behind a published port (the test fixture): it listens on every
    interface inside, the published port is on the host's loopback only."""
    return ContainerSpec(
        image=image_ref(settings, "redis"), ports={REDIS_PORT: host_port},
        command=["redis-server", *redis_args(REDIS_PORT, "0.0.0.0", DATA_MOUNT), "--protected-mode", "no"],
    )


class ContainerRedis(ContainerComponent, _Redis):
    image_key = "redis"
    port_names = ("redis",)

    def spec(self, ctx: StackContext, ports: dict[str, int]) -> ContainerSpec:
        data = ctx.run.data_of(self.name)
        data.mkdir(parents=True, exist_ok=True)
        return stack_redis_spec(ctx.settings, ports["redis"], data)

    def answers(self, ctx: StackContext, record: ComponentRecord) -> bool:
        return _Redis.is_ready(self, ctx, record)
