"""dbt source freshness as asset checks on the raw assets (`source_freshness`).

The sources yml declares, per source system, how old the newest loaded row of each raw table
may be (warn after 26 hours, error after 50: a nightly drop missed once, then twice). One
multi-asset check runs `dbt source freshness` for the selected raw tables through the dbt
resource and reports each table: passed, WARN or ERROR, with the newest load time, its age and
the thresholds, and when the loader last read a delivery of that entity at all.

What fresh means here: the age is measured on load time (`_loaded_at`, when the loader wrote the
row, a wall-clock time) against the moment the check runs — never on business dates. Data whose
orders ended years ago, loaded an hour ago, is fresh: the feed is alive. The business dates
decide the scoring date instead (var `rfm_as_of_date`, model int_scoring_date), not freshness.
A delivery that changes nothing adds no row, so a master that never changes ages although its
drop arrives: `last_delivery_read_at` (raw._load_batches) tells the two apart.

Freshness exists to catch a feed that stopped. A source system the company does not have (not
in GOGAEK_SOURCES: a business with only a shop) is not judged: its checks pass with status
`not declared`. A declared source whose tables no delivery has ever reached passes with status
`never delivered` (nothing stopped; the landing-file checks say when files arrive unread).
"""

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.assets.dbt import MANIFEST, TRANSLATOR, dbt_invocation
from orchestration.resources import (
    WAREHOUSE_POOL,
    IngestSettingsResource,
    SettingsResource,
    WarehouseResource,
)

CHECK_NAME = "source_freshness"


def _declares_freshness(source: Mapping[str, Any]) -> bool:
    freshness = source.get("freshness") or {}
    return any((freshness.get(level) or {}).get("count") for level in ("warn_after", "error_after"))


def _threshold(freshness: Mapping[str, Any], level: str) -> str:
    after = freshness.get(level) or {}
    return f"{after['count']} {after['period']}s" if after.get("count") else "none"


# unique id → (asset key, source) for every source that declares freshness.
FRESHNESS_SOURCES: dict[str, tuple[dg.AssetKey, Mapping[str, Any]]] = {
    unique_id: (TRANSLATOR.get_asset_key(source), source)
    for unique_id, source in sorted(MANIFEST["sources"].items())
    if _declares_freshness(source)
}


def _check_spec(key: dg.AssetKey, source: Mapping[str, Any]) -> dg.AssetCheckSpec:
    freshness = source["freshness"]
    return dg.AssetCheckSpec(
        name=CHECK_NAME,
        asset=key,
        description=(
            f"dbt source freshness of {source['source_name']}.{source['name']}: the newest "
            f"row's load time (`{source.get('loaded_at_field')}`) is at most "
            f"{_threshold(freshness, 'warn_after')} old (else WARN) and at most "
            f"{_threshold(freshness, 'error_after')} (else ERROR). Load time against the "
            "clock, never business dates: data ending years ago, loaded today, is fresh."
        ),
    )


def _last_reads(warehouse: WarehouseResource) -> dict[str, str]:
    """raw table → when the loader last finished reading a delivery of it (any outcome)."""
    with warehouse.connect(read_only=True) as con:
        rows = con.execute(
            "select source || '_' || entity, max(finished_at) from raw._load_batches group by 1"
        ).fetchall()
    return {table: str(at) for table, at in rows}


def not_judged(key: dg.AssetKey, status: str, why: str) -> dg.AssetCheckResult:
    """A source that is not expected to deliver: shown as such, not as a failure."""
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=CHECK_NAME,
        passed=True,
        metadata={"status": status, "why": why},
    )


def freshness_result(
    key: dg.AssetKey,
    result: Mapping[str, Any] | None,
    last_read: str | None,
) -> dg.AssetCheckResult:
    """One raw table's verdict from dbt's sources.json result (None: dbt reported nothing)."""
    metadata: dict[str, Any] = {"last_delivery_read_at": last_read or "never"}
    if result is None or result.get("status") in (None, "runtime error"):
        message = (result or {}).get("error") or "dbt source freshness reported no result"
        return dg.AssetCheckResult(
            asset_key=key,
            check_name=CHECK_NAME,
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={**metadata, "status": "runtime error", "error": str(message)[:500]},
        )
    status = result["status"]
    age_hours = round(float(result["max_loaded_at_time_ago_in_s"]) / 3600, 2)
    criteria = result.get("criteria") or {}
    metadata |= {
        "status": status,
        "max_loaded_at": str(result["max_loaded_at"]),
        "checked_at": str(result["snapshotted_at"]),
        "age_hours": age_hours,
        "warn_after": _threshold(criteria, "warn_after"),
        "error_after": _threshold(criteria, "error_after"),
    }
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=CHECK_NAME,
        passed=status == "pass",
        severity=dg.AssetCheckSeverity.WARN if status == "warn" else dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
    )


@dg.multi_asset_check(
    specs=[_check_spec(key, source) for key, source in FRESHNESS_SOURCES.values()],
    name="dbt_source_freshness",
    can_subset=True,
    pool=WAREHOUSE_POOL,
    description="`dbt source freshness` on the raw tables whose source declares freshness.",
)
def source_freshness_checks(
    context: dg.AssetCheckExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    settings: SettingsResource,
    ingest_settings: IngestSettingsResource,
) -> Iterator[dg.AssetCheckResult]:
    selected = {key.asset_key for key in context.selected_asset_check_keys}
    chosen = {
        unique_id: key for unique_id, (key, _) in FRESHNESS_SOURCES.items() if key in selected
    }
    last_reads = _last_reads(warehouse)
    judged: dict[str, dg.AssetKey] = {}
    for unique_id, key in chosen.items():
        source = MANIFEST["sources"][unique_id]["source_name"]
        if source not in ingest_settings.sources:
            yield not_judged(
                key,
                "not declared",
                f"source system {source} is not among this company's sources "
                f"(GOGAEK_SOURCES: {', '.join(ingest_settings.sources)})",
            )
        elif key.path[-1] not in last_reads:
            yield not_judged(
                key,
                "never delivered",
                f"no delivery of {key.path[-1]} has been read yet: there is no feed to go stale",
            )
        else:
            judged[unique_id] = key
    if not judged:
        return
    select = [
        f"source:{MANIFEST['sources'][uid]['source_name']}.{MANIFEST['sources'][uid]['name']}"
        for uid in judged
    ]
    with dbt_invocation(context.op_def.name, warehouse, settings) as (dbt_vars, target_path):
        invocation = dbt.cli(
            ["source", "freshness", "--select", " ".join(select), "--vars", dbt_vars],
            raise_on_error=False,
            target_path=target_path,
        ).wait()
        try:
            results = {
                r["unique_id"]: r
                for r in invocation.get_artifact("sources.json").get("results", [])
            }
        except FileNotFoundError:
            context.log.warning("dbt source freshness wrote no sources.json")
            results = {}
    for unique_id, key in judged.items():
        yield freshness_result(key, results.get(unique_id), last_reads.get(key.path[-1]))


freshness_checks = [source_freshness_checks]
