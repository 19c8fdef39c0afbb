"""Every dbt unit test of the project, on an empty warehouse (the fast tier).

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
from ingest.settings import Settings, dbt_cli_vars
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


def test_every_dbt_unit_test_passes(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    ensure_raw_schema(con)
    con.execute("create schema ml")
    for table, columns in declared_ml_tables().items():
        con.execute(f"create table ml.{table} ({', '.join(f'{c} {t}' for c, t in columns)})")
    con.close()

    env = {**os.environ, "GOGAEK_DATA_DIR": str(tmp_path)}
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
