"""Publish the served marts into files BI tools and operations open, swapped in atomically.

DuckDB allows one writer or many readers per file, never both. So BI tools never open the
warehouse: each publish copies the served tables into a new file and renames it over the
previous one. A reader that has the old file open keeps its inode (a complete earlier
publish); the next connection sees the new one. Nothing a reader does can block a build.

- bi.duckdb: models with meta.serving = bi (no direct identifiers; checked before the swap by
  ingest.personal_data), readable by the BI user (mode 0644).
- operational.duckdb: meta.serving = operational (lists with names and contacts), mode 0600.
Column types are ones ODBC drivers and spreadsheets read: DuckDB's own integer types (HUGEINT,
what sum() of integers gives; UBIGINT and the other unsigned ones) become BIGINT (or a smaller
standard integer, or DECIMAL(38, 0) when a value does not fit in BIGINT) here, in one place,
for every served table.
Each file has `publish_log`: run id, publish time, source warehouse, one row per table with its
row count. Files are built inside a private folder (mode 0700, ingest.work_folders) beside the
targets, so neither the database nor its WAL is ever readable by others, even before the chmod;
a folder a killed publish left behind is removed by the next publish.

    python -m orchestration.serving.publish [--warehouse data/warehouse.duckdb]
        [--serving-dir data/serving]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingest.cli_inputs import require_warehouse, run_command
from ingest.db_rows import one_row
from ingest.personal_data import Finding, scan_table
from ingest.settings import Settings
from ingest.sql_text import quote, sql_literal
from ingest.work_folders import remove_stale, work_folder
from orchestration.serving.catalog import ServedModel, Serving, load_manifest, served_models

FILE_NAMES: dict[Serving, str] = {"bi": "bi.duckdb", "operational": "operational.duckdb"}
FILE_MODES: dict[Serving, int] = {"bi": 0o644, "operational": 0o600}
# DuckDB integer types ODBC clients (Excel, Power BI, Tableau through ODBC) do not map, and the
# standard type each is published as. None: BIGINT when every value fits, else DECIMAL(38, 0).
PORTABLE_TYPES: dict[str, str | None] = {
    "HUGEINT": None,
    "UHUGEINT": None,
    "UBIGINT": None,
    "UINTEGER": "BIGINT",
    "USMALLINT": "INTEGER",
    "UTINYINT": "SMALLINT",
}
_BIGINT_RANGE = (-(2**63), 2**63 - 1)
# Rows per table the personal-data gate reads: a leaked identifier column is systematic, so a
# sample finds it; the tests scan every row.
GATE_SAMPLE_ROWS = 100_000


class PublishError(RuntimeError):
    """The new files were not swapped in; the previous ones are untouched."""


@dataclass(frozen=True)
class PublishedFile:
    serving: Serving
    path: Path
    row_counts: dict[str, int]  # schema.table -> rows
    bytes: int


@dataclass(frozen=True)
class PublishReport:
    run_id: str
    published_at: datetime
    files: dict[Serving, PublishedFile]
    seconds: float


def _build_file(
    path: Path, warehouse: Path, models: list[ServedModel], run_id: str, published_at: datetime
) -> dict[str, int]:
    con = duckdb.connect(str(path))
    try:
        con.execute(f"attach {sql_literal(str(warehouse))} as warehouse (read_only)")
        existing = {
            row[0]
            for row in con.execute(
                "select table_schema || '.' || table_name from information_schema.tables "
                "where table_catalog = 'warehouse'"
            ).fetchall()
        }
        missing = [model.relation for model in models if model.relation not in existing]
        if missing:
            raise PublishError(
                f"{warehouse}: served models missing from the warehouse (not "
                f"built?): {', '.join(missing)}"
            )
        counts: dict[str, int] = {}
        for model in models:
            table = f"{quote(model.schema)}.{quote(model.name)}"
            con.execute(f"create schema if not exists {quote(model.schema)}")
            columns_sql = ", ".join(_portable_columns(con, model))
            con.execute(f"create table {table} as select {columns_sql} from warehouse.{table}")
            # dbt descriptions travel along: BI tools show them next to the columns.
            if model.description:
                con.execute(f"comment on table {table} is {sql_literal(model.description)}")
            columns = {
                name
                for (name,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? "
                    "and table_name = ? and table_catalog = current_database()",
                    [model.schema, model.name],
                ).fetchall()
            }
            for column, description in model.columns.items():
                if description and column in columns:
                    con.execute(
                        f"comment on column {table}.{quote(column)} is {sql_literal(description)}"
                    )
            counts[model.relation] = one_row(con.execute(f"select count(*) from {table}"))[0]
        con.execute("detach warehouse")
        con.execute("""
            create table main.publish_log (
                run_id varchar not null, published_at timestamptz not null,
                source_warehouse varchar not null, table_schema varchar,
                table_name varchar, dbt_unique_id varchar, row_count bigint)""")
        file_row = (run_id, published_at, str(warehouse))
        log = [
            (*file_row, model.schema, model.name, model.unique_id, counts[model.relation])
            for model in models
        ]
        # A file that serves no model (every model of its kind set to serving none) still
        # says which run replaced it: one row without a table.
        con.executemany(
            "insert into main.publish_log values (?, ?, ?, ?, ?, ?, ?)",
            log or [(*file_row, None, None, None, None)],
        )
        con.execute(
            "comment on table main.publish_log is 'Which run published this file, "
            "when, from which warehouse, and the row count of every table in it (one row "
            "without a table when the file holds none).'"
        )
        # Everything in the main file, no WAL left beside it: the rename moves one file.
        con.execute("checkpoint")
        return counts
    finally:
        con.close()


def _portable_columns(con: duckdb.DuckDBPyConnection, model: ServedModel) -> list[str]:
    """The select list that copies `model` from the attached warehouse with every column in a
    type ODBC clients read (PORTABLE_TYPES), names and order unchanged."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = 'warehouse' and table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [model.schema, model.name],
    ).fetchall()
    wide = [name for name, data_type in columns if data_type in PORTABLE_TYPES]
    ranges: dict[str, tuple[int | None, int | None]] = {}
    if any(PORTABLE_TYPES[t] is None for _, t in columns if t in PORTABLE_TYPES):
        row = one_row(
            con.execute(
                "select "
                + ", ".join(f"min({quote(n)}), max({quote(n)})" for n in wide)
                + f" from warehouse.{quote(model.schema)}.{quote(model.name)}"
            )
        )
        ranges = {name: (row[2 * i], row[2 * i + 1]) for i, name in enumerate(wide)}
    select = []
    for name, data_type in columns:
        target = PORTABLE_TYPES.get(data_type, "keep")
        if target is None:
            low, high = ranges[name]
            fits = (low is None or low >= _BIGINT_RANGE[0]) and (
                high is None or high <= _BIGINT_RANGE[1]
            )
            target = "BIGINT" if fits else "DECIMAL(38, 0)"
        select.append(
            quote(name) if target == "keep" else f"cast({quote(name)} as {target}) as {quote(name)}"
        )
    return select


