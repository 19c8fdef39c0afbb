"""Every dbt unit test of the project, on an empty warehouse (the fast tier), under a
deployment whose every business setting differs from the defaults: a unit test's expected rows
are worked out with the settings it pins (`overrides: vars`), so a company's own settings (a
shop selling in pounds, a shorter RFM window) never fail its runs.

dbt reads the column types of a unit test's inputs from the warehouse, so the relations must
exist: the raw tables come from the source contract (ingest.schemas), the CLV tables from the
column types the ml source declares, and every model is built with `--empty` (no rows).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from ingest.raw_store import ensure_raw_schema
from ingest.settings import Settings, dbt_cli_vars, dbt_var_defaults, env_name
from orchestration.dbt_project import dbt_project

DBT = str(Path(sys.executable).parent / "dbt")


def declared_ml_tables() -> dict[str, list[tuple[str, str]]]:
    """The ml source tables and their declared column types, from the prepared manifest."""
    manifest = json.loads(Path(dbt_project.manifest_path).read_text(encoding="utf-8"))
    return {
        source["name"]: [(c["name"], c["data_type"]) for c in source["columns"].values()]
        for source in manifest["sources"].values()
        if source["source_name"] == "ml"
    }


# Every setting unlike its default, each plausible for some company.
UNLIKE_THE_DEFAULTS = {
    "currency_code": "GBP",
    "currency_symbol": "£",
    "currency_decimals": "2",
    "identity_max_rounds": "12",
    "calendar_start": "2015-01-01",
    "calendar_end": "2030-12-31",
    "rfm_as_of_date": "2026-06-30",
    "rfm_window_days": "180",
    "rfm_history_months": "6",
    "default_margin_rate": "0.25",
    "ltv_tenure_years": "3",
    "ltv_discount_rate": "0.07",
    "clv_backtest_holdout_days": "90",
    "clv_backtest_max_error_pct": "35.0",
    "churn_complaint_days": "30",
    "churn_high_p_alive": "0.2",
    "churn_medium_p_alive": "0.5",
    "churn_overdue_ratio": "3.0",
    "churn_lapsed_gap_quantile": "0.8",
    "attribution_days": "3",
    "anniversary_as_of_date": "2026-03-01",
    "anniversary_days": "14",
    "affinity_min_baskets": "5",
}


def test_the_deployment_below_changes_every_setting() -> None:
    defaults = dbt_var_defaults()
    assert set(UNLIKE_THE_DEFAULTS) == set(defaults)
    assert all(str(defaults[name]) != value for name, value in UNLIKE_THE_DEFAULTS.items())


def test_every_dbt_unit_test_passes_whatever_the_settings(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    ensure_raw_schema(con)
    con.execute("create schema ml")
    for table, columns in declared_ml_tables().items():
        con.execute(f"create table ml.{table} ({', '.join(f'{c} {t}' for c, t in columns)})")
    con.close()

    env = {
        **os.environ,
        "GOGAEK_DATA_DIR": str(tmp_path),
        **{env_name(name): value for name, value in UNLIKE_THE_DEFAULTS.items()},
    }
    dbt_vars = dbt_cli_vars(Settings.from_env(env), environ=env)
    build = subprocess.run(
        [
            DBT,
            "build",
            "--empty",
            "--exclude-resource-type",
            "test",
            "--project-dir",
            str(dbt_project.project_dir),
            "--profiles-dir",
            str(dbt_project.project_dir),
            "--target-path",
            str(tmp_path / "target"),
            "--vars",
            json.dumps(dbt_vars),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout[-6000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    unit_tests = [r for r in results if r["unique_id"].startswith("unit_test.")]
    declared = json.loads(Path(dbt_project.manifest_path).read_text())["unit_tests"]
    assert len(unit_tests) == len(declared) >= 20
    assert {r["status"] for r in unit_tests} == {"pass"}


def test_unit_test_names_fit_a_postgres_relation_name() -> None:
    """dbt names a temporary relation after each unit test; PostgreSQL refuses names longer
    than 63 bytes, so a long name fails the PostgreSQL build only."""
    declared = json.loads(Path(dbt_project.manifest_path).read_text())["unit_tests"]
    too_long = [u["name"] for u in declared.values() if len(u["name"].encode()) > 63]
    assert not too_long
