#!/bin/bash
# The broker as the stack's testcontainers mode runs it: server.properties from
# $KAFKA_SERVER_PROPERTIES, KRaft storage formatted the first time (cluster id
# $KAFKA_CLUSTER_ID), then the broker in the foreground (exec: it receives docker's signals).
set -euo pipefail
: "${KAFKA_SERVER_PROPERTIES:?set it to the text of server.properties}"
conf=/tmp/server.properties
printf '%s\n' "$KAFKA_SERVER_PROPERTIES" > "$conf"
log_dirs="$(sed -n 's/^log\.dirs=//p' "$conf")"
if [[ ! -f "${log_dirs%%,*}/meta.properties" ]]; then
  echo "formatting KRaft storage in $log_dirs"
  KAFKA_HEAP_OPTS=-Xmx128m "$(dirname "$0")/kafka-storage.sh" format --ignore-formatted \
    -t "${KAFKA_CLUSTER_ID:?set it to a cluster id (22 characters of base64url)}" -c "$conf"
fi
exec "$(dirname "$0")/kafka-server-start.sh" "$conf"
