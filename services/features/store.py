"""The stack's Feast store: the repo's definitions, with every path inside the run folder.

Registry, SQLite online store (or Redis at settings.redis.url) and offline parquet
history live under <run>/data/features/, so the stack never writes into the work tree.
"""

from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

from feast import FeatureStore
from feast.repo_config import RepoConfig

from ..config import Settings
from .definitions import FEATURE_VIEW, OFFLINE_FOLDER, FeatureStoreError, feast_objects
from .offline import ZONE_STATS_SCHEMA, ensure_schema_part


def feature_data_dir(settings: Settings) -> Path:
    """Where the stack's feature store keeps its files (also Feast's repo_path for relative sources)."""
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


def repo_config(settings: Settings, repo_path: Path | None = None) -> RepoConfig:
    """The store's config; `repo_path` moves where the sources' relative paths point (registry and online store stay)."""
    data = feature_data_dir(settings)
    if settings.online_store == "redis":
        if not settings.redis.url:
            raise FeatureStoreError("online_store is 'redis' but redis.url is not set",
                                    hint="start the stack with `gameday up` (it starts Redis), or set GAMEDAY_REDIS__URL")
        # skip_dedup: ingest is the only writer and always writes the zone's current state;
        # Feast's default check would drop a corrected row that keeps the same event time.
        online = {"type": "redis", "connection_string": redis_connection_string(settings.redis.url),
                  "skip_dedup": True}
    else:
        online = {"type": "sqlite", "path": str(data / "online_store.db")}
    return RepoConfig(
        project=settings.features.project,
        provider="local",
        registry={"path": str(data / "registry.db"), "cache_ttl_seconds": 60},
        online_store=online,
        offline_store={"type": "file"},
        entity_key_serialization_version=3,
        repo_path=repo_path or data,
    )


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
    """The stack's FeatureStore, with the definitions applied on first use."""
    data = feature_data_dir(settings)
    data.mkdir(parents=True, exist_ok=True)
    ensure_schema_part(offline_dir(settings), ZONE_STATS_SCHEMA)
    labels_dir(settings).mkdir(parents=True, exist_ok=True)
    store = FeatureStore(config=repo_config(settings))
    with _apply_lock(data):
        if not _is_applied(store):
            store.apply(feast_objects(settings))
            store.refresh_registry()
    return store


def _is_applied(store: FeatureStore) -> bool:
    try:
        store.get_feature_view(FEATURE_VIEW)
        # The online table/keys are created by apply; a new Redis or a deleted SQLite file needs it again.
        return True
    except Exception:  # FeatureViewNotFoundException, or no registry file yet
        return False
