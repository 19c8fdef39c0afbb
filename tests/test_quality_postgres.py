"""On PostgreSQL the suites run inside the database through GE's postgres data source."""

from __future__ import annotations

import psycopg2
import pytest

from ingest.postgres_mirror import pg_params
from quality.runner import SuiteRunner
from quality.suites import suite

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _url(database: str) -> str:
    p = pg_params(database)
    auth = p["user"] + (f":{p['password']}" if p["password"] else "")
    return f"postgresql+psycopg2://{auth}@{p['host']}:{p['port']}/{database}"


def test_esp_suite_runs_in_postgres_and_bad_rows_fail(pg_database: str) -> None:
    con = psycopg2.connect(**pg_params(pg_database))
    with con, con.cursor() as cursor:
        cursor.execute("create schema staging")
        cursor.execute(
            "create table staging.stg_esp__events (recipient_raw text, "
            "recipient_status text, recipient_invalid_reason text)"
        )
        cursor.execute(
            "insert into staging.stg_esp__events select 'u' || i || '@naver.com', "
            "'valid', null from generate_series(1, 50) as i"
        )
    con.close()
    runner = SuiteRunner(None)
    good = runner.validate_postgres(suite("stg_esp__events"), _url(pg_database), "pg-good")
    assert good.engine == "postgres" and good.rows == 50
    assert all(r.success for r in good.rules), [(r.rule.name, r.success) for r in good.rules]

    con = psycopg2.connect(**pg_params(pg_database))
    with con, con.cursor() as cursor:
        cursor.execute(
            "insert into staging.stg_esp__events select 'u' || i || '@naver.con', "
            "'invalid', 'typo_domain' from generate_series(1, 8) as i"
        )
    con.close()
    bad = runner.validate_postgres(suite("stg_esp__events"), _url(pg_database), "pg-bad")
    # 50 of 58 valid = 86% < mostly 0.90
    recipient = next(r for r in bad.rules if r.rule.name == "recipient_valid")
    assert not recipient.success and recipient.unexpected_count == 8


def test_python_rules_are_left_out_on_postgres(pg_database: str) -> None:
    contacts = ("mobile", "email", "postal_code")
    columns = ", ".join(f"{c}_raw text, {c}_status text, {c}_invalid_reason text" for c in contacts)
    con = psycopg2.connect(**pg_params(pg_database))
    with con, con.cursor() as cursor:
        cursor.execute("create schema staging")
        cursor.execute(f"create table staging.stg_shop__members ({columns}, address text)")
        cursor.execute(
            "insert into staging.stg_shop__members select '010-2345-6789', 'valid', "
            "null, 'a' || i || '@naver.com', 'valid', null, '06236', 'valid', null, "
            "'서울 중앙로 1' from generate_series(1, 20) as i"
        )
        cursor.execute(
            "insert into staging.stg_shop__members values ('011-234-5678', "
            "'invalid', 'legacy_prefix', null, 'missing', null, null, 'missing', "
            "null, null)"
        )
    con.close()
    outcome = SuiteRunner(None).validate_postgres(
        suite("stg_shop__members"), _url(pg_database), "pg"
    )
    names = {r.rule.name: r.success for r in outcome.rules}
    assert "mobile_confirmed_by_phonenumbers" not in names
    # 1 legacy mobile of 21: 95.2% valid passes mostly 0.95, 4.8% legacy fails mostly 0.98
    assert names["mobile_valid"] is True and names["mobile_not_legacy_prefix"] is False


def test_one_data_folder_validates_on_duckdb_then_on_postgres(pg_database: str, tmp_path) -> None:
    """`make demo`, then `make postgres` on the same data folder. Each suite's step rewrites GE's
    data source whole, so the DuckDB run's second suite leaves the first suite's stored
    definition naming an asset that is gone: PostgreSQL's run must still validate it (it
    failed with GE's "Could not find asset"), and so must the next DuckDB run."""
    import duckdb

    tables = {
        "stg_esp__events": "select 'u' || i || '@naver.com' as recipient_raw, "
        "'valid' as recipient_status, cast(null as text) as recipient_invalid_reason",
        "stg_callcenter__calls": "select '010-2345-' || (1000 + i) as caller_number_raw, "
        "'valid' as caller_status, cast(null as text) as caller_invalid_reason",
    }
    con = psycopg2.connect(**pg_params(pg_database))
    local = duckdb.connect()
    local.execute("create schema staging")
    with con, con.cursor() as cursor:
        cursor.execute("create schema staging")
        for table, select in tables.items():
            cursor.execute(
                f"create table staging.{table} as {select} from generate_series(1, 30) as i"
            )
            local.execute(f"create table staging.{table} as {select} from range(1, 31) as t(i)")
    con.close()

    def validate(name: str, engine: str, run_id: str):
        runner = SuiteRunner(tmp_path / "quality", build_docs=False)
        if engine == "duckdb":
            return runner.validate_duckdb(suite(name), local, run_id)
        return runner.validate_postgres(suite(name), _url(pg_database), run_id)

    outcomes = [
        validate("stg_esp__events", "duckdb", "duckdb-1"),
        validate("stg_callcenter__calls", "duckdb", "duckdb-1"),
        validate("stg_esp__events", "postgres", "pg-1"),
        validate("stg_callcenter__calls", "postgres", "pg-1"),
        validate("stg_esp__events", "duckdb", "duckdb-2"),
    ]
    assert [o.engine for o in outcomes] == ["pandas", "pandas", "postgres", "postgres", "pandas"]
    for outcome in outcomes:
        assert outcome.rows == 30 and all(r.success for r in outcome.rules), outcome.rules
