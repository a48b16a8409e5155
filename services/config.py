"""One typed config for every part: defaults < YAML file < GAMEDAY_* environment variables.

The YAML file is, in order: the path given to `--config`, `$GAMEDAY_CONFIG`, or
`gameday.yaml` in the current folder if there is one. Nested keys map to environment
variables with a double underscore: `kafka.heap_mb` is `GAMEDAY_KAFKA__HEAP_MB`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

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

    @model_validator(mode="after")
    def _external_needs_bootstrap(self) -> "KafkaSettings":
        if self.mode == "external" and not self.bootstrap:
            raise ValueError("kafka.mode 'external' needs kafka.bootstrap (host:port[,host:port])")
        return self


class RedisSettings(BaseModel):
    # Set by the stack for the processes it starts; or point it at your own Redis.
    url: str | None = None
    binary: str = "redis-server"


class ProducerSettings(BaseModel):
    """The trip simulator as a stack component (`python -m mlgameday.producer`)."""

    # Admin HTTP port (/faults); the stack sets it. Unset: a free port.
    port: int = Field(0, ge=0, le=65535)
    rate: float = Field(20.0, gt=0, le=100_000, description="trip requests per second")
    # Labels (trips.completed) are emitted duration_s / time_scale wall seconds after the request.
    time_scale: float = Field(1.0, gt=0, le=100_000)
    seed: int = 42
    requested_topic: str = "trips.requested"
    completed_topic: str = "trips.completed"


class IngestSettings(BaseModel):
    """The Kafka → Feast ingest consumer (`python -m mlgameday.ingest`)."""

    port: int = Field(0, ge=0, le=65535)
    group_id: str = "ingest"
    requested_topic: str = "trips.requested"
    completed_topic: str = "trips.completed"
    dlq_topic: str = "dlq"
    max_poll_records: int = Field(5000, ge=1, le=100_000)
    poll_timeout_ms: int = Field(100, ge=1, le=10_000)
    # State + offsets are checkpointed (and offline rows flushed) at most this often.
    checkpoint_interval_s: float = Field(2.0, gt=0, le=600)
    # How many recent event ids are remembered to drop redelivered duplicates.
    dedup_capacity: int = Field(200_000, ge=1000, le=10_000_000)


class FeatureSettings(BaseModel):
    """Where the Feast definitions are read from (the store's data lives in the run folder)."""

    # The feature_repo/ folder with the definitions; unset: the one in the source tree.
    repo_path: Path | None = None
    project: str = "triptime"


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
    redis: RedisSettings = RedisSettings()
    producer: ProducerSettings = ProducerSettings()
    ingest: IngestSettings = IngestSettings()
    features: FeatureSettings = FeatureSettings()
    # Seconds a component may take to become ready before `up` gives up.
    ready_timeout_s: float = Field(90, gt=0)

    @property
    def run_path(self) -> Path:
        return self.run_dir.expanduser().resolve()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = _active_config_file()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if yaml_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)


_explicit_config_file: Path | None = None


def _active_config_file() -> Path | None:
    if _explicit_config_file is not None:
        return _explicit_config_file
    if env := os.environ.get("GAMEDAY_CONFIG"):
        return Path(env)
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the settings, failing with the key, the value and what is allowed."""
    global _explicit_config_file
    _explicit_config_file = config_file
    source = _active_config_file()
    if source is not None and not source.is_file():
        raise ConfigError(
            f"config file {source} does not exist",
            hint="pass an existing YAML file to --config, or unset GAMEDAY_CONFIG",
        )
    try:
        return Settings(**overrides)
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


def settings_as_dict(settings: Settings) -> dict[str, Any]:
    """The effective config as plain JSON-able data (for `gameday config show`)."""
    return settings.model_dump(mode="json")
