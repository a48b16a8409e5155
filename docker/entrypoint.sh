#!/bin/sh
# The image's entry point: the first argument picks the service, the rest are its arguments.
# Each service is `python -m mlgameday.<service>`; serving is BentoML's server of the same code;
# the trainer is the one-shot `gameday train` (a history first if none exists, then the variants).
set -eu

usage() {
  echo "usage: <producer|ingest|serving|riders|monitor|trainer> [args...]  (or any command)" >&2
}

service="${1:-}"
case "$service" in
  producer|ingest|monitor|riders)
    shift
    exec python -m "mlgameday.$service" "$@"
    ;;
  trainer)
    shift
    exec gameday train "$@"
    ;;
  serving)
    shift
    exec bentoml serve mlgameday.serving.service:TripTime \
      --host "${GAMEDAY_SERVING__HOST:-0.0.0.0}" --port "${GAMEDAY_SERVING__PORT:-3000}" "$@"
    ;;
  ""|-h|--help)
    usage
    exit 2
    ;;
  *)
    exec "$@"
    ;;
esac
