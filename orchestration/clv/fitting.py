"""One CLV fit, the same from the Dagster asset and from `python -m orchestration.clv`: the
models on the purchase summary, the back-test on the purchase days, the verdict on both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from orchestration.clv import backtest, reliability, scoring


@dataclass(frozen=True)
class Fitted:
    result: scoring.ClvResult
    backtest_table: pd.DataFrame  # ml.clv_backtest rows
    tested: backtest.Backtest | None  # None when the history is too short to back-test
    why_not_tested: str | None
    verdict: reliability.Reliability
    as_of_date: date


def fit(
    summary: pd.DataFrame, purchase_days: pd.DataFrame, as_of_date: date, rates: scoring.ClvSettings
) -> Fitted:
    result = scoring.score_if_possible(summary, rates)
    table, tested, why_not = scoring.backtest_table(purchase_days, as_of_date, rates)
    verdict = reliability.assess(result, tested, rates.max_backtest_error_pct, why_not)
    return Fitted(result, table, tested, why_not, verdict, as_of_date)
