"""A trained run, shared by the trainer and serving tests: seeded history through the real producer +
ingest on the shared broker, a real Feast store in a tmp run folder, and the three variants trained
into a real BentoML model store. Session-scoped: built once (tests/conftest.py registers it).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from kafka.admin import NewTopic

from mlgameday.config import Settings, load_settings
from mlgameday.stack.kafka.admin import admin_client

# The tests' own config files decide the run folder; a stack's variables in the caller's
# shell (GAMEDAY_RUN_DIR, GAMEDAY_CONFIG) would override them and point at that stack.
for _name in ("GAMEDAY_RUN_DIR", "GAMEDAY_CONFIG"):
    os.environ.pop(_name, None)

HISTORY_MINUTES = 150
HISTORY_RATE = 4.0


def write_config(path: Path, run_dir: Path, bootstrap: str, suffix: str, **serving: object) -> Path:
    """A gameday.yaml of the test's own: unique topics and consumer group on the shared broker."""
    config = {
        "run_dir": str(run_dir),
        "kafka": {"mode": "external", "bootstrap": bootstrap},
        # A history at 4 trips/s: ~14k usable trips in the 150 minutes the trainer creates.
        "topics": {"trips_requested": f"req.{suffix}", "trips_completed": f"done.{suffix}",
                   "dlq": f"dlq.{suffix}", "predictions": f"pred.{suffix}"},
        "producer": {"rate": HISTORY_RATE},
        "ingest": {"group_id": f"ingest-{suffix}", "checkpoint_interval_s": 0.5},
        "serving": serving,
    }
    path.write_text(yaml.safe_dump(config))
    return path



@dataclass
class TrainedRun:
    settings: Settings
    config_file: Path
    models: dict  # variant -> TrainedModel
    suffix: str


@pytest.fixture(scope="session")
def trained_run(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> TrainedRun:
    """A run folder with a seeded history (150 min at 4 trips/s) and the three variants trained on it."""
    from mlgameday.history import create_history
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
