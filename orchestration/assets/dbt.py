"""dbt layer: every dbt model is an asset, wired to the raw ingest assets it reads.

One DbtProject, built in steps (see the @dbt_assets below); dbt tests surface as asset checks.
The translator derives everything from where a resource sits, never from its name:
- a model is keyed by its folder below models/ (`staging/erp/stg_erp__…`,
  `marts/core/fct_orders`) and grouped by layer (staging, intermediate, core, marketing, service,
  crm); seeds are `seeds/<name>` (with staging), snapshots `snapshots/<name>` (with core);
- a source is keyed `<schema>/<table>` (`raw/erp_customers`, `ml/clv_predictions`,
  `dq/validation_results`): exactly the keys of the Python assets that write those tables;
- a model's, seed's or snapshot's owner is its dbt `meta.owner` (set per folder in
  dbt_project.yml);
- every dbt test is an asset check on the model it is about, with a readable name and a
  description (dbt_tests.py); a singular test reading several models names its model in
  `config(meta={'dagster': {'ref': {'name': ...}}})`.
After each dbt step the built tables' column names and types are attached to their
materialisations (read from the warehouse once dbt has let go of it).
"""

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
    get_asset_key_for_model,
)

from orchestration.assets.dbt_tests import readable_manifest
from orchestration.dbt_project import DBT_EXECUTABLE, dbt_project
from orchestration.dbt_targets import invocation_target
from orchestration.resources import WAREHOUSE_POOL, SettingsResource, WarehouseResource

# Dagster group of each folder below models/ (marts/<area> by its area).
SEED_GROUP, SNAPSHOT_GROUP = "staging", "core"


class LayeredTranslator(DagsterDbtTranslator):
    """Keys and groups from the project's folders (see the module docstring)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type == "model":
            # fqn = [project, folder..., name]
            return dg.AssetKey(list(dbt_resource_props["fqn"][1:]))
        if resource_type in ("seed", "snapshot"):
            return dg.AssetKey([f"{resource_type}s", dbt_resource_props["name"]])
        if resource_type == "source":
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type == "seed":
            return SEED_GROUP
        if resource_type == "snapshot":
            return SNAPSHOT_GROUP
        folders = dbt_resource_props["fqn"][1:-1]
        return folders[1] if folders[:1] == ["marts"] and len(folders) > 1 else folders[0]

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        meta = dbt_resource_props.get("config", {}).get("meta") or dbt_resource_props.get(
            "meta", {}
        )
        owner = meta.get("owner")
        if owner:
            return [owner] if isinstance(owner, str) else list(owner)
        return super().get_owners(dbt_resource_props)

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: Any,
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        # The test's description (dbt_tests.readable_manifest writes one on every test).
        return dg.AssetCheckSpec(
            name=spec.name,
            asset=spec.asset_key,
            description=manifest["nodes"][unique_id].get("description") or None,
            additional_deps=spec.additional_deps,
            metadata=spec.metadata,
            blocking=spec.blocking,
        )


# Source tests (the ml tables the CLV fit writes) are checks on the Python assets that write them.
TRANSLATOR = LayeredTranslator(DagsterDbtTranslatorSettings(enable_source_tests_as_checks=True))


def load_manifest(path: Path | None = None) -> dict[str, Any]:
    """The dbt manifest with readable test names and descriptions (see dbt_tests.py)."""
    manifest_path = path or dbt_project.manifest_path
    return readable_manifest(json.loads(Path(manifest_path).read_text(encoding="utf-8")))


MANIFEST = load_manifest()


def dbt_cli_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


@contextmanager
def dbt_invocation(
    name: str, warehouse: WarehouseResource, settings: SettingsResource
) -> Iterator[tuple[str, Path]]:
    """What one dbt call of a run gets: `--vars` with the run's business settings and the
    warehouse file (profiles.yml reads var('warehouse_path'), so dbt opens the file the Dagster
    resources use), and its own target folder starting from the last parse made with those vars
    (dbt_targets.py)."""
    dbt_vars = json.dumps(settings.dbt_cli_vars(warehouse.path), ensure_ascii=False)
    target_root = Path(dbt_project.project_dir) / "target"
    with invocation_target(target_root, name, dbt_vars, dbt_project.target or "") as folder:
        yield dbt_vars, folder


def _dbt_build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    settings: SettingsResource,
) -> Iterator[Any]:
    # No fetch_row_counts() or fetch_column_metadata(): they open the DuckDB file while dbt
    # still holds it. The events wait until dbt has exited, then the built tables' columns are
    # read once and attached to their materialisations (dbt's log streams meanwhile).
    # buildable: a test runs in the step that builds the last of its parents, so a test spanning
    # staging and marts (the reconciliations) waits for the marts.
    events: list[Any] = []
    failure: Exception | None = None
    broken: list[str] = []
    with dbt_invocation(context.op_def.name, warehouse, settings) as (dbt_vars, target_path):
        invocation = dbt.cli(
            ["build", "--indirect-selection", "buildable", "--vars", dbt_vars],
            context=context,
            target_path=target_path,
        )
        try:
            for event in invocation.stream():
                events.append(event)
        except Exception as error:  # a failed test: what dbt built is reported, then it fails
            failure = error
            broken = what_broke(target_path / "run_results.json")
    yield from with_column_types(context, events, warehouse)
    if failure is not None:
        if not broken:
            raise failure
        # The step's error (and the run-failure alert, which quotes its first line) names
        # what broke and its file, not only "the dbt CLI process failed"; dbt's own error
        # follows, with the log to read.
        raise DbtBuildFailed("dbt build failed at " + "; ".join(broken) + f"\n{failure}") from None


class DbtBuildFailed(Exception):
    """A dbt step that failed, naming the models and tests that broke and their files."""


def what_broke(run_results: Path, limit: int = 5) -> list[str]:
    """'model fct_orders (models/marts/core/fct_orders.sql): <dbt's message>' for each node
    that errored or failed in `run_results` (tests: with the rows that failed), the first
    `limit` of them; [] when dbt wrote no results."""
    try:
        results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError):
        return []
    broken = []
    for result in results:
        if result.get("status") not in ("error", "fail"):
            continue
        unique_id = result.get("unique_id", "")
        node = MANIFEST["nodes"].get(unique_id) or {}
        kind, name = unique_id.split(".")[0], node.get("name") or unique_id
        where = node.get("original_file_path") or "?"
        message = " ".join((result.get("message") or result["status"]).split())[:200]
        broken.append(f"{kind} {name} ({where}): {message}")
    more = len(broken) - limit
    return broken[:limit] + ([f"and {more} more"] if more > 0 else [])


def _column_types(
    warehouse: WarehouseResource, relations: set[tuple[str, str]]
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(schema, table) → [(column, type)] for the relations dbt built, in column order."""
    if not relations or dbt_project.target != "duckdb":
        return {}  # on PostgreSQL the schema comes from the manifest's columns alone
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    with warehouse.connect(read_only=True) as con:
        rows = con.execute(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns order by table_schema, table_name, ordinal_position"
        ).fetchall()
    for schema, table, column, data_type in rows:
        if (schema, table) in relations:
            found.setdefault((schema, table), []).append((column, data_type))
    return found


