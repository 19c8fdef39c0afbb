"""The same dbt project builds on the real PostgreSQL and gives the same answers as on DuckDB."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg2
import pytest
from psycopg2 import sql

from ingest.postgres_mirror import mirror_raw, pg_params
from orchestration.serving.postgres_access import enable_login
from tests.conftest import dagster_home

PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def bi_role(pg_database: str) -> Iterator[str]:
    """A BI reader role of this test only (roles are cluster-wide), dropped afterwards."""
    role = f"bi_reader_test_{uuid.uuid4().hex[:8]}"
    yield role
    for database in (pg_database, "postgres"):
        try:
            con = psycopg2.connect(**pg_params(database))
        except psycopg2.OperationalError:
            continue  # the test database may not exist when the build failed early
        con.autocommit = True
        with con.cursor() as cursor:
            cursor.execute("select 1 from pg_roles where rolname = %s", [role])
            if cursor.fetchone():
                cursor.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
                if database == "postgres":
                    cursor.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))
        con.close()


def test_whole_project_builds_on_postgres_with_the_duckdb_results(
    pipeline, pg_database, bi_role, tmp_path
) -> None:
    # A copy: the mirror stages its CSV files beside the warehouse it reads.
    warehouse = str(tmp_path / "warehouse.duckdb")
    shutil.copy(pipeline[0] / "warehouse.duckdb", warehouse)
    # The warehouse goes with its installation's secrets (the build's data folder below).
    (tmp_path / "data").mkdir()
    shutil.copy(pipeline[0] / "secrets.env", tmp_path / "data" / "secrets.env")
    copied = mirror_raw(warehouse, pg_database)
    assert copied["erp_customers"] > 0

    env = {
        **os.environ,
        "GOGAEK_DBT_TARGET": "postgres",
        "GOGAEK_PG_DATABASE": pg_database,
        "GOGAEK_BI_READER_ROLE": bi_role,
        "DO_NOT_TRACK": "1",
    }
    # What `make postgres` runs after the mirror: the dbt project and the CLV fit, materialised
    # through Dagster in the asset graph's order (the fit between the models it reads and the
    # marts that read it), on the postgres target.
    build = subprocess.run(
        [sys.executable, "-m", "orchestration", "build"],
        cwd=PROJECT.parent,
        env={
            **env,
            "DAGSTER_HOME": str(dagster_home(tmp_path / "dagster_home")),
            "GOGAEK_DATA_DIR": str(tmp_path / "data"),
            "GOGAEK_WAREHOUSE": warehouse,
            "PYTHONUNBUFFERED": "1",
        },
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert build.returncode == 0, (build.stdout[-4000:], build.stderr[-2000:])
    assert "Traceback" not in build.stdout + build.stderr, build.stderr[-4000:]

    queries = {
        "orders": "select count(*), sum(booked_amount), sum(net_amount), "
        "sum(merchandise_net_amount) from core.fct_orders",
        "lines": "select count(*), sum(cancelled_amount), sum(returned_amount), "
        "count(returns_line_key) from core.fct_order_lines",
        "exceptions": "select count(*) from intermediate.int_order_line_exceptions",
        "purchases": "select count(*), sum(purchase_orders), sum(merchandise_value) "
        "from core.fct_purchases",
        "scoring_date": "select extract(year from as_of_date) * 10000 "
        "+ extract(month from as_of_date) * 100 + extract(day from as_of_date) "
        "from intermediate.int_scoring_date",
        "calendar": "select count(*) from core.dim_date",
        "rfm": "select count(*), sum(r_score * 100 + f_score * 10 + m_score), sum(monetary) "
        "from marketing.mart_customer_rfm",
        "kpi_monthly": "select count(*), sum(purchases), sum(net_revenue), "
        "sum(anonymous_revenue) from marketing.mart_kpi_monthly",
        # the contact verdicts of record: the same on both engines (one-edit typo rule included)
        "contacts": "select count(*), sum(case when mobile_status = 'valid' then 1 else 0 end), "
        "sum(case when email_invalid_reason = 'typo_domain' then 1 else 0 end), "
        "count(email_suggested), count(home_phone_invalid_reason), "
        "count(work_phone_e164), count(postal_code_invalid_reason) "
        "from staging.stg_erp__customers",
        "recipients": "select count(*), sum(case when recipient_status = 'valid' then 1 else 0 "
        "end), count(recipient_invalid_reason) from staging.stg_esp__events",
        "crosswalk": "select count(*), count(distinct customer_id) "
        "from intermediate.int_identity_crosswalk",
        "golden": "select count(*), sum(case when has_valid_mobile then 1 else 0 end) "
        "from intermediate.int_customers_golden",
        # the id history and lookup of a first run: every record issued the id of its group
        "customer_ids": "select count(*), count(distinct customer_id) "
        "from intermediate.int_customer_id_history",
        "id_lookup": "select count(*), sum(case when is_retired then 1 else 0 end) "
        "from core.customer_id_lookup",
        "sends": "select count(*), sum(case when is_open then 1 else 0 end) "
        "from core.fct_campaign_sends",
        "calls": "select count(*), count(customer_id) from core.fct_calls",
        "rfm_history": "select count(*), sum(r_score * 100 + f_score * 10 + m_score) "
        "from marketing.mart_rfm_history",
        "migration": "select count(*), sum(customers) from marketing.mart_rfm_migration",
        "segment_kpis": "select count(*), sum(sent), sum(opened), sum(attributed_revenue) "
        "from marketing.mart_campaign_segment_kpis",
        "ltv": "select count(*), sum(formula_ltv), sum(gross_margin_to_date) "
        "from marketing.mart_customer_ltv",
        # Fitted values may differ in the last digits between engines; counts may not.
        "value_grid": "select count(*) from marketing.mart_customer_value_grid",
        "churn": "select count(*), sum(case when is_lapsed then 1 else 0 end) "
        "from marketing.mart_churn_risk",
        "backtest": "select count(*), sum(customers), sum(actual_purchases) "
        "from marketing.mart_clv_backtest",
        "customer_360": "select count(*), count(rfm_segment_code) from crm.mart_customer_360",
    }
    duck = duckdb.connect(warehouse, read_only=True)
    pg = psycopg2.connect(**pg_params(pg_database))
    try:
        with pg.cursor() as cursor:
            for name, query in queries.items():
                cursor.execute(query)
                on_postgres = tuple(int(v or 0) for v in cursor.fetchone())
                on_duckdb = tuple(int(v or 0) for v in duck.execute(query).fetchone())
                assert on_postgres == on_duckdb, name
    finally:
        duck.close()
        pg.close()

    # Stray grants (an admin's shortcut) are taken back by the next dbt invocation's hook.
    superuser = psycopg2.connect(**pg_params(pg_database))
    superuser.autocommit = True
    with superuser.cursor() as cursor:
        cursor.execute(
            sql.SQL(
                "grant usage on schema crm, raw to {0}; grant select on "
                "crm.campaign_retarget_list, core.dim_customer, raw.erp_customers "
                "to {0}"
            ).format(sql.Identifier(bi_role))
        )
    superuser.close()
    rerun = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "run",
            "--select",
            "dim_date",
            "--project-dir",
            str(PROJECT),
            "--profiles-dir",
            str(PROJECT),
            "--target-path",
            str(tmp_path / "target"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stdout[-4000:]
    _bi_reader_sees_served_models_only(pg_database, bi_role)


def _bi_reader_sees_served_models_only(database: str, role: str) -> None:
    """Logged in as the BI role (for real, with a password): served marts yes, the rest no."""
    enable_login("bi-test-password", role, database)
    enable_login("bi-test-password", role, database)  # idempotent
    con = psycopg2.connect(**{**pg_params(database), "user": role, "password": "bi-test-password"})
    con.autocommit = True
    try:
        with con.cursor() as cursor:
            for relation in (
                "marketing.mart_customer_rfm",
                "marketing.mart_customer_ltv",
                "service.mart_service_kpis",
                "core.fct_orders",
                "core.dim_product",
            ):
                cursor.execute(f"select count(*) from {relation}")
                assert cursor.fetchone()[0] > 0, relation
            for relation in (
                "raw.erp_customers",
                "staging.stg_erp__customers",
                "intermediate.int_customers_golden",
                "snapshots.snap_customers",
                "crm.campaign_retarget_list",
                "crm.mart_customer_360",
                "ml.clv_predictions",
                "core.dim_customer",
                "core.dim_campaign",
                "core.fct_email_events",
            ):
                with pytest.raises(
                    psycopg2.errors.InsufficientPrivilege, match="permission denied"
                ):
                    cursor.execute(f"select 1 from {relation} limit 1")
            cursor.execute("select current_user")
            assert cursor.fetchone()[0] == role
    finally:
        con.close()


def test_the_projects_database_compiles_no_query_plans(pg_database: str) -> None:
    """Just-in-time compilation is off in the database the project makes: on with the server
    default, one identity model took 45 s to compile and 0.02 s to run on five records."""
    con = psycopg2.connect(**pg_params(pg_database))
    try:
        with con.cursor() as cursor:
            cursor.execute("show jit")
            assert cursor.fetchone() == ("off",)
    finally:
        con.close()


def test_a_database_someone_else_owns_is_used_with_a_warning(
    pg_database: str,
    bi_role: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A database a DBA created: the project's login may not change its settings. The copy and
    the build go on (slower), and the log says what to ask for."""
    from ingest.postgres_mirror import ensure_database

    con = psycopg2.connect(**pg_params("postgres"))
    con.autocommit = True
    with con.cursor() as cursor:
        cursor.execute(sql.SQL("create role {} login").format(sql.Identifier(bi_role)))
        cursor.execute(sql.SQL("alter database {} reset jit").format(sql.Identifier(pg_database)))
    con.close()
    monkeypatch.setenv("GOGAEK_PG_USER", bi_role)
    with caplog.at_level("WARNING", logger="ingest.postgres_mirror"):
        ensure_database(pg_database)
    assert f"database {pg_database} keeps just-in-time compilation on" in caplog.text
