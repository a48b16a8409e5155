"""Serving tests: the trained run of tests/trained.py (seeded history, a real Feast store, models in a
real BentoML model store) and a real `bentoml serve` process on a free port (started the way the
stack starts it). Expensive setup is session-scoped and built once: history → training → server.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from mlgameday.config import load_settings

from ..trained import TrainedRun, write_config
from .helpers import Server


@pytest.fixture(scope="session")
def server(trained_run: TrainedRun, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # The cache is off so a feature written by a test is read by the very next request.
    config_file = write_config(trained_run.config_file.with_name("serving.yaml"), trained_run.settings.run_path,
                               kafka_bootstrap, trained_run.suffix, feature_cache_ms=0)
    settings = load_settings(config_file)
    server = Server(settings, config_file, kafka_bootstrap, tmp_path_factory.mktemp("logs") / "serving.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def store(trained_run: TrainedRun):
    """The run folder's Feast store, opened in the test process (to read or push zone rows)."""
    from mlgameday.features.store import open_store

    return open_store(trained_run.settings)

