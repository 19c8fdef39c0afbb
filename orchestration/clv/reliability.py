"""Whether the CLV predictions can be trusted, and why not.

A BG/NBD fit can converge and still not see what it is used for. Two ways it fails here:
- It cannot see dropout: when the history gives it no customer who looks gone, the fitted
  dropout rate lands near zero and every P(alive) near 1 — customers silent for a year are
  "alive", so a churn rule on P(alive) never fires. The sign: no customer is more likely gone
  than alive (the lowest P(alive) is at least DROPOUT_VISIBLE_BELOW).
- It does not predict: the back-test (fitted before the holdout, predicting it) misses the
  repeat purchases actually made by more than var clv_backtest_max_error_pct.
A fit that was not back-tested (history too short) is not known to be reliable either.
The one row of ml.clv_reliability carries the verdict and its figures to the marts and the
dashboards; the asset check clv_predictions_reliable warns with them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from orchestration.clv import backtest
from orchestration.clv.scoring import ClvResult

# A fit that sees dropout rates some customer more likely gone than alive.
DROPOUT_VISIBLE_BELOW = 0.5

# ml.clv_reliability's columns and their types, in order: each is an attribute of Reliability.
# Typed even when a figure is missing (an all-None column is no DOUBLE).
COLUMN_TYPES = {
    "is_reliable": "bool",
    "reason": "str",
    "lowest_p_alive": "float64",
    "dropout_rate": "float64",
    "backtest_error_pct": "float64",
    "max_backtest_error_pct": "float64",
}
COLUMNS = list(COLUMN_TYPES)


@dataclass(frozen=True)
class Reliability:
    reasons: tuple[str, ...]
    lowest_p_alive: float | None
    # The BG/NBD mean probability of dropping out after a purchase, a / (a + b).
    dropout_rate: float | None
    backtest_error_pct: float | None
    max_backtest_error_pct: float

    @property
    def is_reliable(self) -> bool:
        return not self.reasons

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "fit sees dropout and back-test holds"

    def as_table(self) -> pd.DataFrame:
        row = {name: getattr(self, name) for name in COLUMNS}
        return pd.DataFrame([row], columns=COLUMNS).astype(COLUMN_TYPES)

    def metadata(self) -> dict[str, float | str | bool]:
        """The figures for the Dagster UI (rounded; a missing figure left out)."""
        figures: dict[str, float | str | bool] = {}
        for name in COLUMNS:
            value = getattr(self, name)
            if isinstance(value, float) and name != "max_backtest_error_pct":
                figures[name] = round(value, 4)
            elif value is not None:
                figures[name] = value
        return figures


def assess(
    result: ClvResult,
    tested: backtest.Backtest | None,
    max_backtest_error_pct: float,
    why_not_tested: str | None = None,
) -> Reliability:
    """The verdict on a fit (`result`) and its back-test (`tested`, None when not run)."""
    reasons: list[str] = []
    lowest = dropout = error = None
    if result.bgnbd is None:
        reasons.append(f"not fitted: {result.why_empty or 'no fit'}")
    else:
        p = result.bgnbd
        dropout = p.a / (p.a + p.b)
        if not result.predictions.empty:
            lowest = float(result.predictions["p_alive"].min())
            if lowest >= DROPOUT_VISIBLE_BELOW:
                reasons.append(
                    f"the fit sees no dropout: no customer is more likely gone than alive "
                    f"(lowest P(alive) {lowest:.3f}; dropout after a purchase a/(a+b) "
                    f"{dropout:.4f})"
                )
    if tested is None:
        reasons.append(f"not back-tested: {why_not_tested or 'no back-test'}")
    else:
        error = tested.total_error_pct
        if math.isnan(error) or abs(error) > max_backtest_error_pct:
            reasons.append(
                f"back-test error {error:+.1f}% beyond ±{max_backtest_error_pct:g}% "
                f"(predicted {tested.predicted_total:.1f} repeat purchases, "
                f"actual {tested.actual_total:.1f})"
            )
    return Reliability(tuple(reasons), lowest, dropout, error, max_backtest_error_pct)
