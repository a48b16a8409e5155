# The two set-up commands of the README: `make drill` (the main job) and `make test`.
# Both create the virtualenv and install everything on a fresh machine.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: drill test test-unit deps venv test-deps clean

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

test: deps venv test-deps
	$(BIN)/python -m pytest -q

# The fast lane: every test that needs no real part (broker, stack, server), in under a minute.
test-unit: deps venv test-deps
	$(BIN)/python -m pytest -q -m "not integration"

clean:
	-$(BIN)/gameday down
	rm -rf $(VENV) .gameday
