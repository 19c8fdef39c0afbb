"""Serving layer: publish the served marts into the BI file and the operational file.

One step, downstream of every dbt model it publishes: a dbt test of severity error fails its
dbt step, Dagster then skips this one, and BI keeps reading the previous complete publish.
Which models are published comes from the dbt manifest (meta.serving, see
orchestration.serving.catalog), so the dependencies follow dbt_project.yml without a hand list.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from orchestration.assets.dbt import model_asset_key
from orchestration.dbt_project import dbt_project
from orchestration.resources import WAREHOUSE_POOL, ServingResource, WarehouseResource
from orchestration.serving.catalog import Serving, load_manifest, served_models
from orchestration.serving.publish import PublishError, publish, read_publish_log

GROUP = "serving"
BI_KEY = dg.AssetKey(["serving", "bi_marts"])
OPERATIONAL_KEY = dg.AssetKey(["serving", "operational_lists"])
KEYS: dict[Serving, dg.AssetKey] = {"bi": BI_KEY, "operational": OPERATIONAL_KEY}
# The nightly run starts at 02:00: a BI file older than a day plus two hours missed a night.
MAX_AGE = timedelta(hours=26)

SERVED_MODELS = served_models(load_manifest(dbt_project.manifest_path))


def upstream_keys(serving: Serving) -> list[dg.AssetKey]:
    """Asset keys of the dbt models published into that file, as the dbt assets define them."""
    return [
        model_asset_key(model.unique_id.split(".")[-1])
        for model in SERVED_MODELS
        if model.serving == serving
    ]


@dg.multi_asset(
    name="publish_serving_files",
    specs=[
        dg.AssetSpec(
            BI_KEY,
            deps=upstream_keys("bi"),
            group_name=GROUP,
            kinds={"duckdb"},
            description="bi.duckdb for BI tools (open read-only): the analytical "
            "marts of one run, no direct identifiers, with publish_log.",
        ),
        dg.AssetSpec(
            OPERATIONAL_KEY,
            deps=upstream_keys("operational"),
            group_name=GROUP,
            kinds={"duckdb"},
            description="operational.duckdb (mode 0600): lists with personal data "
            "for operations, never in the BI file.",
        ),
    ],
    pool=WAREHOUSE_POOL,  # reads the warehouse: not while a dbt step writes it
)
def publish_serving_files(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, serving: ServingResource
) -> Iterator[dg.MaterializeResult]:
    """Copy the served marts into new files and rename them over the published ones."""
    report = publish(warehouse.path, serving.dir, SERVED_MODELS, run_id=context.run.run_id)
    context.log.info(f"published {len(report.files)} files in {report.seconds:.1f} s")
    for kind, published in report.files.items():
        yield dg.MaterializeResult(
            asset_key=KEYS[kind],
            metadata={
                "path": dg.MetadataValue.path(str(published.path)),
                "published_at": dg.MetadataValue.timestamp(report.published_at),
                "publish_seconds": dg.MetadataValue.float(round(report.seconds, 2)),
                "size_mb": dg.MetadataValue.float(round(published.bytes / 1e6, 2)),
                "tables": dg.MetadataValue.int(len(published.row_counts)),
                "dagster/row_count": dg.MetadataValue.int(sum(published.row_counts.values())),
                "row_counts": dg.MetadataValue.md(
                    "\n".join(
                        ["| table | rows |", "|---|---:|"]
                        + [
                            f"| {table} | {count:,} |"
                            for table, count in published.row_counts.items()
                        ]
                    )
                ),
            },
        )


def freshness_result(
    path: Path, now: datetime | None = None, max_age: timedelta = MAX_AGE
) -> dg.AssetCheckResult:
    """WARN when the BI file is missing or its publish_log is older than max_age."""
    now = now or datetime.now(UTC)
    if not path.exists():
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{path} does not exist: nothing published yet",
        )
    try:
        run_id, published_at, counts = read_publish_log(path)
    except (PublishError, OSError) as error:
        return dg.AssetCheckResult(
            passed=False, severity=dg.AssetCheckSeverity.WARN, description=f"{path}: {error}"
        )
    age = now - published_at
    return dg.AssetCheckResult(
        passed=age <= max_age,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"published {age.total_seconds() / 3600:.1f} h ago by run {run_id} "
        f"(limit {max_age.total_seconds() / 3600:.0f} h)",
        metadata={
            "published_at": dg.MetadataValue.timestamp(published_at),
            "age_hours": dg.MetadataValue.float(round(age.total_seconds() / 3600, 2)),
            "run_id": dg.MetadataValue.text(run_id),
            "tables": dg.MetadataValue.int(len(counts)),
        },
    )


@dg.asset_check(
    asset=BI_KEY,
    name="published_recently",
    description="Warns when bi.duckdb is missing or older than 26 h (reads its "
    "publish_log: what BI tools actually see).",
)
def bi_file_published_recently(serving: ServingResource) -> dg.AssetCheckResult:
    return freshness_result(serving.bi_path)


# The check also runs hourly on its own, so a night without a publish shows up in the UI.
serving_freshness_job = dg.define_asset_job(
    name="serving_freshness",
    selection=dg.AssetSelection.checks(bi_file_published_recently),
    description="Is the BI file fresh? (reads publish_log of bi.duckdb)",
)
serving_freshness_schedule = dg.ScheduleDefinition(
    name="serving_freshness_hourly",
    job=serving_freshness_job,
    cron_schedule="15 * * * *",
    execution_timezone="Asia/Seoul",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

serving_assets = [publish_serving_files]
serving_checks = [bi_file_published_recently]
