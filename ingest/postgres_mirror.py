"""Copy the raw layer from the DuckDB warehouse into PostgreSQL, for the dbt `postgres` target.

Ingest always lands in DuckDB (the embedded default, one streaming loader); the same dbt project
then builds on PostgreSQL from this copy. Each table is replaced in one transaction through
COPY, streamed via a CSV file in a private folder beside the warehouse (ingest.work_folders),
so memory stays flat.

    python -m ingest.postgres_mirror [--warehouse data/warehouse.duckdb]
Connection: GOGAEK_PG_HOST, GOGAEK_PG_PORT, GOGAEK_PG_USER, GOGAEK_PG_PASSWORD,
GOGAEK_PG_DATABASE (ingest.settings declares their defaults; profiles.yml is written from it).
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import duckdb
import psycopg2
from psycopg2 import sql

from ingest.cli_inputs import run_command
from ingest.settings import PostgresConnectParams, Settings
from ingest.sql_text import quote
from ingest.work_folders import remove_stale, work_folder

logger = logging.getLogger(__name__)

_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTEGER": "integer",
    "TIMESTAMP": "timestamp",
}


def pg_params(database: str | None = None) -> PostgresConnectParams:
    """psycopg2 connection keywords from the settings (GOGAEK_PG_*), as profiles.yml reads them."""
    return Settings.from_env().postgres.connect_params(database)


def ensure_database(name: str) -> None:
    """Create the project's database when missing, with just-in-time compilation off: PostgreSQL
    compiles the plan of every wide model over the staging views (thousands of functions, tens of
    seconds per model on two cores) to save milliseconds at a customer warehouse's size."""
    con = psycopg2.connect(**pg_params("postgres"))
    con.autocommit = True
    try:
        with con.cursor() as cursor:
            cursor.execute("select 1 from pg_database where datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
            # Every later session (dbt, the mirror, BI readers) starts with it.
            try:
                cursor.execute(
                    sql.SQL("alter database {} set jit = off").format(sql.Identifier(name))
                )
            except psycopg2.errors.InsufficientPrivilege:
                # A database a DBA made and owns: builds work, only slower; say how to fix it.
                logger.warning(
                    "database %s keeps just-in-time compilation on (only its owner can change "
                    "it): dbt builds will be much slower; ask for `alter database %s set jit = "
                    "off`",
                    name,
                    name,
                )
    finally:
        con.close()


def mirror_raw(warehouse_path: str, database: str | None = None) -> dict[str, int]:
    """Replace every raw.* table in PostgreSQL with the DuckDB one; rows copied per table."""
    params = pg_params(database)
    ensure_database(params["dbname"])
    remove_stale(Path(warehouse_path).resolve().parent, ".mirror-*")
    duck = duckdb.connect(warehouse_path, read_only=True)
    pg = psycopg2.connect(**params)
    copied: dict[str, int] = {}
    try:
        tables = [
            t
            for (t,) in duck.execute(
                "select table_name from information_schema.tables where table_schema = 'raw' "
                "order by 1"
            ).fetchall()
        ]
        with pg, pg.cursor() as cursor:
            cursor.execute("create schema if not exists raw")
        for table in tables:
            columns = duck.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'raw' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            definition = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(_TYPES.get(kind, "text")))
                for name, kind in columns
            )
            # Raw rows hold personal data: staged beside the warehouse, never in /tmp.
            with work_folder(
                Path(warehouse_path).resolve().parent, f".mirror-{os.getpid()}-{table}"
            ) as folder:
                staged = folder / f"{table}.csv"
                duck.execute(
                    f"copy (select * from raw.{quote(table)}) to '{staged}' "
                    "(format csv, header false)"
                )
                with pg, pg.cursor() as cursor, staged.open(encoding="utf-8") as handle:
                    target = sql.Identifier("raw", table)
                    cursor.execute(sql.SQL("drop table if exists {} cascade").format(target))
                    cursor.execute(sql.SQL("create table {} ({})").format(target, definition))
                    cursor.copy_expert(
                        sql.SQL("copy {} from stdin with (format csv)")
                        .format(target)
                        .as_string(cursor),
                        handle,
                    )
                    copied[table] = cursor.rowcount
    finally:
        duck.close()
        pg.close()
    return copied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", default=Settings.from_env().warehouse_path)
    args = parser.parse_args()
    for table, rows in mirror_raw(args.warehouse).items():
        print(f"raw.{table}: {rows:,} rows")


if __name__ == "__main__":
    run_command(
        main, "the PostgreSQL copy of the raw layer may be partial; run `make postgres` again"
    )
