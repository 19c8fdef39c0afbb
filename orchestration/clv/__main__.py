"""Fit the CLV models outside Dagster, on a warehouse of your own (the make targets build it as
the asset `ml/*` through `python -m orchestration build`, in the asset graph's order).

    python -m orchestration.clv [--target duckdb|postgres] [--warehouse PATH]

The DuckDB path defaults to GOGAEK_WAREHOUSE; PostgreSQL uses GOGAEK_PG_* as profiles.yml does;
the discount and default margin rates are the dbt vars (GOGAEK_LTV_DISCOUNT_RATE, ...).
"""

from __future__ import annotations

import argparse
import uuid

import duckdb
import psycopg2

from ingest.cli_inputs import run_command
from ingest.postgres_mirror import pg_params
from ingest.settings import Settings, resolve_dbt_vars
from orchestration.clv import fitting, scoring, store


def main() -> None:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=["duckdb", "postgres"], default=settings.dbt_target)
    parser.add_argument("--warehouse", default=settings.warehouse_path)
    args = parser.parse_args()
    # The same rates dbt gets with --vars: dbt_project.yml defaults, GOGAEK_<NAME> overrides.
    rates = scoring.ClvSettings.from_dbt_vars(resolve_dbt_vars())
    run_id = f"cli-{uuid.uuid4().hex[:12]}"
    if args.target == "duckdb":
        con = duckdb.connect(args.warehouse)
        try:
            summary = store.read_summary_duckdb(con)
            days, as_of_date = store.read_purchase_days_duckdb(con)
            fitted = fitting.fit(summary, days, as_of_date, rates)
            store.write_duckdb(con, fitted, run_id)
        finally:
            con.close()
    else:
        pg = psycopg2.connect(**pg_params())
        try:
            summary = store.read_summary_postgres(pg)
            days, as_of_date = store.read_purchase_days_postgres(pg)
            fitted = fitting.fit(summary, days, as_of_date, rates)
            store.write_postgres(pg, fitted, run_id)
        finally:
            pg.close()
    result = fitted.result
    p, g = result.bgnbd, result.gamma_gamma
    if p is None or g is None:
        print(f"CLV not fitted, its tables are empty: {result.why_empty}")
        return
    print(
        f"BG/NBD on {p.customers:,} customers: r={p.r:.4g} alpha={p.alpha:.4g} a={p.a:.4g} "
        f"b={p.b:.4g} LL={p.log_likelihood:.1f}; Gamma-Gamma on {g.customers:,}: "
        f"p={g.p:.4g} q={g.q:.4g} gamma={g.gamma:.4g}"
    )
    tested = fitted.tested
    if tested:
        print(
            f"Back-test: {tested.actual_total:,.0f} repeat purchases in the holdout, "
            f"{tested.predicted_total:,.0f} predicted ({tested.total_error_pct:+.1f}%)"
        )
    else:
        print(f"Back-test skipped: {fitted.why_not_tested}")
    verdict = fitted.verdict
    print(
        "Predictions reliable."
        if verdict.is_reliable
        else f"Predictions NOT reliable: {verdict.reason}"
    )


if __name__ == "__main__":
    run_command(main, "the CLV fit did not finish; run it again")
