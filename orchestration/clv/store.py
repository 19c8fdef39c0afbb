"""Read the purchase summary from the warehouse and write the CLV tables (schema ml).

DuckDB is the embedded default; PostgreSQL is the `postgres` dbt target's warehouse. Both get
the same four tables, replaced in one transaction so dbt never sees half a fit:
ml.clv_predictions (one row per customer), ml.clv_model_fit (one row per parameter),
ml.clv_backtest (the calibration/holdout comparison, one row per frequency group and a total)
and ml.clv_reliability (one row: whether the predictions can be trusted, and why not).
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import duckdb
import pandas as pd
import psycopg2
from psycopg2 import sql

from ingest.db_rows import one_row
from orchestration.clv.fitting import Fitted
from orchestration.clv.scoring import SUMMARY_COLUMNS

SUMMARY_TABLE = "intermediate.int_customer_purchase_summary"
# Ordered: the fits sum over customers, and floating-point sums depend on their order — the same
# data must give the same parameters to the last digit, run after run.
_SUMMARY_QUERY = (
    f"select {', '.join(SUMMARY_COLUMNS)}, as_of_date from {SUMMARY_TABLE} order by customer_id"
)
# Purchase days up to the scoring date, for the back-test (fct_purchases is the one definition
# of a purchase).
_PURCHASE_DAYS_QUERY = """
    select customer_id, purchase_date
    from core.fct_purchases
    where is_purchase
        and purchase_date <= (select as_of_date from intermediate.int_scoring_date)
    order by customer_id, purchase_date"""
_AS_OF_QUERY = "select as_of_date from intermediate.int_scoring_date"

_PG_TYPES = {
    "customer_id": "text",
    "model": "text",
    "parameter": "text",
    "customers_fitted": "bigint",
    "as_of_date": "date",
    "fitted_at": "timestamptz",
    "run_id": "text",
    "label": "text",
    "frequency_group": "bigint",
    "customers": "bigint",
    "calibration_end": "timestamp",
    "holdout_end": "timestamp",
    "is_reliable": "boolean",
    "reason": "text",
}


def _stamped(fitted: Fitted, run_id: str) -> dict[str, pd.DataFrame]:
    fitted_at = datetime.now(UTC)
    # A DATE column, whatever the driver returned.
    as_of_date = pd.Timestamp(fitted.as_of_date).date()
    tables = {
        "clv_predictions": fitted.result.predictions.copy(),
        "clv_model_fit": fitted.result.fit.copy(),
        "clv_backtest": fitted.backtest_table.copy(),
        "clv_reliability": fitted.verdict.as_table(),
    }
    for frame in tables.values():
        frame["as_of_date"] = as_of_date
        frame["fitted_at"] = fitted_at
        frame["run_id"] = run_id
    return tables


def read_summary_duckdb(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(_SUMMARY_QUERY).df()


def read_purchase_days_duckdb(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, date]:
    """(purchase days up to the scoring date, the scoring date)."""
    return con.execute(_PURCHASE_DAYS_QUERY).df(), one_row(con.execute(_AS_OF_QUERY))[0]


def write_duckdb(con: duckdb.DuckDBPyConnection, fitted: Fitted, run_id: str) -> None:
    tables = _stamped(fitted, run_id)
    con.execute("begin transaction")
    try:
        con.execute("create schema if not exists ml")
        for name, frame in tables.items():
            con.register("clv_frame", frame)
            con.execute(f"create or replace table ml.{name} as select * from clv_frame")
            con.unregister("clv_frame")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def read_summary_postgres(con: psycopg2.extensions.connection) -> pd.DataFrame:
    with con.cursor() as cursor:
        cursor.execute(_SUMMARY_QUERY)
        columns = [d[0] for d in cursor.description or ()]  # a select always has one
        frame = pd.DataFrame(cursor.fetchall(), columns=columns)
    numeric = [c for c in SUMMARY_COLUMNS if c != "customer_id"]
    frame[numeric] = frame[numeric].astype(float)
    return frame


def read_purchase_days_postgres(con: psycopg2.extensions.connection) -> tuple[pd.DataFrame, date]:
    with con.cursor() as cursor:
        cursor.execute(_PURCHASE_DAYS_QUERY)
        days = pd.DataFrame(cursor.fetchall(), columns=["customer_id", "purchase_date"])
        cursor.execute(_AS_OF_QUERY)
        return days, one_row(cursor)[0]


def write_postgres(con: psycopg2.extensions.connection, fitted: Fitted, run_id: str) -> None:
    tables = _stamped(fitted, run_id)
    with con, con.cursor() as cursor:
        cursor.execute("create schema if not exists ml")
        for name, frame in tables.items():
            target = sql.Identifier("ml", name)
            columns = sql.SQL(", ").join(
                sql.SQL("{} {}").format(
                    sql.Identifier(c), sql.SQL(_PG_TYPES.get(c, "double precision"))
                )
                for c in frame.columns
            )
            cursor.execute(sql.SQL("drop table if exists {} cascade").format(target))
            cursor.execute(sql.SQL("create table {} ({})").format(target, columns))
            buffer = io.StringIO()
            frame.to_csv(buffer, index=False, header=False)
            buffer.seek(0)
            cursor.copy_expert(
                sql.SQL("copy {} from stdin with (format csv)").format(target).as_string(cursor),
                buffer,
            )
