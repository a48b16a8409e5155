"""One typed config for every part: defaults < YAML file < GAMEDAY_* environment variables.

The YAML file is, in order: the path given to `--config`, `$GAMEDAY_CONFIG`, or
`gameday.yaml` in the current folder if there is one. Nested keys map to environment
variables with a double underscore: `kafka.heap_mb` is `GAMEDAY_KAFKA__HEAP_MB`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from .contracts import LONGEST_ZONE_WINDOW_S, Topic
from .errors import ConfigError

DEFAULT_CONFIG_FILE = "gameday.yaml"
CACHE_HOME = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mlgameday"


class KafkaSettings(BaseModel):
    # local: a KRaft broker started by the stack; external: a cluster you run;
    # testcontainers: a broker in Docker (needs a Docker engine).
    mode: Literal["local", "external", "testcontainers"] = "local"
    # Required when mode is external, e.g. "broker-1:9092".
    bootstrap: str | None = None
    # Broker port for mode local; unset picks a free loopback port (kept across restarts).
    port: int | None = Field(None, ge=1024, le=65535)
    version: str = "4.1.1"
    heap_mb: int = Field(320, ge=128, le=512, description="broker JVM heap, MB")
    partitions: int = Field(3, ge=1, le=64, description="partitions per topic")
    # Where Maven puts the broker's jars: outside the work tree, fetched once.
    jar_cache: Path = CACHE_HOME / "kafka"
    ready_timeout_s: float = Field(60, gt=0)
    # The longest wait between a client's attempts to reach a broker it lost. kafka-python doubles
    # it from 50 ms up to 30 s by default: a broker back after a minute's outage (a pod restarted on a
    # loaded node) was then reached up to ~36 s later; every client of the project reconnects within this.
    reconnect_backoff_max_ms: int = Field(1000, ge=100, le=60_000)
    # Client security, honoured by every Kafka client of the project (runtime.kafka.kafka_options):
    # PLAINTEXT (default), SSL, SASL_PLAINTEXT or SASL_SSL. With mode local and a SASL protocol the
    # stack's broker listens with SASL (SCRAM) and is formatted with this user.
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] = "SCRAM-SHA-512"
    sasl_username: str | None = None
    # Best from the environment (GAMEDAY_KAFKA__SASL_PASSWORD; the Helm chart sets it from a
    # Secret); never written to the run folder's settings.yaml.
    sasl_password: SecretStr | None = None
    # TLS: the CA file that signed the broker's certificate (unset: the system's CAs); a client
    # certificate and key for mutual TLS; whether the broker's name must match its certificate.
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_check_hostname: bool = True
    # A Kafka client.properties (Java format) giving the settings above, e.g. mounted from the
    # Secret the Helm chart names (kafka.auth.existingSecret): security.protocol, sasl.mechanism,
    # sasl.jaas.config (username/password), PEM ssl.truststore.location / ssl.keystore.location,
    # ssl.endpoint.identification.algorithm. Keys set here explicitly win over the file's.
    client_properties: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _read_client_properties(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("client_properties"):
            return {**client_properties_settings(Path(data["client_properties"])), **data}
        return data

    @model_validator(mode="after")
    def _external_needs_bootstrap(self) -> "KafkaSettings":
        if self.mode == "external" and not self.bootstrap:
            raise ValueError("kafka.mode 'external' needs kafka.bootstrap (host:port[,host:port])")
        return self

    @model_validator(mode="after")
    def _sasl_needs_a_user(self) -> "KafkaSettings":
        if self.security_protocol.startswith("SASL") and not (self.sasl_username and self.sasl_password):
            raise ValueError(f"kafka.security_protocol {self.security_protocol} needs kafka.sasl_username and "
                             "kafka.sasl_password (e.g. GAMEDAY_KAFKA__SASL_PASSWORD)")
        if self.mode == "local" and self.security_protocol == "SASL_PLAINTEXT" and self.sasl_mechanism == "PLAIN":
            raise ValueError("the local broker's SASL users are SCRAM users: use kafka.sasl_mechanism "
                             "SCRAM-SHA-512 or SCRAM-SHA-256 with kafka.mode local")
        if self.mode == "testcontainers" and self.security_protocol != "PLAINTEXT":
            raise ValueError("kafka.mode 'testcontainers' runs its broker without SASL or TLS: use PLAINTEXT "
                             "(a SASL_PLAINTEXT broker: kafka.mode local)")
        if self.mode == "local" and self.security_protocol.endswith("SSL"):
            raise ValueError("the local broker listens without TLS: use SASL_PLAINTEXT (or PLAINTEXT) with "
                             "kafka.mode local, SSL/SASL_SSL with a broker you run (mode external)")
        return self


_JAAS_VALUE = r'{key}\s*=\s*"((?:[^"\\]|\\.)*)"'


def client_properties_settings(path: Path) -> dict[str, Any]:
    """The kafka.* settings a Java client.properties file gives (see KafkaSettings.client_properties)."""
    if not path.is_file():
        raise ValueError(f"kafka.client_properties {path} does not exist")
    props: dict[str, str] = {}
    pending = ""
    for raw in path.read_text().splitlines():
        line = pending + raw.strip()
        if line.endswith("\\"):  # a continued line
            pending = line[:-1]
            continue
        pending = ""
        if line and not line.startswith(("#", "!")):
            key, value = re.match(r"([^=:\s]+)\s*[=:\s]?\s*(.*)", line).groups()  # Java: key ends at = : or a space
            props[key] = value
    found: dict[str, Any] = {}
    if "security.protocol" in props:
        found["security_protocol"] = props["security.protocol"]
    if "sasl.mechanism" in props:
        found["sasl_mechanism"] = props["sasl.mechanism"]
    if jaas := props.get("sasl.jaas.config"):
        for key, name in (("username", "sasl_username"), ("password", "sasl_password")):
            if match := re.search(_JAAS_VALUE.format(key=key), jaas):
                found[name] = match.group(1).replace('\\"', '"')
    for store, name in (("truststore", "ssl_cafile"), ("keystore", "ssl_certfile")):
        if location := props.get(f"ssl.{store}.location"):
            if props.get(f"ssl.{store}.type", "JKS").upper() != "PEM":
                raise ValueError(f"{path}: ssl.{store}.type must be PEM (the Python clients read PEM files, "
                                 f"not JKS or PKCS12): convert it, e.g. with keytool/openssl")
            found[name] = location
    if props.get("ssl.endpoint.identification.algorithm", "https") == "":
        found["ssl_check_hostname"] = False
    return found


class TopicNames(BaseModel):
    """The name on the broker of each contract topic (contracts.Topic), the one place clients read it:
    producer, ingest, serving's publisher, the monitor, the riders, the drill, the CLI, the stack."""

    model_config = {"extra": "forbid"}
    trips_requested: str = Topic.TRIPS_REQUESTED.value
    trips_completed: str = Topic.TRIPS_COMPLETED.value
    predictions: str = Topic.PREDICTIONS.value
    alerts: str = Topic.ALERTS.value
    dlq: str = Topic.DLQ.value

    def __getitem__(self, topic: Topic) -> str:
        return getattr(self, topic.name.lower())

    def all(self) -> tuple[str, ...]:
        return tuple(self[topic] for topic in Topic)

    def contract_of(self, name: str) -> Topic | None:
        """Which contract topic the broker's topic `name` is (None: none of ours)."""
        return next((topic for topic in Topic if self[topic] == name), None)


