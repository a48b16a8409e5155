"""TripTime features: per-pickup-zone demand and speed, written by the ingest stream.

Names follow Feast's template: objects named by role. `feast apply` registers them;
the stack applies the same objects to its own store in the run folder.
"""

from datetime import timedelta

from feast import Entity, FeatureService, FeatureView, Field, FileSource, PushSource
from feast.data_format import ParquetFormat
from feast.types import Float64, Int64
from feast.value_type import ValueType
from mlgameday.contracts import FEATURE_SERVICE, ZONE_RANGE

# The pickup zone (the city's zones, contracts.ZONE_IDS): every zone feature is keyed by it.
zone = Entity(name="zone", join_keys=["zone_id"], value_type=ValueType.INT64,
              description=f"NYC-like pickup zone, TLC zone id {ZONE_RANGE}")

# History of what ingest pushed: a folder of parquet part files, appended per checkpoint
# (one file per flush, never rewritten), read by point-in-time joins for training. The format
# is explicit: Feast's DuckDB store reads a path without ".parquet" only when it is given.
zone_stats_source = FileSource(
    name="zone_stats_source",
    path="data/zone_stats",
    file_format=ParquetFormat(),
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
)

# Ingest pushes one row per affected zone per polled batch (online at once, offline buffered).
zone_stats_push_source = PushSource(name="zone_stats_push", batch_source=zone_stats_source)

# Streaming zone features; TTL 1 h: an older row means the zone has gone quiet, not "0 trips".
zone_stats_fv = FeatureView(
    name="zone_stats",
    entities=[zone],
    ttl=timedelta(hours=1),
    schema=[
        Field(name="requests_15m", dtype=Int64, description="trip requests in the zone, last 15 min"),
        Field(name="completed_30m", dtype=Int64, description="trips from the zone completed, last 30 min"),
        Field(name="mean_speed_30m", dtype=Float64, description="mean speed of those trips, mph"),
    ],
    source=zone_stats_push_source,
    online=True,
)

# What model version 1 reads online; a new model with new features gets triptime_v2.
triptime_v1 = FeatureService(
    name=FEATURE_SERVICE,  # "triptime_v1", the name each saved model carries
    features=[zone_stats_fv[["requests_15m", "completed_30m", "mean_speed_30m"]]],
)
