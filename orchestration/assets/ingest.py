"""Ingest layer: one asset per source entity, writing `raw.<source>_<entity>`.

Assets and their checks are built from the entity specs in ingest/schemas.py, so adding a source
entity means adding a spec, not copying an asset.
"""

from collections.abc import Sequence

import dagster as dg
import duckdb
import sqlalchemy as sa

from ingest.db_rows import one_row
from ingest.erasure_list import IDENTIFYING_COLUMNS, listed_rows
from ingest.file_loader import load_entity_files, unmatched_files
from ingest.personal_data import RRN_ONLY, scan_table
from ingest.raw_store import BatchResult, accounting_problems
from ingest.schemas import ENTITIES, EntitySpec
from ingest.shop_loader import full_compare_due, load_shop_table
from ingest.source_mapping import SourceMapping
from orchestration.resources import (
    WAREHOUSE_POOL,
    IngestSettingsResource,
    LandingFolderResource,
    ShopDatabaseResource,
    WarehouseResource,
)

GROUP = "ingest"


def raw_asset_key(spec: EntitySpec) -> dg.AssetKey:
    return dg.AssetKey(["raw", spec.name])


def _metadata(
    spec: EntitySpec, results: Sequence[BatchResult], table_rows: int
) -> dict[str, dg.MetadataValue]:
    loaded = [r for r in results if r.status != "already_loaded"]
    duplicates = [r for r in loaded if r.status.startswith("duplicate_of:")]
    reasons: dict[str, int] = {}
    for result in loaded:
        for code, count in result.reasons.items():
            reasons[code] = reasons.get(code, 0) + count
    lines = [
        "| batch | source | read through | status | read | loaded | quarantined | unchanged |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.batch_id[:8]} | {r.source_ref} | {r.mapping or 'the contract'} | {r.status} | "
        f"{r.rows_read} | {r.rows_loaded} | {r.rows_quarantined} | {r.rows_unchanged} |"
        for r in loaded
    ]
    return {
        "raw_table": dg.MetadataValue.text(spec.raw_table),
        "dagster/row_count": dg.MetadataValue.int(table_rows),
        "batches_loaded": dg.MetadataValue.int(len(loaded)),
        "files_already_loaded": dg.MetadataValue.int(len(results) - len(loaded)),
        "files_identical_to_a_loaded_file": dg.MetadataValue.int(len(duplicates)),
        "rows_read": dg.MetadataValue.int(sum(r.rows_read for r in loaded)),
        "rows_loaded": dg.MetadataValue.int(sum(r.rows_loaded for r in loaded)),
        "rows_quarantined": dg.MetadataValue.int(sum(r.rows_quarantined for r in loaded)),
        "rows_unchanged": dg.MetadataValue.int(sum(r.rows_unchanged for r in loaded)),
        "delete_markers": dg.MetadataValue.int(sum(r.deleted for r in loaded)),
        # Rows of a mapped export that make another delivery's records (an order's further
        # line items, for its orders): not read as this entity's.
        "rows_of_other_deliveries": dg.MetadataValue.int(sum(r.rows_skipped for r in loaded)),
        "quarantine_reasons": dg.MetadataValue.json(reasons),
        # A mapped export's columns its rules read (matched by header), and those no rule
        # reads: named, never stored (they may be personal).
        "export_columns_read": dg.MetadataValue.json(
            {r.source_ref: list(r.read_columns) for r in loaded if r.read_columns}
        ),
        "export_columns_not_read": dg.MetadataValue.json(
            {r.source_ref: list(r.unused_columns) for r in loaded if r.unused_columns}
        ),
        "batches": dg.MetadataValue.md("\n".join(lines)),
    }


def _describe(spec: EntitySpec) -> str:
    origin = (
        f"table `{spec.location}` of the shop database, read incrementally by "
        f"`{spec.watermark_column}`"
        if spec.format == "sql"
        else f"landed files `{spec.location}` ({spec.format}, {spec.encoding})"
    )
    return (
        f"{spec.description}\n\nFrom {origin} into `{spec.raw_table}`: one row per source "
        "record with load metadata; malformed rows go to `raw._quarantine` with file, line, "
        "field and reason; RRNs (any spelling) are hashed before anything is written."
    )


def _load_files(
    con: duckdb.DuckDBPyConnection,
    spec: EntitySpec,
    landing: LandingFolderResource,
    ingest_settings: IngestSettingsResource,
    mappings: list[SourceMapping],
) -> list[BatchResult]:
    """The entity's landed files not loaded before: the contract's own, then the mapped."""
    return load_entity_files(
        con,
        spec,
        landing.root,
        ingest_settings.rrn_salt,
        ingest_settings.limits,
        ingest_settings.erasure_secret,
        mappings,
    )


