"""The one Definitions object of gogaek's Dagster code location.

It imports the definitions and nothing that uses them: the command line (orchestration.cli) and
the tests import `defs` from here, never the other way round.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg

from ingest.settings import Settings
from orchestration.alerts import alert_sensors
from orchestration.assets.clv import clv_models
from orchestration.assets.dbt import dbt_cli_resource, dbt_model_assets
from orchestration.assets.freshness import freshness_checks
from orchestration.assets.ingest import ingest_assets, ingest_checks
from orchestration.assets.quality import quality_assets, quality_checks
from orchestration.assets.serving import (
    serving_assets,
    serving_checks,
    serving_freshness_job,
    serving_freshness_schedule,
)
from orchestration.automation import daily_refresh, daily_refresh_schedule, erp_drop_sensor
from orchestration.erase_job import erase_person, rebuild_after_erasure
from orchestration.resources import (
    IngestSettingsResource,
    LandingFolderResource,
    QualityResource,
    ServingResource,
    SettingsResource,
    ShopDatabaseResource,
    WarehouseResource,
)


def default_resources(settings: Settings) -> dict[str, Any]:
    """The resources every run uses, configured from the settings (environment variables)."""
    # A new data folder gets its secrets before anything can write a hash with them; a
    # warehouse without its secrets file stops the code location here, with what to do.
    settings.secrets()
    return {
        "dbt": dbt_cli_resource(),
        "warehouse": WarehouseResource(path=settings.warehouse_path),
        "serving": ServingResource(dir=settings.serving_dir),
        "landing": LandingFolderResource(
            path=settings.landing_dir, mappings_dir=settings.mappings_dir
        ),
        "shop_database": ShopDatabaseResource(url=settings.shop_db_url),
        "quality": QualityResource(root=settings.quality_dir, engine=settings.dbt_target),
        # Business settings (dbt vars), overridable per run in the launchpad.
        "settings": SettingsResource(),
        "ingest_settings": IngestSettingsResource(
            secrets_file=settings.secrets_file,
            shop_overlap_minutes=settings.shop_overlap_minutes,
            shop_full_compare_days=settings.shop_full_compare_days,
            max_abs_number=settings.load_limits.max_abs_number,
            earliest_date=settings.load_limits.earliest_date.isoformat(),
            max_future_days=settings.load_limits.max_future_days,
            watermark_tolerance_minutes=settings.load_limits.watermark_tolerance_minutes,
            max_field_chars=settings.load_limits.max_field_chars,
            sources=list(settings.sources),
        ),
    }


def build_definitions(
    settings: Settings | None = None, resources: Mapping[str, Any] | None = None
) -> dg.Definitions:
    """The code location's definitions; tests build theirs with this too, on their own folders
    (`settings`) and with resources of their own (`resources` replaces by name)."""
    settings = settings or Settings.from_env()
    return dg.Definitions(
        assets=[*ingest_assets, *dbt_model_assets, clv_models, *quality_assets, *serving_assets],
        asset_checks=[*ingest_checks, *quality_checks, *serving_checks, *freshness_checks],
        jobs=[daily_refresh, serving_freshness_job, erase_person],
        schedules=[daily_refresh_schedule, serving_freshness_schedule],
        sensors=[erp_drop_sensor, rebuild_after_erasure, *alert_sensors],
        resources={**default_resources(settings), **(resources or {})},
        # One process, steps one after another: DuckDB allows a single writer.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
