# The two set-up commands of the README: `make drill` (the main job) and `make test`.
# Both create the virtualenv and install everything on a fresh machine.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: drill test test-unit deps venv test-deps clean images docker-engine docker-engine-stop test-containers \
	chromium test-browser console-screenshots \
	k8s-deps k8s-build k8s-cluster k8s-cluster-down test-k8s

$(BIN)/gameday: pyproject.toml setup.py
	@command -v $(PY) >/dev/null || { echo "Python 3.11 is required ($(PY) not found)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --progress-bar on -e .
	@touch $(BIN)/gameday

venv: $(BIN)/gameday

# The suite's own tools (pytest, import-linter, testcontainers, ...): the `test` extra.
$(VENV)/.test-extra: $(BIN)/gameday pyproject.toml
	$(BIN)/pip install --progress-bar on -e '.[test]'
	@touch $@

test-deps: $(VENV)/.test-extra

deps:
	@bash .ci/system-deps

drill: deps venv
	$(BIN)/gameday drill data-drift

# Two workers (pytest-xdist): each has its own broker and drill stack. The drill stack's users (~30 min of
# drills in one process) are dealt half to each worker first, the rest shared after (tests/xdist_split.py).
test: deps venv test-deps
	$(BIN)/python -m pytest -q -n 2 --dist load

# Containers: the images (no registry needed), a Docker engine when none answers (as root on
# Debian/Ubuntu: docker.io, dockerd started by hand), and the testcontainers lane.
CONTAINER_TESTS := tests/containers tests/stack tests/pipeline \
	"tests/drill/test_scenarios_e2e.py::test_later_scenario_fires_every_expected_signal_in_time[broker-outage]"

docker-engine: venv
	$(BIN)/gameday images engine start

docker-engine-stop: venv
	$(BIN)/gameday images engine stop

images: deps venv docker-engine
	$(BIN)/gameday images build

test-containers: images test-deps
	GAMEDAY_KAFKA__MODE=testcontainers $(BIN)/python -m pytest -q -m "not cluster and not local_broker" $(CONTAINER_TESTS)

# The browser lane: the console (`gameday console`) in Debian's chromium, driven by Playwright over a
# real stack. Its own folder, tests/browser, which `make test` leaves out.
$(VENV)/.browser-extra: $(VENV)/.test-extra pyproject.toml
	$(BIN)/pip install --progress-bar on -e '.[test,browser]'
	@touch $@

chromium:
	@bash .ci/install-chromium

test-browser: deps chromium $(VENV)/.browser-extra
	$(BIN)/python -m pytest -q tests/browser

# The same tests, keeping their screenshots for the README (docs/console/*.png).
console-screenshots: deps chromium $(VENV)/.browser-extra
	GAMEDAY_SCREENSHOTS=docs/console $(BIN)/python -m pytest -q tests/browser

# The fast lane: every test that needs no real part (broker, stack, server), in under a minute.
test-unit: deps venv test-deps
	$(BIN)/python -m pytest -q -m "not integration"

# Kubernetes: a cluster (yours through KUBECONFIG, else this machine's own single node, built
# from the Go module proxy once and cached in ~/.cache/mlgameday/k8s), then the cluster lane.
k8s-deps:
	@bash .ci/k8s-deps

k8s-build: k8s-deps venv
	$(BIN)/gameday k8s cluster build

k8s-cluster: k8s-deps venv
	$(BIN)/gameday k8s cluster up

k8s-cluster-down: venv
	$(BIN)/gameday k8s cluster down

test-k8s: images k8s-cluster test-deps
	$(BIN)/python -m pytest -q -m cluster tests/cluster

clean:
	-$(BIN)/gameday down
	rm -rf $(VENV) .gameday
