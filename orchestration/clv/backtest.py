"""CLV back-test: fit BG/NBD on a calibration period, predict the holdout, compare with the truth.

As in Fader, Hardie & Lee (2005), figure 4 ("conditional expectations"): customers are grouped
by their repeat purchases in the calibration period (0, 1, ..., censor-1, censor+), and for each
group the mean purchases predicted for the holdout period are set against the mean purchases
actually made. Purchases are purchase days (fct_purchases), the same unit the fit and RFM use.

`calibration_end` is the calibration period's last day and `holdout_end` the holdout's last day:
purchases dated up to `calibration_end` are calibration, those after it up to `holdout_end` the
holdout; T runs from the first purchase to `calibration_end`, as the paper counts it (and as
int_customer_purchase_summary counts T to the scoring date).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from orchestration.clv import bgnbd

CENSOR = 7  # the paper's groups 0..6 and 7+
DAYS_PER_WEEK = 7.0


@dataclass(frozen=True)
class Backtest:
    """Per calibration-frequency group: customers, actual and predicted mean holdout purchases."""

    groups: pd.DataFrame  # frequency_group, label, customers, actual_mean, predicted_mean, ...
    params: bgnbd.BgNbdParams
    calibration_end: pd.Timestamp
    holdout_end: pd.Timestamp
    customers: int
    actual_total: float
    predicted_total: float

    @property
    def total_error_pct(self) -> float:
        """(predicted − actual) / actual over all customers, in %."""
        return (
            100.0 * (self.predicted_total - self.actual_total) / self.actual_total
            if self.actual_total
            else float("nan")
        )


def calibration_summary(
    purchases: pd.DataFrame, calibration_end: pd.Timestamp, holdout_end: pd.Timestamp
) -> pd.DataFrame:
    """Per customer first seen by `calibration_end`: x, t_x, T (weeks) and holdout purchases.

    `purchases` holds one row per customer and purchase day: columns customer_id, purchase_date.
    """
    days = purchases[["customer_id", "purchase_date"]].drop_duplicates().copy()
    days["purchase_date"] = pd.to_datetime(days["purchase_date"])
    calibration = days[days["purchase_date"] <= calibration_end]
    holdout = days[
        (days["purchase_date"] > calibration_end) & (days["purchase_date"] <= holdout_end)
    ]
    grouped = calibration.groupby("customer_id")["purchase_date"]
    first, last, count = grouped.min(), grouped.max(), grouped.size()
    summary = pd.DataFrame(
        {
            "repeat_purchases": (count - 1).astype(float),
            "recency_weeks": (last - first).dt.days / DAYS_PER_WEEK,
            "age_weeks": (calibration_end - first).dt.days / DAYS_PER_WEEK,
        }
    )
    summary["holdout_purchases"] = (
        holdout.groupby("customer_id").size().reindex(summary.index, fill_value=0).astype(float)
    )
    return summary


def run(
    purchases: pd.DataFrame,
    calibration_end: pd.Timestamp,
    holdout_end: pd.Timestamp,
    censor: int = CENSOR,
) -> Backtest:
    calibration_end, holdout_end = pd.Timestamp(calibration_end), pd.Timestamp(holdout_end)
    if holdout_end <= calibration_end:
        raise ValueError("the holdout period must end after the calibration period")
    summary = calibration_summary(purchases, calibration_end, holdout_end)
    if summary.empty:
        raise ValueError(
            f"no customer bought by {calibration_end:%Y-%m-%d}: nothing to "
            "calibrate on (is the holdout longer than the history?)"
        )
    x, t_x, big_t = (
        summary[c].to_numpy() for c in ("repeat_purchases", "recency_weeks", "age_weeks")
    )
    histories = summary.groupby(["repeat_purchases", "recency_weeks", "age_weeks"]).size()
    index = histories.index.to_frame(index=False)
    params = bgnbd.fit(
        index["repeat_purchases"].to_numpy(),
        index["recency_weeks"].to_numpy(),
        index["age_weeks"].to_numpy(),
        weights=histories.to_numpy(),
    )
    horizon = (holdout_end - calibration_end).days / DAYS_PER_WEEK
    summary["predicted"] = bgnbd.expected_purchases(params, horizon, x, t_x, big_t)
    summary["frequency_group"] = np.minimum(summary["repeat_purchases"], censor).astype(int)
    groups = (
        summary.groupby("frequency_group")
        .agg(
            customers=("predicted", "size"),
            actual_purchases=("holdout_purchases", "sum"),
            predicted_purchases=("predicted", "sum"),
            actual_mean=("holdout_purchases", "mean"),
            predicted_mean=("predicted", "mean"),
        )
        .reset_index()
    )
    groups["label"] = [f"{g}+" if g == censor else str(g) for g in groups["frequency_group"]]
    return Backtest(
        groups=groups,
        params=params,
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        customers=len(summary),
        actual_total=float(summary["holdout_purchases"].sum()),
        predicted_total=float(summary["predicted"].sum()),
    )


def as_table(result: Backtest) -> pd.DataFrame:
    """The rows of ml.clv_backtest: one per frequency group plus a total row (group -1)."""
    rows = result.groups.copy()
    total = pd.DataFrame(
        [
            {
                "frequency_group": -1,
                "label": "all",
                "customers": result.customers,
                "actual_purchases": result.actual_total,
                "predicted_purchases": result.predicted_total,
                "actual_mean": result.actual_total / result.customers,
                "predicted_mean": result.predicted_total / result.customers,
            }
        ]
    )
    rows = pd.concat([rows, total], ignore_index=True)
    # microseconds: DuckDB's plain TIMESTAMP, the type the ml source declares
    rows["calibration_end"] = pd.Timestamp(result.calibration_end).as_unit("us")
    rows["holdout_end"] = pd.Timestamp(result.holdout_end).as_unit("us")
    rows["holdout_weeks"] = (result.holdout_end - result.calibration_end).days / DAYS_PER_WEEK
    for name in ("r", "alpha", "a", "b"):
        rows[f"bgnbd_{name}"] = getattr(result.params, name)
    return rows[list(TABLE_COLUMNS)]


TABLE_COLUMNS = (
    "frequency_group",
    "label",
    "customers",
    "actual_purchases",
    "predicted_purchases",
    "actual_mean",
    "predicted_mean",
    "calibration_end",
    "holdout_end",
    "holdout_weeks",
    "bgnbd_r",
    "bgnbd_alpha",
    "bgnbd_a",
    "bgnbd_b",
)


def as_table_empty() -> pd.DataFrame:
    """ml.clv_backtest with no rows (history too short), typed like a filled one."""
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in TABLE_COLUMNS})
    frame["label"] = pd.Series(dtype="str")  # an empty object column would become INTEGER
    for column in ("frequency_group", "customers"):
        frame[column] = frame[column].astype("int64")
    for column in ("calibration_end", "holdout_end"):
        frame[column] = pd.Series(dtype="datetime64[us]")
    return frame


def markdown(result: Backtest) -> str:
    """The comparison as a table for the Dagster UI."""
    lines = [
        f"Calibration to {result.calibration_end:%Y-%m-%d}, holdout to "
        f"{result.holdout_end:%Y-%m-%d}; repeat purchases per customer.",
        "",
        "| calibration repeats | customers | actual | predicted |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r.label} | {r.customers:,} | {r.actual_mean:.3f} | {r.predicted_mean:.3f} |"
        for r in result.groups.itertuples()
    ]
    lines.append(
        f"| **all** | {result.customers:,} | {result.actual_total:,.0f} in total | "
        f"{result.predicted_total:,.0f} ({result.total_error_pct:+.1f}%) |"
    )
    return "\n".join(lines)
