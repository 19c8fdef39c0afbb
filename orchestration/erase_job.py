"""Erasing a person through Dagster: the `erase_person` job and the rebuild after it.

`erase_person` (run config: `ops: {erase_person_records: {config: {customer_id: ...}}}` or
`source_key: erp_customer:C0001`) erases the person from the raw layer and the SCD history
(ingest.erasure) as one warehouse writer: its run carries the warehouse-writer tag and its step
takes the warehouse pool, like every step that opens the warehouse. A successful erasure then
starts `daily_refresh` (sensor `rebuild_after_erasure`), which rebuilds every table, the CLV
fit, the quality results and the published files from the erased raw layer. `make erase`
(`python -m orchestration erase`, orchestration.cli) runs both in process, one after the other.
"""

import dagster as dg
from pydantic import Field

from ingest.erasure import erase, erase_postgres_copy
from ingest.erasure_list import ErasureError
from orchestration.automation import WAREHOUSE_WRITE_TAG, daily_refresh
from orchestration.resources import WAREHOUSE_POOL, IngestSettingsResource, WarehouseResource

# `make erase` runs the rebuild itself; the sensor leaves such runs alone.
REBUILD_TAG = "gogaek/rebuild"


class ErasureConfig(dg.Config):
    customer_id: str = ""
    source_key: str = ""
    postgres_database: str = Field(
        default="",
        description="also erase the PostgreSQL copy in this database (GOGAEK_PG_* server): "
        "its raw tables are replaced by the erased ones and the SCD history loses the person; "
        "`make postgres` then rebuilds its marts",
    )


# The op is not named like its job: a code location holding two definitions of one name does
# not load (Dagster: "Conflicting definitions found in repository").
ERASE_OP = "erase_person_records"


@dg.op(
    name=ERASE_OP,
    pool=WAREHOUSE_POOL,
    description="Remove or anonymise one person in every raw batch, the quarantine and the SCD "
    "history; list them so a later delivery is quarantined; log the erasure without personal "
    "data. Config: customer_id, or source_key as <source>:<key>.",
)
def erase_person_op(
    context: dg.OpExecutionContext,
    config: ErasureConfig,
    warehouse: WarehouseResource,
    ingest_settings: IngestSettingsResource,
) -> dg.Output[str]:
    try:
        with warehouse.connect() as con:
            report = erase(
                con,
                ingest_settings.erasure_secret,
                customer_id=config.customer_id or None,
                source_key=config.source_key or None,
            )
    except ErasureError as error:
        raise dg.Failure(description=str(error)) from error
    context.log.info(report.summary())
    if config.postgres_database:
        deleted = erase_postgres_copy(warehouse.path, config.postgres_database, report.customer_ids)
        context.log.info(
            f"PostgreSQL {config.postgres_database}: raw layer replaced by the erased one, "
            f"{deleted} snapshot row(s) deleted; run `make postgres` to rebuild its marts"
        )
    return dg.Output(
        report.erasure_id,
        metadata={
            "erasure_id": report.erasure_id,
            "source_records": report.source_records,
            "rows_deleted": report.rows_deleted,
            "rows_anonymised": report.rows_anonymised,
            "quarantine_rows_cleared": report.quarantine_rows_cleared,
            "snapshot_rows_deleted": report.snapshot_rows_deleted,
            "values_listed": report.values_listed,
        },
    )


@dg.job(
    name="erase_person",
    tags=WAREHOUSE_WRITE_TAG,
    description="개인정보 파기: erase one person (customer_id or source_key in the run config); "
    "the sensor rebuild_after_erasure then runs daily_refresh, which rebuilds and republishes.",
)
def erase_person() -> None:
    erase_person_op()


@dg.run_status_sensor(
    name="rebuild_after_erasure",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[erase_person],
    request_job=daily_refresh,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After a successful erase_person run, rebuild every table and published file "
    "from the erased raw layer (daily_refresh).",
)
def rebuild_after_erasure(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
    if context.dagster_run.tags.get(REBUILD_TAG) == "in_process":
        return dg.SkipReason("`make erase` rebuilds in process itself")
    return dg.RunRequest(
        run_key=context.dagster_run.run_id,
        tags={"gogaek/after_erasure": context.dagster_run.run_id},
    )
