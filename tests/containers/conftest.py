"""The containers lane (`make test-containers`, GAMEDAY_KAFKA__MODE=testcontainers): a real
Docker engine and the images `make images` built. In the other modes these tests do not run."""

from __future__ import annotations

import os
from typing import Iterator

import pytest

IN_CONTAINERS = os.environ.get("GAMEDAY_KAFKA__MODE") == "testcontainers"
needs_containers = pytest.mark.skipif(
    not IN_CONTAINERS, reason="the testcontainers lane runs these: make test-containers")


@pytest.fixture(scope="session")
def engine() -> Iterator:
    from mlgameday.containers.engine import docker_client

    client = docker_client()
    yield client
    client.close()
