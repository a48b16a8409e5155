"""The Kafka security settings: validated at load, turned into client options in one place, and the
password never written to the run folder."""

from __future__ import annotations

import pytest

from mlgameday.config import load_settings, settings_as_dict
from mlgameday.errors import ConfigError
from mlgameday.runtime.kafka import kafka_options


def test_plaintext_by_default_and_sasl_and_tls_options_when_set(tmp_path) -> None:
    # Every client reconnects to a lost broker within a second (kafka-python's own backoff grows to 30 s).
    assert kafka_options(load_settings(run_dir=tmp_path).kafka) == {"security_protocol": "PLAINTEXT",
                                                                    "reconnect_backoff_max_ms": 1000}
    ca = tmp_path / "ca.pem"
    settings = load_settings(run_dir=tmp_path, kafka={
        "mode": "external", "bootstrap": "broker:9093", "security_protocol": "SASL_SSL", "sasl_username": "triptime",
        "sasl_password": "s3cret", "ssl_cafile": str(ca), "ssl_check_hostname": False})
    assert kafka_options(settings.kafka) == {
        "security_protocol": "SASL_SSL", "reconnect_backoff_max_ms": 1000, "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "triptime", "sasl_plain_password": "s3cret", "ssl_check_hostname": False,
        "ssl_cafile": str(ca)}
    assert settings_as_dict(settings)["kafka"]["sasl_password"] == "**********"
    assert "sasl_password" not in settings_as_dict(settings, secrets="left out")["kafka"]


def test_sasl_without_a_password_and_tls_on_the_local_broker_fail_at_load(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("GAMEDAY_KAFKA__SASL_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="needs kafka.sasl_username and kafka.sasl_password"):
        load_settings(run_dir=tmp_path, kafka={"security_protocol": "SASL_PLAINTEXT", "sasl_username": "u"})
    with pytest.raises(ConfigError, match="the local broker listens without TLS"):
        load_settings(run_dir=tmp_path, kafka={"security_protocol": "SSL", "mode": "local"})
    monkeypatch.setenv("GAMEDAY_KAFKA__SASL_PASSWORD", "from-a-secret")
    settings = load_settings(run_dir=tmp_path, kafka={"security_protocol": "SASL_PLAINTEXT", "sasl_username": "u",
                                                      "mode": "local"})
    assert kafka_options(settings.kafka)["sasl_plain_password"] == "from-a-secret"


def test_the_same_options_in_librdkafka_names_for_servings_publisher(tmp_path) -> None:
    from mlgameday.runtime.kafka import librdkafka_config

    ca, cert, key = (tmp_path / name for name in ("ca.pem", "cert.pem", "key.pem"))
    settings = load_settings(run_dir=tmp_path, kafka={
        "mode": "external", "bootstrap": "broker:9093", "security_protocol": "SASL_SSL", "sasl_username": "triptime",
        "sasl_password": "s3cret", "ssl_cafile": str(ca), "ssl_certfile": str(cert), "ssl_keyfile": str(key),
        "ssl_check_hostname": False})
    assert librdkafka_config(kafka_options(settings.kafka)) == {
        "security.protocol": "SASL_SSL", "reconnect.backoff.max.ms": "1000", "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "triptime",
        "sasl.password": "s3cret", "ssl.endpoint.identification.algorithm": "none", "ssl.ca.location": str(ca),
        "ssl.certificate.location": str(cert), "ssl.key.location": str(key)}
    with pytest.raises(ValueError, match="ssl_password"):
        librdkafka_config({"ssl_password": "x"})


def test_the_admin_key_is_masked_and_left_out_of_the_run_folder(tmp_path) -> None:
    settings = load_settings(run_dir=tmp_path, admin_token="k" * 24)
    assert settings_as_dict(settings)["admin_token"] == "**********"
    assert "admin_token" not in settings_as_dict(settings, secrets="left out")
