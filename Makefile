# gogaek — `make demo` runs the main job on the embedded default; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CUSTOMERS ?= 2000
DAYS ?= 3
SEED ?= 42
# Generator options for data that ends in the past, e.g. END_DATE=2019-06-30.
END_DATE ?=
GENERATE_FLAGS := $(if $(END_DATE),--end-date $(END_DATE),)

# Settings are environment variables (docs/settings.md); a make variable on the command line
# is one too: `make demo GOGAEK_RFM_WINDOW_DAYS=180`.
export GOGAEK_DATA_DIR ?= data
# dbt gets the resolved settings (business rules and the warehouse file) with --vars, computed
# here in the project folder so relative paths mean the same to dbt and to Python.
DBT_VARS = dbt_vars="$$($(BIN)/python -m ingest.settings --dbt-vars)"

# Everything runs from this folder: Dagster reads dagster.yaml here, telemetry stays off.
export DAGSTER_HOME := $(CURDIR)
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export PYTHONUNBUFFERED := 1

.PHONY: demo refresh erase manifest contract test test-fast install-hooks generate ui dbt-build dbt-docs postgres postgres-bi-reader publish dashboards superset dashboard-screenshots identity-eval contact-eval benchmarks bench source-check settings env-example lint lock clean-data clean

$(BIN)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# Jobs and asset selections run through one command line, `python -m orchestration` (see
# orchestration/cli.py): Dagster orders what they hold from the asset graph.
ORCHESTRATION = $(BIN)/python -m orchestration

## demo: generate demo sources, run the daily_refresh job through Dagster, print what loaded
demo: $(BIN)/.installed generate manifest
	$(ORCHESTRATION) run daily_refresh

## refresh: run the daily_refresh job on the data folder as it is (no generated data), print
## what loaded; like demo, it waits for a run that writes the warehouse and Ctrl-C stops it
refresh: $(BIN)/.installed manifest
	$(ORCHESTRATION) run daily_refresh

## manifest: parse the dbt project for the Dagster definitions (`dagster dev` does it itself);
## again only when a file of the dbt project changed (a parse is costly: docs/benchmarks.md)
MANIFEST := dbt_project/target/manifest.json
DBT_PROJECT_FILES := $(shell find dbt_project -path dbt_project/target -prune -o \
	-path dbt_project/logs -prune -o -type f -print)
manifest: $(MANIFEST)
$(MANIFEST): $(BIN)/.installed orchestration/dbt_project.py $(DBT_PROJECT_FILES)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dagster-dbt project prepare-and-package \
		--file orchestration/dbt_project.py > /dev/null
	touch $@

## contract: write dbt_project/models/staging/_sources.yml from the raw contract (ingest/schemas.py)
contract: $(BIN)/.installed
	$(BIN)/python -m ingest.contract --write

## generate: write the four sources under data/ (CUSTOMERS, DAYS, SEED)
generate: $(BIN)/.installed
	$(BIN)/python -m lab.generator --customers $(CUSTOMERS) --days $(DAYS) --seed $(SEED) \
		$(GENERATE_FLAGS) --out $(GOGAEK_DATA_DIR)

## test: install and run the whole test suite with the linters (what CI runs)
test: lint
	$(BIN)/python -m pytest -n auto --dist loadgroup --no-loadscope-reorder --durations=15

## test-fast: the fast tier while you edit: linters and the type check of the Python, unit tests
## of Python and dbt, the Dagster code location loaded whole; no warehouse builds (-m "not slow")
test-fast: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -m "not slow" -n auto --dist loadgroup --no-loadscope-reorder

## ui: the Dagster UI and daemon on http://127.0.0.1:3000 (UI_PORT); Ctrl-C stops both
UI_PORT ?= 3000
ui: $(BIN)/.installed
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m orchestration.ui --host 127.0.0.1 --port $(UI_PORT)

# Commands that open the DuckDB warehouse outside Dagster take the warehouse writer's turn the runs take
# (orchestration/warehouse_lock.py): when a run holds it, say which and wait for it
# (GOGAEK_WAREHOUSE_WAIT_SECONDS), or stop with what to do — not DuckDB's raw lock error.
WHEN_WAREHOUSE_FREE = $(BIN)/python -m orchestration.warehouse_lock
DBT_DIRS = --project-dir dbt_project --profiles-dir dbt_project

## dbt-build: materialise the dbt project and the Python CLV fit through Dagster (selection
## WAREHOUSE_BUILD; the asset graph puts the fit between the models it reads and the marts that
## read it), as one warehouse writer: waits for a run that holds the warehouse, and runs wait for it
WAREHOUSE_BUILD ?= kind:dbt or key:"ml/*"
dbt-build: $(BIN)/.installed manifest
	$(ORCHESTRATION) build --select '$(WAREHOUSE_BUILD)'

## dbt-docs: generate the dbt docs catalog (waiting for a run that holds the warehouse) and
## serve it on http://127.0.0.1:8080
dbt-docs: $(BIN)/.installed
	$(DBT_VARS) && $(WHEN_WAREHOUSE_FREE) -- $(BIN)/dbt docs generate $(DBT_DIRS) --vars "$$dbt_vars"
	cd dbt_project && ../$(BIN)/dbt docs serve --profiles-dir . --host 127.0.0.1 --port 8080

## postgres: copy the raw layer into PostgreSQL (GOGAEK_PG_*) and build there what dbt-build
## builds (GOGAEK_DBT_TARGET=postgres: the dbt target and the CLV fit's engine)
postgres: export GOGAEK_DBT_TARGET = postgres
postgres: $(BIN)/.installed manifest
	$(WHEN_WAREHOUSE_FREE) -- $(BIN)/python -m ingest.postgres_mirror
	$(ORCHESTRATION) build --select '$(WAREHOUSE_BUILD)'

