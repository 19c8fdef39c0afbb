"""Fit the CLV models outside Dagster, e.g. between the two halves of `make postgres`.

    python -m orchestration.clv [--target duckdb|postgres] [--warehouse PATH]

The DuckDB path defaults to GOGAEK_WAREHOUSE; PostgreSQL uses GOGAEK_PG_* as profiles.yml does.
"""

from __future__ import annotations

import argparse
import os
import uuid

import duckdb
import psycopg2

from ingest.postgres_mirror import pg_params
from ingest.settings import Settings
from orchestration.clv import scoring, store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=["duckdb", "postgres"],
                        default=os.environ.get("GOGAEK_DBT_TARGET", "duckdb"))
    parser.add_argument("--warehouse", default=Settings.from_env().warehouse_path)
    args = parser.parse_args()
    run_id = f"cli-{uuid.uuid4().hex[:12]}"
    if args.target == "duckdb":
        con = duckdb.connect(args.warehouse)
        try:
            summary = store.read_summary_duckdb(con)
            result = scoring.score(summary)
            store.write_duckdb(con, result, summary["as_of_date"].max(), run_id)
        finally:
            con.close()
    else:
        con = psycopg2.connect(**pg_params())
        try:
            summary = store.read_summary_postgres(con)
            result = scoring.score(summary)
            store.write_postgres(con, result, summary["as_of_date"].max(), run_id)
        finally:
            con.close()
    p, g = result.bgnbd, result.gamma_gamma
    print(f"BG/NBD on {p.customers:,} customers: r={p.r:.4g} alpha={p.alpha:.4g} a={p.a:.4g} "
          f"b={p.b:.4g} LL={p.log_likelihood:.1f}; Gamma-Gamma on {g.customers:,}: "
          f"p={g.p:.4g} q={g.q:.4g} gamma={g.gamma:.4g}")


if __name__ == "__main__":
    main()