class RedisSettings(BaseModel):
    # Set by the stack for the processes it starts; or point it at your own Redis.
    url: str | None = None
    binary: str = "redis-server"


class ProducerSettings(BaseModel):
    """The trip simulator as a stack component (`python -m mlgameday.producer`)."""

    # Admin HTTP port (/faults); the stack sets it. Unset: a free port.
    port: int = Field(0, ge=0, le=65535)
    # Admin HTTP address: loopback locally; the Helm chart sets 0.0.0.0 so probes reach it.
    host: str = "127.0.0.1"
    rate: float = Field(20.0, gt=0, le=100_000, description="trip requests per second")
    # Labels (trips.completed) are emitted duration_s / time_scale wall seconds after the request:
    # 300x, so that an hour-long trip's label comes in 12 s and the monitor judges quality within
    # its label wait (the city's clock is not scaled: requests are real time, like the history's).
    time_scale: float = Field(300.0, gt=0, le=100_000)
    # On start, first emit the trips since the city's clock (the newest trip already sent), at
    # most this many past seconds, at `rate` (labels due by now included), as if the producer had
    # been running. The default is the longest zone window (30 min): a fresh stack's features are
    # at their steady level at once, and a producer restarted after a pause fills its gap.
    warm_start_s: float = Field(float(LONGEST_ZONE_WINDOW_S), ge=0, le=3600)
    seed: int = 42


