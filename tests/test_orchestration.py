"""Dagster wiring: Definitions load, the sensor reacts to ERP drops, assets materialise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.automation import erp_drop_sensor
from orchestration.resources import LandingFolderResource, WarehouseResource


def test_definitions_load_with_groups_and_descriptions() -> None:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    raw_keys = [key for key in keys if key.path[0] == "raw"]
    # one per source entity, the shop's delete markers and the erasure log
    assert len(raw_keys) == 14 + 2
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


_HOLD_WAREHOUSE = (
    "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('holding', flush=True); "
    "time.sleep(60)"
)


def _sensor_context(
    instance: dg.DagsterInstance, landing: Path, warehouse: Path, cursor: str | None = None
) -> dg.SensorEvaluationContext:
    return dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={
            "landing": LandingFolderResource(path=str(landing)),
            "warehouse": WarehouseResource(path=str(warehouse)),
        },
    )


def test_sensor_starts_a_run_for_a_new_erp_drop(tmp_path: Path) -> None:
    (tmp_path / "erp").mkdir()
    warehouse = tmp_path / "none_yet.duckdb"  # nothing loaded: every export is new
    with dg.instance_for_test() as instance:
        assert not erp_drop_sensor(_sensor_context(instance, tmp_path, warehouse)).run_requests

        (tmp_path / "erp" / "erp_customers_20261118.csv").write_bytes(b"x")
        first = erp_drop_sensor(_sensor_context(instance, tmp_path, warehouse))
        assert isinstance(first, dg.SensorResult) and len(first.run_requests) == 1
        # The same unloaded file asks again with the same run key (Dagster starts it once).
        again = erp_drop_sensor(_sensor_context(instance, tmp_path, warehouse, first.cursor))
        assert again.run_requests[0].run_key == first.run_requests[0].run_key

        newer = tmp_path / "erp" / "erp_orders_20261119.csv"
        newer.write_bytes(b"y")
        os.utime(newer, (1_800_000_000, 1_800_000_000))
        second = erp_drop_sensor(_sensor_context(instance, tmp_path, warehouse, first.cursor))
        assert isinstance(second, dg.SensorResult)
        assert second.run_requests[0].tags["gogaek/erp_files"] == (
            "erp_customers_20261118.csv,erp_orders_20261119.csv"
        )
        assert second.run_requests[0].run_key != first.run_requests[0].run_key

        # A name no loader reads starts nothing, and is named.
        (tmp_path / "erp" / "erp_customers_20261118.csv").unlink()
        newer.unlink()
        (tmp_path / "erp" / "erp-orders-20261120.csv").write_bytes(b"z")
        skipped = erp_drop_sensor(_sensor_context(instance, tmp_path, warehouse, second.cursor))
        assert not skipped.run_requests
        assert "erp/erp-orders-20261120.csv" in (skipped.skip_reason.skip_message or "")


def test_ui_start_over_loaded_data_starts_no_run(
    tmp_path: Path, landing: Path, warehouse: duckdb.DuckDBPyConnection
) -> None:
    """`make ui` over a warehouse that holds every landed export: the first tick (empty cursor)
    asks for nothing; a new export, or a loaded export's content changed, asks for one run."""
    from ingest.file_loader import load_file
    from ingest.schemas import BY_NAME
    from tests.conftest import SALT, erp_customer, write_csv

    spec = BY_NAME["erp_customers"]
    loaded = [
        write_csv(
            landing / "erp" / f"erp_customers_2026111{day}.csv",
            spec,
            [erp_customer(고객번호=f"C{day}")],
        )
        for day in (7, 8)
    ]
    for path in loaded:
        assert load_file(warehouse, spec, path, landing, SALT).status == "loaded"
    # Same bytes under a new name: the loader logs it and loads nothing, so no run either.
    (landing / "erp" / "erp_customers_20261119.csv").write_bytes(loaded[1].read_bytes())
    path = warehouse.execute("pragma database_list").fetchone()[2]
    warehouse.close()  # the run ended; the sensor opens the file read-only

    with dg.instance_for_test() as instance:
        quiet = erp_drop_sensor(_sensor_context(instance, landing, Path(path)))
        assert isinstance(quiet, dg.SensorResult) and not quiet.run_requests
        assert "batch log" in (quiet.skip_reason.skip_message or "")

        write_csv(
            landing / "erp" / "erp_customers_20261120.csv", spec, [erp_customer(고객번호="C20")]
        )
        new = erp_drop_sensor(_sensor_context(instance, landing, Path(path), quiet.cursor))
        assert isinstance(new, dg.SensorResult) and len(new.run_requests) == 1
        assert new.run_requests[0].tags["gogaek/erp_files"] == "erp_customers_20261120.csv"

        # A loaded export re-written with other content (same name, same size) is new again;
        # the cursor's cached fingerprint does not hide it.
        (landing / "erp" / "erp_customers_20261120.csv").unlink()
        text = loaded[0].read_bytes().replace(b"C7", b"C9")
        loaded[0].write_bytes(text)
        os.utime(loaded[0], (1_800_000_000, 1_800_000_000))
        changed = erp_drop_sensor(_sensor_context(instance, landing, Path(path), new.cursor))
        assert changed.run_requests[0].tags["gogaek/erp_files"] == "erp_customers_20261117.csv"

        # While a run (another process) holds the warehouse, the sensor waits for the next tick.
        writer = subprocess.Popen(
            [sys.executable, "-c", _HOLD_WAREHOUSE, path], stdout=subprocess.PIPE, text=True
        )
        try:
            assert writer.stdout is not None and writer.stdout.readline().strip() == "holding"
            busy = erp_drop_sensor(_sensor_context(instance, landing, Path(path), new.cursor))
        finally:
            writer.kill()
            writer.wait()
        assert isinstance(busy, dg.SkipReason) and "being written" in (busy.skip_message or "")


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


