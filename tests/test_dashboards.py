"""The shipped Superset dashboards: files that fit together, queries that run on a published BI
file, exposures that name exactly what ships. No Superset needed (it has its own environment);
the browser run is `make dashboard-screenshots`."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.dbt_project import dbt_project
from orchestration.serving.catalog import load_manifest, serving_of
from orchestration.serving.dashboards.bundle import (
    BUNDLE_ROOT,
    SERVING_DIR_PLACEHOLDER,
    bundle_contents,
    bundle_zip,
    chart_columns,
    chart_output_columns,
    chart_query,
    dataset_relation,
    dataset_tables,
    load_bundle,
)

# Builds a warehouse (dbt, Dagster): the full tier, not `make test-fast`.
pytestmark = pytest.mark.slow

BUNDLE = load_bundle()
CHARTS = sorted(BUNDLE.charts.values(), key=lambda chart: chart["slice_name"])
DATASETS = sorted(BUNDLE.datasets.values(), key=lambda dataset: dataset["table_name"])
SLUGS = {
    "rfm-segments",
    "campaign-kpis",
    "ltv-value-grid",
    "churn-risk",
    "service-kpis",
    "contact-quality",
    "monthly-kpis",
}


def test_the_export_files_reference_each_other() -> None:
    assert BUNDLE.metadata["version"] == "1.0.0"
    assert len(BUNDLE.databases) == 1
    [database] = BUNDLE.databases.values()
    # No machine's path is committed: the published folder is filled in at import.
    assert database["sqlalchemy_uri"] == f"duckdb:///{SERVING_DIR_PLACEHOLDER}/bi.duckdb"
    assert database["extra"]["engine_params"]["connect_args"] == {"read_only": True}
    assert not any(
        re.search(r"/(work|home|root|tmp|Users)/", text) for text in BUNDLE.files.values()
    )
    for dataset in DATASETS:
        assert dataset["database_uuid"] in BUNDLE.databases, dataset["table_name"]
    on_a_dashboard: list[str] = []
    for dashboard in BUNDLE.dashboards.values():
        uuids = BUNDLE.dashboard_chart_uuids(dashboard)
        assert uuids, dashboard["slug"]
        for uuid in uuids:
            assert uuid in BUNDLE.charts, (dashboard["slug"], uuid)
            node_name = next(
                node["meta"]["sliceName"]
                for node in dashboard["position"].values()
                if isinstance(node, dict) and node.get("meta", {}).get("uuid") == uuid
            )
            assert node_name == BUNDLE.charts[uuid]["slice_name"]
        on_a_dashboard += uuids
    assert {d["slug"] for d in BUNDLE.dashboards.values()} == SLUGS
    # Every chart is on exactly one dashboard and reads a dataset of the bundle.
    assert sorted(on_a_dashboard) == sorted(BUNDLE.charts)
    for chart in CHARTS:
        assert chart["dataset_uuid"] in BUNDLE.datasets, chart["slice_name"]
        assert chart["viz_type"] == chart["params"]["viz_type"]
    every_uuid = [*BUNDLE.databases, *BUNDLE.datasets, *BUNDLE.charts, *BUNDLE.dashboards]
    assert len(every_uuid) == len(set(every_uuid))


def test_the_bundle_fills_in_the_absolute_bi_file_path(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    contents = bundle_contents("published")  # relative, as GOGAEK_SERVING_DIR may be
    [database] = [
        yaml.safe_load(text) for name, text in contents.items() if name.startswith("databases/")
    ]
    # duckdb:/// + the absolute path: four slashes.
    assert database["sqlalchemy_uri"] == f"duckdb:///{tmp_path / 'published'}/bi.duckdb"
    assert database["sqlalchemy_uri"].startswith("duckdb:////")
    with zipfile.ZipFile(io.BytesIO(bundle_zip("published"))) as archive:
        names = archive.namelist()
        assert f"{BUNDLE_ROOT}/metadata.yaml" in names
        assert {name.split("/")[1] for name in names} == {
            "metadata.yaml",
            "databases",
            "datasets",
            "charts",
            "dashboards",
        }
        assert SERVING_DIR_PLACEHOLDER not in "".join(archive.read(name).decode() for name in names)


@pytest.fixture(scope="module")
def bi(pipeline):
    root, result = pipeline
    assert result.success
    con = duckdb.connect(str(root / "serving" / "bi.duckdb"), read_only=True)
    yield con
    con.close()


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda dataset: dataset["table_name"])
def test_dataset_columns_exist_in_the_published_file(bi, dataset) -> None:
    published = dict(
        bi.execute(
            f"select column_name, column_type from (describe select * from "
            f"{dataset_relation(dataset)})"
        ).fetchall()
    )
    for column in dataset["columns"]:
        if column.get("expression"):  # a calculated column: it must compute
            bi.execute(f"select {column['expression']} from {dataset_relation(dataset)} limit 1")
            continue
        assert column["column_name"] in published, (dataset["table_name"], column["column_name"])
        assert column["type"] == published[column["column_name"]], column["column_name"]
        assert column["is_dttm"] == column["type"].startswith(("DATE", "TIMESTAMP"))
    if dataset.get("main_dttm_col"):
        assert dataset["main_dttm_col"] in published


@pytest.mark.parametrize("chart", CHARTS, ids=lambda chart: chart["slice_name"])
def test_chart_query_returns_rows_from_the_published_file(bi, chart) -> None:
    dataset = BUNDLE.datasets[chart["dataset_uuid"]]
    result = bi.execute(chart_query(chart, dataset))
    rows = result.fetchall()
    assert [column[0] for column in result.description] == chart_output_columns(chart)
    assert rows, f"{chart['slice_name']}: no rows\n{chart_query(chart, dataset)}"
    # The metrics come out as numbers somewhere: a chart of nothing but nulls draws nothing.
    dimensions = len(chart_columns(chart["params"]))
    if len(rows[0]) > dimensions:
        assert any(value is not None for row in rows for value in row[dimensions:])


def test_exposures_name_exactly_the_shipped_dashboards() -> None:
    manifest = load_manifest(dbt_project.manifest_path)
    by_slug = {dashboard["slug"]: dashboard for dashboard in BUNDLE.dashboards.values()}
    seen = set()
    for exposure in manifest["exposures"].values():
        match = re.fullmatch(
            r"http://127\.0\.0\.1:8088/superset/dashboard/([a-z-]+)/", exposure["url"]
        )
        assert match, exposure["url"]
        dashboard = by_slug[match.group(1)]
        seen.add(match.group(1))
        assert exposure["label"] == dashboard["dashboard_title"]
        depends_on = set()
        for unique_id in exposure["depends_on"]["nodes"]:
            node = manifest["nodes"][unique_id]
            assert serving_of(node) == "bi", (exposure["name"], unique_id)
            depends_on.add(f"{node['schema']}.{node.get('alias') or node['name']}")
        read = set().union(
            *(dataset_tables(dataset) for dataset in BUNDLE.dashboard_datasets(dashboard))
        )
        assert depends_on == read, exposure["name"]
    assert seen == set(by_slug)
    assert len(manifest["exposures"]) == len(by_slug)


def test_the_superset_environment_is_pinned_and_reads_the_projects_duckdb() -> None:
    root = Path(__file__).resolve().parents[1]
    pins = {}
    for line in (
        (root / "orchestration/serving/dashboards/requirements-superset.txt")
        .read_text(encoding="utf-8")
        .splitlines()
    ):
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not pinned: {line}"
            pins[name.lower().replace("_", "-")] = version
    lock = dict(
        line.split("==")
        for line in (root / "requirements.lock").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    )
    assert pins["duckdb"] == lock["duckdb"]
    assert pins["apache-superset"].startswith("6.")
    assert pins["sqlalchemy"].startswith("1.4.")