class IngestSettings(BaseModel):
    """The Kafka → Feast ingest consumer (`python -m mlgameday.ingest`)."""

    port: int = Field(0, ge=0, le=65535)
    # Admin HTTP address: loopback locally; the Helm chart sets 0.0.0.0 so probes reach it.
    host: str = "127.0.0.1"
    group_id: str = "ingest"
    max_poll_records: int = Field(5000, ge=1, le=100_000)
    poll_timeout_ms: int = Field(100, ge=1, le=10_000)
    # Batching of a live stream: the broker holds a fetch until fetch_min_kb have arrived or
    # fetch_wait_ms passed. Fewer, larger batches cost less CPU (one online write per batch);
    # fetch_wait_ms is the most it adds to feature freshness. 0 KB: every poll takes what is there.
    fetch_min_kb: int = Field(64, ge=0, le=65_536)
    fetch_wait_ms: int = Field(100, ge=0, le=5_000)
    # State + offsets are checkpointed (and offline rows flushed) at most this often.
    checkpoint_interval_s: float = Field(2.0, gt=0, le=600)
    # How many recent event ids are remembered to drop redelivered duplicates.
    dedup_capacity: int = Field(200_000, ge=1000, le=10_000_000)
    # The event-time policy. An event stamped more than max_ahead_s past ingest's clock is
    # dead-lettered with the reason: accepted, it would move its zone's clock into the future and
    # every live event of the zone after it would be late. The margin covers clock skew between hosts.
    # An event older than its zone's window (a request 15 min, a label 30 min behind the zone's
    # latest event) cannot change a feature: it is counted `late` (a late label is still stored).
    max_ahead_s: float = Field(60.0, ge=0, le=86_400)
    # A progress line (events per topic and outcome, dead letters by reason, lag) this often, so the
    # log of an incident shows the pipeline's throughput and backlog minute by minute.
    log_interval_s: float = Field(10.0, gt=0, le=3600)
    # A backlog with no record fetched for this long: a warning with each partition's view, and the
    # partitions behind sought again where their state is (ingest/pipeline.py, _refetch_if_stalled).
    stall_s: float = Field(20.0, gt=0, le=3600)


class FeatureSettings(BaseModel):
    """Where the Feast definitions are read from (the store's data lives in the run folder)."""

    # The feature_repo/ folder with the definitions; unset: the one in the source tree.
    repo_path: Path | None = None
    project: str = "triptime"
    # Memory DuckDB (Feast's offline store) may take for a point-in-time join; past it the join
    # spills to the run folder. Unbounded, DuckDB took 15 GB to join 3 h of live history (bench/train).
    offline_memory_mb: int = Field(1024, ge=256, le=65_536)


class TrainerSettings(BaseModel):
    """The one-shot training job (`gameday train`; the image's `trainer` job)."""

    # Minutes of history `gameday train` creates when none exists yet, at the live density
    # (producer.rate): the first 30 (the longest zone window) only warm the features up, and the
    # last hour waits for its long trips' labels (see trainer/dataset.py usable_labels).
    history_minutes: int = Field(150, ge=100, le=24 * 60)
    # The latest share of the trips (in time order) held out for evaluation (never trained on).
    holdout_share: float = Field(0.25, gt=0.05, lt=0.9)
    seed: int = 7
    # Rows of training features + predictions saved with the model as the monitor's baseline.
    reference_rows: int = Field(5000, ge=100, le=200_000)


class ServingSettings(BaseModel):
    """The BentoML service (`bentoml serve mlgameday.serving.service:TripTime`)."""

    # HTTP port; the stack sets it. 0: a free port.
    port: int = Field(0, ge=0, le=65535)
    # Listen address: loopback for the local stack; 0.0.0.0 in a container.
    host: str = "127.0.0.1"
    # Live model when none was promoted yet: a variant (fast, accurate, worse) or a full tag.
    model: str = "accurate"
    # Request bodies larger than this are refused (413) before they are read.
    max_body_mb: float = Field(8, gt=0, le=256)
    # Zone features read from the online store are reused for this long (0: read every request).
    feature_cache_ms: float = Field(500, ge=0, le=60_000)
    # Predictions waiting to be published (a few seconds of batch traffic); when full, new ones are dropped and counted.
    publish_buffer: int = Field(100_000, ge=10, le=1_000_000)


