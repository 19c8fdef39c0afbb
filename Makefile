# gogaek — `make demo` runs the main job on the embedded default; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CUSTOMERS ?= 2000
DAYS ?= 3
SEED ?= 42

# Everything runs from this folder: Dagster reads dagster.yaml here, telemetry stays off.
export DAGSTER_HOME := $(CURDIR)
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export PYTHONUNBUFFERED := 1

.PHONY: demo test generate ui lint lock clean-data clean

$(BIN)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

## demo: generate demo sources, run the daily_refresh job through Dagster, print what loaded
demo: $(BIN)/.installed generate
	$(BIN)/python -m orchestration.demo

## generate: write the four sources under data/ (CUSTOMERS, DAYS, SEED)
generate: $(BIN)/.installed
	$(BIN)/python -m ingest.generator --customers $(CUSTOMERS) --days $(DAYS) --seed $(SEED) --out data

## test: install and run the whole test suite (what CI runs)
test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

## ui: the Dagster UI on http://127.0.0.1:3000
ui: $(BIN)/.installed
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

lint: $(BIN)/.installed
	$(BIN)/ruff check .

lock: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	{ sed -n '1,2p' requirements.lock; $(BIN)/python -m pip freeze --exclude-editable; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean-data:
	rm -rf data .dagster

clean: clean-data
	rm -rf $(VENV)
