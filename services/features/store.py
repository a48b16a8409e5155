"""The stack's Feast store: the repo's definitions, with every path inside the run folder.

Registry, SQLite online store (or Redis at settings.redis.url), offline parquet history and
a feature_store.yaml describing them live under <run>/data/features/, so the stack never
writes into the work tree and `feast` commands run in that folder see the stack's store.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import yaml
from feast import FeatureStore, FileSource
from feast.repo_config import RepoConfig

from ..config import Settings
from .definitions import FEATURE_VIEW, OFFLINE_FOLDER, FeatureStoreError, feast_objects, repo_path
from .offline import ZONE_STATS_SCHEMA, ensure_schema_part


def feature_data_dir(settings: Settings) -> Path:
    """Where the stack's feature store keeps its files and its feature_store.yaml (Feast's repo_path)."""
    return settings.run_path / "data" / "features"


def offline_dir(settings: Settings) -> Path:
    return feature_data_dir(settings) / OFFLINE_FOLDER


def labels_dir(settings: Settings) -> Path:
    return feature_data_dir(settings) / "data" / "labels"


def redis_connection_string(url: str) -> str:
    """redis://host:port/db → Feast's "host:port,db=N" form."""
    parsed = urlparse(url)
    if parsed.scheme not in ("redis", "rediss") or not parsed.hostname:
        raise FeatureStoreError(f"redis.url {url!r} is not a redis:// URL",
                                hint="use e.g. redis://127.0.0.1:6379/0")
    db = (parsed.path or "/0").lstrip("/") or "0"
    parts = [f"{parsed.hostname}:{parsed.port or 6379}", f"db={db}"]
    if parsed.password:
        parts.append(f"password={parsed.password}")
    if parsed.scheme == "rediss":
        parts.append("ssl=true")
    return ",".join(parts)


YAML_HEADER = """\
# The stack's Feast store, written by gameday each time a part of the stack opens it (edits are
# overwritten; the definitions are feature_repo/features.py). The feast CLI works in this folder:
#   feast feature-views list / feast feature-services list / feast entities list / feast plan
"""

# The folder's features.py: `feast plan` and `feast apply` there read the stack's own objects
# (in a folder without definitions, `feast apply` would delete every registered one).
DEFINITIONS_TEMPLATE = """\
# Written by gameday: the definitions of {repo}/features.py, as the stack registers them in
# this store (the history source's path made absolute). Edit those, not this file.
from pathlib import Path

from mlgameday.features.definitions import store_objects

zone, zone_stats_source, zone_stats_push_source, zone_stats_fv, triptime_v1 = store_objects(
    Path({repo!r}), Path(__file__).resolve().parent)
"""


def store_yaml(settings: Settings) -> dict:
    """The stack's feature_store.yaml: paths relative to the store's folder, as the `feast` CLI reads them there."""
    if settings.online_store == "redis":
        if not settings.redis.url:
            raise FeatureStoreError("online_store is 'redis' but redis.url is not set",
                                    hint="start the stack with `gameday up` (it starts Redis), or set GAMEDAY_REDIS__URL")
        # skip_dedup: ingest is the only writer and always writes the zone's current state;
        # Feast's default check would drop a corrected row that keeps the same event time.
        online = {"type": "redis", "connection_string": redis_connection_string(settings.redis.url),
                  "skip_dedup": True}
    else:
        online = {"type": "sqlite", "path": "online_store.db"}
    return {
        "project": settings.features.project,
        "provider": "local",
        "registry": {"path": "registry.db", "cache_ttl_seconds": 60},
        "online_store": online,
        # DuckDB joins the history in bounded memory (features.offline_memory_mb, then it spills);
        # Feast's file store (dask) grew past 20 GB on a day of drills (bench/train).
        "offline_store": {"type": "duckdb"},
        "entity_key_serialization_version": 3,
    }


def repo_config(settings: Settings) -> RepoConfig:
    """The store's config: the feature_store.yaml of its folder, which is also Feast's repo_path."""
    return RepoConfig(**store_yaml(settings), repo_path=feature_data_dir(settings))


def write_cli_files(settings: Settings) -> None:
    """Write the store's feature_store.yaml and features.py into its folder (where they changed), for the feast CLI."""
    folder = feature_data_dir(settings)
    _write_if_changed(folder / "feature_store.yaml", YAML_HEADER + yaml.safe_dump(store_yaml(settings), sort_keys=False))
    _write_if_changed(folder / "features.py", DEFINITIONS_TEMPLATE.format(repo=str(repo_path(settings))))


def _write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text() != text:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)


@contextmanager
def _apply_lock(data: Path) -> Iterator[None]:
    # ingest, serving and the trainer may all open the store at once on a fresh run folder.
    with open(data / ".apply.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def open_store(settings: Settings) -> FeatureStore:
    """The stack's FeatureStore, with the definitions applied on first use (and again when the registered
    history source is not the one this version registers)."""
    data = feature_data_dir(settings)
    data.mkdir(parents=True, exist_ok=True)
    ensure_schema_part(offline_dir(settings), ZONE_STATS_SCHEMA)
    labels_dir(settings).mkdir(parents=True, exist_ok=True)
    # repo_path too: Feast resolves the registry's relative path against it (the online store's, against the config's).
    store = FeatureStore(repo_path=str(data), config=repo_config(settings))
    with _apply_lock(data):
        write_cli_files(settings)
        objects = feast_objects(settings, data)
        if not _is_applied(store, objects):
            store.apply(objects)
            store.refresh_registry()
    return store


def _is_applied(store: FeatureStore, objects: list) -> bool:
    """The registry holds the feature view, with this history source (a run folder of an older
    version registered it under a relative path, which the DuckDB store cannot read)."""
    source = next(o for o in objects if isinstance(o, FileSource))
    try:
        # The online table/keys are created by apply; a new Redis or a deleted SQLite file needs it again.
        return store.get_feature_view(FEATURE_VIEW).batch_source == source
    except Exception:  # FeatureViewNotFoundException, or no registry file yet
        return False
