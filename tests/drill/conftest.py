"""One real stack for every end-to-end drill test (session-scoped: started, trained and settled once)."""

from __future__ import annotations

from typing import Iterator

import pytest

from mlgameday.config import Settings, load_settings
from mlgameday.drill.catalog import Catalog
from mlgameday.drill.profile import drill_profile
from mlgameday.drill.runner import ensure_stack, settle, start_missing, train_if_needed
from mlgameday.drill.targets import LocalTarget

from ..conftest import announce


@pytest.fixture(scope="module")
def drill_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Kafka, ingest, producer, serving, riders and monitor with the drill profile, a trained model.

    The profile is in the stack's own settings (its settings.yaml): nothing leaks into the
    environment of the tests that run after these."""
    settings = load_settings(run_dir=tmp_path_factory.mktemp("drill-stack"))
    stack, _, _ = ensure_stack(settings, profile=drill_profile(Catalog().get("schema-change")))
    for status in stack.status():
        if status.container:  # kafka.mode testcontainers
            announce(request, f"drill_stack: {status.name} in container {status.container}")
    try:
        target = LocalTarget(stack.settings, stack)
        train_if_needed(target, stack.settings)
        start_missing(target, stack.settings)
        settle()
        yield stack.settings
    finally:
        stack.down()
