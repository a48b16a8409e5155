"""Online zone features: read them for serving, push the latest state from ingest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

import pandas as pd
from feast import FeatureStore
from feast.data_source import PushMode

from ..contracts import FEATURE_SERVICE, ZONE_FEATURES
from .definitions import ENTITY_KEY, PUSH_SOURCE, FeatureStoreError

# Columns of a pushed row (and of the offline history), in the batch source's order.
ROW_COLUMNS = [ENTITY_KEY, *ZONE_FEATURES, "event_timestamp", "created"]


@dataclass(frozen=True)
class ZoneFeatures:
    """A zone's online features; values are None when the zone has no (fresh) row."""

    zone_id: int
    values: dict[str, float | None]
    event_time: datetime | None

    def age_s(self, now: datetime | None = None) -> float | None:
        if self.event_time is None:
            return None
        return ((now or datetime.now(timezone.utc)) - self.event_time).total_seconds()


def service_feature_refs(store: FeatureStore, service: str = FEATURE_SERVICE) -> list[str]:
    """The "view:feature" references a registered feature service reads (what a model version was trained on)."""
    try:
        found = store.get_feature_service(service)
    except Exception as exc:  # Feast raises its own FeatureServiceNotFoundException
        raise FeatureStoreError(f"feature service {service!r} is not registered in the Feast repo ({exc})",
                           hint="the model was trained against another feature repo: run `gameday up` "
                                "(it applies feature_repo/) or retrain with `gameday train`") from None
    return [f"{projection.name_to_use()}:{feature.name}"
            for projection in found.feature_view_projections for feature in projection.features]


def read_zone_features(store: FeatureStore, zone_ids: Iterable[int],
                       refs: list[str] | None = None) -> dict[int, ZoneFeatures]:
    """The online features of each zone (rows older than the view's TTL read as missing).

    `refs`: the feature references to read (default: those of the current feature service)."""
    ids = [int(z) for z in zone_ids]
    if not ids:
        return {}
    refs = refs if refs is not None else service_feature_refs(store)
    names = [ref.split(":", 1)[1] for ref in refs]
    response = store.get_online_features(
        features=refs, entity_rows=[{ENTITY_KEY: z} for z in ids]
    ).to_dict(include_event_timestamps=True)
    result = {}
    for i, zone_id in enumerate(ids):
        values = {name: _plain(response[name][i]) for name in names}
        stamps = [response.get(f"{name}__ts", [None] * len(ids))[i] for name in names]
        event_time = _latest_time(stamps) if any(v is not None for v in values.values()) else None
        result[zone_id] = ZoneFeatures(zone_id, values, event_time)
    return result


def _plain(value: object) -> float | None:
    return None if value is None else float(value)


def _latest_time(stamps: list) -> datetime | None:
    times = []
    for stamp in stamps:
        if stamp is None:
            continue
        if isinstance(stamp, (int, float)):
            stamp = datetime.fromtimestamp(stamp, tz=timezone.utc)
        elif isinstance(stamp, datetime) and stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=timezone.utc)
        if isinstance(stamp, datetime) and stamp.year > 1970:
            times.append(stamp)
    return max(times) if times else None


def push_online(store: FeatureStore, rows: pd.DataFrame) -> None:
    """Write zone rows (ROW_COLUMNS) to the online store through the push source."""
    if len(rows):
        store.push(PUSH_SOURCE, rows, to=PushMode.ONLINE)


def rows_frame(records: list[tuple]) -> pd.DataFrame:
    """(zone_id, requests_15m, completed_30m, mean_speed_30m, event_timestamp, created) tuples → a push frame."""
    frame = pd.DataFrame.from_records(records, columns=ROW_COLUMNS)
    frame[ENTITY_KEY] = frame[ENTITY_KEY].astype("int64")
    frame["requests_15m"] = frame["requests_15m"].astype("int64")
    frame["completed_30m"] = frame["completed_30m"].astype("int64")
    frame["mean_speed_30m"] = frame["mean_speed_30m"].astype("float64")
    for column in ("event_timestamp", "created"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame
