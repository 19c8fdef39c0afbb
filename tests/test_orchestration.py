"""Dagster wiring: Definitions load, the sensor reacts to ERP drops, assets materialise."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from orchestration.automation import erp_drop_sensor
from orchestration.resources import LandingFolderResource


def test_definitions_load_with_groups_and_descriptions() -> None:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    raw_keys = [key for key in keys if key.path[0] == "raw"]
    assert len(raw_keys) == 14 + 1  # one per source entity, and the shop's delete markers
    for key in keys:
        node = graph.get(key)
        # Grouped by layer: the folder below models/ (marts by their area), seeds with staging.
        expected = {
            "raw": "ingest",
            "quality": "quality",
            "dq": "quality",
            "serving": "serving",
            "ml": "marketing",
            "seeds": "staging",
            "snapshots": "core",
        }.get(key.path[0], key.path[1] if key.path[0] == "marts" else key.path[0])
        assert node.group_name == expected, key
        assert node.description, key
    assert {graph.get(key).group_name for key in keys} == {
        "ingest",
        "staging",
        "intermediate",
        "core",
        "marketing",
        "service",
        "crm",
        "quality",
        "serving",
    }
    # Lineage runs unbroken from the raw ingest asset to the marts.
    customers = graph.get(dg.AssetKey(["staging", "erp", "stg_erp__customers"]))
    assert dg.AssetKey(["raw", "erp_customers"]) in customers.parent_keys
    assert dg.AssetKey(["marts", "core", "fct_orders"]) in keys
    # The Python CLV fit sits between the dbt model it reads and the marts that read it.
    clv = graph.get(dg.AssetKey(["ml", "clv_predictions"]))
    assert dg.AssetKey(["intermediate", "int_customer_purchase_summary"]) in clv.parent_keys
    ltv = graph.get(dg.AssetKey(["marts", "marketing", "mart_customer_ltv"]))
    assert dg.AssetKey(["ml", "clv_predictions"]) in ltv.parent_keys
    assert dg.AssetKey(["marts", "crm", "mart_customer_360"]) in keys
    checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
    assert ("raw/erp_customers", "rows_accounted_for") in checks
    assert ("serving/bi_marts", "published_recently") in checks
    assert (
        dg.AssetKey(["marts", "marketing", "mart_customer_ltv"])
        in graph.get(dg.AssetKey(["serving", "bi_marts"])).parent_keys
    )
    assert ("raw/esp_events", "no_clear_text_rrn") in checks
    assert ("raw/erp_orders", "landing_files_recognised") in checks
    # One check per asset for "no clear RRN": the GE suites no longer repeat it.
    assert not [c for c in checks if c[1] == "gx_no_clear_text_rrn"]
    assert ("staging/erp/stg_erp__customers", "gx_mobile_valid") in checks  # GE suites
    assert graph.get(dg.AssetKey(["staging", "erp", "stg_erp__customers"])).group_name == "staging"
    schedule = defs.resolve_schedule_def("daily_refresh_0200_kst")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "Asia/Seoul")
    assert defs.resolve_job_def("daily_refresh").tags["gogaek/writes_warehouse"] == "true"


def test_sensor_starts_a_run_for_a_new_erp_drop(tmp_path: Path) -> None:
    (tmp_path / "erp").mkdir()
    landing = LandingFolderResource(path=str(tmp_path))
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"landing": landing})
        assert isinstance(erp_drop_sensor(context), dg.SkipReason)

        (tmp_path / "erp" / "erp_customers_20261118.csv").write_bytes(b"x")
        first = erp_drop_sensor(context)
        assert isinstance(first, dg.SensorResult) and len(first.run_requests) == 1

        context = dg.build_sensor_context(
            instance=instance, resources={"landing": landing}, cursor=first.cursor
        )
        assert isinstance(erp_drop_sensor(context), dg.SkipReason)

        newer = tmp_path / "erp" / "erp_orders_20261119.csv"
        newer.write_bytes(b"y")
        os.utime(newer, (1_800_000_000, 1_800_000_000))
        second = erp_drop_sensor(context)
        assert isinstance(second, dg.SensorResult)
        assert second.run_requests[0].tags["gogaek/erp_files"] == "erp_orders_20261119.csv"

        # A name no loader reads starts nothing, and is named.
        context = dg.build_sensor_context(
            instance=instance, resources={"landing": landing}, cursor=second.cursor
        )
        (tmp_path / "erp" / "erp-orders-20261120.csv").write_bytes(b"z")
        skipped = erp_drop_sensor(context)
        assert isinstance(skipped, dg.SkipReason)
        assert "erp/erp-orders-20261120.csv" in (skipped.skip_message or "")


def test_unmatched_landing_files_are_reported_to_the_asset_they_concern(tmp_path: Path) -> None:
    from ingest.file_loader import unmatched_files
    from ingest.schemas import BY_NAME

    erp = tmp_path / "erp"
    (erp / "2026").mkdir(parents=True)
    for name in (
        "erp_orders_20261121.csv",
        "ERP_CUSTOMERS_20261121.CSV",
        "erp-orders-20261121.csv",
        "2026/erp_orders_20261120.csv",
        "readme.txt",
        ".DS_Store",
    ):
        (erp / name).write_bytes(b"x")
    assert unmatched_files(tmp_path, BY_NAME["erp_orders"]) == [
        "erp/2026/erp_orders_20261120.csv",
        "erp/erp-orders-20261121.csv",
        "erp/readme.txt",
    ]
    # The upper-case export loads; a file like no export concerns every ERP asset.
    assert unmatched_files(tmp_path, BY_NAME["erp_customers"]) == ["erp/readme.txt"]
