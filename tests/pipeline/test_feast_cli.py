"""The feast CLI on the stack's own store: the real `feast` command, run in the run folder's store folder."""

from __future__ import annotations

import pytest

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import yaml
from feast import FeatureStore

from mlgameday.config import load_settings
from mlgameday.features.offline import ZONE_STATS_SCHEMA, write_part
from mlgameday.features.online import push_online, read_zone_features, rows_frame
from mlgameday.features.store import feature_data_dir, offline_dir, open_store, store_yaml

pytestmark = pytest.mark.integration  # needs a real broker / server

FEAST = Path(sys.executable).parent / "feast"


def feast(folder: Path, *args: str) -> str:
    done = subprocess.run([str(FEAST), *args], cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"feast {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_feast_commands_in_the_run_folder_describe_the_stacks_store(tmp_path: Path) -> None:
    settings = load_settings(run_dir=tmp_path / ".gameday")
    stack_store = open_store(settings)
    folder = feature_data_dir(settings)
    assert folder == tmp_path / ".gameday" / "data" / "features"

    views = feast(folder, "feature-views", "list")
    assert "zone_stats" in views and "{'zone'}" in views
    services = feast(folder, "feature-services", "list")
    assert "triptime_v1" in services and "zone_stats:mean_speed_30m" in services
    assert "zone" in feast(folder, "entities", "list")
    # The folder's features.py holds the stack's own objects: a plan there changes nothing (in a folder
    # without definitions, `feast apply` would delete every registered one).
    assert "No changes to registry" in feast(folder, "plan")

    # Same registry, same online store: what the CLI opens (the folder's feature_store.yaml) reads the
    # rows the stack wrote, online and offline.
    configuration = yaml.safe_load(feast(folder, "configuration"))
    assert configuration["registry"]["path"] == "registry.db" and configuration["online_store"]["path"] == "online_store.db"
    assert configuration["offline_store"]["type"] == "duckdb"
    now = pd.Timestamp.now(tz="UTC").floor("s")
    push_online(stack_store, rows_frame([(132, 17, 23, 11.5, now, now)]))
    write_part(offline_dir(settings), 1, rows_frame([(132, 17, 23, 11.5, now - timedelta(minutes=5), now)]), ZONE_STATS_SCHEMA)
    cli_store = FeatureStore(repo_path=str(folder))
    assert read_zone_features(cli_store, [132])[132].values == {"requests_15m": 17.0, "completed_30m": 23.0,
                                                                 "mean_speed_30m": 11.5}
    entity = pd.DataFrame({"zone_id": [132], "event_timestamp": [now]})
    offline = cli_store.get_historical_features(entity_df=entity, features=cli_store.get_feature_service("triptime_v1")).to_df()
    assert offline.loc[0, "completed_30m"] == 23


def test_the_folders_yaml_follows_the_stacks_online_store(tmp_path: Path) -> None:
    """With Redis, the folder's feature_store.yaml names the stack's Redis (it is rewritten at each open)."""
    settings = load_settings(run_dir=tmp_path / "run", online_store="redis", redis={"url": "redis://127.0.0.1:6390/2"})
    described = store_yaml(settings)
    assert described["online_store"] == {"type": "redis", "connection_string": "127.0.0.1:6390,db=2", "skip_dedup": True}
    assert described["registry"]["path"] == "registry.db" and described["offline_store"] == {"type": "duckdb"}
