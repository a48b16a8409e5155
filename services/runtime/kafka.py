"""The one place that turns the settings into Kafka client options: every client of the project
(producer, ingest, serving's publisher, monitor, riders, the CLI, the drill watcher, the stack's
admin calls) is built with `**kafka_options(settings.kafka)`, so SASL and TLS reach all of them
(serving's publisher, a librdkafka client, gets the same options in librdkafka's names).
"""

from __future__ import annotations

from typing import Any

from ..config import KafkaSettings


def kafka_options(kafka: KafkaSettings) -> dict[str, Any]:
    """kafka-python keyword arguments for the security settings and the reconnect backoff (the same
    for producers, consumers and admin clients)."""
    options: dict[str, Any] = {"security_protocol": kafka.security_protocol,
                               "reconnect_backoff_max_ms": kafka.reconnect_backoff_max_ms}
    if kafka.security_protocol.startswith("SASL"):
        assert kafka.sasl_password is not None  # the settings' validator requires it
        options.update(sasl_mechanism=kafka.sasl_mechanism, sasl_plain_username=kafka.sasl_username,
                       sasl_plain_password=kafka.sasl_password.get_secret_value())
    if kafka.security_protocol.endswith("SSL"):
        options.update(ssl_check_hostname=kafka.ssl_check_hostname,
                       **{name: str(path) for name, path in (("ssl_cafile", kafka.ssl_cafile),
                                                             ("ssl_certfile", kafka.ssl_certfile),
                                                             ("ssl_keyfile", kafka.ssl_keyfile)) if path})
    return options


# kafka_options' keyword -> librdkafka's property (serving's prediction publisher uses librdkafka).
_LIBRDKAFKA_NAMES = {"security_protocol": "security.protocol", "reconnect_backoff_max_ms": "reconnect.backoff.max.ms",
                     "sasl_mechanism": "sasl.mechanism",
                     "sasl_plain_username": "sasl.username", "sasl_plain_password": "sasl.password",
                     "ssl_cafile": "ssl.ca.location", "ssl_certfile": "ssl.certificate.location",
                     "ssl_keyfile": "ssl.key.location"}


def librdkafka_config(options: dict[str, Any]) -> dict[str, str]:
    """kafka_options(...) in librdkafka's names; an option it cannot map is an error, not ignored."""
    config = {}
    for name, value in options.items():
        if name == "ssl_check_hostname":
            config["ssl.endpoint.identification.algorithm"] = "https" if value else "none"
        elif name in _LIBRDKAFKA_NAMES:
            config[_LIBRDKAFKA_NAMES[name]] = str(value)
        else:
            raise ValueError(f"no librdkafka property for the Kafka option {name!r}: map it in runtime/kafka.py")
    return config
