"""The shipped Superset dashboards as data: read the export files, fill in the BI file, zip them.

`export/` holds Superset's own export format (what *Dashboards → Export* writes and
`superset import-dashboards` reads): `metadata.yaml`, `databases/`, `datasets/<database>/`,
`charts/`, `dashboards/`. The database URI names no machine: `__GOGAEK_SERVING_DIR__` stands for
the published folder and is filled in at import. This module needs only the standard library
and PyYAML, so both the project's environment (tests) and Superset's (import) use it.

`chart_query` turns a chart's parameters into the SQL Superset runs for it (dimensions, metrics,
filters, grouping) for the subset of Superset's chart parameters these dashboards use; the tests
run it against a published BI file, so a mart change that breaks a chart fails CI.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

EXPORT_DIR = Path(__file__).resolve().parent / "export"
SERVING_DIR_PLACEHOLDER = "__GOGAEK_SERVING_DIR__"
BUNDLE_ROOT = "gogaek_dashboards"  # the folder inside the zip, as Superset's exports have one

# Chart parameters that name the columns a chart groups by, per Superset's chart plugins.
DIMENSION_KEYS = ("x_axis", "groupby", "columns", "source", "target")
METRIC_KEYS = ("metric", "metrics")
SIMPLE_OPERATORS = {"==": "=", "!=": "<>", ">": ">", "<": "<", ">=": ">=", "<=": "<="}


@dataclass(frozen=True)
class Bundle:
    metadata: dict[str, Any]
    databases: dict[str, dict[str, Any]]  # by uuid
    datasets: dict[str, dict[str, Any]]
    charts: dict[str, dict[str, Any]]
    dashboards: dict[str, dict[str, Any]]
    files: dict[str, str]  # path inside the export folder -> text

    def dashboard_chart_uuids(self, dashboard: dict[str, Any]) -> list[str]:
        return [
            node["meta"]["uuid"]
            for node in dashboard["position"].values()
            if isinstance(node, dict) and node.get("type") == "CHART"
        ]

    def dashboard_datasets(self, dashboard: dict[str, Any]) -> list[dict[str, Any]]:
        uuids = {
            self.charts[chart]["dataset_uuid"] for chart in self.dashboard_chart_uuids(dashboard)
        }
        return [self.datasets[uuid] for uuid in sorted(uuids)]


def load_bundle(root: Path = EXPORT_DIR) -> Bundle:
    files = {
        str(path.relative_to(root)): path.read_text(encoding="utf-8")
        for path in sorted(root.rglob("*.yaml"))
    }
    parsed = {name: yaml.safe_load(text) for name, text in files.items()}

    def by_uuid(folder: str) -> dict[str, dict[str, Any]]:
        return {
            data["uuid"]: data for name, data in parsed.items() if name.startswith(folder + "/")
        }

    return Bundle(
        metadata=parsed["metadata.yaml"],
        databases=by_uuid("databases"),
        datasets=by_uuid("datasets"),
        charts=by_uuid("charts"),
        dashboards=by_uuid("dashboards"),
        files=files,
    )


def database_uri(serving_dir: str | Path, template: str) -> str:
    """The committed URI with the published folder filled in (absolute: `duckdb:////abs/...`)."""
    folder = Path(serving_dir).resolve()
    return template.replace(SERVING_DIR_PLACEHOLDER, str(folder))


def bundle_contents(serving_dir: str | Path, root: Path = EXPORT_DIR) -> dict[str, str]:
    """Every export file by its path in the bundle, the BI file's folder filled in."""
    contents = {}
    for name, text in load_bundle(root).files.items():
        if name.startswith("databases/"):
            database = yaml.safe_load(text)
            database["sqlalchemy_uri"] = database_uri(serving_dir, database["sqlalchemy_uri"])
            text = yaml.safe_dump(database, allow_unicode=True, sort_keys=False)
        contents[name] = text
    return contents


def bundle_zip(serving_dir: str | Path, root: Path = EXPORT_DIR) -> bytes:
    """The bundle as the zip Superset's import reads (one folder at the top, like its exports)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in bundle_contents(serving_dir, root).items():
            archive.writestr(f"{BUNDLE_ROOT}/{name}", text)
    return buffer.getvalue()


# ------------------------------------------------------------------ a chart's query, as SQL


def dataset_relation(dataset: dict[str, Any]) -> str:
    """What a chart selects from: the table, or a virtual dataset's SQL as a subquery."""
    if dataset.get("sql"):
        return f"({dataset['sql']}) as virtual_table"
    return f"{dataset['schema']}.{dataset['table_name']}"