def _gate(path: Path, models: list[ServedModel], sample_rows: int | None) -> list[Finding]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [
            finding
            for model in models
            for finding in scan_table(con, model.relation, sample_rows=sample_rows)
        ]
    finally:
        con.close()


def publish(
    warehouse: str | Path,
    serving_dir: str | Path,
    models: list[ServedModel],
    run_id: str | None = None,
    gate_sample_rows: int | None = GATE_SAMPLE_ROWS,
) -> PublishReport:
    """Build both files from `warehouse` and swap them into `serving_dir`, or raise and keep
    the previous ones."""
    started = time.perf_counter()
    warehouse = Path(warehouse).resolve()
    serving_dir = Path(serving_dir).resolve()
    run_id = run_id or f"manual-{uuid.uuid4().hex[:12]}"
    published_at = datetime.now(UTC)
    serving_dir.mkdir(parents=True, exist_ok=True)
    remove_stale(serving_dir, ".publish-*")
    # Same filesystem as the targets, so os.replace is a rename; 0700 keeps it private.
    with work_folder(serving_dir, f".publish-{run_id}") as private:
        built: dict[Serving, tuple[Path, dict[str, int]]] = {}
        for serving in FILE_NAMES:
            subset = [model for model in models if model.serving == serving]
            path = private / FILE_NAMES[serving]
            built[serving] = path, _build_file(path, warehouse, subset, run_id, published_at)
            if serving == "bi":
                findings = _gate(path, subset, gate_sample_rows)
                if findings:
                    raise PublishError(
                        "personal data in the BI file, not published: "
                        + "; ".join(str(finding) for finding in findings)
                    )
        files: dict[Serving, PublishedFile] = {}
        # Operational first: when the BI file appears, both are from this run.
        for serving in ("operational", "bi"):
            path, counts = built[serving]
            os.chmod(path, FILE_MODES[serving])
            target = serving_dir / FILE_NAMES[serving]
            os.replace(path, target)
            files[serving] = PublishedFile(serving, target, counts, target.stat().st_size)
    return PublishReport(run_id, published_at, files, time.perf_counter() - started)


def read_publish_log(path: str | Path) -> tuple[str, datetime, dict[str, int]]:
    """(run id, published at, rows per table) of a published file, opened read-only."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "select run_id, published_at, table_schema || '.' || table_name, "
            "row_count from main.publish_log order by 3"
        ).fetchall()
    finally:
        con.close()
    if not rows:
        raise PublishError(f"{path}: publish_log is empty")
    return rows[0][0], rows[0][1], {table: count for _, _, table, count in rows if table}


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description="Publish the served marts (outside Dagster).")
    parser.add_argument("--warehouse", default=settings.warehouse_path)
    parser.add_argument("--serving-dir", default=settings.serving_dir)
    parser.add_argument(
        "--manifest",
        default=str(
            Path(__file__).resolve().parents[2] / "dbt_project" / "target" / "manifest.json"
        ),
    )
    args = parser.parse_args(argv)
    require_warehouse(parser, args.warehouse)
    try:
        report = publish(
            args.warehouse, args.serving_dir, served_models(load_manifest(args.manifest))
        )
    except PublishError as error:
        print(f"not published: {error}", file=sys.stderr)
        return 1
    print(f"published run {report.run_id} in {report.seconds:.1f} s")
    for published in report.files.values():
        print(
            f"  {published.path} ({published.bytes / 1e6:.1f} MB, "
            f"mode {published.path.stat().st_mode & 0o777:o})"
        )
        for table, count in published.row_counts.items():
            print(f"    {table:45} {count:>12,}")
    return 0


if __name__ == "__main__":
    run_command(main, "nothing was published: the served files are those of the last publish")
