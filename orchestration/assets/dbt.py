"""dbt layer: every dbt model is an asset, wired to the raw ingest assets it reads.

One DbtProject, built in steps (see the @dbt_assets below); dbt tests surface as asset checks.
The translator derives everything from where a resource sits, never from its name:
- a model is keyed by its folder below models/ (`staging/erp/stg_erp__…`,
  `marts/core/fct_orders`) and grouped by layer (staging, intermediate, core, marketing, service,
  crm); seeds are `seeds/<name>` (with staging), snapshots `snapshots/<name>` (with core);
- a source is keyed `<schema>/<table>` (`raw/erp_customers`, `ml/clv_predictions`,
  `dq/validation_results`): exactly the keys of the Python assets that write those tables.
"""

import json
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DbtCliResource,
    dbt_assets,
    get_asset_key_for_model,
)

from orchestration.dbt_project import DBT_EXECUTABLE, dbt_project
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


TRANSLATOR = LayeredTranslator()


def dbt_cli_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


def _dbt_build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    settings: SettingsResource,
) -> Iterator[Any]:
    # --vars carries the run's business settings and the warehouse file (profiles.yml reads
    # var('warehouse_path')), so dbt opens the file the Dagster resources use.
    dbt_vars = json.dumps(settings.dbt_cli_vars(warehouse.path), ensure_ascii=False)
    # No fetch_row_counts(): it would open the DuckDB file while dbt still holds it.
    # buildable: a test runs in the step that builds the last of its parents, so a test spanning
    # staging and marts (the reconciliations) waits for the marts.
    yield from dbt.cli(
        ["build", "--indirect-selection", "buildable", "--vars", dbt_vars], context=context
    ).stream()


# The project runs as separate steps, so that Dagster checks and Python assets can sit
# between dbt layers: quality checks on staging block the marts, and the marts that read
# the Python CLV fit run after it.
STAGING_SELECT = "path:models/staging resource_type:seed"
AFTER_PYTHON_SELECT = "source:ml+"


@dbt_assets(
    manifest=dbt_project.manifest_path,
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
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    name="dbt_marts",
    exclude=f"{STAGING_SELECT} {AFTER_PYTHON_SELECT}",
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
    manifest=dbt_project.manifest_path,
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
