"""The quality layer in the Dagster run: checks next to the tables they guard, history in the
warehouse, Data Docs built, detection measured against the generator's truth, and a blocking
failure that stops the marts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lab.contact_eval import score
from quality.suites import all_suites
from tests.conftest import run_everything

# Builds a warehouse (dbt, Dagster): the full tier, not `make test-fast`.
pytestmark = pytest.mark.slow


@pytest.fixture
def warehouse(pipeline) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(pipeline[0] / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def _evaluations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], object]:
    return {
        (
            e.event_specific_data.asset_key.to_user_string(),  # type: ignore[union-attr]
            e.event_specific_data.check_name,
        ): e.event_specific_data  # type: ignore[union-attr]
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def test_every_rule_reports_a_check_and_a_history_row(pipeline, warehouse) -> None:
    root, result = pipeline
    evaluations = _evaluations(result)
    for suite in all_suites():
        asset = "/".join(suite.asset_key)
        for rule in suite.rules:
            assert (asset, "gx_" + rule.name) in evaluations, (asset, rule.name)
    mobile = evaluations[("staging/erp/stg_erp__customers", "gx_mobile_valid")]
    metadata = mobile.metadata  # type: ignore[attr-defined]
    assert 0.85 < metadata["observed_share_passing"].value < 1.0
    assert metadata["unexpected_count"].value > 0
    assert metadata["data_docs"].value.startswith("file://")
    # failing examples are masked: never a whole phone number
    assert "****" in metadata["failing_examples"].value

    run_rows = warehouse.execute(
        "select count(*), count(distinct suite), count(*) filter (where outcome = 'blocked') "
        "from dq.validation_results where run_id = ?",
        [result.run_id],
    ).fetchone()
    assert run_rows == (sum(len(s.rules) for s in all_suites()), len(all_suites()), 0)
    assert (
        root / "quality" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    ).exists()
    # the history is readable from dbt, and the contact mart has every channel per source
    assert (
        warehouse.execute("select count(*) from staging.stg_dq__validation_results").fetchone()[0]
        >= run_rows[0]
    )
    channels = warehouse.execute(
        "select source, count(*) from marketing.mart_contact_quality group by 1 order by 1"
    ).fetchall()
    assert channels == [("erp_customer", 6), ("golden_record", 6), ("shop_member", 3)]


def test_staging_contact_verdicts_against_the_generators_truth(pipeline, warehouse) -> None:
    root, _ = pipeline
    result = score(warehouse, root / "truth")
    assert result.truth_invalid > 30 and result.truth_valid > 1000
    assert result.recall_invalid >= 0.99, result.missed_by_defect
    assert result.false_flag_rate <= 0.005, result.false_flags_by_reason
    # libphonenumber read every phone verdict it can judge
    assert result.libphonenumber_compared > 500


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


FULL_WIDTH_RRN = "９００１０１－１２３４５６７"


def test_a_clear_rrn_in_raw_stops_everything_downstream(tmp_path: Path) -> None:
    """Blocking stays for what must stop publication. The loaders never write an RRN in clear,
    so the row here is one an older loader (or a hand edit) left in the warehouse: its batch is
    accounted for, only the RRN is wrong."""
    from ingest.raw_store import ensure_raw_schema
    from lab.generator import generate
    from tests.conftest import write_secrets

    generate(tmp_path, customers=40, days=1, seed=11)
    write_secrets(tmp_path)  # the data folder's installation, before its warehouse exists
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_raw_schema(con)
    con.execute("""
        insert into raw._load_batches values ('legacy', 'erp', 'customers', 'erp/legacy.csv',
            null, 'loaded', 1, 1, 0, 0, 0, now(), now())""")
    con.execute(
        """
        insert into raw.erp_customers (고객번호, 가입일, 수정일시, 비고, _batch_id, _source_file,
            _source_line, _loaded_at, _row_hash)
        values ('L0001', '2019-07-01', '2020-01-01 00:00:00', ?,
            'legacy', 'erp/legacy.csv', 2, now(), 'x')""",
        [f"주민번호 {FULL_WIDTH_RRN}"],
    )
    con.close()

    result = run_everything(tmp_path)

    assert not result.success
    failed = _evaluations(result)[("raw/erp_customers", "no_clear_text_rrn")]
    assert not failed.passed  # type: ignore[attr-defined]
    assert "90****" in str(failed.metadata["findings"].value)  # type: ignore[attr-defined]
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert not started & {"dbt_staging", "dbt_marts", "publish_serving_files"}
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "raw/erp_orders" in materialised  # the other sources still load
    assert not any(key.startswith(("staging/", "marts/", "serving/")) for key in materialised)
