#!/bin/bash
# Runs a Kafka main class on the image's jars: kafka-run-class.sh CLASS [args...].
# KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS and KAFKA_OPTS as in Apache Kafka's own scripts.
set -euo pipefail
class="$1"
shift
# shellcheck disable=SC2086  # the *_OPTS variables hold several JVM flags each
exec java ${KAFKA_HEAP_OPTS:--Xmx256m} ${KAFKA_JVM_PERFORMANCE_OPTS:-} ${KAFKA_OPTS:-} \
  -Djava.awt.headless=true \
  "-Dlog4j2.configurationFile=${KAFKA_LOG4J_CONFIG:-/opt/kafka/config/log4j2.properties}" \
  -cp "/opt/kafka/libs/*" "$class" "$@"
