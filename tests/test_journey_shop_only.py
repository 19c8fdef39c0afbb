"""A business with only an online shop: no ERP, call center or e-mail platform. It declares the
one source it has (GOGAEK_SOURCES=shop) and runs the daily job on its shop database with
`make refresh`; RFM, CLV and the KPIs are built and no check fails — the systems it never had
are shown as not declared, not as feeds gone stale."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.journeys import make, project_copy, user_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shop_only(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    project = project_copy(tmp_path_factory.mktemp("shop_only") / "gogaek")
    status, output = make(project, "generate", "CUSTOMERS=80", "DAYS=2")
    assert status == 0, output[-4000:]
    for folder in ("erp", "callcenter", "esp"):  # the files only the other systems send
        shutil.rmtree(project / "data" / "landing" / folder)
    status, output = make(project, "refresh", env=user_env(project, GOGAEK_SOURCES="shop"))
    return project, status, output


def test_the_daily_job_succeeds_with_no_failing_check(shop_only: tuple[Path, int, str]) -> None:
    _, status, output = shop_only
    assert status == 0, output[-6000:]
    assert "Traceback" not in output
    assert re.search(r"of job daily_refresh: SUCCESS", output)
    assert re.findall(r"^  check FAILED: .*$", output, re.M) == []
    # The one warning a base of 80 generated shoppers may earn is the CLV fit's own verdict
    # (too few customers to see dropout): never a source it does not have.
    warnings = re.findall(r"^  check WARN: (.*)$", output, re.M)
    assert set(warnings) <= {"ml/clv_predictions clv_predictions_reliable"}, warnings


def test_rfm_clv_and_kpis_are_built_from_the_shop_alone(shop_only: tuple[Path, int, str]) -> None:
    project, status, _ = shop_only
    assert status == 0
    con = duckdb.connect(str(project / "data" / "warehouse.duckdb"), read_only=True)
    try:
        sources = {
            s for (s,) in con.execute("select distinct source from core.fct_orders").fetchall()
        }
        counts = {
            table: con.execute(f"select count(*) from {table}").fetchall()[0][0]
            for table in (
                "marketing.mart_customer_rfm",
                "marketing.mart_customer_ltv",
                "marketing.mart_kpi_monthly",
                "marketing.mart_churn_risk",
            )
        }
        fitted = con.execute(
            "select bgnbd_r, gamma_gamma_p from marketing.mart_customer_ltv_summary"
        ).fetchone()
    finally:
        con.close()
    assert sources == {"shop"}
    assert all(n > 0 for n in counts.values()), counts
    assert fitted is not None and None not in fitted
