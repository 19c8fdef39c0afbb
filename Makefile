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

.PHONY: demo test generate ui dbt-build dbt-docs postgres postgres-bi-reader publish identity-eval contact-eval lint lock clean-data clean

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

## dbt-build: dbt build on the warehouse with the bundled profile (outside Dagster), with the
## Python CLV fit between the models it reads and the marts that read it
dbt-build: $(BIN)/.installed
	cd dbt_project && ../$(BIN)/dbt build --profiles-dir . --exclude "source:ml+"
	$(BIN)/python -m orchestration.clv --target duckdb
	cd dbt_project && ../$(BIN)/dbt build --profiles-dir . --select "source:ml+"

## dbt-docs: generate the dbt docs catalog and serve it on http://127.0.0.1:8080
dbt-docs: $(BIN)/.installed
	cd dbt_project && ../$(BIN)/dbt docs generate --profiles-dir . && \
		../$(BIN)/dbt docs serve --profiles-dir . --host 127.0.0.1 --port 8080

## postgres: copy the raw layer into PostgreSQL (GOGAEK_PG_*) and build the project there
postgres: $(BIN)/.installed
	$(BIN)/python -m ingest.postgres_mirror
	cd dbt_project && GOGAEK_DBT_TARGET=postgres ../$(BIN)/dbt build --profiles-dir . --exclude "source:ml+"
	GOGAEK_DBT_TARGET=postgres $(BIN)/python -m orchestration.clv --target postgres
	cd dbt_project && GOGAEK_DBT_TARGET=postgres ../$(BIN)/dbt build --profiles-dir . --select "source:ml+"

## postgres-bi-reader: let role bi_reader log in (GOGAEK_BI_READER_PASSWORD); grants come from dbt
postgres-bi-reader: $(BIN)/.installed
	$(BIN)/python -m orchestration.serving.postgres_access

## publish: publish bi.duckdb and operational.duckdb from the warehouse (outside Dagster)
publish: $(BIN)/.installed
	$(BIN)/python -m orchestration.serving.publish

## identity-eval: precision/recall of identity resolution against the generator's truth
identity-eval: $(BIN)/.installed
	$(BIN)/python -m quality.identity_eval --warehouse data/warehouse.duckdb --truth data/truth

## contact-eval: recall / false-flag rate of the contact validators against the generator's truth
contact-eval: $(BIN)/.installed
	$(BIN)/python -m quality.contact_eval --warehouse data/warehouse.duckdb --truth data/truth

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
