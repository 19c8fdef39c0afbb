"""The daily refresh job, its 02:00 KST schedule, and the sensor for new ERP drops."""

import hashlib
import json
from pathlib import Path

import dagster as dg
import duckdb

from ingest.db_rows import one_row
from ingest.file_loader import (
    FILE_SPECS,
    file_fingerprint,
    landed_files,
    mapped_files,
    unmatched_files,
)
from ingest.raw_store import earlier_load
from ingest.schemas import EntitySpec
from orchestration.resources import LandingFolderResource, WarehouseResource

# Runs carrying this tag are limited to one at a time in dagster.yaml (DuckDB: one writer).
from orchestration.run_queue import WAREHOUSE_WRITE_TAG

ERP_SPECS = [spec for spec in FILE_SPECS if spec.source == "erp"]


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


class WarehouseBusy(Exception):
    """Another process writes the warehouse (a run is going): look again at the next tick."""


def _fingerprints(files: list[tuple[EntitySpec, Path]], cache: dict[str, list]) -> dict[str, list]:
    """name -> [mtime, size, SHA-256] per file; a file whose mtime and size are those of the
    cache (the sensor's cursor) is not read again."""
    out = {}
    for _, path in files:
        stat = path.stat()
        known = cache.get(path.name)
        if known and known[:2] == [stat.st_mtime, stat.st_size]:
            out[path.name] = known
        else:
            out[path.name] = [stat.st_mtime, stat.st_size, file_fingerprint(path)]
    return out


def not_yet_loaded(
    warehouse_path: str, files: list[tuple[EntitySpec, Path]], fingerprints: dict[str, list]
) -> list[str]:
    """The files whose content the raw layer's batch log (`raw._load_batches`) does not hold:
    the loader's own rule (`earlier_load`), so a file it would skip starts no run — loaded
    before, or the same bytes under a new name. Raises WarehouseBusy while a run writes."""
    if not Path(warehouse_path).exists():
        return sorted(path.name for _, path in files)
    try:
        con = duckdb.connect(warehouse_path, read_only=True)
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise WarehouseBusy(str(error)) from None
        raise
    try:
        logged = one_row(
            con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = 'raw' and table_name = '_load_batches'"
            )
        )[0]
        return sorted(
            path.name
            for spec, path in files
            if not logged or earlier_load(con, spec, fingerprints[path.name][2]) is None
        )
    finally:
        con.close()


@dg.sensor(
    name="erp_drop_sensor",
    job=daily_refresh,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a refresh when an ERP export lands in <landing>/erp/ whose content the "
    "raw layer's batch log does not hold yet; files already loaded (a fresh start of the UI, a "
    "re-sent export) and names no loader reads start nothing.",
)
def erp_drop_sensor(
    context: dg.SensorEvaluationContext,
    landing: LandingFolderResource,
    warehouse: WarehouseResource,
) -> dg.SensorResult | dg.SkipReason:
    # The cursor only caches fingerprints: what is new is decided by the warehouse, so an empty
    # cursor (the first tick after `make ui`) over loaded files starts nothing.
    try:
        cache = json.loads(context.cursor or "{}").get("fingerprints", {})
    except (ValueError, AttributeError):
        cache = {}
    folder = Path(landing.path) / "erp"
    files = [(spec, p) for spec in ERP_SPECS for p in landed_files(Path(landing.path), spec)]
    mappings = landing.mappings()
    files += [
        (m.spec, p) for m in mappings if m.spec in ERP_SPECS for p in mapped_files(landing.root, m)
    ]
    fingerprints = _fingerprints(files, cache)
    cursor = json.dumps({"fingerprints": fingerprints}, sort_keys=True)
    ignored = sorted(
        {name for spec in ERP_SPECS for name in unmatched_files(landing.root, spec, mappings)}
    )
    if ignored:
        context.log.warning(
            f"files in {folder} that no loader reads (their names match no "
            f"export pattern): {', '.join(ignored)}"
        )
    try:
        new = not_yet_loaded(warehouse.path, files, fingerprints)
    except WarehouseBusy as busy:
        return dg.SkipReason(f"the warehouse is being written by a run; next tick ({busy})")
    if not new:
        return dg.SensorResult(
            skip_reason=dg.SkipReason(
                f"every ERP export in {folder} is in the raw layer's batch log"
                + (
                    f"; not loaded (names match no export pattern): {', '.join(ignored)}"
                    if ignored
                    else ""
                )
            ),
            cursor=cursor,
        )
    # One run per set of unloaded contents: Dagster starts no second run for a run key it has
    # seen, so the ticks while the run waits in the queue start nothing more.
    run_key = hashlib.sha256(
        json.dumps([[name, fingerprints[name][2]] for name in new]).encode()
    ).hexdigest()[:16]
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=run_key, tags={"gogaek/erp_files": ",".join(new)[:200]})
        ],
        cursor=cursor,
    )
