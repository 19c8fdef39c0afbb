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

from dashboards.bundle import (
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
from orchestration.dbt_project import dbt_project
from orchestration.serving.catalog import load_manifest, serving_of

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
        (root / "dashboards/requirements-superset.txt").read_text(encoding="utf-8").splitlines()
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


# ------------------------------------------------------------------ how the charts read


def _dataset_column(chart: dict, name: str) -> dict:
    dataset = BUNDLE.datasets[chart["dataset_uuid"]]
    return next(column for column in dataset["columns"] if column["column_name"] == name)


def _dashboard_of(chart: dict) -> dict:
    return next(
        dashboard
        for dashboard in BUNDLE.dashboards.values()
        if chart["uuid"] in BUNDLE.dashboard_chart_uuids(dashboard)
    )


def _charts_on(slug: str) -> list[dict]:
    [dashboard] = [d for d in BUNDLE.dashboards.values() if d["slug"] == slug]
    return [BUNDLE.charts[uuid] for uuid in BUNDLE.dashboard_chart_uuids(dashboard)]


ECHARTS_XY = ("echarts_timeseries_bar", "echarts_timeseries_line")
CATEGORY_CHARTS = [
    chart
    for chart in CHARTS
    if chart["viz_type"] in ECHARTS_XY
    and not _dataset_column(chart, chart["params"]["x_axis"])["is_dttm"]
]
TIME_CHARTS = [
    chart
    for chart in CHARTS
    if chart["viz_type"] in ECHARTS_XY
    and _dataset_column(chart, chart["params"]["x_axis"])["is_dttm"]
]
TABLES = [chart for chart in CHARTS if chart["viz_type"] == "table"]
TEXT_TYPES = ("VARCHAR", "BOOLEAN")
TEMPORAL_TYPES = ("DATE", "TIMESTAMP")


def test_the_charts_are_sorted_into_category_and_time_axes() -> None:
    assert len(CATEGORY_CHARTS) >= 10 and len(TIME_CHARTS) >= 12
    assert len(TABLES) >= 10


@pytest.mark.parametrize("chart", CATEGORY_CHARTS, ids=lambda chart: chart["slice_name"])
def test_a_category_axis_labels_every_category(bi, chart) -> None:
    """ECharts drops labels that would overlap: every label is asked for (interval 0), and there
    is room for them — horizontal bars (a label per line), rotated labels, or a few short
    ones."""
    params = chart["params"]
    assert params.get("xAxisLabelInterval") == "0", chart["slice_name"]
    if params.get("orientation") == "horizontal" or params.get("xAxisLabelRotation"):
        return
    dataset = BUNDLE.datasets[chart["dataset_uuid"]]
    labels = [
        str(row[0])
        for row in bi.execute(
            f"select distinct {params['x_axis']} from ({chart_query(chart, dataset)})"
        ).fetchall()
    ]
    width = next(
        node["meta"]["width"]
        for node in _dashboard_of(chart)["position"].values()
        if isinstance(node, dict) and node.get("meta", {}).get("uuid") == chart["uuid"]
    )
    # About 120 px per grid column at 1600 px, 7 px per character of a label.
    assert len(labels) * max(len(label) for label in labels) * 7 <= width * 120 * 0.8, (
        chart["slice_name"],
        labels,
    )


@pytest.mark.parametrize("chart", TIME_CHARTS, ids=lambda chart: chart["slice_name"])
def test_a_time_axis_reads_as_months_or_dates(chart) -> None:
    """Not Superset's default smart_date ("Fri 27"): the month for monthly charts, else the
    date; the tooltip too; labels rotated so the last one never runs into the one before."""
    params = chart["params"]
    expected = "%Y-%m" if params.get("time_grain_sqla") == "P1M" else "%Y-%m-%d"
    assert params["x_axis_time_format"] == expected, chart["slice_name"]
    assert params["tooltipTimeFormat"] == expected, chart["slice_name"]
    assert params.get("xAxisLabelRotation"), chart["slice_name"]


@pytest.mark.parametrize("chart", TABLES, ids=lambda chart: chart["slice_name"])
def test_a_table_formats_numbers_with_separators_and_dates_as_dates(chart) -> None:
    params = chart["params"]
    config = params.get("column_config", {})
    assert params["table_timestamp_format"] == "%Y-%m-%d", chart["slice_name"]
    columns = params["all_columns"] if params["query_mode"] == "raw" else params["groupby"]
    for name in columns:
        column_type = _dataset_column(chart, name)["type"]
        if column_type.startswith(TEXT_TYPES):
            continue
        if column_type.startswith(TEMPORAL_TYPES):
            assert config.get(name, {}).get("d3TimeFormat", "%Y-%m-%d") == "%Y-%m-%d", name
            continue
        assert "," in config[name]["d3NumberFormat"], (chart["slice_name"], name)
    for metric in params.get("metrics") or []:
        assert "," in config[metric["label"]]["d3NumberFormat"], (chart["slice_name"], metric)


@pytest.mark.parametrize(
    "chart",
    [chart for chart in CHARTS if chart["viz_type"] in ("pie", "funnel")],
    ids=lambda chart: chart["slice_name"],
)
def test_every_slice_has_a_colour_of_its_own(bi, chart) -> None:
    """The dashboard names a colour per slice (Superset's shared label colours otherwise hand
    out colours across the dashboard's charts, and two slices can end up alike)."""
    dataset = BUNDLE.datasets[chart["dataset_uuid"]]
    [dimension] = chart["params"]["groupby"]
    slices = {
        row[0]
        for row in bi.execute(
            f"select distinct {dimension} from ({chart_query(chart, dataset)})"
        ).fetchall()
    }
    colours = _dashboard_of(chart)["metadata"]["label_colors"]
    assert slices <= set(colours), (chart["slice_name"], slices - set(colours))
    assert len(set(colours.values())) == len(colours), chart["slice_name"]


@pytest.mark.parametrize(
    "chart",
    [chart for chart in CHARTS if chart["viz_type"] == "heatmap_v2"],
    ids=lambda chart: chart["slice_name"],
)
def test_a_heatmap_leaves_room_for_its_labels(chart) -> None:
    # "auto" clips the axis labels; a number keeps ECharts' containLabel grid around them.
    assert isinstance(chart["params"]["left_margin"], int), chart["slice_name"]
    assert isinstance(chart["params"]["bottom_margin"], int), chart["slice_name"]


def test_complaints_show_no_point_for_months_without_call_center_data(bi) -> None:
    [chart] = [c for c in CHARTS if c["slice_name"] == "Complaints per 1,000 purchase orders"]
    dataset = BUNDLE.datasets[chart["dataset_uuid"]]
    [metric] = chart["params"]["metrics"]
    rows = bi.execute(
        f"select date_trunc('month', service_date), sum(calls), {metric['sqlExpression']} "
        f"from {dataset_relation(dataset)} group by 1"
    ).fetchall()
    assert any(value is not None for _, _, value in rows)
    for month, calls, value in rows:
        if not calls:
            assert value is None, month


def test_the_clv_and_churn_dashboards_show_how_far_to_trust_the_prediction() -> None:
    def shows(chart: dict) -> set[str]:
        params = chart["params"]
        names = set(chart_columns(params))
        for metric in params.get("metrics") or []:
            if metric.get("column"):
                names.add(metric["column"]["column_name"])
        return names

    def reads(chart: dict) -> str:
        return BUNDLE.datasets[chart["dataset_uuid"]]["table_name"]

    ltv = _charts_on("ltv-value-grid")
    # The back-test per calibration group, actual against predicted, with the total error
    # (the 'all' row, frequency_group -1).
    backtest = [
        chart
        for chart in ltv
        if reads(chart) == "mart_clv_backtest"
        and {"actual_purchases", "predicted_purchases", "error_pct"} <= shows(chart)
    ]
    assert backtest
    [table] = backtest
    assert not table["params"]["adhoc_filters"]
    assert "frequency_label" in shows(table)
    # Whether the prediction is reliable, and why, beside it.
    for slug in ("ltv-value-grid", "churn-risk"):
        assert any(
            reads(chart) == "mart_customer_ltv_summary"
            and {"clv_reliable", "clv_reliability_reason", "clv_backtest_error_pct"} <= shows(chart)
            for chart in _charts_on(slug)
        ), slug
        reliable = _dataset_column(
            next(c for c in _charts_on(slug) if reads(c) == "mart_customer_ltv_summary"),
            "clv_reliable",
        )
        assert "clv_is_reliable" in reliable["expression"]
    # Every customer table with a predicted CLV says whether it can be trusted.
    for chart in TABLES:
        if "predicted_clv_12m" in shows(chart):
            assert "clv_reliable" in shows(chart), chart["slice_name"]
