"""Let the BI role log in to PostgreSQL: `make postgres-bi-reader`.

dbt's on-run-start hook (dbt_project/macros/serving.sql) creates the role NOLOGIN and grants it
select on the served models only. This gives it a password so a BI tool can connect as it.
Idempotent: run it again to change the password. Kept out of dbt on purpose: dbt writes hook
SQL to its logs, and the password would land there.

    GOGAEK_BI_READER_PASSWORD=... python -m orchestration.serving.postgres_access
Role: GOGAEK_BI_READER_ROLE (default bi_reader); server: GOGAEK_PG_* as in profiles.yml.
"""

from __future__ import annotations

import sys

import psycopg2
from psycopg2 import sql

from ingest.cli_inputs import run_command
from ingest.postgres_mirror import pg_params
from ingest.settings import Settings


def role_name() -> str:
    return Settings.from_env().bi_reader_role


def enable_login(password: str, role: str | None = None, database: str | None = None) -> None:
    """Create the role if missing, set LOGIN and its password, allow it to connect."""
    role = role or role_name()
    params = pg_params(database)
    con = psycopg2.connect(**params)
    con.autocommit = True
    try:
        with con.cursor() as cursor:
            cursor.execute("select 1 from pg_roles where rolname = %s", [role])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
            cursor.execute(
                sql.SQL("alter role {} login password {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
            cursor.execute(
                sql.SQL("grant connect on database {} to {}").format(
                    sql.Identifier(params["dbname"]), sql.Identifier(role)
                )
            )
    finally:
        con.close()


def main() -> int:
    password = Settings.from_env().bi_reader_password
    if not password:
        print("set GOGAEK_BI_READER_PASSWORD to the password the BI tool will use", file=sys.stderr)
        return 2
    enable_login(password)
    params = pg_params()
    print(
        f"role {role_name()} can log in to {params['dbname']} on "
        f"{params['host']}:{params['port']}; it reads the served schemas only once "
        "`make postgres` (dbt build) has run"
    )
    return 0


if __name__ == "__main__":
    run_command(
        main,
        "the bi_reader role may not have its password yet; run `make postgres-bi-reader` again",
    )
