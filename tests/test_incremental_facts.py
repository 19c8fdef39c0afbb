"""Incremental facts: a daily run on new batches equals a full refresh; a re-run adds nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from ingest.file_loader import load_entity_files
from ingest.raw_store import ensure_raw_schema
from ingest.schemas import ENTITIES
from ingest.shop_loader import load_shop_table
from lab.generator import generate

# Builds a warehouse (dbt, Dagster): the full tier, not `make test-fast`.
pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
# fct_order_lines is rebuilt every run (a return restates the sale it takes back), so the
# incremental facts are the call and e-mail event facts.
FACTS = {
    "core.fct_calls": "call_id",
    "core.fct_email_events": "event_id",
}


def ingest(warehouse: Path, landing: Path, shop: Path, erasure_secret: str | None = None) -> None:
    con = duckdb.connect(str(warehouse))
    ensure_raw_schema(con)
    engine = sa.create_engine(f"sqlite:///{shop}")
    for spec in ENTITIES:
        if spec.format == "sql":
            load_shop_table(
                con, engine, spec, "salt", timedelta(minutes=10), erasure_secret=erasure_secret
            )
        else:
            load_entity_files(con, spec, landing, "salt", erasure_secret=erasure_secret)
    engine.dispose()
    con.close()


def dbt_run(warehouse: Path, target: Path, *extra: str) -> None:
    # The incremental facts and what they are built from, nothing downstream.
    dbt_run_selected(warehouse, target, [f"+{table.split('.')[1]}" for table in FACTS], *extra)


def dbt_run_selected(warehouse: Path, target: Path, selection: Sequence[str], *extra: str) -> None:
    env = {**os.environ, "GOGAEK_WAREHOUSE": str(warehouse), "GOGAEK_DBT_TARGET": "duckdb"}
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "build",
            "--exclude-resource-type",
            "test",
            "--select",
            *selection,
            "--project-dir",
            str(PROJECT),
            "--profiles-dir",
            str(PROJECT),
            "--target-path",
            str(target),
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:]


def facts(warehouse: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            table: con.execute(
                f"select * exclude (_loaded_at) from {table} order by {key}"
            ).fetchall()
            for table, key in FACTS.items()
        }
    finally:
        con.close()


def test_daily_incremental_run_equals_full_refresh(tmp_path: Path) -> None:
    source = tmp_path / "source"
    generate(source, customers=300, days=2, seed=11)
    day_one, day_two = sorted(
        {p.stem.rsplit("_", 1)[1] for p in (source / "landing").rglob("*_2026*.*")}
    )
    landing = tmp_path / "landing"
    for path in (source / "landing").rglob("*"):
        if path.is_file() and day_one in path.name:
            target = landing / path.relative_to(source / "landing")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    warehouse = tmp_path / "warehouse.duckdb"
    ingest(warehouse, landing, source / "shop.sqlite")
    dbt_run(warehouse, tmp_path / "target")
    first_day = facts(warehouse)

    for path in (source / "landing").rglob("*"):
        if path.is_file() and day_two in path.name:
            target = landing / path.relative_to(source / "landing")
            shutil.copy(path, target)
    ingest(warehouse, landing, source / "shop.sqlite")
    dbt_run(warehouse, tmp_path / "target")
    incremental = facts(warehouse)
    assert len(incremental["core.fct_email_events"]) > len(first_day["core.fct_email_events"])
    assert len(incremental["core.fct_calls"]) >= len(first_day["core.fct_calls"])

    dbt_run(warehouse, tmp_path / "target")  # nothing new: a re-run changes nothing
    assert facts(warehouse) == incremental

    dbt_run(warehouse, tmp_path / "target", "--full-refresh")
    assert facts(warehouse) == incremental
