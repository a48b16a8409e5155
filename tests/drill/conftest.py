"""One real stack for every end-to-end drill test (session-scoped: started, trained and settled once)."""

from __future__ import annotations

from typing import Iterator

import pytest

from mlgameday.config import Settings, load_settings
from mlgameday.drill.catalog import Catalog
from mlgameday.drill.profile import applied, drill_profile
from mlgameday.drill.runner import ensure_stack, settle, start_missing, train_if_needed
from mlgameday.drill.targets import LocalTarget


@pytest.fixture(scope="module")
def drill_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Kafka, ingest, producer, serving, riders and monitor with the drill profile, a trained model.

    Module-scoped on purpose: the drill profile lives in os.environ while the stack runs (the
    stack's processes copy it, also on chaos restarts), and must be gone before the other
    test folders load their settings (a leaked 30 s freshness budget made them alert).
    """
    settings = load_settings(run_dir=tmp_path_factory.mktemp("drill-stack"))
    with applied(drill_profile(Catalog().get("schema-change"))):
        stack, _ = ensure_stack(settings)
        try:
            target = LocalTarget(settings, stack)
            train_if_needed(target, settings)
            start_missing(target, settings)
            settle()
            yield settings
        finally:
            stack.down()
