"""The project's images, named once: what `gameday images build` makes, the stack's
testcontainers mode runs, and the chart can use on a cluster with no registry."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version

from ..config import Settings

# Debian bookworm's redis-server (the Redis image is built from the OS package).
REDIS_VERSION = "7.0"


@dataclass(frozen=True)
class Image:
    key: str  # what `gameday images build --only` takes
    repository: str
    tag: str
    # The image it starts FROM (its key); the base's own source is images.base.
    parent: str | None
    what: str

    @property
    def ref(self) -> str:
        return f"{self.repository}:{self.tag}"


def app_version() -> str:
    """The project's version: the app image's tag, equal to the chart's appVersion."""
    return version("mlgameday")


def catalogue(settings: Settings) -> dict[str, Image]:
    """Every image, parents before children."""
    images = [
        Image("base", "mlgameday-base", "bookworm", None,
              "Debian bookworm: mmdebstrap from the apt mirror, or the image named by images.base"),
        Image("python", "mlgameday-python", "3.11", "base", "Python 3.11 and the project's pinned dependencies"),
        Image("app", "mlgameday", app_version(), "python", "every TripTime service (docker/entrypoint.sh)"),
        Image("kafka", "mlgameday-kafka", settings.kafka.version, "base",
              "Apache Kafka (KRaft): JRE 17 and the broker's Maven jars"),
        Image("redis", "mlgameday-redis", REDIS_VERSION, "base", "Redis, Feast's online store"),
    ]
    return {image.key: image for image in images}


def image_ref(settings: Settings, key: str) -> str:
    return catalogue(settings)[key].ref


def present(settings: Settings) -> dict[str, dict]:
    """key -> whether the image is in the engine, and its size."""
    import docker.errors

    from .engine import docker_client, require_engine

    require_engine("listing the images")
    client = docker_client()
    rows = {}
    try:
        for image in catalogue(settings).values():
            try:
                found = client.images.get(image.ref)
                rows[image.key] = {"ref": image.ref, "present": True, "id": found.id[:19],
                                   "size_mb": round(found.attrs.get("Size", 0) / 1e6)}
            except docker.errors.ImageNotFound:
                rows[image.key] = {"ref": image.ref, "present": False, "id": None, "size_mb": None}
    finally:
        client.close()
    return rows
