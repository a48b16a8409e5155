# The two set-up commands of the README: `make drill` (the main job) and `make test`.
# Both create the virtualenv and install everything on a fresh machine.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: drill test deps venv clean

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

clean:
	-$(BIN)/gameday down
	rm -rf $(VENV) .gameday