class RidersSettings(BaseModel):
    """The rider app (`python -m mlgameday.riders`): asks serving for an ETA for every trip request."""

    # Admin HTTP port (health, metrics); the stack sets it. 0: a free port.
    port: int = Field(0, ge=0, le=65535)
    # Listen address: loopback for the local stack; 0.0.0.0 in a container.
    host: str = "127.0.0.1"
    # serving's base URL; unset: where the run folder's stack runs it (a cluster names its Service).
    serving_url: str | None = None


class MonitorSettings(BaseModel):
    """The monitor (`python -m mlgameday.monitor`): windows of predictions joined to late labels."""

    # Admin HTTP port (/metrics, /ready); the stack sets it. 0: a free port.
    port: int = Field(0, ge=0, le=65535)
    # Admin HTTP address: loopback locally; the Helm chart sets 0.0.0.0 so probes reach it.
    host: str = "127.0.0.1"
    group_id: str = "gameday-monitor"
    # latest: judge live traffic from now on; earliest: replay what the topics hold.
    auto_offset_reset: Literal["earliest", "latest"] = "latest"
    # Which predictions are judged (shadow/canary ones are counted, not windowed).
    roles: list[Literal["live", "shadow", "canary"]] = ["live"]
    # A window closes at window_rows predictions or after window_s seconds, whichever comes first.
    window_rows: int = Field(1000, ge=10, le=1_000_000)
    window_s: float | None = Field(60.0, gt=0)
    # Windows with fewer rows are reported as "too few rows", never as drift.
    min_rows: int = Field(200, ge=1)
    # A closed window is judged once this share of its predictions has a label, or after
    # label_wait_s, or when more than max_pending_windows wait (labels are late; never wait forever).
    # 0.99: the last labels are the longest trips'; judged without them, a window's MAE reads 10-20%
    # below the reference's (measured in drills).
    label_coverage: float = Field(0.99, ge=0, le=1)
    # labels.missing alerts when fewer than this share of a judged window's predictions had their
    # label: the labels stopped coming (a window judged at the wait with 97% of them is not that).
    labels_missing_below: float = Field(0.5, ge=0, le=1)
    label_wait_s: float = Field(30.0, ge=0)
    # A window this long closed with fewer than labels_missing_below of its labels is judged at once: they
    # stopped coming, and the rest of the label wait would only delay labels.missing (None: wait it out).
    labels_due_s: float | None = Field(None, ge=0)
    # The checks that need no label (freshness, missing features, skew) run this long after a window
    # closes, not when its labels are in: the offline rows the skew check reads are flushed by ingest's
    # checkpoint (every ingest.checkpoint_interval_s, 2 s) by then.
    screen_after_s: float = Field(3.0, ge=0)
    max_pending_windows: int = Field(3, ge=1, le=100)
    # Labels whose prediction is not (yet) seen are kept this long / this many, then counted as unmatched.
    orphan_label_ttl_s: float = Field(300.0, gt=0)
    max_orphan_labels: int = Field(100_000, ge=100)
    # Quality is judged only on windows with at least this many labelled rows.
    min_labeled_rows: int = Field(100, ge=1)
    # A parquet reference sample that overrides the model store's (contracts.MODEL_FEATURES +
    # zone_id + event_timestamp + prediction_s + duration_s).
    reference_path: Path | None = None
    # Model features left out of the drift checks.
    drift_exclude: list[str] = []
    # Few-valued features judged as categories (the rest as numbers).
    categorical: list[str] = ["passenger_count"]
    # Drift tests (Evidently names): Wasserstein distance (normed) for numbers, Jensen-Shannon for
    # few-valued columns. drift_threshold None: for Wasserstein max(0.1, drift_noise_k *
    # sqrt(1/rows + 1/reference_rows)) — a small window's sampling noise alone reaches 0.1 (0.19 at
    # 500 rows) while a half-std shift scores ~0.5 — and for Jensen-Shannon categorical_threshold.
    # Values measured with bench/monitor/calibrate.py (README, Monitoring).
    num_method: str | None = "wasserstein"
    cat_method: str | None = "jensenshannon"
    drift_threshold: float | None = None
    categorical_threshold: float = Field(0.1, gt=0, le=1)
    drift_noise_k: float = Field(4.0, ge=0)
    # Quality: MAE above reference MAE by this share; |mean error| above this share of reference MAE.
    mae_increase: float = Field(0.25, gt=0)
    bias_share: float = Field(0.25, gt=0)
    # Freshness: features older than max_feature_age_s (the zone_stats TTL) are stale; alert above stale_share.
    max_feature_age_s: float = Field(3600.0, gt=0)
    stale_share: float = Field(0.2, ge=0, le=1)
    # ... and, at once, when a window's median feature age passes this (None: no such check): at rest the
    # median prediction used features a few seconds old even where quiet zones push the share up.
    median_age_s: float | None = Field(None, gt=0)
    # Training-serving skew: predictions per window compared with the offline store, and the
    # relative difference of a feature's mean that counts as skew (km/h vs mph is 0.61).
    skew_sample: int = Field(50, ge=0, le=10_000)
    skew_threshold: float = Field(0.1, gt=0)
    # Missing features: a zone feature missing (no value, or NaN) in more than this share of a window's
    # predictions (serving gave the model its fallback instead). Rare zones may have no completed trip
    # in 30 min (no mean speed) at rest.
    missing_share: float = Field(0.2, gt=0, le=1)
    # Too good: MAE below the reference MAE by more than this share — a model graded on labels that
    # follow its own predictions (a feedback loop), or on the easy labels only.
    too_good: float = Field(0.35, gt=0, le=1)
    # Slices (the pickup borough, the airports): a slice's MAE above its own reference MAE by this
    # share, over its labelled trips of the last slice_windows judged windows (at least slice_min_rows).
    slice_mae_increase: float = Field(1.0, gt=0)
    slice_windows: int = Field(3, ge=1, le=100)
    slice_min_rows: int = Field(15, ge=1)
    # Hysteresis: a check alerts when it failed in k of the last n judged windows.
    alert_k: int = Field(2, ge=1)
    alert_n: int = Field(3, ge=1)
    # Write each window's Evidently HTML (slower than the JSON; the workspace has everything).
    save_html: bool = True
    # Windows whose evidence is kept: Evidently workspace runs and report files (older ones are
    # deleted; a drill keeps links to the reports it cites). Opening a workspace reads every run,
    # ~15 s for 500 of them, and a window's HTML report is ~4 MB.
    keep_windows: int = Field(200, ge=1, le=100_000)
    # Also start a real Prometheus scraping the stack (`gameday up --with-prometheus`).
    prometheus: bool = False
    prometheus_binary: str = "prometheus"

    @model_validator(mode="after")
    def _k_of_n(self) -> "MonitorSettings":
        if self.alert_k > self.alert_n:
            raise ValueError(f"monitor.alert_k ({self.alert_k}) must not exceed monitor.alert_n ({self.alert_n})")
        return self

    def labels_missing(self, coverage: float) -> bool:
        """Under labels_missing_below of a window's labels: they stopped coming (labels.missing), and the
        labelled rows are its shortest trips, too biased a sample to judge quality on."""
        return coverage < self.labels_missing_below


