"""The predictive CLV fit: BG/NBD + Gamma-Gamma over the purchase summary dbt built.

Sits between two dbt steps: it reads intermediate.int_customer_purchase_summary and writes
ml.clv_predictions and ml.clv_model_fit, which the value marts (mart_customer_ltv, ...) read
as the dbt source `ml`.
"""

from collections.abc import Iterator

import dagster as dg

from orchestration.assets.ingest import WAREHOUSE_POOL
from orchestration.clv import scoring, store
from orchestration.resources import SettingsResource, WarehouseResource

PREDICTIONS_KEY = dg.AssetKey(["ml", "clv_predictions"])
FIT_KEY = dg.AssetKey(["ml", "clv_model_fit"])
SUMMARY_KEY = dg.AssetKey(["intermediate", "int_customer_purchase_summary"])


@dg.multi_asset(
    name="clv_models",
    specs=[
        dg.AssetSpec(PREDICTIONS_KEY, deps=[SUMMARY_KEY], group_name="dbt",
                     kinds={"python", "duckdb"},
                     description="Per customer: probability alive, expected purchases and order "
                                 "value over 12 months, predicted revenue, margin and discounted "
                                 "CLV (BG/NBD + Gamma-Gamma)."),
        dg.AssetSpec(FIT_KEY, deps=[SUMMARY_KEY], group_name="dbt", kinds={"python", "duckdb"},
                     description="The fitted BG/NBD (r, alpha, a, b) and Gamma-Gamma (p, q, "
                                 "gamma) parameters with log-likelihood and customers fitted."),
    ],
    pool=WAREHOUSE_POOL,
)
def clv_models(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
               settings: SettingsResource) -> Iterator[dg.MaterializeResult]:
    rates = scoring.ClvSettings.from_dbt_vars(settings.resolved())
    with warehouse.connect() as con:
        summary = store.read_summary_duckdb(con)
        result = scoring.score(summary, rates)
        store.write_duckdb(con, result, summary["as_of_date"].max(), context.run.run_id)
    p, g = result.bgnbd, result.gamma_gamma
    predictions = result.predictions
    yield dg.MaterializeResult(
        asset_key=PREDICTIONS_KEY,
        metadata={
            "dagster/row_count": len(predictions),
            "mean_p_alive": float(predictions["p_alive"].mean()),
            "expected_purchases_12m_total": float(predictions["expected_purchases_12m"].sum()),
            "predicted_clv_12m_total_krw": float(predictions["predicted_clv_12m"].sum()),
        })
    yield dg.MaterializeResult(
        asset_key=FIT_KEY,
        metadata={
            "bgnbd": dg.MetadataValue.json({"r": p.r, "alpha": p.alpha, "a": p.a, "b": p.b,
                                            "log_likelihood": p.log_likelihood,
                                            "customers": p.customers}),
            "gamma_gamma": dg.MetadataValue.json({"p": g.p, "q": g.q, "gamma": g.gamma,
                                                  "log_likelihood": g.log_likelihood,
                                                  "customers": g.customers}),
        })