def build_file_asset(spec: EntitySpec) -> dg.AssetsDefinition:
    @dg.asset(
        key=raw_asset_key(spec),
        group_name=GROUP,
        description=_describe(spec),
        kinds={"duckdb", "python"},
        pool=WAREHOUSE_POOL,
        tags={"source": spec.source},
    )
    def _load(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        landing: LandingFolderResource,
        ingest_settings: IngestSettingsResource,
    ) -> dg.MaterializeResult:
        mappings = [m for m in landing.mappings() if m.spec.name == spec.name]
        with warehouse.connect() as con:
            results = _load_files(con, spec, landing, ingest_settings, mappings)
            rows = one_row(con.execute(f"select count(*) from {spec.raw_table}"))[0]
        ignored = unmatched_files(landing.root, spec, landing.mappings())
        if ignored:
            context.log.warning(
                f"not loaded, the names match no {spec.name} pattern "
                f"({spec.location}): {', '.join(ignored)}"
            )
        for result in results:
            context.log.info(
                f"{result.source_ref}: {result.status}, read {result.rows_read}, "
                f"loaded {result.rows_loaded}, quarantined {result.rows_quarantined}"
            )
        return dg.MaterializeResult(metadata=_metadata(spec, results, rows))

    return _load


def build_shop_asset(spec: EntitySpec) -> dg.AssetsDefinition:
    @dg.asset(
        key=raw_asset_key(spec),
        group_name=GROUP,
        description=_describe(spec),
        kinds={"duckdb", "sql"},
        pool=WAREHOUSE_POOL,
        tags={"source": spec.source},
    )
    def _load(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        shop_database: ShopDatabaseResource,
        landing: LandingFolderResource,
        ingest_settings: IngestSettingsResource,
    ) -> dg.MaterializeResult:
        # A shop of another layout (Shopify or Cafe24 exports, a 영카트 database) comes through
        # its mappings: then the contract's shop database is not read at all, and an entity
        # no mapping delivers stays empty.
        mapped = [m for m in landing.mappings() if m.spec.source == spec.source]
        if mapped:
            results = _load_mapped_shop(
                spec, mapped, warehouse, shop_database, landing, ingest_settings
            )
        else:
            results = [_load_shop_table(context, spec, warehouse, shop_database, ingest_settings)]
        for result in results:
            context.log.info(
                f"{result.source_ref}: read {result.rows_read}, loaded {result.rows_loaded}, "
                f"unchanged {result.rows_unchanged}, quarantined {result.rows_quarantined}, "
                f"delete markers {result.deleted}"
            )
        with warehouse.connect() as con:
            rows = one_row(con.execute(f"select count(*) from {spec.raw_table}"))[0]
        return dg.MaterializeResult(metadata=_metadata(spec, results, rows))

    return _load


def _load_shop_table(
    context: dg.AssetExecutionContext,
    spec: EntitySpec,
    warehouse: WarehouseResource,
    shop_database: ShopDatabaseResource,
    ingest_settings: IngestSettingsResource,
) -> BatchResult:
    engine = shop_database.engine()
    try:
        with warehouse.connect() as con:
            full = full_compare_due(con, spec, ingest_settings.shop_full_compare_days)
            if full:
                context.log.info(f"{spec.location}: full compare")
            return load_shop_table(
                con,
                engine,
                spec,
                ingest_settings.rrn_salt,
                ingest_settings.shop_overlap,
                ingest_settings.limits,
                full_compare=full,
                erasure_secret=ingest_settings.erasure_secret,
            )
    finally:
        engine.dispose()


def _load_mapped_shop(
    spec: EntitySpec,
    mapped: list[SourceMapping],
    warehouse: WarehouseResource,
    shop_database: ShopDatabaseResource,
    landing: LandingFolderResource,
    ingest_settings: IngestSettingsResource,
) -> list[BatchResult]:
    mine = [m for m in mapped if m.spec.name == spec.name]
    with warehouse.connect() as con:
        files = [m for m in mine if m.format != "sql"]
        results = _load_files(con, spec, landing, ingest_settings, files)
        for mapping in (m for m in mine if m.format == "sql"):
            engine = shop_database.engine_for(mapping)
            try:
                results.append(
                    load_shop_table(
                        con,
                        engine,
                        spec,
                        ingest_settings.rrn_salt,
                        ingest_settings.shop_overlap,
                        ingest_settings.limits,
                        erasure_secret=ingest_settings.erasure_secret,
                        mapping=mapping,
                    )
                )
            except sa.exc.SQLAlchemyError as error:
                said = " ".join(str(getattr(error, "orig", None) or error).split())[:300]
                where = engine.url.render_as_string(hide_password=True)
                env = mapping.database.env if mapping.database else "its URL"
                raise dg.Failure(
                    description=f"mapping {mapping.path}: {spec.name}: the database at {where} "
                    f"refused its query ({said}); check {env} and the query"
                ) from None
            finally:
                engine.dispose()
    return results