class ImageSettings(BaseModel):
    """The images `gameday images build` makes (docker/) and the Docker engine it may start."""

    # The base every image starts FROM: "mmdebstrap" builds Debian bookworm from this machine's
    # apt mirror (no registry needed); or an image to pull where a registry is reachable,
    # e.g. "debian:bookworm-slim" (the official one).
    base: str = "mmdebstrap"
    # Where a Docker engine started by `gameday images engine start` keeps its images and
    # build cache, and where build contexts (jars, wheels) are staged: outside the work tree.
    engine_root: Path = CACHE_HOME / "docker"
    build_cache: Path = CACHE_HOME / "images"


# Per-service topic keys of earlier versions -> their key under `topics`.
MOVED_TOPIC_KEYS = {("producer", "requested_topic"): "trips_requested", ("producer", "completed_topic"): "trips_completed",
                    ("ingest", "requested_topic"): "trips_requested", ("ingest", "completed_topic"): "trips_completed",
                    ("ingest", "dlq_topic"): "dlq", ("serving", "predictions_topic"): "predictions",
                    ("monitor", "predictions_topic"): "predictions", ("monitor", "labels_topic"): "trips_completed",
                    ("monitor", "alerts_topic"): "alerts", ("monitor", "dlq_topic"): "dlq"}


