"""`dq.validation_results`: one row per rule per validation run, appended, never rewritten.

A BI chart reads contact quality over time from here (dbt: source `dq`, model
stg_dq__validation_results). The table is created when the warehouse is opened for writing and
by dbt's on-run-start hook (macro ensure_dq_tables), so a fresh warehouse builds either way.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from ingest.dbt_macros import macro_sql
from quality.runner import SuiteOutcome


def ensure_dq_schema(con: duckdb.DuckDBPyConnection) -> None:
    # The table as dbt's on-run-start hook makes it: one definition, the macro's.
    con.execute(macro_sql("ensure_dq_tables"))


def rows(outcome: SuiteOutcome) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "run_id": outcome.run_id,
                # stored as UTC without zone, like every timestamp the history compares
                "validated_at": outcome.validated_at.replace(tzinfo=None),
                "suite": outcome.suite.name,
                "expectation": r.rule.name,
                "expectation_type": r.expectation_type,
                "table_name": outcome.suite.table,
                "column_name": r.rule.column,
                "severity": r.severity,
                "mostly": r.mostly,
                "element_count": r.element_count,
                "unexpected_count": r.unexpected_count,
                "unexpected_share": round(r.unexpected_share, 6),
                "observed_value": r.observed_share,
                "success": r.success,
                "outcome": r.outcome,
                "engine": outcome.engine,
            }
            for r in outcome.rules
        ]
    )


def append(con: duckdb.DuckDBPyConnection, outcome: SuiteOutcome) -> int:
    ensure_dq_schema(con)
    frame = rows(outcome)
    if frame.empty:
        return 0
    con.register("_dq_rows", frame)
    try:
        # by name: a value without a column in the macro's table fails here, not silently
        con.execute("insert into dq.validation_results by name select * from _dq_rows")
    finally:
        con.unregister("_dq_rows")
    return len(frame)


def rule_trend(
    con: duckdb.DuckDBPyConnection, suite: str, expectation: str, runs: int = 10
) -> pd.DataFrame:
    """The rule's last `runs` validations, oldest first: validated_at, observed_value (share
    passing), mostly, outcome."""
    return con.execute(
        """
        select validated_at, observed_value, mostly, outcome from (
            select validated_at, observed_value, mostly, outcome
            from dq.validation_results where suite = ? and expectation = ?
            order by validated_at desc limit ?
        ) order by validated_at""",
        [suite, expectation, runs],
    ).df()


def suite_trend(con: duckdb.DuckDBPyConnection, runs: int = 10) -> pd.DataFrame:
    """Per run (the last `runs`, oldest first) and suite: the share of its rules that passed.
    Columns: run_id, validated_at (the run's first validation), suite, passed_share."""
    return con.execute(
        """
        with recent_runs as (
            select run_id, min(validated_at) as validated_at
            from dq.validation_results group by run_id
            order by validated_at desc limit ?
        )
        select recent_runs.run_id, recent_runs.validated_at, results.suite,
               avg(case when results.success then 1.0 else 0.0 end) as passed_share
        from dq.validation_results as results
        inner join recent_runs on recent_runs.run_id = results.run_id
        group by all
        order by recent_runs.validated_at, results.suite""",
        [runs],
    ).df()
