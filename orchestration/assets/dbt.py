"""dbt layer: every dbt model is an asset, wired to the raw ingest assets it reads.

One DbtProject, built in steps (see the @dbt_assets below); dbt tests surface as asset checks.
Asset keys follow the model's folder (`staging/...`, `marts/core/...`): the translator derives
them from the fqn, never from model names.
"""

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from ingest.settings import DBT_PROJECT_DIR, Settings
from orchestration.assets.ingest import WAREHOUSE_POOL
from orchestration.resources import SettingsResource, WarehouseResource

GROUP = "dbt"

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target=Settings.from_env().dbt_target,
)
# The dbt next to this interpreter: .venv/bin need not be on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")


def _manifest_is_stale() -> bool:
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    return any(path.stat().st_mtime > built for path in DBT_PROJECT_DIR.rglob("*")
               if path.suffix in (".sql", ".yml", ".csv", ".md")
               and "target" not in path.relative_to(DBT_PROJECT_DIR).parts)


if _manifest_is_stale():
    # Parse on load when the project changed (dev, tests, make demo); a deployment ships the
    # manifest prebuilt and skips this.
    subprocess.run([DBT_EXECUTABLE, "--quiet", "parse", "--project-dir", str(DBT_PROJECT_DIR),
                    "--profiles-dir", str(DBT_PROJECT_DIR), "--target", dbt_project.target or
                    "duckdb"], check=True)


class LayeredTranslator(DagsterDbtTranslator):
    """Models keyed by their folder below models/, all in the dbt group."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            # fqn = [project, folder..., name]
            return dg.AssetKey(list(dbt_resource_props["fqn"][1:]))
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return GROUP


def dbt_cli_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


def _dbt_build(context: dg.AssetExecutionContext, dbt: DbtCliResource,
               warehouse: WarehouseResource, settings: SettingsResource) -> Iterator[Any]:
    # --vars carries the run's business settings and the warehouse file (profiles.yml reads
    # var('warehouse_path')), so dbt opens the file the Dagster resources use.
    dbt_vars = json.dumps(settings.dbt_cli_vars(warehouse.path), ensure_ascii=False)
    # No fetch_row_counts(): it would open the DuckDB file while dbt still holds it.
    # buildable: a test runs in the step that builds the last of its parents, so a test spanning
    # staging and marts (the reconciliations) waits for the marts.
    yield from dbt.cli(["build", "--indirect-selection", "buildable", "--vars", dbt_vars],
                       context=context).stream()


# The project runs as separate steps, so that Dagster checks and Python assets can sit
# between dbt layers: quality checks on staging block the marts, and the marts that read
# the Python CLV fit run after it.
STAGING_SELECT = "path:models/staging resource_type:seed"
AFTER_PYTHON_SELECT = "source:ml+"


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, name="dbt_staging",
            select=STAGING_SELECT, dagster_dbt_translator=LayeredTranslator(),
            pool=WAREHOUSE_POOL)
def dbt_staging(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                warehouse: WarehouseResource, settings: SettingsResource) -> Iterator[Any]:
    """Seeds and staging views: typed, renamed, cleaned source tables."""
    yield from _dbt_build(context, dbt, warehouse, settings)


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, name="dbt_marts",
            exclude=f"{STAGING_SELECT} {AFTER_PYTHON_SELECT}",
            dagster_dbt_translator=LayeredTranslator(), pool=WAREHOUSE_POOL)
def dbt_marts(context: dg.AssetExecutionContext, dbt: DbtCliResource,
              warehouse: WarehouseResource, settings: SettingsResource) -> Iterator[Any]:
    """Identity resolution, snapshots, the star schema and the marts that need no Python fit."""
    yield from _dbt_build(context, dbt, warehouse, settings)


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, name="dbt_value_marts",
            select=AFTER_PYTHON_SELECT, dagster_dbt_translator=LayeredTranslator(),
            pool=WAREHOUSE_POOL)
def dbt_value_marts(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                    warehouse: WarehouseResource, settings: SettingsResource) -> Iterator[Any]:
    """Marts that read the Python CLV fit (schema ml): LTV, value grid, churn, customer 360."""
    yield from _dbt_build(context, dbt, warehouse, settings)


dbt_model_assets = [dbt_staging, dbt_marts, dbt_value_marts]
