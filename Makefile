# Two commands on a fresh machine with Python 3.11: `make demo` and `make test`.
# Each creates the virtual environment it needs (.venv) on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test dev serve lint benchmarks detection clean

$(BIN)/nephos: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

## The main job on the embedded defaults: local DynamoDB, simulated fleet, whole pipeline.
demo: $(BIN)/nephos
	$(BIN)/nephos demo

## The test suite (starts every service it needs; installs Chromium for the browser test).
test: $(BIN)/nephos
	bash scripts/ensure_chromium.sh || echo "Chromium could not be installed: the browser test skips outside CI and fails in CI."
	bash scripts/ensure_postgresql.sh || echo "PostgreSQL could not be installed: the deployment tests skip (with this reason)."
	$(BIN)/python -m pytest -q -p no:cacheprovider

## Local DynamoDB server + Dagster UI (http://127.0.0.1:3000). `exec`: the script is make's
## own child, so a SIGTERM to make (which make passes on to its children) reaches the script.
dev: $(BIN)/nephos
	PATH="$(CURDIR)/$(BIN):$$PATH" exec bash scripts/dev.sh

## Insights API and page (http://127.0.0.1:8080), no auth: local use only.
serve: $(BIN)/nephos
	$(BIN)/nephos serve --no-auth

lint: $(BIN)/nephos
	$(BIN)/ruff check .

benchmarks: $(BIN)/nephos
	$(BIN)/python -m benchmarks --quick

## NAB's labelled AWS series are not in the repo: NAB=<folder with data/ and labels/> (a clone of
## github.com/numenta/NAB); the default is the team's copy beside the clone.
NAB ?= ../shared/nab
detection: $(BIN)/nephos
	@test -d "$(NAB)/data" || { echo "NAB data not found at $(NAB): make detection NAB=<clone of github.com/numenta/NAB>"; exit 2; }
	$(BIN)/python benchmarks/detection.py --data $(NAB) --out results.json

clean:
	rm -rf $(VENV) .nephos test-artifacts
