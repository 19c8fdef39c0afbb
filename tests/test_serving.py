"""Serving: the BI and operational files, their atomic swap, the personal-data gate, freshness."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import sqlalchemy as sa

from ingest.personal_data import scan_database, scan_table
from orchestration.alerts import innermost_line
from orchestration.assets.dbt import dbt_model_assets
from orchestration.assets.serving import (
    BI_KEY,
    OPERATIONAL_KEY,
    SERVED_MODELS,
    freshness_result,
    serving_assets,
    serving_checks,
    upstream_keys,
)
from orchestration.dbt_project import dbt_project
from orchestration.resources import ServingResource
from orchestration.serving.catalog import ServedModel, load_manifest, serving_of
from orchestration.serving.publish import (
    PORTABLE_TYPES,
    PublishError,
    publish,
    read_publish_log,
)
from tests.conftest import pipeline_resources

# Builds a warehouse (dbt, Dagster): the full tier, not `make test-fast`.
pytestmark = pytest.mark.slow

PROBE = Path(__file__).resolve().parent / "bi_reader_probe.py"


def _manifest_models() -> list[dict]:
    manifest = load_manifest(dbt_project.manifest_path)
    return [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]


def _copy_warehouse(pipeline_root: Path, root: Path) -> Path:
    # Same file name: dbt-duckdb views name the database after it.
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(pipeline_root / "warehouse.duckdb", root / "warehouse.duckdb")
    # A warehouse goes with its installation's secrets (the runs that follow hash with them).
    shutil.copy(pipeline_root / "secrets.env", root / "secrets.env")
    return root / "warehouse.duckdb"


def _run_assets(root: Path, serving_dir: Path, keys: list[dg.AssetKey]):
    resources = {**pipeline_resources(root), "serving": ServingResource(dir=str(serving_dir))}
    defs = dg.Definitions(
        assets=[*dbt_model_assets, *serving_assets],
        asset_checks=serving_checks,
        resources=resources,
        executor=dg.in_process_executor,
    )
    job = defs.resolve_implicit_global_asset_job_def()
    return job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, asset_selection=keys
    )


# --- which models are served: from dbt folder config, not a hand list -----------------------


def test_served_models_follow_the_dbt_folder_config() -> None:
    models = _manifest_models()
    bi = {(m.schema, m.name) for m in SERVED_MODELS if m.serving == "bi"}
    operational = {(m.schema, m.name) for m in SERVED_MODELS if m.serving == "operational"}
    # Every model of the marketing and service folders, whatever its name; every crm model.
    for node in models:
        folder = tuple(node["fqn"][1:3])
        if folder in (("marts", "marketing"), ("marts", "service")):
            assert (node["schema"], node["name"]) in bi, node["name"]
        if folder == ("marts", "crm"):
            assert (node["schema"], node["name"]) in operational, node["name"]
    assert {schema for schema, _ in bi} == {"core", "marketing", "service"}
    assert ("core", "dim_customer") not in bi and ("core", "dim_campaign") not in bi
    assert not bi & operational
    assert not {schema for schema, _ in bi} & {"raw", "staging", "intermediate", "crm"}
    # On PostgreSQL, exactly the BI models are granted to the BI role.
    for node in models:
        granted = "bi_reader" in (node["config"].get("grants") or {}).get("select", [])
        assert granted == (serving_of(node) == "bi"), node["name"]


def test_publish_asset_depends_on_every_served_dbt_asset(tmp_path) -> None:
    dbt_keys = {key for assets_def in dbt_model_assets for key in assets_def.keys}
    graph = dg.Definitions(
        assets=[*dbt_model_assets, *serving_assets], resources=pipeline_resources(tmp_path)
    ).resolve_asset_graph()
    for key, serving in ((BI_KEY, "bi"), (OPERATIONAL_KEY, "operational")):
        parents = graph.get(key).parent_keys
        assert parents == set(upstream_keys(serving))
        assert parents <= dbt_keys
    assert dg.AssetKey(["marts", "marketing", "mart_customer_rfm"]) in graph.get(BI_KEY).parent_keys
    assert dg.AssetKey(["marts", "core", "dim_customer"]) not in graph.get(BI_KEY).parent_keys


def test_dashboards_read_only_models_served_to_bi() -> None:
    manifest = load_manifest(dbt_project.manifest_path)
    assert len(manifest["exposures"]) >= 3
    for exposure in manifest["exposures"].values():
        assert exposure["depends_on"]["nodes"], exposure["name"]
        for unique_id in exposure["depends_on"]["nodes"]:
            assert serving_of(manifest["nodes"][unique_id]) == "bi", (exposure["name"], unique_id)


# --- the files the pipeline run published ---------------------------------------------------


def test_pipeline_run_publishes_both_files_with_their_publish_log(pipeline) -> None:
    root, result = pipeline
    assert result.success
    bi, operational = root / "serving" / "bi.duckdb", root / "serving" / "operational.duckdb"
    assert stat.S_IMODE(bi.stat().st_mode) == 0o644
    assert stat.S_IMODE(operational.stat().st_mode) == 0o600
    assert not list((root / "serving").glob(".publish-*"))  # private build folder removed

    warehouse = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        for path, serving in ((bi, "bi"), (operational, "operational")):
            run_id, _, counts = read_publish_log(path)
            # Published by the shared build's Dagster run (its folder is never run again).
            assert str(uuid.UUID(run_id)) == run_id
            assert run_id == result.run_id
            assert set(counts) == {m.relation for m in SERVED_MODELS if m.serving == serving}
            con = duckdb.connect(str(path), read_only=True)
            try:
                tables = {
                    row[0]
                    for row in con.execute(
                        "select table_schema || '.' || table_name from information_schema.tables "
                        "where table_schema <> 'main'"
                    ).fetchall()
                }
                assert tables == set(counts)
                for table, count in counts.items():
                    assert con.execute(f"select count(*) from {table}").fetchone()[0] == count
                    assert warehouse.execute(f"select count(*) from {table}").fetchone()[0] == count
            finally:
                con.close()
        assert read_publish_log(bi)[2]["marketing.mart_customer_rfm"] > 0
        assert "crm.campaign_retarget_list" not in read_publish_log(bi)[2]
    finally:
        warehouse.close()

    materialization = result.asset_materializations_for_node("publish_serving_files")
    by_key = {event.asset_key: event.metadata for event in materialization}
    assert by_key[BI_KEY]["path"].value == str(bi.resolve())
    for key, path in ((BI_KEY, bi), (OPERATIONAL_KEY, operational)):
        assert by_key[key]["tables"].value == len(read_publish_log(path)[2])
        assert by_key[key]["dagster/row_count"].value > 0
    check = result.get_asset_check_evaluations()
    assert any(e.check_name == "published_recently" and e.passed for e in check)


def test_bi_file_holds_no_personal_data_and_the_scanner_would_see_it(pipeline) -> None:
    root, _ = pipeline
    con = duckdb.connect(str(root / "serving" / "bi.duckdb"), read_only=True)
    try:
        assert scan_database(con) == []  # every row, every text column
    finally:
        con.close()
    # The same scan on tables known to hold identifiers finds each kind.
    warehouse = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        kinds = {(f.column, f.kind) for f in scan_table(warehouse, "core.dim_customer")}
        assert {
            ("email", "email"),
            ("mobile", "mobile_phone"),
            ("home_phone", "landline_phone"),
            ("address", "street_address"),
            ("customer_name", "column_name"),
        } <= kinds
        assert ("sender", "email") in {
            (f.column, f.kind) for f in scan_table(warehouse, "core.dim_campaign")
        }
        assert {f.kind for f in scan_table(warehouse, "crm.campaign_retarget_list")} >= {
            "email",
            "column_name",
        }
    finally:
        warehouse.close()
    sample = duckdb.connect()
    sample.execute(
        "create schema s; create table s.notes as select '850302-1234567' as note "
        "union all select 'order 20240101-0000001'"
    )
    assert [f.kind for f in scan_table(sample, "s.notes")] == ["rrn"]
    sample.close()


def test_published_files_hold_only_column_types_odbc_clients_read(pipeline) -> None:
    root, _ = pipeline
    exotic = ", ".join(f"'{t}'" for t in PORTABLE_TYPES)
    query = (
        "select table_schema || '.' || table_name || '.' || column_name "
        f"from information_schema.columns where data_type in ({exotic}) "
        "and table_schema || '.' || table_name in (select unnest(?))"
    )
    warehouse = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    served = [m.relation for m in SERVED_MODELS]
    try:  # the marts' sums are HUGEINT in DuckDB: the publish has something to convert
        assert len(warehouse.execute(query, [served]).fetchall()) > 10
    finally:
        warehouse.close()
    for name in ("bi.duckdb", "operational.duckdb"):
        con = duckdb.connect(str(root / "serving" / name), read_only=True)
        try:
            assert con.execute(query, [served]).fetchall() == [], name
        finally:
            con.close()


def test_a_served_table_with_personal_data_is_refused_and_nothing_is_replaced(
    pipeline, tmp_path
) -> None:
    root, _ = pipeline
    serving_dir = tmp_path / "serving"
    first = publish(root / "warehouse.duckdb", serving_dir, SERVED_MODELS, run_id="first")
    before = first.files["bi"].path.read_bytes()
    dim_customer = ServedModel(
        "model.gogaek.dim_customer",
        "core",
        "dim_customer",
        "bi",
        ("gogaek", "marts", "core", "dim_customer"),
    )
    with pytest.raises(PublishError, match=r"core\.dim_customer\.email: .* look like email"):
        publish(
            root / "warehouse.duckdb", serving_dir, [*SERVED_MODELS, dim_customer], run_id="leaky"
        )
    assert first.files["bi"].path.read_bytes() == before
    assert read_publish_log(first.files["bi"].path)[0] == "first"
    assert not list(serving_dir.glob(".publish-*"))


def test_a_file_that_serves_no_model_is_still_replaced_and_names_its_run(
    pipeline, tmp_path
) -> None:
    """Every operational model set to serving none: the operational file is replaced by an
    empty one (yesterday's lists of names and contacts do not stay behind), and its log still
    names the run."""
    root, _ = pipeline
    serving_dir = tmp_path / "serving"
    publish(root / "warehouse.duckdb", serving_dir, SERVED_MODELS, run_id="with-lists")
    bi_only = [model for model in SERVED_MODELS if model.serving == "bi"]
    report = publish(root / "warehouse.duckdb", serving_dir, bi_only, run_id="bi-only")
    run_id, _, counts = read_publish_log(serving_dir / "operational.duckdb")
    assert (run_id, counts) == ("bi-only", {})
    assert report.files["operational"].row_counts == {}
    assert read_publish_log(serving_dir / "bi.duckdb")[2] == report.files["bi"].row_counts


# --- swapping under readers ------------------------------------------------------------------


def test_a_reader_with_the_old_file_open_keeps_a_consistent_old_publish(pipeline, tmp_path) -> None:
    root, _ = pipeline
    path = tmp_path / "serving" / "bi.duckdb"
    publish(root / "warehouse.duckdb", path.parent, SERVED_MODELS, run_id="old")
    old = duckdb.connect(str(path), read_only=True)
    try:
        publish(root / "warehouse.duckdb", path.parent, SERVED_MODELS, run_id="new")
        # The open connection still reads the old inode, all of it, consistently.
        assert old.execute("select distinct run_id from publish_log").fetchall() == [("old",)]
        for table, count in old.execute(
            "select table_schema || '.' || table_name, row_count from publish_log"
        ).fetchall():
            assert old.execute(f"select count(*) from {table}").fetchone()[0] == count
        # Another process opening the path now gets the new file. (In this process DuckDB
        # hands out the database instance it already has open for the path: still "old".)
        assert _run_id_seen_by_another_process(path) == "new"
        assert read_publish_log(path)[0] == "old"
    finally:
        old.close()
    assert read_publish_log(path)[0] == "new"  # once every connection to it is closed


def _run_id_seen_by_another_process(path: Path) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; print(duckdb.connect(sys.argv[1], "
            "read_only=True).execute('select any_value(run_id) from publish_log').fetchone()[0])",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_superset_style_sqlalchemy_read_only_connection(pipeline) -> None:
    root, _ = pipeline
    bi = (root / "serving" / "bi.duckdb").resolve()
    expected = read_publish_log(bi)[2]["marketing.mart_customer_rfm"]
    # What Superset is given: the URI and the engine parameters' connect_args.
    engine = sa.create_engine(
        f"duckdb:///{bi}", connect_args={"read_only": True}, poolclass=sa.pool.NullPool
    )
    try:
        # What Superset lists in its dataset picker. (Column reflection, get_columns, fails with
        # SQLAlchemy >= 2.0.45 in duckdb-engine 0.17: duckdb_engine issue #1379. Superset pins
        # SQLAlchemy 1.4, which is not affected; docs/serving.md says so.)
        inspector = sa.inspect(engine)
        assert {"bi.core", "bi.marketing", "bi.service"} <= set(inspector.get_schema_names())
        assert "mart_customer_rfm" in inspector.get_table_names(schema="marketing")
        with engine.connect() as con:
            rows = con.execute(
                sa.text("select segment_name, count(*) from marketing.mart_customer_rfm group by 1")
            ).fetchall()
            assert sum(count for _, count in rows) == expected
            with pytest.raises(sa.exc.DBAPIError, match="read-only"):
                con.execute(sa.text("create table main.scratch (x int)"))
    finally:
        engine.dispose()


def test_reader_every_100ms_during_build_and_publishes_sees_no_lock_error_nor_mixed_run(
    pipeline, tmp_path
) -> None:
    root, _ = pipeline
    full = _copy_warehouse(root, tmp_path / "a")
    # A second warehouse with fewer rows in every served table: a reader that mixed two
    # publishes would see counts that disagree with its publish_log.
    smaller = _copy_warehouse(root, tmp_path / "b")
    con = duckdb.connect(str(smaller))
    for model in SERVED_MODELS:
        con.execute(f"delete from {model.relation} where rowid % 3 = 0")
    con.close()
    serving_dir = tmp_path / "serving"
    publish(full, serving_dir, SERVED_MODELS, run_id="baseline")

    stop, result_file = tmp_path / "stop", tmp_path / "reader.json"
    reader = subprocess.Popen(
        [sys.executable, str(PROBE), str(serving_dir / "bi.duckdb"), str(stop), str(result_file)]
    )
    try:
        started = time.perf_counter()
        # A real build (the dbt step of the value marts, then publish) while the reader reads
        marts = [
            key
            for assets_def in dbt_model_assets
            if assets_def.node_def.name == "dbt_value_marts"
            for key in assets_def.keys
        ]
        run = _run_assets(tmp_path / "a", serving_dir, [*marts, BI_KEY, OPERATIONAL_KEY])
        build_seconds = time.perf_counter() - started
        # ... then publishes alternating between the two warehouses.
        for i in range(4):
            publish(smaller if i % 2 == 0 else full, serving_dir, SERVED_MODELS, run_id=f"swap-{i}")
            time.sleep(0.5)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    seen = json.loads(result_file.read_text())
    print(
        f"\nreader: {seen['rounds']} rounds, {seen['queries']} queries, {seen['errors']} "
        f"errors, {seen['mismatches']} mismatches, runs seen {len(seen['run_ids'])}; "
        f"build+publish {build_seconds:.1f} s"
    )
    assert run.success
    assert seen["errors"] == 0, seen["messages"]
    assert seen["mismatches"] == 0, seen["messages"]
    assert seen["rounds"] >= 50
    # It read across swaps: the baseline, the Dagster run, and both warehouses' publishes.
    assert seen["run_ids"][0] == "baseline" and run.run_id in seen["run_ids"]
    assert len(set(seen["run_ids"])) >= 5 and seen["distinct_count_sets"] >= 2
    assert read_publish_log(serving_dir / "bi.duckdb")[0] == "swap-3"


def test_a_failing_blocking_dbt_test_keeps_the_previous_serving_files(pipeline, tmp_path) -> None:
    root, _ = pipeline
    warehouse = _copy_warehouse(root, tmp_path / "w")
    serving_dir = tmp_path / "serving"
    publish(warehouse, serving_dir, SERVED_MODELS, run_id="good")
    before = {
        name: (serving_dir / name).read_bytes() for name in ("bi.duckdb", "operational.duckdb")
    }
    # A product row without a code, slipped past the loader: stg_erp__products.product_code
    # not_null (severity error) fails.
    con = duckdb.connect(str(warehouse))
    con.execute(
        "insert into raw.erp_products (상품코드, 상품명, _batch_id, _source_file, "
        "_source_line, _loaded_at) values (null, 'broken', 'test', 'test.csv', 1, now())"
    )
    con.close()

    keys = [key for assets_def in dbt_model_assets for key in assets_def.keys]
    run = _run_assets(tmp_path / "w", serving_dir, [*keys, BI_KEY, OPERATIONAL_KEY])
    assert not run.success
    failed = [event for event in run.all_events if event.is_step_failure]
    assert [event.step_key for event in failed] == ["dbt_staging"]
    # What the run-failure alert quotes: the test that broke and the file that declares it.
    said = innermost_line(failed[0].step_failure_data.error, limit=1000)
    assert "DbtBuildFailed: dbt build failed at test " in said, said
    assert "product_code" in said and "(models/staging/erp/_erp__models.yml)" in said, said
    assert not run.asset_materializations_for_node("publish_serving_files")
    assert {name: (serving_dir / name).read_bytes() for name in before} == before
    assert read_publish_log(serving_dir / "bi.duckdb")[0] == "good"


# --- freshness -------------------------------------------------------------------------------


def test_freshness_check_warns_when_missing_or_older_than_26_hours(pipeline, tmp_path) -> None:
    root, _ = pipeline
    bi = root / "serving" / "bi.duckdb"
    _, published_at, _ = read_publish_log(bi)
    fresh = freshness_result(bi, now=published_at + timedelta(hours=25))
    stale = freshness_result(bi, now=published_at + timedelta(hours=27))
    missing = freshness_result(tmp_path / "nothing.duckdb")
    assert fresh.passed and not stale.passed and not missing.passed
    assert stale.severity == missing.severity == dg.AssetCheckSeverity.WARN
    assert stale.metadata["age_hours"].value == pytest.approx(27, abs=0.01)


def test_publish_cli_uses_the_serving_dir_setting(pipeline, tmp_path) -> None:
    root, _ = pipeline
    env = {
        **os.environ,
        "GOGAEK_WAREHOUSE": str(root / "warehouse.duckdb"),
        "GOGAEK_SERVING_DIR": str(tmp_path / "srv"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.serving.publish"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "marketing.mart_customer_rfm" in done.stdout
    assert read_publish_log(tmp_path / "srv" / "bi.duckdb")[0].startswith("manual-")
