"""Quality layer: the Great Expectations suites of quality/suites.py as Dagster asset checks.

One multi-asset check per suite, one check result per rule (`gx_<rule>`), next to the table it
guards: raw contact tables after ingest, staging models after the dbt staging step. A failing
blocking rule fails its check with severity ERROR, and because its spec is `blocking=True` the
assets downstream of the table (the dbt marts step) do not run; warnings show as WARN. Every
validation is appended to `dq.validation_results`, and the Data Docs page of the validation is
linked from each check. The asset `quality/data_docs` rebuilds the site index and reports it.
"""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pandas as pd

from ingest.db_rows import one_row
from ingest.postgres_mirror import pg_params
from orchestration.charts import line_chart, markdown_image
from orchestration.resources import WAREHOUSE_POOL, QualityResource, WarehouseResource
from quality import history
from quality.runner import SuiteOutcome, SuiteRunner, gx_context
from quality.suites import Suite, all_suites, threshold

GROUP = "quality"
OWNERS = ["team:data"]  # as the staging models the suites guard (dbt meta.owner)
CHECK_PREFIX = "gx_"
TREND_RUNS = 10  # validations shown in each rule's trend


def trend_markdown(trend: pd.DataFrame, rule: str) -> str:
    """A rule's share passing over its last validations: a chart (with `mostly` dashed) and the
    table under it."""
    labels = [f"{at:%m-%d %H:%M}" for at in trend["validated_at"]]
    shares = [None if pd.isna(v) else round(float(v), 4) for v in trend["observed_value"]]
    svg = line_chart(
        labels,
        {"share passing": shares},
        title=f"{rule}: share passing, last {len(trend)} validations",
        y_label="share passing",
        y_max=1.0,
        threshold=("mostly", float(trend["mostly"].iloc[-1])) if len(trend) else None,
    )
    lines = ["| validated (UTC) | share passing | outcome |", "|---|---|---|"]
    lines += [
        f"| {at:%Y-%m-%d %H:%M} | {'—' if share is None else f'{share:.2%}'} | {outcome} |"
        for at, share, outcome in zip(trend["validated_at"], shares, trend["outcome"], strict=True)
    ]
    return markdown_image(svg, f"{rule} over the last validations") + "\n\n" + "\n".join(lines)


def _check_metadata(
    outcome: SuiteOutcome, index: int, trend: pd.DataFrame | None = None
) -> dict[str, dg.MetadataValue]:
    rule = outcome.rules[index]
    metadata: dict[str, dg.MetadataValue] = {
        "suite": dg.MetadataValue.text(outcome.suite.name),
        "expectation": dg.MetadataValue.text(rule.expectation_type),
        "column": dg.MetadataValue.text(rule.rule.column),
        "severity": dg.MetadataValue.text(rule.severity),
        "mostly": dg.MetadataValue.float(rule.mostly),
        "observed_share_passing": dg.MetadataValue.float(rule.observed_share),
        "rows_checked": dg.MetadataValue.int(rule.element_count),
        "unexpected_count": dg.MetadataValue.int(rule.unexpected_count),
        "unexpected_share": dg.MetadataValue.float(round(rule.unexpected_share, 6)),
        "failing_examples": dg.MetadataValue.md(
            "\n".join(f"- `{e}`" for e in rule.examples) or "none"
        ),
        "engine": dg.MetadataValue.text(outcome.engine),
    }
    if outcome.docs_url:
        metadata["data_docs"] = dg.MetadataValue.url(outcome.docs_url)
    if trend is not None and len(trend):
        metadata["trend"] = dg.MetadataValue.md(trend_markdown(trend, rule.rule.name))
    return metadata


def build_suite_check(suite: Suite) -> dg.AssetChecksDefinition:
    key = dg.AssetKey(list(suite.asset_key))
    specs = [
        dg.AssetCheckSpec(
            name=CHECK_PREFIX + rule.name,
            asset=key,
            blocking=threshold(suite, rule).severity == "blocking",
            description=f"{rule.description} ({threshold(suite, rule).severity}"
            + (
                f", mostly {threshold(suite, rule).mostly:.0%})"
                if threshold(suite, rule).mostly < 1
                else ")"
            ),
        )
        for rule in suite.rules
    ]

    @dg.multi_asset_check(
        specs=specs,
        name=f"gx_{suite.name}",
        pool=WAREHOUSE_POOL,
        # On PostgreSQL the Python rules (pandas) are not evaluated: their checks get no result
        # rather than failing the step; and a selection may name single checks.
        can_subset=True,
        description=f"Great Expectations suite `{suite.name}`: {suite.description}",
    )
    def _validate(
        context: dg.AssetCheckExecutionContext,
        warehouse: WarehouseResource,
        quality: QualityResource,
    ) -> Iterator[dg.AssetCheckResult]:
        runner = SuiteRunner(Path(quality.root), build_docs=quality.build_docs)
        with warehouse.connect() as con:
            if quality.engine == "postgres" and suite.asset_key[0] != "raw":
                outcome = runner.validate_postgres(
                    suite, _postgres_url(quality), context.run.run_id
                )
            else:
                outcome = runner.validate_duckdb(suite, con, context.run.run_id)
            history.append(con, outcome)
            trends = [
                history.rule_trend(con, suite.name, r.rule.name, TREND_RUNS) for r in outcome.rules
            ]
        context.log.info(f"{suite.name}: {outcome.rows} rows, {outcome.seconds}")
        selected = {check.name for check in context.selected_asset_check_keys}
        for index, rule in enumerate(outcome.rules):
            if CHECK_PREFIX + rule.rule.name not in selected:
                continue
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=CHECK_PREFIX + rule.rule.name,
                passed=rule.success,
                severity=(
                    dg.AssetCheckSeverity.ERROR
                    if rule.severity == "blocking"
                    else dg.AssetCheckSeverity.WARN
                ),
                metadata=_check_metadata(outcome, index, trends[index]),
            )

    return _validate