class Settings(BaseSettings):
    """The effective configuration of one stack (one run folder)."""

    model_config = SettingsConfigDict(
        env_prefix="GAMEDAY_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    # State, logs and data of the stack. Relative paths are resolved from the current folder.
    run_dir: Path = Path(".gameday")
    # Feast online store: sqlite (embedded, default) or redis (redis-server started by the stack).
    online_store: Literal["sqlite", "redis"] = "sqlite"
    kafka: KafkaSettings = KafkaSettings()
    # The topics' names on the broker (defaults: the contract's names).
    topics: TopicNames = TopicNames()
    redis: RedisSettings = RedisSettings()
    producer: ProducerSettings = ProducerSettings()
    ingest: IngestSettings = IngestSettings()
    features: FeatureSettings = FeatureSettings()
    trainer: TrainerSettings = TrainerSettings()
    serving: ServingSettings = ServingSettings()
    riders: RidersSettings = RidersSettings()
    monitor: MonitorSettings = MonitorSettings()
    images: ImageSettings = ImageSettings()
    # Which TripTime services `gameday up` starts besides the infrastructure (Kafka, Redis):
    # all by default; [] runs only the infrastructure (GAMEDAY_SERVICES='[]').
    services: list[Literal["ingest", "producer", "serving", "riders", "monitor", "prometheus"]] = [
        "ingest", "producer", "serving", "riders", "monitor", "prometheus"]
    # Seconds a component may take to become ready before `up` gives up.
    ready_timeout_s: float = Field(90, gt=0)
    # The key of the admin endpoints (fault knobs, model promotion). Unset: the run folder's
    # admin.token, created on first use; set it where the CLI does not share the run folder.
    admin_token: SecretStr | None = Field(None, min_length=16)

    @model_validator(mode="before")
    @classmethod
    def _topics_moved(cls, data: Any) -> Any:
        """The topic names moved to `topics` (one place for every client): an old per-service key that
        names another topic would be ignored silently, so it is refused with its new name (one that
        names the default topic, as an earlier version's settings.yaml does, is dropped)."""
        if isinstance(data, dict):
            for (section, key), new in MOVED_TOPIC_KEYS.items():
                values = data.get(section)
                if isinstance(values, dict) and key in values:
                    if values[key] != TopicNames.model_fields[new].default:
                        raise ValueError(f"{section}.{key} is now topics.{new} (GAMEDAY_TOPICS__{new.upper()}), "
                                         "the one place every client reads the topic names from")
                    data = {**data, section: {k: v for k, v in values.items() if k != key}}
        return data

    @property
    def run_path(self) -> Path:
        return self.run_dir.expanduser().resolve()


def _active_config_file(explicit: Path | None) -> Path | None:
    if explicit is not None:
        return explicit
    if env := os.environ.get("GAMEDAY_CONFIG"):
        return Path(env)
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def _settings_class(yaml_file: Path | None) -> type[Settings]:
    """Settings whose sources are: init kwargs > GAMEDAY_* environment > the YAML file > defaults."""

    class _Settings(Settings):
        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                       dotenv_settings, file_secret_settings):
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if yaml_file is not None:
                sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
            return tuple(sources)

    _Settings.__name__ = "Settings"
    return _Settings


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the settings, failing with the key, the value and what is allowed."""
    source = _active_config_file(config_file)
    if source is not None and not source.is_file():
        raise ConfigError(
            f"config file {source} does not exist",
            hint="pass an existing YAML file to --config, or unset GAMEDAY_CONFIG",
        )
    try:
        return _settings_class(source)(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, source)) from None
    except Exception as exc:  # a YAML syntax error surfaces here
        raise ConfigError(f"cannot read config file {source}: {exc}") from None


def describe_validation_error(exc: ValidationError, source: Path | None) -> str:
    """One line per bad key: `kafka.heap_mb = 4096: Input should be less than or equal to 512`."""
    lines = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "(root)"
        env_name = "GAMEDAY_" + "__".join(str(p).upper() for p in err["loc"])
        value = err.get("input")
        shown = "" if isinstance(value, dict) else f" = {value!r}"
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"{key}{shown}: {message}  (from {source} or ${env_name})" if source else f"{key}{shown}: {message}  (from ${env_name} or the default)")
    where = f" in {source}" if source else ""
    return f"invalid configuration{where}:\n  " + "\n  ".join(lines)


def settings_as_dict(settings: Settings, *, secrets: Literal["masked", "left out"] = "masked") -> dict[str, Any]:
    """The effective config as plain JSON-able data: secrets masked (`gameday config show`) or
    left out (the run folder's settings.yaml; processes get them from their environment)."""
    data = settings.model_dump(mode="json")
    if secrets == "left out":
        data["kafka"].pop("sasl_password", None)
        data.pop("admin_token", None)
    return data
