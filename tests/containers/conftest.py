"""The containers lane (`make test-containers`, GAMEDAY_KAFKA__MODE=testcontainers): a real
Docker engine and the images `make images` built. The tests that need them carry the `containers`
marker: `make test` deselects them, the lane selects them (pyproject.toml, Makefile)."""

from __future__ import annotations

import os
from typing import Iterator

import pytest

IN_CONTAINERS = os.environ.get("GAMEDAY_KAFKA__MODE") == "testcontainers"


@pytest.fixture(autouse=True)
def _in_the_containers_lane(request: pytest.FixtureRequest) -> None:
    """A `containers` test run outside the lane (named by hand) fails, saying how to run it."""
    if request.node.get_closest_marker("containers") and not IN_CONTAINERS:
        pytest.fail("a containers-lane test: run it with `make test-containers` "
                    "(GAMEDAY_KAFKA__MODE=testcontainers, a Docker engine, `make images`)", pytrace=False)


@pytest.fixture(scope="session")
def engine() -> Iterator:
    from mlgameday.containers.engine import docker_client

    client = docker_client()
    yield client
    client.close()