def with_column_types(
    context: dg.AssetExecutionContext, events: list[Any], warehouse: WarehouseResource
) -> Iterator[Any]:
    """The events, each materialisation with its table's column names, types and descriptions
    (`dagster/column_schema`: the UI's column table)."""
    nodes_by_output: dict[str, Mapping[str, Any]] = {}
    for event in events:
        if isinstance(event, dg.Output):
            key = context.assets_def.keys_by_output_name[event.output_name]
            unique_id = context.assets_def.get_asset_spec(key).metadata["dagster_dbt/unique_id"]
            nodes_by_output[event.output_name] = MANIFEST["nodes"][unique_id]
    try:
        types = _column_types(
            warehouse, {(n["schema"], n["alias"]) for n in nodes_by_output.values()}
        )
    except Exception as error:  # the types are a convenience: never fail a build for them
        context.log.warning(f"column types not read: {error}")
        types = {}
    for event in events:
        node = nodes_by_output.get(getattr(event, "output_name", None) or "")
        columns = types.get((node["schema"], node["alias"])) if node else None
        if node and columns:
            described = node.get("columns") or {}
            schema = dg.TableSchema(
                columns=[
                    dg.TableColumn(
                        name=name,
                        type=data_type.lower(),
                        description=(described.get(name) or {}).get("description") or None,
                    )
                    for name, data_type in columns
                ]
            )
            event = event.with_metadata({**event.metadata, "dagster/column_schema": schema})
        yield event


# The project runs as separate steps, so that Dagster checks and Python assets can sit
# between dbt layers: quality checks on staging block the marts, and the marts that read
# the Python CLV fit run after it. Each step selects what it builds (never by exclusion: dbt
# drops a test from a selection when any of its parents is excluded, so a test reading staging
# and marts would run in no step); buildable indirect selection then runs every test in exactly
# the step that builds the last of its parents, the step whose asset carries its check.
STAGING_SELECT = "path:models/staging resource_type:seed"
MARTS_SELECT = "path:models/intermediate path:models/marts resource_type:snapshot"
AFTER_PYTHON_SELECT = "source:ml+"


@dbt_assets(
    manifest=MANIFEST,
    project=dbt_project,
    name="dbt_staging",
    select=STAGING_SELECT,
    dagster_dbt_translator=TRANSLATOR,
    pool=WAREHOUSE_POOL,
)
def dbt_staging(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    settings: SettingsResource,
) -> Iterator[Any]:
    """Seeds and staging views: typed, renamed, cleaned source tables."""
    yield from _dbt_build(context, dbt, warehouse, settings)


@dbt_assets(
    manifest=MANIFEST,
    project=dbt_project,
    name="dbt_marts",
    select=MARTS_SELECT,
    exclude=AFTER_PYTHON_SELECT,
    dagster_dbt_translator=TRANSLATOR,
    pool=WAREHOUSE_POOL,
)
def dbt_marts(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    settings: SettingsResource,
) -> Iterator[Any]:
    """Identity resolution, snapshots, the star schema and the marts that need no Python fit."""
    yield from _dbt_build(context, dbt, warehouse, settings)


@dbt_assets(
    manifest=MANIFEST,
    project=dbt_project,
    name="dbt_value_marts",
    select=AFTER_PYTHON_SELECT,
    dagster_dbt_translator=TRANSLATOR,
    pool=WAREHOUSE_POOL,
)
def dbt_value_marts(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    settings: SettingsResource,
) -> Iterator[Any]:
    """Marts that read the Python CLV fit (schema ml): LTV, value grid, churn, customer 360."""
    yield from _dbt_build(context, dbt, warehouse, settings)


dbt_model_assets = [dbt_staging, dbt_marts, dbt_value_marts]


def model_asset_key(model_name: str) -> dg.AssetKey:
    """The asset key of a dbt model, as the dbt assets above define it."""
    for assets_def in dbt_model_assets:
        try:
            return get_asset_key_for_model([assets_def], model_name)
        except Exception:
            continue
    raise KeyError(f"no dbt model {model_name!r} among the dbt assets")