def _postgres_url(quality: QualityResource) -> str:
    if quality.postgres_url:
        return quality.postgres_url
    p = pg_params()
    auth = p["user"] + (f":{p['password']}" if p["password"] else "")
    return f"postgresql+psycopg2://{auth}@{p['host']}:{p['port']}/{p['dbname']}"


SUITES = all_suites()
quality_checks = [build_suite_check(s) for s in SUITES]


@dg.asset(
    key=["quality", "data_docs"],
    group_name=GROUP,
    owners=OWNERS,
    pool=WAREHOUSE_POOL,
    kinds={"python"},
    deps=[dg.AssetKey(list(s.asset_key)) for s in SUITES],
    description="The Great Expectations Data Docs site (every suite's validations), "
    "rebuilt after the guarded tables, with this run's outcome per suite "
    "from dq.validation_results.",
)
def data_docs(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, quality: QualityResource
) -> dg.MaterializeResult:
    gx_context(Path(quality.root)).build_data_docs()
    index = Path(quality.root) / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    with warehouse.connect(read_only=True) as con:
        summary = con.execute(
            """
            select suite, count(*) as rules,
                   count(*) filter (where outcome = 'passed') as passed,
                   count(*) filter (where outcome = 'warn') as warn,
                   count(*) filter (where outcome = 'blocked') as blocked
            from dq.validation_results where run_id = ? group by suite order by suite""",
            [context.run.run_id],
        ).fetchall()
        history_rows = one_row(con.execute("select count(*) from dq.validation_results"))[0]
        suites_over_runs = history.suite_trend(con, TREND_RUNS)
    lines = ["| suite | rules | passed | warn | blocked |", "|---|---|---|---|---|"]
    lines += [f"| {s} | {r} | {p} | {w} | {b} |" for s, r, p, w, b in summary]
    return dg.MaterializeResult(
        metadata={
            "data_docs": dg.MetadataValue.url(index.resolve().as_uri()),
            "data_docs_path": dg.MetadataValue.path(str(index.resolve())),
            "this_run": dg.MetadataValue.md("\n".join(lines)),
            "history_rows": dg.MetadataValue.int(history_rows),
            "trend": dg.MetadataValue.md(suite_trend_markdown(suites_over_runs)),
        }
    )


def suite_trend_markdown(trend: pd.DataFrame) -> str:
    """Per suite, the share of its rules passing over the last runs: a chart and a table."""
    if trend.empty:
        return "no validations yet"
    wide = trend.pivot_table(
        index=["validated_at", "run_id"], columns="suite", values="passed_share"
    ).sort_index()
    labels = [f"{at:%m-%d %H:%M}" for at, _ in wide.index]
    svg = line_chart(
        labels,
        {suite: [None if pd.isna(v) else float(v) for v in wide[suite]] for suite in wide.columns},
        title=f"Share of rules passing per suite, last {len(wide)} runs",
        y_label="rules passing",
        y_max=1.0,
    )
    lines = ["| run (UTC) | " + " | ".join(wide.columns) + " |"]
    lines.append("|---" * (len(wide.columns) + 1) + "|")
    for (at, _), shares in zip(wide.index, wide.to_numpy(), strict=True):
        cells = ["—" if pd.isna(v) else f"{v:.0%}" for v in shares]
        lines.append(f"| {at:%Y-%m-%d %H:%M} | " + " | ".join(cells) + " |")
    return (
        markdown_image(svg, "rules passing per suite over the last runs")
        + "\n\n"
        + ("\n".join(lines))
    )


# Written by the checks above, read by dbt (source `dq`): declared so lineage and the group show.
validation_history = dg.AssetSpec(
    key=["dq", "validation_results"],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"duckdb"},
    description="dq.validation_results: one row per Great Expectations rule per validation "
    "(suite, expectation, table, observed value, unexpected count and share, "
    "success, run id, time), appended by every gx_ check; dbt reads it as source dq.",
)

quality_assets: list[dg.AssetsDefinition | dg.AssetSpec] = [data_docs, validation_history]
