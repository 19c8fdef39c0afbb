"""The predictive CLV fit: BG/NBD + Gamma-Gamma over the purchase summary dbt built, and its
back-test.

Sits between two dbt steps (on the engine they build on: DuckDB, or PostgreSQL for
`make postgres`): it reads intermediate.int_customer_purchase_summary and
core.fct_purchases and writes ml.clv_predictions, ml.clv_model_fit, ml.clv_backtest and
ml.clv_reliability, which the value marts (mart_customer_ltv, mart_clv_backtest, ...) read as the
dbt source `ml`.
"""

from collections.abc import Iterator
from contextlib import closing
from datetime import date

import dagster as dg
import pandas as pd
import psycopg2

from ingest.postgres_mirror import pg_params
from orchestration.charts import line_chart, markdown_image
from orchestration.clv import backtest, fitting, reliability, scoring, store
from orchestration.dbt_project import dbt_project
from orchestration.resources import WAREHOUSE_POOL, SettingsResource, WarehouseResource

# The fit serves the value marts (LTV, value grid, churn): it sits in their group.
CLV_GROUP = "marketing"
CLV_OWNERS = ["team:marketing"]  # as the marketing marts (dbt meta.owner)
PREDICTIONS_KEY = dg.AssetKey(["ml", "clv_predictions"])
FIT_KEY = dg.AssetKey(["ml", "clv_model_fit"])
BACKTEST_KEY = dg.AssetKey(["ml", "clv_backtest"])
RELIABILITY_KEY = dg.AssetKey(["ml", "clv_reliability"])
SUMMARY_KEY = dg.AssetKey(["intermediate", "int_customer_purchase_summary"])
PURCHASES_KEY = dg.AssetKey(["marts", "core", "fct_purchases"])


def backtest_chart(tested: backtest.Backtest) -> str:
    """Figure 4 of Fader, Hardie & Lee (2005) for this data: mean holdout repeat purchases per
    calibration-repeat group, actual against predicted, as a markdown image."""
    groups = tested.groups
    svg = line_chart(
        [str(label) for label in groups["label"]],
        {
            "actual": [float(v) for v in groups["actual_mean"]],
            "predicted": [float(v) for v in groups["predicted_mean"]],
        },
        title=f"Holdout {tested.calibration_end:%Y-%m-%d} to {tested.holdout_end:%Y-%m-%d}: "
        "repeat purchases per customer",
        y_label="mean holdout repeat purchases",
    )
    return markdown_image(svg, "CLV back-test: actual and predicted per calibration group")


RELIABILITY_CHECK = "clv_predictions_reliable"


def reliability_check(verdict: reliability.Reliability) -> dg.AssetCheckResult:
    """Warns, with the figures, when the predictions cannot be trusted (the fit sees no
    dropout, or the back-test misses by more than var clv_backtest_max_error_pct)."""
    return dg.AssetCheckResult(
        asset_key=PREDICTIONS_KEY,
        check_name=RELIABILITY_CHECK,
        passed=verdict.is_reliable,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=verdict.metadata(),
    )


def _sig(value: float, digits: int = 6) -> float:
    """A fitted value to `digits` significant figures, as the UI shows it."""
    return float(f"{value:.{digits}g}")


