"""ONE real drill stack for the whole run (Kafka, ingest, producer, serving, riders, monitor, a trained
model): the end-to-end drills, the blind candidate and the interview share it, so it is started and
trained once. It is stopped as soon as the last test that uses it has run, not at the end of the run:
the tests after it get the cores to themselves."""

from __future__ import annotations

from typing import Callable, Iterator

import pytest

from mlgameday.config import Settings, load_settings
from mlgameday.drill.catalog import Catalog
from mlgameday.drill.profile import drill_profile
from mlgameday.drill.runner import ensure_stack, settle, start_missing, train_if_needed
from mlgameday.drill.targets import LocalTarget


class _Lifetime:
    """When the shared stack runs: from its first user until the last collected test that asked for it
    (started again if a user still comes after that, e.g. on another xdist schedule)."""

    last_user: str | None = None
    start: Callable[[], None] | None = None
    stop: Callable[[], None] | None = None

    def release(self) -> None:
        stop, self.stop = self.stop, None
        if stop is not None:
            stop()

    def ensure_running(self) -> None:
        if self.stop is None and self.start is not None:
            self.start()


LIFETIME = _Lifetime()


def note_users(items: list[pytest.Item]) -> None:
    users = [item.nodeid for item in items if "drill_stack" in getattr(item, "fixturenames", ())]
    LIFETIME.last_user = users[-1] if users else None


def before_test(item: pytest.Item) -> None:
    if "drill_stack" in getattr(item, "fixturenames", ()):
        LIFETIME.ensure_running()


def after_test(item: pytest.Item) -> None:
    if item.nodeid == LIFETIME.last_user:
        LIFETIME.release()


@pytest.fixture(scope="session")
def drill_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The stack with the drill profile in its own settings (its settings.yaml): nothing leaks into the
    environment of the tests that run after these."""
    from .conftest import announce

    settings = load_settings(run_dir=tmp_path_factory.mktemp("drill-stack"))
    running: list[Settings] = []

    def start() -> None:
        stack, _, _ = ensure_stack(settings, profile=drill_profile(Catalog().get("schema-change")))
        LIFETIME.stop = stack.down
        for status in stack.status():
            if status.container:  # kafka.mode testcontainers
                announce(request, f"drill_stack: {status.name} in container {status.container}")
        target = LocalTarget(stack.settings, stack)
        train_if_needed(target, stack.settings)
        start_missing(target, stack.settings)
        settle()
        running[:] = [stack.settings]

    LIFETIME.start = start
    try:
        start()
        yield running[0]
    finally:
        LIFETIME.start = None
        LIFETIME.release()
