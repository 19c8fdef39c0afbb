"""The daily refresh job, its 02:00 KST schedule, and the sensor for new ERP drops."""

import hashlib
import json
from pathlib import Path

import dagster as dg

from ingest.file_loader import FILE_SPECS, landed_files, unmatched_files
from orchestration.resources import LandingFolderResource

ERP_SPECS = [spec for spec in FILE_SPECS if spec.source == "erp"]

# Runs carrying this tag are limited to one at a time in dagster.yaml (DuckDB: one writer).
WAREHOUSE_WRITE_TAG = {"gogaek/writes_warehouse": "true"}

daily_refresh = dg.define_asset_job(
    name="daily_refresh",
    selection=dg.AssetSelection.all(),
    description="Load every source into the raw layer and rebuild everything downstream.",
    tags=WAREHOUSE_WRITE_TAG,
)

daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh_0200_kst",
    job=daily_refresh,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Seoul",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Nightly refresh at 02:00 Korean time, after the ERP's nightly export.",
)


@dg.sensor(
    name="erp_drop_sensor",
    job=daily_refresh,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a refresh when a new ERP export lands in <landing>/erp/ under a name an "
    "ERP loader reads; names no loader reads are reported, and start nothing.",
)
def erp_drop_sensor(
    context: dg.SensorEvaluationContext, landing: LandingFolderResource
) -> dg.SensorResult | dg.SkipReason:
    seen: dict[str, float] = json.loads(context.cursor) if context.cursor else {}
    folder = Path(landing.path) / "erp"
    current = {
        p.name: p.stat().st_mtime
        for spec in ERP_SPECS
        for p in landed_files(Path(landing.path), spec)
    }
    new = sorted(name for name, mtime in current.items() if seen.get(name) != mtime)
    ignored = sorted({name for spec in ERP_SPECS for name in unmatched_files(landing.root, spec)})
    if ignored:
        context.log.warning(
            f"files in {folder} that no loader reads (their names match no "
            f"export pattern): {', '.join(ignored)}"
        )
    if not new:
        return dg.SkipReason(
            f"no new ERP exports in {folder}"
            + (
                f"; not loaded (names match no export pattern): {', '.join(ignored)}"
                if ignored
                else ""
            )
        )
    run_key = hashlib.sha256(json.dumps({n: current[n] for n in new}).encode()).hexdigest()[:16]
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=run_key, tags={"gogaek/erp_files": ",".join(new)[:200]})
        ],
        cursor=json.dumps(current),
    )