@dg.multi_asset(
    name="clv_models",
    specs=[
        dg.AssetSpec(
            PREDICTIONS_KEY,
            deps=[SUMMARY_KEY],
            group_name=CLV_GROUP,
            owners=CLV_OWNERS,
            kinds={"python", "duckdb"},
            description="Per customer: probability alive, expected purchases and order "
            "value over 12 months, predicted revenue, margin and discounted "
            "CLV (BG/NBD + Gamma-Gamma).",
        ),
        dg.AssetSpec(
            FIT_KEY,
            deps=[SUMMARY_KEY],
            group_name=CLV_GROUP,
            owners=CLV_OWNERS,
            kinds={"python", "duckdb"},
            description="The fitted BG/NBD (r, alpha, a, b) and Gamma-Gamma (p, q, "
            "gamma) parameters with log-likelihood and customers fitted.",
        ),
        dg.AssetSpec(
            BACKTEST_KEY,
            deps=[PURCHASES_KEY],
            group_name=CLV_GROUP,
            owners=CLV_OWNERS,
            kinds={"python", "duckdb"},
            description="Back-test: BG/NBD fitted on the purchases before the last "
            "var clv_backtest_holdout_days days, its predicted repeat "
            "purchases in those days against the actual ones, per "
            "calibration frequency (0-6, 7+) and in total.",
        ),
        dg.AssetSpec(
            RELIABILITY_KEY,
            deps=[SUMMARY_KEY, PURCHASES_KEY],
            group_name=CLV_GROUP,
            owners=CLV_OWNERS,
            kinds={"python", "duckdb"},
            description="One row: whether the predictions can be trusted, and why not "
            "(the fit sees no dropout, or the back-test misses by more than var "
            "clv_backtest_max_error_pct), with the figures. The marts read it as "
            "clv_is_reliable.",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            RELIABILITY_CHECK,
            asset=PREDICTIONS_KEY,
            description="The predictions can be trusted: the fit sees dropout (some customer "
            "is more likely gone than alive) and the back-test error is within var "
            "clv_backtest_max_error_pct. Warns with the figures otherwise; the marts carry "
            "the verdict (clv_is_reliable).",
        )
    ],
    pool=WAREHOUSE_POOL,
)
def clv_models(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, settings: SettingsResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    dbt_vars = settings.resolved()
    rates = scoring.ClvSettings.from_dbt_vars(dbt_vars)
    fitted, as_of_date = fit_and_store(warehouse, rates, context.run.run_id)
    result, table, tested, why_not = (
        fitted.result,
        fitted.backtest_table,
        fitted.tested,
        fitted.why_not_tested,
    )
    if why_not:
        context.log.warning(f"CLV back-test skipped: {why_not}")
    p, g = result.bgnbd, result.gamma_gamma
    if p is None or g is None:
        # A new shop: RFM, the KPIs and the formula LTV are built all the same; the
        # predictions stay empty until there are repeat purchases to learn from.
        context.log.warning(f"CLV not fitted, its tables are empty: {result.why_empty}")
        why = {"why_empty": result.why_empty or "not fitted"}
        yield dg.MaterializeResult(
            asset_key=PREDICTIONS_KEY, metadata={"dagster/row_count": 0, **why}
        )
        yield reliability_check(fitted.verdict)
        yield dg.MaterializeResult(asset_key=FIT_KEY, metadata=why)
        yield backtest_result(table, tested, why_not)
        yield reliability_result(fitted.verdict)
        return
    if result.observed_order_values:
        context.log.warning(
            f"Gamma-Gamma q = {g.q:.3f} ≤ 1: the fitted spend has no finite "
            "mean, so expected order values are the customers' observed means"
        )
    predictions = result.predictions
    currency = dbt_vars["currency_code"]
    yield dg.MaterializeResult(
        asset_key=PREDICTIONS_KEY,
        metadata={
            "dagster/row_count": len(predictions),
            "as_of_date": str(as_of_date),
            # Rounded: a figure is read, not recomputed (and a long float such as 790101.1234567
            # would look like an RRN written with a dot to the personal-data scan).
            "mean_p_alive": round(float(predictions["p_alive"].mean()), 4),
            "expected_purchases_12m_total": round(
                float(predictions["expected_purchases_12m"].sum()), 1
            ),
            f"predicted_clv_12m_total_{currency.lower()}": round(
                float(predictions["predicted_clv_12m"].sum()), 2
            ),
        },
    )
    yield reliability_check(fitted.verdict)
    yield dg.MaterializeResult(
        asset_key=FIT_KEY,
        metadata={
            "bgnbd": dg.MetadataValue.json(
                {
                    "r": _sig(p.r),
                    "alpha": _sig(p.alpha),
                    "a": _sig(p.a),
                    "b": _sig(p.b),
                    "log_likelihood": _sig(p.log_likelihood, 8),
                    "customers": p.customers,
                }
            ),
            "gamma_gamma": dg.MetadataValue.json(
                {
                    "p": _sig(g.p),
                    "q": _sig(g.q),
                    "gamma": _sig(g.gamma),
                    "log_likelihood": _sig(g.log_likelihood, 8),
                    "customers": g.customers,
                }
            ),
            "order_values_from": "observed means (q ≤ 1)"
            if result.observed_order_values
            else "Gamma-Gamma",
        },
    )
    yield backtest_result(table, tested, why_not)
    yield reliability_result(fitted.verdict)


def fit_and_store(
    warehouse: WarehouseResource, rates: scoring.ClvSettings, run_id: str
) -> tuple[fitting.Fitted, date]:
    """Fit on the engine the dbt steps of the run build on (the DbtProject's target): the
    DuckDB warehouse, or PostgreSQL (GOGAEK_PG_*) for `make postgres`."""
    if dbt_project.target == "postgres":
        with closing(psycopg2.connect(**pg_params())) as pg:
            summary = store.read_summary_postgres(pg)
            purchase_days, as_of_date = store.read_purchase_days_postgres(pg)
            fitted = fitting.fit(summary, purchase_days, as_of_date, rates)
            store.write_postgres(pg, fitted, run_id)
        return fitted, as_of_date
    with warehouse.connect() as con:
        summary = store.read_summary_duckdb(con)
        purchase_days, as_of_date = store.read_purchase_days_duckdb(con)
        fitted = fitting.fit(summary, purchase_days, as_of_date, rates)
        store.write_duckdb(con, fitted, run_id)
    return fitted, as_of_date


def reliability_result(verdict: reliability.Reliability) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        asset_key=RELIABILITY_KEY, metadata={"dagster/row_count": 1, **verdict.metadata()}
    )


def backtest_result(
    table: pd.DataFrame, tested: backtest.Backtest | None, why_not: str | None
) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        asset_key=BACKTEST_KEY,
        metadata={
            "dagster/row_count": len(table),
            "comparison": dg.MetadataValue.md(
                backtest.markdown(tested) if tested else f"not run: {why_not}"
            ),
            **({"comparison_chart": dg.MetadataValue.md(backtest_chart(tested))} if tested else {}),
            **(
                {
                    "actual_repeat_purchases": round(tested.actual_total, 1),
                    "predicted_repeat_purchases": round(tested.predicted_total, 1),
                    "total_error_pct": round(tested.total_error_pct, 2),
                }
                if tested
                else {}
            ),
        },
    )
