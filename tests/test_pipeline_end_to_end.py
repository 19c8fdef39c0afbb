"""Generated sources → Dagster (ingest + dbt) in one in-process run, checked against the truth."""

from __future__ import annotations

import csv
from collections.abc import Iterator

import dagster as dg
import duckdb
import pytest

from ingest.personal_data import RRN_ONLY, scan_database
from lab.identity_eval import score

# Builds a warehouse (dbt, Dagster): the full tier, not `make test-fast`.
pytestmark = pytest.mark.slow

KIND_TO_REASON = {
    "undecodable_bytes": "undecodable_bytes",
    "extra_column": "wrong_field_count",
    "missing_column": "wrong_field_count",
    "unbalanced_quote": "malformed_quoting",
    "missing_key": "missing_key",
    "missing_required": "missing_required",
    "bad_date": "bad_date",
    "bad_number": "bad_number",
    "bad_timestamp": "bad_timestamp",
    "broken_json": "malformed_json",
    "not_an_object": "not_an_object",
}


@pytest.fixture
def warehouse(pipeline) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(pipeline[0] / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def test_one_run_materialises_every_asset_and_passes_every_check(pipeline) -> None:
    _, result = pipeline
    assert result.success
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "raw/erp_customers" in materialised
    assert "staging/erp/stg_erp__customers" in materialised
    assert "marts/core/fct_orders" in materialised
    # The value marts come after the Python CLV fit, in the same run.
    assert {
        "ml/clv_predictions",
        "marts/marketing/mart_customer_ltv",
        "marts/marketing/mart_churn_risk",
        "marts/crm/mart_customer_360",
        "marts/marketing/mart_rfm_migration",
    } <= materialised
    failed = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and not e.event_specific_data.passed  # type: ignore[union-attr]
        and e.event_specific_data.severity == dg.AssetCheckSeverity.ERROR
    ]  # type: ignore[union-attr]
    assert failed == []


def test_quarantine_holds_exactly_the_injected_malformed_lines(pipeline, warehouse) -> None:
    root, _ = pipeline
    with (root / "truth" / "malformed.csv").open(encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    # A file byte-identical to an earlier one (an unchanged master snapshot) is logged as a
    # duplicate and not loaded again, so its lines are quarantined once, under the first file.
    duplicates = {
        ref
        for (ref,) in warehouse.execute(
            "select source_ref from raw._load_batches where status like 'duplicate_of:%'"
        ).fetchall()
    }
    expected_files = {
        (row["file"], int(row["line"]), KIND_TO_REASON[row["kind"]])
        for row in truth
        if not row["file"].startswith("shop:") and row["file"] not in duplicates
    }
    found_files = set(
        warehouse.execute(
            "select source_file, source_line, reason_code from raw._quarantine "
            "where source <> 'shop'"
        ).fetchall()
    )
    assert found_files == expected_files

    expected_shop = sorted(
        (
            row["file"].removeprefix("shop:"),
            row["line"].replace("|", ","),
            KIND_TO_REASON[row["kind"]],
        )
        for row in truth
        if row["file"].startswith("shop:")
    )
    found_shop = sorted(
        (entity, record, code)
        for entity, record, code, key_count in warehouse.execute(
            "select entity, raw_record, reason_code, "
            "case entity when 'marketing_consents' then 2 else 1 end from raw._quarantine "
            "where source = 'shop'"
        ).fetchall()
        for record in [",".join(record.split(",")[:key_count])]
    )
    assert found_shop == expected_shop


def test_every_row_read_is_loaded_or_quarantined(warehouse) -> None:
    manifest_rows = warehouse.execute(
        "select sum(rows_read), sum(rows_loaded), sum(rows_quarantined), sum(rows_unchanged) "
        "from raw._load_batches"
    ).fetchone()
    read, loaded, quarantined, unchanged = manifest_rows
    assert read == loaded + quarantined + unchanged
    assert quarantined == warehouse.execute("select count(*) from raw._quarantine").fetchone()[0]


def test_no_clear_text_rrn_anywhere_in_the_warehouse(warehouse) -> None:
    assert scan_database(warehouse, RRN_ONLY) == []
    hashed = warehouse.execute(
        "select count(*) from raw.erp_customers where 주민등록번호_해시 like 'rrn_sha256:%'"
    ).fetchone()[0]
    assert hashed > 0


DUCKDB_TYPE = {
    "varchar": "VARCHAR",
    "boolean": "BOOLEAN",
    "double": "DOUBLE",
    "bigint": "BIGINT",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMP WITH TIME ZONE",
}


def test_the_clv_fit_writes_the_column_types_the_ml_source_declares(warehouse) -> None:
    """The ml source's declared types are a contract: dbt's unit tests build on them."""
    from tests.test_dbt_unit_tests import declared_ml_tables

    for table, columns in declared_ml_tables().items():
        written = warehouse.execute(
            "select column_name, data_type from information_schema.columns where "
            "table_schema = 'ml' and table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
        assert written == [(c, DUCKDB_TYPE[t]) for c, t in columns], table


def test_identity_resolution_against_truth(pipeline, warehouse) -> None:
    result = score(warehouse, pipeline[0] / "truth")
    assert result.precision >= 0.99
    assert result.recall >= 0.93  # small sample; 100k figures: docs/identity-and-erasure.md
    assert 0 < result.duplicate_rates["erp_customer"] < 0.06


def test_the_clv_fit_sees_the_generated_customers_who_stop_buying(pipeline, warehouse) -> None:
    """The generator's people stop buying (truth/persons.csv, stops_buying_after) as a real
    base's do: the fit sees the dropout, and among repeat buyers those who stopped are the
    ones it thinks more likely gone."""
    lowest, dropout, error = warehouse.execute(
        "select lowest_p_alive, dropout_rate, backtest_error_pct from ml.clv_reliability"
    ).fetchone()
    assert lowest < 0.5 and dropout > 0.001
    assert abs(error) <= 20.0
    persons = {
        row["person_id"]: bool(row["stops_buying_after"])
        for row in csv.DictReader((pipeline[0] / "truth" / "persons.csv").open(encoding="utf-8"))
    }
    owner = {
        row["source_key"]: row["person_id"]
        for row in csv.DictReader((pipeline[0] / "truth" / "identity.csv").open(encoding="utf-8"))
        if row["source"] == "erp_customer"
    }
    # Repeat buyers: BG/NBD calls a one-time buyer alive whatever its silence.
    p_alive = warehouse.execute(
        "select crosswalk.source_key, predictions.p_alive from ml.clv_predictions as predictions "
        "join intermediate.int_identity_crosswalk as crosswalk using (customer_id) "
        "join intermediate.int_customer_purchase_summary as summary using (customer_id) "
        "where crosswalk.source = 'erp_customer' and summary.repeat_purchases >= 1"
    ).fetchall()
    stopped = [p for key, p in p_alive if persons.get(owner.get(key, ""))]
    buying = [p for key, p in p_alive if key in owner and not persons[owner[key]]]
    assert sum(stopped) / len(stopped) < sum(buying) / len(buying) - 0.05
