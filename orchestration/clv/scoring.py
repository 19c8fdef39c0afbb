"""Predictive 12-month customer lifetime value from BG/NBD and Gamma-Gamma.

Input: one row per customer of `intermediate.int_customer_purchase_summary` (purchase days as
transactions, times in weeks). Output: per customer the probability of being alive, expected
purchases and order value over the horizon, and the predicted revenue, margin and discounted
margin (the CLV); plus one row per fitted parameter for the record.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from orchestration.clv import backtest, bgnbd, gamma_gamma

WEEKS_PER_MONTH = 52.1775 / 12
HORIZON_MONTHS = 12  # the marts' columns say 12m
SUMMARY_COLUMNS = [
    "customer_id",
    "repeat_purchases",
    "recency_weeks",
    "age_weeks",
    "avg_repeat_value",
    "revenue_to_date",
    "gross_margin_to_date",
]


@dataclass(frozen=True)
class ClvSettings:
    """The rates the fit uses. They are dbt vars (dbt_project.yml, GOGAEK_<NAME>, run config),
    read through `from_dbt_vars`, so the CLV and the LTV marts discount and cost alike."""

    annual_discount_rate: float
    default_margin_rate: float

    backtest_holdout_days: int = 182
    # Beyond this back-test error (either way, in %) the predictions are flagged unreliable.
    max_backtest_error_pct: float = 20.0

    @classmethod
    def from_dbt_vars(cls, dbt_vars: Mapping[str, Any]) -> ClvSettings:
        return cls(
            annual_discount_rate=float(dbt_vars["ltv_discount_rate"]),
            default_margin_rate=float(dbt_vars["default_margin_rate"]),
            backtest_holdout_days=int(dbt_vars["clv_backtest_holdout_days"]),
            max_backtest_error_pct=float(dbt_vars["clv_backtest_max_error_pct"]),
        )


PREDICTION_COLUMNS = [
    "customer_id",
    "p_alive",
    "expected_purchases_12m",
    "expected_order_value",
    "predicted_revenue_12m",
    "margin_rate",
    "predicted_margin_12m",
    "predicted_clv_12m",
]
FIT_COLUMNS = ["model", "parameter", "value", "log_likelihood", "customers_fitted"]


class NotFittable(ValueError):
    """The purchase history cannot identify the models yet (a new shop: nobody has bought
    twice). Not an error of the run: the CLV tables stay empty and say why."""


@dataclass(frozen=True)
class ClvResult:
    predictions: pd.DataFrame
    fit: pd.DataFrame
    # None when nothing could be fitted (`why_empty` says why; the tables have no rows).
    bgnbd: bgnbd.BgNbdParams | None
    gamma_gamma: gamma_gamma.GammaGammaParams | None
    # True when Gamma-Gamma's q ≤ 1 (the fitted spend has no finite mean: a few huge repeat
    # purchases) and order values are the observed means instead.
    observed_order_values: bool = False
    why_empty: str | None = None


def not_fitted(why: str) -> ClvResult:
    """A result with no rows, typed like a fitted one, and the reason."""
    # Text columns as "str": an empty object column would reach DuckDB as INTEGER.
    predictions = pd.DataFrame({c: pd.Series(dtype="float64") for c in PREDICTION_COLUMNS})
    predictions["customer_id"] = pd.Series(dtype="str")
    fit = pd.DataFrame({c: pd.Series(dtype="float64") for c in FIT_COLUMNS})
    fit["model"] = pd.Series(dtype="str")
    fit["parameter"] = pd.Series(dtype="str")
    fit["customers_fitted"] = fit["customers_fitted"].astype("Int64")
    return ClvResult(predictions, fit, None, None, why_empty=why)


def score_if_possible(summary: pd.DataFrame, settings: ClvSettings) -> ClvResult:
    """`score`, or an empty result saying why when the history cannot be fitted yet."""
    try:
        return score(summary, settings)
    except NotFittable as why:
        return not_fitted(str(why))


def fit_bgnbd_on_histories(summary: pd.DataFrame) -> bgnbd.BgNbdParams:
    """Fit on the distinct (x, t_x, T) histories, weighted by how many customers share each."""
    histories = (
        summary.groupby(["repeat_purchases", "recency_weeks", "age_weeks"])
        .size()
        .reset_index(name="customers")
    )
    return bgnbd.fit(
        histories["repeat_purchases"].to_numpy(),
        histories["recency_weeks"].to_numpy(),
        histories["age_weeks"].to_numpy(),
        weights=histories["customers"].to_numpy(),
    )


def score(summary: pd.DataFrame, settings: ClvSettings) -> ClvResult:
    missing = [c for c in SUMMARY_COLUMNS if c not in summary.columns]
    if missing:
        raise ValueError(f"purchase summary lacks columns {missing}")
    if summary.empty:
        raise NotFittable("no customer has a purchase up to the scoring date: nothing to fit")
    x = summary["repeat_purchases"].to_numpy(dtype=float)
    t_x = summary["recency_weeks"].to_numpy(dtype=float)
    big_t = summary["age_weeks"].to_numpy(dtype=float)
    spend = summary["avg_repeat_value"].fillna(0).to_numpy(dtype=float)
    if not ((x > 0) & (spend > 0)).any():
        # BG/NBD learns dropout and Gamma-Gamma spend from repeat purchases; with none the
        # likelihood has no maximum to find.
        raise NotFittable(
            f"none of the {len(x):,} customers has a repeat purchase of positive value yet: "
            "BG/NBD and Gamma-Gamma need repeat purchases to fit"
        )

    purchase_model = fit_bgnbd_on_histories(summary)
    spend_model = gamma_gamma.fit(x, spend)

    # Expected purchases month by month, so each month's margin is discounted on its own.
    months = np.arange(HORIZON_MONTHS + 1)
    cumulative = np.stack(
        [
            np.zeros_like(x)
            if m == 0
            else bgnbd.expected_purchases(purchase_model, m * WEEKS_PER_MONTH, x, t_x, big_t)
            for m in months
        ]
    )
    if not np.all(np.isfinite(cumulative[-1])) or cumulative[-1].min() < 0:
        # Say so here, with the fit, rather than as a decimal overflow in a mart.
        raise ValueError(
            f"BG/NBD predictions out of range ({np.nanmin(cumulative[-1]):.3g} to "
            f"{np.nanmax(cumulative[-1]):.3g} purchases in 12 months) with {purchase_model}"
        )
    per_month = np.diff(cumulative, axis=0)
    monthly_rate = (1 + settings.annual_discount_rate) ** (1 / 12) - 1
    discount = 1 / (1 + monthly_rate) ** months[1:]

    observed_order_values = spend_model.q <= 1
    if observed_order_values:
        repeat_values = spend[(x > 0) & (spend > 0)]
        # fsum: exactly rounded, so the mean does not depend on the order of the rows
        mean_value = math.fsum(repeat_values) / len(repeat_values) if len(repeat_values) else 0.0
        order_value = np.where(x > 0, spend, mean_value)
    else:
        order_value = gamma_gamma.expected_average_value(spend_model, x, spend)
    revenue = summary["revenue_to_date"].to_numpy(dtype=float)
    margin = summary["gross_margin_to_date"].to_numpy(dtype=float)
    # The customer's own margin rate when it is meaningful, else the default.
    with np.errstate(divide="ignore", invalid="ignore"):
        margin_rate = np.where(
            revenue > 0, np.clip(margin / revenue, 0, 1), settings.default_margin_rate
        )

    predictions = pd.DataFrame(
        {
            "customer_id": summary["customer_id"].to_numpy(),
            "p_alive": bgnbd.probability_alive(purchase_model, x, t_x, big_t),
            "expected_purchases_12m": cumulative[-1],
            "expected_order_value": order_value,
            "predicted_revenue_12m": cumulative[-1] * order_value,
            "margin_rate": margin_rate,
            "predicted_margin_12m": cumulative[-1] * order_value * margin_rate,
            "predicted_clv_12m": (per_month * discount[:, None]).sum(axis=0)
            * order_value
            * margin_rate,
        }
    )
    fit = pd.DataFrame(
        [
            ("bg_nbd", name, float(value), purchase_model.log_likelihood, purchase_model.customers)
            for name, value in asdict(purchase_model).items()
            if name not in ("log_likelihood", "customers")
        ]
        + [
            ("gamma_gamma", name, float(value), spend_model.log_likelihood, spend_model.customers)
            for name, value in asdict(spend_model).items()
            if name not in ("log_likelihood", "customers")
        ]
        # The settings the prediction used, for the record (they are dbt vars too).
        + [
            ("settings", name, float(value), None, None)
            for name, value in (
                ("annual_discount_rate", settings.annual_discount_rate),
                ("default_margin_rate", settings.default_margin_rate),
            )
        ],
        columns=FIT_COLUMNS,
    )
    fit["customers_fitted"] = fit["customers_fitted"].astype("Int64")
    return ClvResult(
        predictions=predictions,
        fit=fit,
        bgnbd=purchase_model,
        gamma_gamma=spend_model,
        observed_order_values=observed_order_values,
    )


def backtest_table(
    purchase_days: pd.DataFrame, as_of_date: date, settings: ClvSettings
) -> tuple[pd.DataFrame, backtest.Backtest | None, str | None]:
    """The back-test of the scoring date's data: (ml.clv_backtest rows, result, why none).

    The holdout is the last `backtest_holdout_days` days up to and including the scoring date.
    A history too short to calibrate on gives an empty table and the reason, not a failed run.
    """
    end = pd.Timestamp(as_of_date)
    calibration_end = end - pd.Timedelta(days=settings.backtest_holdout_days)
    try:
        result = backtest.run(purchase_days, calibration_end, end)
    except ValueError as error:
        return backtest.as_table_empty(), None, str(error)
    return backtest.as_table(result), result, None