def build_checks(spec: EntitySpec) -> list[dg.AssetChecksDefinition]:
    key = raw_asset_key(spec)

    @dg.asset_check(
        asset=key,
        name="rows_accounted_for",
        blocking=True,
        pool=WAREHOUSE_POOL,
        description="Every batch: rows read = loaded + quarantined + unchanged, and "
        "the raw table and quarantine hold exactly those rows.",
    )
    def _accounted(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            problems = accounting_problems(con, spec)
            batches = one_row(
                con.execute(
                    "select count(*) from raw._load_batches where source = ? and entity = ?",
                    [spec.source, spec.entity],
                )
            )[0]
        return dg.AssetCheckResult(
            passed=not problems,
            metadata={
                "batches_checked": batches,
                "problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems) or "none"),
            },
        )

    @dg.asset_check(
        asset=key,
        name="no_clear_text_rrn",
        blocking=True,
        pool=WAREHOUSE_POOL,
        description="No resident registration number, in any spelling, in any text "
        "column of the raw table or of this entity's quarantine rows.",
    )
    def _no_rrn(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            findings = scan_table(con, spec.raw_table, RRN_ONLY)
            findings += scan_table(
                con,
                "raw._quarantine",
                RRN_ONLY,
                where=f"entity = '{spec.entity}' and source = '{spec.source}'",
            )
        return dg.AssetCheckResult(
            passed=not findings,
            metadata={
                "findings": dg.MetadataValue.json(
                    [
                        {
                            "table": f.where,
                            "column": f.column,
                            "rows": f.rows,
                            "sample": f.masked_sample,
                        }
                        for f in findings
                    ]
                )
            },
        )

    @dg.asset_check(
        asset=key,
        name="erased_people_kept_out",
        blocking=True,
        pool=WAREHOUSE_POOL,
        description="No row of the raw table names a person on the erasure list (ERROR, "
        "blocking); rows a source delivered again for an erased person are held in quarantine "
        "as erased_person (WARN while the latest batch held some: the source still has them).",
    )
    def _erased(
        warehouse: WarehouseResource, ingest_settings: IngestSettingsResource
    ) -> dg.AssetCheckResult:
        # Read-write: the check keeps the erasure secret in a temp table of its connection.
        with warehouse.connect() as con:
            found = listed_rows(con, spec.name, ingest_settings.erasure_secret)
        if found.loaded:
            description = f"{found.loaded} row(s) name an erased person"
        elif found.held_last_batch:
            description = (
                f"the latest batch held {found.held_last_batch} row(s) of erased people: the "
                "source system still holds them (its owner's to erase)"
            )
        else:
            description = "no erased person loaded or re-delivered in the latest batch"
        return dg.AssetCheckResult(
            passed=not found.loaded and not found.held_last_batch,
            severity=dg.AssetCheckSeverity.ERROR if found.loaded else dg.AssetCheckSeverity.WARN,
            description=description,
            metadata={
                "rows_naming_erased_people": found.loaded,
                "held_in_quarantine": found.held,
                "held_in_latest_batch": found.held_last_batch,
            },
        )

    checks = [_accounted, _no_rrn]
    if spec.name in IDENTIFYING_COLUMNS:
        checks.append(_erased)
    if spec.format == "sql":
        return checks

    @dg.asset_check(
        asset=key,
        name="landing_files_recognised",
        blocking=False,
        description=f"Warns about files in the landing folder that no loader reads "
        f"but that look like {spec.name} exports (case, dashes, a "
        f"subfolder), or like no export at all: pattern {spec.location}.",
    )
    def _recognised(landing: LandingFolderResource) -> dg.AssetCheckResult:
        ignored = unmatched_files(landing.root, spec, landing.mappings())
        return dg.AssetCheckResult(
            passed=not ignored,
            severity=dg.AssetCheckSeverity.WARN,
            description=(
                f"{len(ignored)} file(s) not loaded: {', '.join(ignored)[:500]}"
                if ignored
                else "every file in the folder is read by a loader"
            ),
            metadata={"not_loaded": dg.MetadataValue.json(ignored)},
        )

    return [*checks, _recognised]


# Written by the shop assets' full compares, read by dbt (source load_log): declared so lineage
# and the group show.
deletion_markers = dg.AssetSpec(
    key=["raw", "_deletions"],
    group_name=GROUP,
    kinds={"duckdb"},
    deps=[raw_asset_key(s) for s in ENTITIES if s.format == "sql"],
    description="raw._deletions: one row per shop record a periodic full compare found gone "
    "from the source (source, entity, key, when; restored_at when it came back). "
    "Staging hides a record while a marker newer than its latest version applies.",
)

# Written by the erase_person job, read by dbt (source load_log): an erasure anonymises raw rows
# in place, so the incrementally staged sources stage every key again after one.
erasure_log = dg.AssetSpec(
    key=["raw", "_erasure_log"],
    group_name=GROUP,
    kinds={"duckdb"},
    description="raw._erasure_log: one row per erasure (make erase, the erase_person job): when "
    "it finished and what it removed or anonymised, with no personal value. The staging of "
    "slips, slip lines, e-mail events, calls and tickets takes every key again after one.",
)

ingest_assets: list[dg.AssetsDefinition | dg.AssetSpec] = [
    *(build_shop_asset(s) if s.format == "sql" else build_file_asset(s) for s in ENTITIES),
    deletion_markers,
    erasure_log,
]
ingest_checks = [check for spec in ENTITIES for check in build_checks(spec)]