## postgres-bi-reader: let role bi_reader log in (GOGAEK_BI_READER_PASSWORD); grants come from dbt
postgres-bi-reader: $(BIN)/.installed
	$(BIN)/python -m orchestration.serving.postgres_access

## erase: erase one person everywhere (CUSTOMER=<customer id> or SOURCE_KEY=<source:key>),
## then rebuild and republish; see docs/identity-and-erasure.md
erase: $(BIN)/.installed manifest
	@test -n "$(CUSTOMER)$(SOURCE_KEY)" || \
		{ echo "usage: make erase CUSTOMER=<customer id> | SOURCE_KEY=<source:key>"; exit 2; }
	$(ORCHESTRATION) erase \
		$(if $(CUSTOMER),--customer "$(CUSTOMER)",--source-key "$(SOURCE_KEY)") \
		$(if $(PG_DATABASE),--postgres-database "$(PG_DATABASE)")

## publish: publish bi.duckdb and operational.duckdb from the warehouse through Dagster (the
## serving assets), as one warehouse writer
publish: $(BIN)/.installed manifest
	$(ORCHESTRATION) publish

# Superset lives in its own virtualenv: it pins SQLAlchemy 1.4 and pandas 2 (the project: 2.1, 3).
SUPERSET_VENV := .venv-superset
SUPERSET_REQUIREMENTS := dashboards/requirements-superset.txt
SUPERSET := $(SUPERSET_VENV)/bin/python -m dashboards.local_superset
SUPERSET_PORT ?= 8088

$(SUPERSET_VENV)/bin/.installed: $(SUPERSET_REQUIREMENTS)
	test -x $(SUPERSET_VENV)/bin/python || $(PYTHON) -m venv $(SUPERSET_VENV)
	$(SUPERSET_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SUPERSET_VENV)/bin/python -m pip install --quiet -r $(SUPERSET_REQUIREMENTS)
	touch $@

## dashboards: set up a local Superset (data/superset) and import the shipped dashboards,
## reading the published data/serving/bi.duckdb read-only
dashboards: $(SUPERSET_VENV)/bin/.installed
	$(SUPERSET) import

## superset: the imported dashboards on http://127.0.0.1:8088 (SUPERSET_PORT)
superset: dashboards
	$(SUPERSET) serve --port $(SUPERSET_PORT)

## dashboard-screenshots: open every dashboard in headless Chromium, PNGs in data/superset/screenshots
dashboard-screenshots: dashboards
	$(SUPERSET) screenshots --port $(SUPERSET_PORT)

## identity-eval: precision/recall of identity resolution against the generator's truth, in all
## and per source pair, and the duplicate rate per source (text; JSON in data/quality)
identity-eval: $(BIN)/.installed
	$(WHEN_WAREHOUSE_FREE) -- $(BIN)/python -m lab.identity_eval --truth $(GOGAEK_DATA_DIR)/truth \
		--json-out $(GOGAEK_DATA_DIR)/quality/identity_eval.json

## contact-eval: recall / false-flag rate of the contact validators against the generator's truth
contact-eval: $(BIN)/.installed
	$(WHEN_WAREHOUSE_FREE) -- $(BIN)/python -m lab.contact_eval --truth $(GOGAEK_DATA_DIR)/truth

## benchmarks: time make demo, test-fast, identity-eval and contact-eval on this checkout and
## rewrite the table of docs/benchmarks.md (BENCHMARK_FLAGS=--with-full-tests adds make test)
benchmarks:
	$(PYTHON) -m lab.benchmarks $(BENCHMARK_FLAGS)

## bench: what a nightly run costs: generate a base (100,000 customers; CUSTOMERS=… for another
## size), run the daily job on three delivery days (the full build), then on a fourth (the
## incremental run); wall, CPU, peak RSS, dbt's time by kind; TARGET=postgres builds each again
## on PostgreSQL. Writes the bench section of docs/benchmarks.md
bench: $(BIN)/.installed manifest
	$(BIN)/python -m lab.bench --target $(or $(TARGET),duckdb) \
		--customers $(if $(filter command line environment,$(origin CUSTOMERS)),$(CUSTOMERS),100000)

## source-check: preview a source mapping on one export, writing nothing (MAPPING=<yml> FILE=<export>;
## a database mapping without FILE): the columns it reads and leaves, the first rows as the
## contract sees them, what would load and what would be quarantined
source-check: $(BIN)/.installed
	@test -n "$(MAPPING)" || \
		{ echo "usage: make source-check MAPPING=<mapping.yml> FILE=<export>"; exit 2; }
	$(BIN)/python -m ingest.source_check --mapping "$(MAPPING)" $(if $(FILE),--file "$(FILE)")

## settings: print every setting as resolved from the environment (paths, secrets, dbt vars)
settings: $(BIN)/.installed
	$(BIN)/python -m ingest.settings

## env-example: write .env.example and dbt_project/profiles.yml from the settings' declaration
## (ingest/settings.py)
env-example: $(BIN)/.installed
	$(BIN)/python -m ingest.settings --env-example

## lint: ruff (lint and format check) and mypy (types) on the Python, sqlfluff on the dbt SQL
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd dbt_project && ../$(BIN)/sqlfluff lint --processes 2 --nocolor models tests

## install-hooks: run the linters before every commit (pre-commit, versions from requirements.lock)
install-hooks: $(BIN)/.installed
	$(BIN)/pre-commit install

lock: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	{ sed -n '1,2p' requirements.lock; $(BIN)/python -m pip freeze --exclude-editable; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean-data:
	rm -rf $(GOGAEK_DATA_DIR) .dagster

clean: clean-data
	rm -rf $(VENV) $(SUPERSET_VENV)
