"""Erasing a person through Dagster: the `erase_person` job, the rebuild after it, `make erase`.

`erase_person` (run config: `ops: {erase_person_records: {config: {customer_id: ...}}}` or
`source_key: erp_customer:C0001`) erases the person from the raw layer and the SCD history
(ingest.erasure) as one warehouse writer: its run carries the warehouse-writer tag and its step
takes the warehouse pool, like every step that opens the warehouse. A successful erasure then
starts `daily_refresh` (sensor `rebuild_after_erasure`), which rebuilds every table, the CLV
fit, the quality results and the published files from the erased raw layer. `make erase` (this
module's `main`) runs both in process, one after the other.
"""

import argparse
import sys

import dagster as dg
from pydantic import Field

from ingest.erasure import ErasureError, erase, erase_postgres_copy
from orchestration.automation import WAREHOUSE_WRITE_TAG, daily_refresh
from orchestration.demo import log_path_for, run_daily_refresh
from orchestration.resources import WAREHOUSE_POOL, IngestSettingsResource, WarehouseResource
from orchestration.run_queue import COMMAND_TAG
from orchestration.terminal_run import Stopped, execute, exit_now, root_cause

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


def run_erasure(
    customer_id: str | None, source_key: str | None, postgres_database: str = ""
) -> bool:
    """`erase_person` then `daily_refresh`, in process, recorded in the instance (the UI); each
    waits for a run that writes the warehouse. Raises terminal_run.Stopped on Ctrl-C."""
    from orchestration.definitions import defs

    instance = dg.DagsterInstance.get()
    config = {
        "customer_id": customer_id or "",
        "source_key": source_key or "",
        "postgres_database": postgres_database,
    }
    result = execute(
        defs.resolve_job_def("erase_person"),
        instance,
        print,
        raise_on_error=False,
        tags={REBUILD_TAG: "in_process", COMMAND_TAG: "make erase"},
        run_config={
            "ops": {ERASE_OP: {"config": config}},
            "loggers": {"console": {"config": {"log_level": "WARNING"}}},
        },
    )
    if not result.success:
        failure = next((e for e in result.all_events if e.is_step_failure), None)
        reason = root_cause(failure) if failure else "see the Dagster UI"
        print(f"Dagster run {result.run_id} of job erase_person: FAILURE\n{reason}")
        return False
    output = result.output_for_node(ERASE_OP)
    print(f"Dagster run {result.run_id} of job erase_person: SUCCESS (erasure {output})")
    print("Rebuilding every table and published file from the erased raw layer (daily_refresh):")
    try:
        rebuilt = run_daily_refresh(
            None,
            log_path_for("erase"),
            tags={"gogaek/after_erasure": result.run_id, COMMAND_TAG: "make erase"},
        )
    except Stopped:
        print(NOT_REBUILT)
        raise
    if not rebuilt:
        print(NOT_REBUILT)
    return rebuilt


NOT_REBUILT = (
    "The person is erased from the raw layer, the quarantine and the history, but the rebuild "
    "did not finish: the marts and the published files still hold them until daily_refresh "
    "succeeds. Run `make refresh` (or launch daily_refresh in the Dagster UI) now."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Erase one person everywhere the project writes, then rebuild and republish."
    )
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--customer", help="customer id (customer_id of dim_customer)")
    who.add_argument("--source-key", help="<source>:<key>, e.g. erp_customer:C0001")
    parser.add_argument(
        "--postgres-database",
        default="",
        help="also erase the PostgreSQL copy in this database (then run `make postgres`)",
    )
    args = parser.parse_args(argv)
    try:
        return 0 if run_erasure(args.customer, args.source_key, args.postgres_database) else 1
    except Stopped as stopped:
        exit_now(stopped.exit_code)
        return stopped.exit_code  # not reached


if __name__ == "__main__":
    sys.exit(main())
