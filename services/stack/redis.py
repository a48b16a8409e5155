"""Redis for Feast's online store (online_store: redis): the OS package's redis-server on loopback."""

from __future__ import annotations

import shutil

import redis as redis_client

from ..errors import MissingToolError
from .component import Component, LaunchSpec, StackContext
from .ports import LOOPBACK
from .state import ComponentRecord

REDIS_HINT = "install it from the OS packages (Debian/Ubuntu: `apt-get install -y redis-server`)"


class LocalRedis(Component):
    name = "redis"
    port_names = ("redis",)

    def prepare(self, ctx: StackContext) -> None:
        if shutil.which(ctx.settings.redis.binary) is None:
            raise MissingToolError(
                f"`{ctx.settings.redis.binary}` was not found; online_store 'redis' needs it", hint=REDIS_HINT)

    def launch(self, ctx: StackContext, ports: dict[str, int]) -> LaunchSpec:
        data = ctx.run.data_of(self.name)
        data.mkdir(parents=True, exist_ok=True)
        return LaunchSpec(
            argv=[
                ctx.settings.redis.binary,
                "--port", str(ports["redis"]), "--bind", LOOPBACK,
                "--dir", str(data), "--daemonize", "no", "--protected-mode", "yes",
                # Snapshot on shutdown so online features survive `down` + `up`, like Kafka's data.
                "--save", "3600 1", "--appendonly", "no", "--maxmemory", "512mb",
            ],
            cwd=data,
        )

    def endpoints(self, ctx: StackContext, ports: dict[str, int]) -> dict[str, str]:
        return {"url": f"redis://{LOOPBACK}:{ports['redis']}/0", "address": f"{LOOPBACK}:{ports['redis']}"}

    def is_ready(self, ctx: StackContext, record: ComponentRecord) -> bool:
        try:
            return bool(redis_client.Redis.from_url(record.endpoints["url"], socket_timeout=1).ping())
        except redis_client.RedisError:
            return False
