"""The quality layer in the Dagster run: checks next to the tables they guard, history in the
warehouse, Data Docs built, detection measured against the generator's truth, and a blocking
failure that stops the marts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from quality.contact_eval import score
from quality.suites import all_suites
from tests.conftest import run_everything


@pytest.fixture
def warehouse(pipeline) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(pipeline[0] / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def _evaluations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], object]:
    return {(e.event_specific_data.asset_key.to_user_string(),  # type: ignore[union-attr]
             e.event_specific_data.check_name): e.event_specific_data  # type: ignore[union-attr]
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def test_every_rule_reports_a_check_and_a_history_row(pipeline, warehouse) -> None:
    root, result = pipeline
    evaluations = _evaluations(result)
    for suite in all_suites():
        asset = "/".join(suite.asset_key)
        for rule in suite.rules:
            assert (asset, "gx_" + rule.name) in evaluations, (asset, rule.name)
    mobile = evaluations[("raw/erp_customers", "gx_mobile_valid")]
    metadata = mobile.metadata  # type: ignore[attr-defined]
    assert 0.85 < metadata["observed_share_passing"].value < 1.0
    assert metadata["unexpected_count"].value > 0
    assert metadata["data_docs"].value.startswith("file://")
    # failing examples are masked: never a whole phone number
    assert "****" in metadata["failing_examples"].value

    run_rows = warehouse.execute(
        "select count(*), count(distinct suite), count(*) filter (where outcome = 'blocked') "
        "from dq.validation_results where run_id = ?", [result.run_id]).fetchone()
    assert run_rows == (sum(len(s.rules) for s in all_suites()), len(all_suites()), 0)
    assert (root / "quality" / "gx" / "uncommitted" / "data_docs" / "local_site"
            / "index.html").exists()
    # the history is readable from dbt, and the contact mart has every channel per source
    assert warehouse.execute("select count(*) from staging.stg_dq__validation_results"
                             ).fetchone()[0] >= run_rows[0]
    channels = warehouse.execute(
        "select source, count(*) from marketing.mart_contact_quality group by 1 order by 1"
    ).fetchall()
    assert channels == [("erp_customer", 6), ("golden_record", 6), ("shop_member", 3)]


def test_contact_validators_against_the_generators_truth(pipeline, warehouse) -> None:
    root, _ = pipeline
    result = score(warehouse, root / "truth")
    assert result.truth_invalid > 30 and result.truth_valid > 1000
    assert result.recall_invalid >= 0.99, result.missed_by_defect
    assert result.false_flag_rate <= 0.005, result.false_flags_by_reason


def test_suppressed_and_refused_never_reach_a_contact_list(warehouse) -> None:
    suppressed = warehouse.execute(
        "select count(*) from intermediate.int_customers_golden where email_status = 'suppressed'"
    ).fetchone()[0]
    assert suppressed > 0
    leaked = warehouse.execute("""
        select count(*) from crm.campaign_retarget_list as list
        inner join intermediate.int_customers_golden as golden using (customer_id)
        where golden.email_status <> 'valid' or golden.email_consent <> 'consented'
    """).fetchone()[0]
    assert leaked == 0
    refused = warehouse.execute("""
        select count(*) from crm.contact_fix_list as list
        inner join intermediate.int_customers_golden as golden using (customer_id)
        where golden.sms_consent = 'refused'
    """).fetchone()[0]
    assert refused == 0


def test_a_blocking_failure_on_staging_stops_the_marts(tmp_path: Path) -> None:
    from ingest.generator import generate

    generate(tmp_path, customers=40, days=1, seed=11)
    orders = next((tmp_path / "landing" / "erp").glob("erp_orders_*.csv"))
    content = orders.read_bytes()
    newline = b"\r\n" if b"\r\n" in content else b"\n"
    customer = content.split(newline)[1].split(b",")[1]
    # An order dated 2099: nothing in dbt's tests objects, the GE rule is blocking.
    orders.write_bytes(content.rstrip(newline) + newline + b"SO2099010100001," + customer
                       + ",2099-01-01,매장,정상,10000,".encode("cp949") + newline)

    result = run_everything(tmp_path)
    assert not result.success
    failed = _evaluations(result)[("staging/erp/stg_erp__orders", "gx_order_date_not_in_future")]
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR  # type: ignore[attr-defined]
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "staging/erp/stg_erp__orders" in materialised
    assert "marts/core/fct_orders" not in materialised
    assert "intermediate/int_customers_golden" not in materialised
    skipped = {e.step_key for e in result.all_events if e.event_type_value == "STEP_SKIPPED"}
    failed_steps = {e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"}
    assert "dbt_marts" not in {e.step_key for e in result.all_events
                               if e.event_type_value == "STEP_START"}
    assert failed_steps == {"gx_stg_erp__orders"}, (failed_steps, skipped)
