"""Serving tests: seeded history through the real producer + ingest on the shared broker, a real
Feast store in a tmp run folder, models trained into a real BentoML model store, and a real
`bentoml serve` process on a free port (started the way the stack starts it).

Expensive setup is session-scoped and built once: history → training → server.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from kafka.admin import NewTopic

from mlgameday.config import Settings, load_settings
from mlgameday.stack.kafka.admin import admin_client

from .helpers import Server, write_config

# The tests' own config files decide the run folder; a stack's variables in the caller's
# shell (GAMEDAY_RUN_DIR, GAMEDAY_CONFIG) would override them and point at that stack.
for _name in ("GAMEDAY_RUN_DIR", "GAMEDAY_CONFIG"):
    os.environ.pop(_name, None)

HISTORY_MINUTES = 150


@dataclass
class TrainedRun:
    settings: Settings
    config_file: Path
    models: dict  # variant -> TrainedModel
    suffix: str


@pytest.fixture(scope="session")
def trained_run(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> TrainedRun:
    """A run folder with a seeded history (150 min at 4 trips/s) and the three variants trained on it."""
    from mlgameday.trainer.history import create_history
    from mlgameday.trainer.train import train

    root = tmp_path_factory.mktemp("serving-run")
    suffix = uuid.uuid4().hex[:8]
    client = admin_client(kafka_bootstrap)
    try:
        client.create_topics([NewTopic(name=f"{kind}.{suffix}", num_partitions=2, replication_factor=1)
                              for kind in ("req", "done", "dlq", "pred")])
    finally:
        client.close()
    config_file = write_config(root / "gameday.yaml", root / "run", kafka_bootstrap, suffix)
    settings = load_settings(config_file)
    create_history(settings, HISTORY_MINUTES, report=lambda _: None)
    models = {m.variant: m for m in train(settings)}
    return TrainedRun(settings, config_file, models, suffix)


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

