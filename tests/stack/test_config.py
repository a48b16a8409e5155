"""The typed config: defaults < YAML file < GAMEDAY_* variables; bad values name key, value and what is allowed."""

from pathlib import Path

import pytest

from mlgameday.config import load_settings
from mlgameday.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The suite may run with GAMEDAY_KAFKA__MODE etc. set (e.g. on an external broker).
    import os

    for name in [n for n in os.environ if n.startswith("GAMEDAY_")]:
        monkeypatch.delenv(name)


def test_defaults_are_the_embedded_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.kafka.mode == "local"
    assert settings.online_store == "sqlite"
    assert settings.kafka.heap_mb <= 512


def test_yaml_file_then_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "gameday.yaml"
    config.write_text("online_store: redis\nkafka:\n  partitions: 6\n  heap_mb: 256\n")
    monkeypatch.setenv("GAMEDAY_KAFKA__HEAP_MB", "300")
    settings = load_settings(config)
    assert settings.online_store == "redis"
    assert settings.kafka.partitions == 6
    assert settings.kafka.heap_mb == 300  # the environment wins over the file


def test_gameday_config_env_names_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "other.yaml"
    config.write_text("kafka:\n  partitions: 2\n")
    monkeypatch.setenv("GAMEDAY_CONFIG", str(config))
    assert load_settings().kafka.partitions == 2


def test_bad_value_names_key_value_and_allowed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "gameday.yaml"
    config.write_text("kafka:\n  mode: kubernetes\n  heap_mb: 4096\n")
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    message = str(info.value)
    assert "kafka.mode = 'kubernetes'" in message
    assert "'local', 'external' or 'testcontainers'" in message
    assert "kafka.heap_mb = 4096" in message and "512" in message
    assert str(config) in message


def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    config = tmp_path / "gameday.yaml"
    config.write_text("kafak:\n  mode: local\n")
    with pytest.raises(ConfigError, match="kafak"):
        load_settings(config)


def test_external_mode_needs_a_bootstrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAMEDAY_KAFKA__MODE", "external")
    monkeypatch.delenv("GAMEDAY_KAFKA__BOOTSTRAP", raising=False)
    with pytest.raises(ConfigError, match="needs kafka.bootstrap"):
        load_settings()


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")


def test_an_old_per_service_topic_key_is_refused_with_its_new_name(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GAMEDAY_INGEST__DLQ_TOPIC", "team.dlq")
    with pytest.raises(ConfigError, match="ingest.dlq_topic is now topics.dlq"):
        load_settings(run_dir=tmp_path)
    monkeypatch.delenv("GAMEDAY_INGEST__DLQ_TOPIC")
    monkeypatch.setenv("GAMEDAY_TOPICS__DLQ", "team.dlq")
    assert load_settings(run_dir=tmp_path).topics.dlq == "team.dlq"
    # An earlier version's settings.yaml names the default topics there: read as before.
    old = tmp_path / "settings.yaml"
    old.write_text("ingest:\n  dlq_topic: dlq\n  group_id: ingest\nmonitor:\n  alerts_topic: alerts\n")
    assert load_settings(old, run_dir=tmp_path).ingest.group_id == "ingest"
