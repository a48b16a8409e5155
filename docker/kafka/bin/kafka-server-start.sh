#!/bin/bash
# kafka-server-start.sh server.properties: the broker (and KRaft controller).
exec "$(dirname "$0")/kafka-run-class.sh" kafka.Kafka "$@"
