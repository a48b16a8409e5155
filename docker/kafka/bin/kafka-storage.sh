#!/bin/bash
# kafka-storage.sh format -t CLUSTER_ID -c server.properties [--ignore-formatted]
exec "$(dirname "$0")/kafka-run-class.sh" kafka.tools.StorageTool "$@"