def dataset_tables(dataset: dict[str, Any]) -> set[str]:
    """schema.table of every published table the dataset reads."""
    if not dataset.get("sql"):
        return {f"{dataset['schema']}.{dataset['table_name']}"}
    return set(re.findall(r"\b((?:core|marketing|service)\.\w+)", dataset["sql"]))


def _column_sql(dataset: dict[str, Any], name: str) -> str:
    for column in dataset["columns"]:
        if column["column_name"] == name:
            return f"({column['expression']})" if column.get("expression") else f'"{name}"'
    raise KeyError(f"dataset {dataset['table_name']} has no column {name!r}")


def _metric_sql(dataset: dict[str, Any], metric: str | dict[str, Any]) -> str:
    if isinstance(metric, str):  # a saved metric of the dataset
        for saved in dataset["metrics"]:
            if saved["metric_name"] == metric:
                return saved["expression"]
        raise KeyError(f"dataset {dataset['table_name']} has no metric {metric!r}")
    if metric["expressionType"] == "SQL":
        return metric["sqlExpression"]
    column = _column_sql(dataset, metric["column"]["column_name"])
    aggregate = metric["aggregate"].upper()
    if aggregate == "COUNT_DISTINCT":
        return f"COUNT(DISTINCT {column})"
    return f"{aggregate}({column})"


def _metric_label(metric: str | dict[str, Any]) -> str:
    return metric if isinstance(metric, str) else metric["label"]


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _filter_sql(dataset: dict[str, Any], adhoc: dict[str, Any]) -> str | None:
    if adhoc["expressionType"] == "SQL":
        return f"({adhoc['sqlExpression']})"
    column = _column_sql(dataset, adhoc["subject"])
    operator = adhoc["operator"]
    if operator == "TEMPORAL_RANGE":
        if adhoc["comparator"] != "No filter":
            raise ValueError(f"time range {adhoc['comparator']!r}: only 'No filter' is used")
        return None
    if operator in ("IN", "NOT IN"):
        values = ", ".join(_literal(value) for value in adhoc["comparator"])
        return f"{column} {operator} ({values})"
    if operator in ("IS NULL", "IS NOT NULL"):
        return f"{column} {operator}"
    return f"{column} {SIMPLE_OPERATORS[operator]} {_literal(adhoc['comparator'])}"


def chart_columns(params: dict[str, Any]) -> list[str]:
    """The columns a chart groups by (or, for a raw table, shows), in the order Superset uses."""
    if params.get("query_mode") == "raw":
        return list(params["all_columns"])
    names: list[str] = []
    for key in DIMENSION_KEYS:
        value = params.get(key)
        for name in [value] if isinstance(value, str) else value or []:
            if name not in names:
                names.append(name)
    return names


def chart_metrics(params: dict[str, Any]) -> list[str | dict[str, Any]]:
    metrics: list[str | dict[str, Any]] = []
    for key in METRIC_KEYS:
        value = params.get(key)
        metrics.extend([value] if isinstance(value, str | dict) else value or [])
    return metrics


def chart_query(chart: dict[str, Any], dataset: dict[str, Any]) -> str:
    """The SQL of a chart: its columns and metrics from its dataset, its filters, grouped.

    Time grains and row limits change how many rows come back, not whether the query works,
    so they are left out (the dashboards' own queries add them, Superset-side).
    """
    params = chart["params"]
    columns = chart_columns(params)
    metrics = chart_metrics(params)
    select = [f'{_column_sql(dataset, name)} as "{name}"' for name in columns]
    select += [f'{_metric_sql(dataset, metric)} as "{_metric_label(metric)}"' for metric in metrics]
    filters = [
        sql
        for adhoc in params.get("adhoc_filters", [])
        if (sql := _filter_sql(dataset, adhoc)) is not None
    ]
    query = f"select {', '.join(select)}\nfrom {dataset_relation(dataset)}"
    if filters:
        query += "\nwhere " + " and ".join(filters)
    if metrics and columns:
        query += "\ngroup by " + ", ".join(str(i + 1) for i in range(len(columns)))
    if params.get("query_mode") == "raw" and params.get("order_by_cols"):
        order = [json.loads(item) for item in params["order_by_cols"]]
        query += "\norder by " + ", ".join(
            f"{_column_sql(dataset, name)} {'asc' if asc else 'desc'}" for name, asc in order
        )
    return query


def chart_output_columns(chart: dict[str, Any]) -> list[str]:
    params = chart["params"]
    return chart_columns(params) + [_metric_label(m) for m in chart_metrics(params)]
