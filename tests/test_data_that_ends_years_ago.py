"""Data that ends years ago, through the whole Dagster job with no file edited: the scoring date,
the calendar and the back-test come from the data; settings given as an environment variable
and as run config reach dbt and the CLV fit alike."""

from __future__ import annotations

import math
from datetime import date

import duckdb
import pytest

from lab.generator import generate
from orchestration.resources import SettingsResource
from tests.conftest import run_everything

# Builds a warehouse (dbt, Dagster): the full tier, not `make test-fast`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def old_base(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("old")
    generate(root, customers=300, days=1, seed=5, end_date=date(2019, 6, 30), history_years=9)
    monkeypatch = pytest.MonkeyPatch()
    # One setting through the environment, one through the run config (the launchpad).
    monkeypatch.setenv("GOGAEK_LTV_DISCOUNT_RATE", "0.25")
    try:
        result = run_everything(root, settings=SettingsResource(dbt_vars={"rfm_window_days": 180}))
    finally:
        monkeypatch.undo()
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    yield root, result, con
    con.close()


def test_the_job_succeeds_with_non_empty_marts(old_base) -> None:
    root, result, con = old_base
    assert result.success
    assert con.execute("select as_of_date from intermediate.int_scoring_date").fetchone() == (
        date(2019, 6, 30),
    )
    first, last = con.execute("select min(date_day), max(date_day) from core.dim_date").fetchone()
    # Orders go back nine years: the calendar starts with the first of them, years before 2020.
    assert first <= date(2012, 1, 1) and last == date(2020, 12, 31)
    for mart in (
        "mart_customer_rfm",
        "mart_rfm_history",
        "mart_customer_ltv",
        "mart_customer_value_grid",
        "mart_churn_risk",
        "mart_kpi_monthly",
        "mart_clv_backtest",
    ):
        assert con.execute(f"select count(*) from marketing.{mart}").fetchone()[0] > 0, mart
    assert (root / "serving" / "bi.duckdb").exists()


def test_settings_reach_dbt_and_the_clv_fit(old_base) -> None:
    _, _, con = old_base
    # rfm_window_days = 180 (run config): nobody scored bought longer ago than that.
    assert (
        con.execute("select max(recency_days) from marketing.mart_customer_rfm").fetchone()[0] < 180
    )
    # ltv_discount_rate = 0.25 (environment): the CLV fit used it, and so did the LTV mart.
    assert con.execute(
        "select value from ml.clv_model_fit where model = 'settings' "
        "and parameter = 'annual_discount_rate'"
    ).fetchone() == (0.25,)
    formula, npv, tenure = con.execute("""
        select formula_ltv, formula_ltv_npv, expected_tenure_years
        from marketing.mart_customer_ltv where formula_ltv > 100000 limit 1""").fetchone()
    annuity = (1 - 1.25**-tenure) / 0.25
    assert math.isclose(float(npv), float(formula) / tenure * annuity, abs_tol=2)
