#!/usr/bin/env bash
# Builds the images, tagged with the chart's appVersion (helm/mlgameday/Chart.yaml):
#   mlgameday:<appVersion>          docker/Dockerfile — every service, picked by its first argument
#                                   (`gameday images build --only app`: no registry needed)
#   mlgameday-serving:<appVersion>  docker/bentofile.yaml — BentoML's image of serving with the model
# Usage: docker/build.sh [--no-bento] [--print-tags]   (REGISTRY=ghcr.io/you to prefix the names)
# Every image of the stack and the chart (Kafka, Redis too): `make images`.
set -euo pipefail
cd "$(dirname "$0")/.."

app_version() {
  sed -n 's/^appVersion:[[:space:]]*"\{0,1\}\([^"[:space:]]*\)"\{0,1\}.*/\1/p' helm/mlgameday/Chart.yaml
}

VERSION="$(app_version)"
[[ -n "$VERSION" ]] || { echo "no appVersion in helm/mlgameday/Chart.yaml" >&2; exit 1; }
PREFIX="${REGISTRY:+$REGISTRY/}"
SERVICES_IMAGE="${PREFIX}mlgameday:${VERSION}"
SERVING_IMAGE="${PREFIX}mlgameday-serving:${VERSION}"

bento=1
for arg in "$@"; do
  case "$arg" in
    --no-bento) bento=0 ;;
    --print-tags) echo "$SERVICES_IMAGE"; echo "$SERVING_IMAGE"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

command -v docker >/dev/null || { echo "docker is required to build the images" >&2; exit 1; }

echo "building $SERVICES_IMAGE"
"${GAMEDAY:-.venv/bin/gameday}" images build --only app
if [[ -n "$PREFIX" ]]; then
  docker tag "mlgameday:$VERSION" "$SERVICES_IMAGE"
fi

if ((bento)); then
  echo "building $SERVING_IMAGE (needs a trained model: gameday train)"
  python -m pip wheel --no-deps --wheel-dir dist . >/dev/null
  bentoml build -f docker/bentofile.yaml --version "$VERSION" .
  bentoml containerize "mlgameday-serving:$VERSION" --image-tag "$SERVING_IMAGE"
fi
echo "done"
