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
    """When the shared stack runs: from a user until the next test is not one (started again if a user
    still comes after that). The users are collected first (users_first), so the stack runs once per
    process: in a two-worker run, once on each worker (tests/xdist_split.py hands out the users)."""

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


def uses_drill_stack(item: pytest.Item | None) -> bool:
    return item is not None and "drill_stack" in getattr(item, "fixturenames", ())


# The modules of the stack's users: the xdist controller deals them out by node id (tests/xdist_split.py).
DRILL_STACK_MODULES = frozenset({"tests/drill/test_blind_candidate.py", "tests/drill/test_narrow_tables.py",
                                 "tests/drill/test_scenarios_e2e.py", "tests/interview/test_product_impact_e2e.py"})


def module_of(nodeid: str) -> str:
    return nodeid.split("::")[0]


def users_first(items: list[pytest.Item]) -> None:
    """The stack's users before every other test (each group in its own order): one stack start."""
    outside = [item.nodeid for item in items if uses_drill_stack(item)
               and module_of(item.nodeid) not in DRILL_STACK_MODULES]
    if outside:
        raise pytest.UsageError(f"{outside[0]} uses drill_stack from a module not in DRILL_STACK_MODULES "
                                "(tests/drill_stack.py): add its module there")
    items[:] = [item for item in items if uses_drill_stack(item)] + [
        item for item in items if not uses_drill_stack(item)]


def before_test(item: pytest.Item) -> None:
    if uses_drill_stack(item):
        LIFETIME.ensure_running()


def after_test(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """The test this process runs next is known (xdist holds a test back until it has the next one)."""
    if uses_drill_stack(item) and not uses_drill_stack(nextitem):
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
