"""Load the Feast definitions of feature_repo/features.py, the one place they are written.

The `feast` CLI reads that file from the repo folder; the stack imports the very same
module by path, so the two can never disagree.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from feast import FileSource

from ..config import Settings
from ..errors import GamedayError

# The source tree's feature_repo/ (services/ is the package `mlgameday`, feature_repo/ sits beside it).
DEFAULT_REPO_PATH = Path(__file__).resolve().parents[2] / "feature_repo"
PUSH_SOURCE = "zone_stats_push"
FEATURE_VIEW = "zone_stats"
ENTITY_KEY = "zone_id"
# The offline history folder and the push source's batch source path, relative to the repo path.
OFFLINE_FOLDER = "data/zone_stats"


class FeatureStoreError(GamedayError):
    kind = "FeatureStoreError"


def repo_path(settings: Settings) -> Path:
    return (settings.features.repo_path or DEFAULT_REPO_PATH).expanduser().resolve()


@lru_cache(maxsize=4)
def _load(path: Path) -> ModuleType:
    source = path / "features.py"
    if not source.is_file():
        raise FeatureStoreError(
            f"Feast definitions not found at {source}",
            hint="set features.repo_path (GAMEDAY_FEATURES__REPO_PATH) to the feature_repo/ folder",
        )
    spec = importlib.util.spec_from_file_location("triptime_feature_repo", source)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def load_definitions(settings: Settings) -> ModuleType:
    """The feature_repo module: `zone`, `zone_stats_push_source`, `zone_stats_fv`, `triptime_v1`."""
    return _load(repo_path(settings))


def feast_objects(settings: Settings, store_folder: Path) -> list:
    """Every object `feast apply` would register from the repo, for the store kept in `store_folder`."""
    return store_objects(repo_path(settings), store_folder)


def store_objects(repo: Path, store_folder: Path) -> list:
    """The objects of `repo`/features.py (entity, sources, view, service) for the store kept in `store_folder`.

    The history source's relative path is resolved against that folder (Feast's rule for a
    repo's files): Feast 0.67's DuckDB offline store reads a FileSource path as given, that is
    relative to the process's working directory, so the stack registers the absolute path.
    """
    module = _load(repo.expanduser().resolve())
    # One deep copy of them all, so the push source and the view share the copied source.
    objects = copy.deepcopy([module.zone, module.zone_stats_source, module.zone_stats_push_source,
                             module.zone_stats_fv, module.triptime_v1])
    source = objects[1]
    source.file_options.uri = FileSource.get_uri_for_file_path(store_folder, source.path)
    return objects