@dg.op
def noisy_step(context) -> int:  # type: ignore[no-untyped-def]  # dagster reads it
    print("dbt: 1 of 169 START sql view model staging.stg_erp__customers")
    context.log.info("loaded 3 files")
    context.log.warning("not loaded, the names match no pattern: erp/readme.txt")
    return 1


@dg.op
def failing_step(value: int) -> None:
    raise ValueError(f"bad row {value}\nsecond line of the error")


@dg.job
def noisy_then_failing() -> None:
    failing_step(noisy_step())


def test_demo_prints_a_line_per_step_and_sends_the_rest_to_its_log(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """`make demo`'s terminal: one line per step, warnings, the failure's cause; everything
    else — dbt's output, a child process's, every Dagster event — goes to the log file."""
    import re

    from orchestration.terminal_run import Progress, output_to

    log = tmp_path / "logs" / "demo.log"
    lines: list[str] = []
    with dg.instance_for_test() as instance:
        with output_to(log):
            subprocess.run(
                [sys.executable, "-c", "print('a child process says a lot')"], check=True
            )
            result = noisy_then_failing.execute_in_process(instance=instance, raise_on_error=False)
        Progress(instance, result.run_id, lines.append).poll()
    assert len(lines) == 3, lines
    assert (
        lines[0] == "  warning: noisy_step: not loaded, the names match no pattern: erp/readme.txt"
    )
    assert re.fullmatch(r"  \[1/2\] noisy_step: ok in \d+ s", lines[1])
    assert re.fullmatch(
        r"  \[2/2\] failing_step: FAILED after \d+ s: ValueError: bad row 1", lines[2]
    )
    terminal = capfd.readouterr()
    written = log.read_text(encoding="utf-8")
    for noise in ("a child process says a lot", "1 of 169 START", "loaded 3 files"):
        assert noise in written and noise not in terminal.out + terminal.err
