"""What operators see of dbt in Dagster: every dbt test a described check with a readable name on
the asset it is about, owners and layer groups, column types, source freshness as checks, and
the pictures (CLV back-test, contact-quality trend)."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import dagster as dg
import duckdb
import pytest

from tests.conftest import pipeline_resources

# Builds a warehouse or runs the Dagster daemon: the full tier, not `make test-fast`.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"staging", "intermediate", "core", "marketing", "service", "crm"}


def _manifest_tests() -> dict[str, dict]:
    from orchestration.dbt_project import dbt_project

    manifest = json.loads(Path(dbt_project.manifest_path).read_text(encoding="utf-8"))
    return {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "test"}


def _dbt_check_specs() -> dict[str, dg.AssetCheckSpec]:
    """dbt test unique id → its check spec, over the three dbt steps."""
    from orchestration.assets.dbt import dbt_model_assets

    specs: dict[str, dg.AssetCheckSpec] = {}
    for assets_def in dbt_model_assets:
        for spec in assets_def.check_specs:
            unique_id = spec.metadata["dagster_dbt/unique_id"]
            assert unique_id not in specs, f"{unique_id} is a check in two dbt steps"
            specs[unique_id] = spec
    return specs


def test_every_dbt_test_is_a_described_check_with_a_readable_name() -> None:
    from orchestration.definitions import defs

    tests = _manifest_tests()
    specs = _dbt_check_specs()
    assert set(specs) == set(tests)  # every dbt test, singular and generic, is a check
    graph = defs.resolve_asset_graph()
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    singular = {n["name"] for n in tests.values() if not n.get("test_metadata")}
    # every singular test file of the project is among them
    assert singular == {path.stem for path in (ROOT / "dbt_project" / "tests").rglob("*.sql")}
    assert singular <= {name for _, name in checks}
    # The singular tests sit on the asset they are about.
    for asset, name in [
        ("marts/core/fct_orders", "assert_orders_reconcile_with_staging"),
        ("marts/core/fct_order_lines", "assert_order_lines_reconcile_with_staging"),
        ("marts/core/fct_calls", "assert_calls_and_events_reconcile_with_staging"),
        ("marts/marketing/mart_campaign_segment_kpis", "assert_campaign_segments_add_up"),
        ("marts/marketing/mart_customer_ltv", "assert_ltv_covers_every_buyer"),
        ("intermediate/int_customer_components", "assert_identity_converged"),
        ("staging/erp/stg_erp__customers", "assert_staging_reconciles_with_raw"),
        ("seeds/rfm_segments", "assert_rfm_segments_cover_every_cell"),
    ]:
        assert (asset, name) in checks
    for key in graph.asset_check_keys:
        assert graph.get_check_spec(key).description, key
    # Names: what is asserted on which column, no hash, no model name repeated.
    relationship = next(
        s
        for s in specs.values()
        if s.asset_key.to_user_string() == "staging/shop/stg_shop__orders"
        and s.name == "relationships_shop_member_id_to_stg_shop__members"
    )
    assert "`shop_member_id`" in relationship.description
    assert "where `not is_guest_order`" in relationship.description
    assert relationship.blocking is False  # a warning
    assert max(len(s.name) for s in specs.values()) <= 64
    assert not [s.name for s in specs.values() if re.search(r"[0-9a-f]{10}", s.name)]
    reconcile = next(s for s in specs.values() if s.name == "assert_orders_reconcile_with_staging")
    assert reconcile.description.startswith("Every staged ERP slip and shop order is in fct_orders")
    assert reconcile.blocking is True
    not_null = next(
        s
        for s in specs.values()
        if s.asset_key.to_user_string() == "marts/core/fct_orders"
        and s.name == "not_null_order_key"
    )
    assert not_null.description.startswith("`order_key` is never null in `fct_orders`.")


def test_every_dbt_asset_has_an_owner_and_its_layer_group() -> None:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    owners_by_group: dict[str, set[str]] = {}
    dbt_assets = 0
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if "dagster_dbt/unique_id" not in node.metadata:
            continue
        dbt_assets += 1
        assert node.group_name in LAYERS, key
        assert node.owners, key
        owners_by_group.setdefault(node.group_name, set()).update(node.owners)
    assert dbt_assets > 60
    assert owners_by_group == {
        "staging": {"team:data"},
        "intermediate": {"team:data"},
        "core": {"team:data"},
        "marketing": {"team:marketing"},
        "service": {"team:customer-service"},
        "crm": {"team:crm"},
    }
    # The Python CLV fit and the quality assets follow the models they sit with.
    assert graph.get(dg.AssetKey(["ml", "clv_predictions"])).owners == ["team:marketing"]
    assert graph.get(dg.AssetKey(["quality", "data_docs"])).owners == ["team:data"]


@pytest.mark.parametrize("step", ["dbt_staging", "dbt_marts", "dbt_value_marts"])
def test_each_dbt_step_runs_exactly_the_tests_it_declares_as_checks(step: str) -> None:
    """dbt's own selection (buildable, as the step runs it) against the step's check specs: no
    test runs in a step that does not report it, none is declared where it never runs."""
    from orchestration.assets.dbt import dbt_model_assets

    assets_def = next(a for a in dbt_model_assets if a.node_def.name == step)
    declared = {spec.metadata["dagster_dbt/unique_id"] for spec in assets_def.check_specs}
    tags = assets_def.node_def.tags
    selection = ["--select", tags["dagster_dbt/select"]]
    if tags.get("dagster_dbt/exclude"):
        selection += ["--exclude", tags["dagster_dbt/exclude"]]
    project = ROOT / "dbt_project"
    listed = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "ls",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            *selection,
            "--indirect-selection",
            "buildable",
            "--resource-type",
            "test",
            "--output",
            "json",
            "--output-keys",
            "unique_id",
            "-q",
        ],
        env={**os.environ, "GOGAEK_DBT_TARGET": "duckdb"},
        capture_output=True,
        text=True,
        timeout=600,
        cwd=project,
    )
    assert listed.returncode == 0, listed.stdout[-2000:]
    run = {json.loads(line)["unique_id"] for line in listed.stdout.splitlines() if line[:1] == "{"}
    assert run == declared


def _svg_from_markdown(text: str) -> ElementTree.Element:
    encoded = re.search(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)\)", text)
    assert encoded, text[:200]
    return ElementTree.fromstring(base64.b64decode(encoded.group(1)))


def _metadata_of(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    [event] = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == asset
    ]
    return event.event_specific_data.materialization.metadata  # type: ignore[union-attr]


def _check_evaluations(result: dg.ExecuteInProcessResult) -> list:
    return [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]


def test_a_run_reports_every_test_column_types_freshness_and_pictures(pipeline) -> None:
    _, result = pipeline
    evaluations = _check_evaluations(result)
    by_key = {(e.asset_key.to_user_string(), e.check_name): e for e in evaluations}
    # Every dbt test reports as a check result, none as a bare observation.
    reported = {e.check_name for e in evaluations}
    tests = _manifest_tests()
    singular = {n["name"] for n in tests.values() if not n.get("test_metadata")}
    assert singular <= reported
    assert by_key[("marts/core/fct_orders", "assert_orders_reconcile_with_staging")].passed
    dbt_checks = {(s.asset_key.to_user_string(), s.name) for s in _dbt_check_specs().values()}
    assert dbt_checks <= set(by_key)
    observed_tests = [
        e
        for e in result.all_events
        if e.event_type_value == "ASSET_OBSERVATION"
        and "dbt test" in str(e.event_specific_data.asset_observation.description or "")  # type: ignore[union-attr]
    ]
    assert observed_tests == []

    # Column names and types of what dbt built.
    schema = _metadata_of(result, "marts/core/fct_orders")["dagster/column_schema"].schema
    types = {c.name: c.type for c in schema.columns}
    assert types["order_key"] == "varchar"
    assert all(c.type and c.type != "?" for c in schema.columns)
    described = {c.name: c.description for c in schema.columns}
    assert described["order_key"]  # the yml description rides along

    # Source freshness: every raw table checked, just loaded, so fresh.
    freshness = [e for e in evaluations if e.check_name == "source_freshness"]
    assert len(freshness) == 14
    for evaluation in freshness:
        assert evaluation.passed, evaluation.metadata["status"]
        assert evaluation.metadata["age_hours"].value < 1
        assert evaluation.metadata["last_delivery_read_at"].value != "never"

    # The CLV back-test chart: actual and predicted per calibration group.
    backtest = _metadata_of(result, "ml/clv_backtest")
    svg = _svg_from_markdown(backtest["comparison_chart"].value)
    legend = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert {"actual", "predicted"} <= set(legend)
    assert len(list(svg.iter("{http://www.w3.org/2000/svg}polyline"))) == 2

    # The CLV verdict: a warning check with its figures, the table the marts read, the marts.
    [verdict] = [e for e in evaluations if e.check_name == "clv_predictions_reliable"]
    assert verdict.severity == dg.AssetCheckSeverity.WARN
    assert verdict.metadata["reason"].value
    reliability = _metadata_of(result, "ml/clv_reliability")
    assert reliability["is_reliable"].value == verdict.passed
    con = duckdb.connect(str(pipeline[0] / "warehouse.duckdb"), read_only=True)
    try:
        flags = con.execute(
            "select distinct clv_is_reliable from marketing.mart_churn_risk "
            "union all select distinct clv_is_reliable from marketing.mart_customer_ltv"
        ).fetchall()
    finally:
        con.close()
    assert set(flags) == {(verdict.passed,)}

    # Contact quality over runs: per rule and per suite.
    mobile = by_key[("staging/erp/stg_erp__customers", "gx_mobile_valid")]
    trend = mobile.metadata["trend"].value
    _svg_from_markdown(trend)
    assert "| validated (UTC) | share passing | outcome |" in trend
    docs = _metadata_of(result, "quality/data_docs")
    _svg_from_markdown(docs["trend"].value)
    assert "stg_erp__customers" in docs["trend"].value


def test_source_freshness_judges_load_time_not_business_dates(pipeline, tmp_path: Path) -> None:
    """Rows loaded 30 hours ago warn, 60 hours ago fail; the orders' own dates (years of
    history) play no part."""
    from orchestration.assets.freshness import FRESHNESS_SOURCES, source_freshness_checks

    root, _ = pipeline
    shutil.copy(root / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    shutil.copy(root / "secrets.env", tmp_path / "secrets.env")  # the warehouse's own secrets
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("update raw.erp_customers set _loaded_at = _loaded_at - interval 30 hours")
    con.execute("update raw.erp_orders set _loaded_at = _loaded_at - interval 60 hours")
    # The business dates reach back years (the generator's history), loaded minutes ago.
    oldest = con.execute("select min(try_cast(주문일자 as date)) from raw.erp_orders").fetchone()[0]
    con.close()
    keys = [key for key, _ in FRESHNESS_SOURCES.values()]
    job = dg.define_asset_job(
        "freshness", selection=dg.AssetSelection.checks(source_freshness_checks)
    )
    defs = dg.Definitions(
        assets=[dg.AssetSpec(key) for key in keys],
        asset_checks=[source_freshness_checks],
        jobs=[job],
        resources=pipeline_resources(tmp_path),
    )
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("freshness").execute_in_process(instance=instance)
    verdicts = {
        e.asset_key.to_user_string(): (e.passed, e.severity, e.metadata["status"].value)
        for e in _check_evaluations(result)
    }
    assert len(verdicts) == 14
    assert verdicts["raw/erp_customers"] == (False, dg.AssetCheckSeverity.WARN, "warn")
    assert verdicts["raw/erp_orders"] == (False, dg.AssetCheckSeverity.ERROR, "error")
    assert verdicts["raw/shop_orders"] == (True, dg.AssetCheckSeverity.ERROR, "pass")
    assert (date.today() - oldest).days > 365
    assert verdicts["raw/erp_products"][0] is True
