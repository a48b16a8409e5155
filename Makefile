# The two set-up commands of the README: `make drill` (the main job) and `make test`.
# Both create the virtualenv and install everything on a fresh machine.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: drill test deps venv clean k8s-deps k8s-cluster k8s-cluster-down test-k8s

$(BIN)/gameday: pyproject.toml setup.py
	@command -v $(PY) >/dev/null || { echo "Python 3.11 is required ($(PY) not found)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --progress-bar on -e .
	@touch $(BIN)/gameday

venv: $(BIN)/gameday

deps:
	@bash .ci/system-deps

drill: deps venv
	$(BIN)/gameday drill data-drift

test: deps venv
	$(BIN)/python -m pytest -q

# Kubernetes: a cluster (yours through KUBECONFIG, else this machine's own single node, built
# from the Go module proxy once and cached in ~/.cache/mlgameday/k8s), then the cluster lane.
k8s-deps:
	@bash .ci/k8s-deps

k8s-cluster: k8s-deps venv
	$(BIN)/gameday k8s cluster up

k8s-cluster-down: venv
	$(BIN)/gameday k8s cluster down

test-k8s: deps k8s-cluster
	$(BIN)/python -m pytest -q -m cluster tests/cluster

clean:
	-$(BIN)/gameday down
	rm -rf $(VENV) .gameday
