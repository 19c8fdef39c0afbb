"""A shop that sells in pounds, dollars or yen builds green, and its amounts keep their decimals
through the marts and the BI file.

The currency is a deployment setting (GOGAEK_CURRENCY_CODE, _SYMBOL, _DECIMALS): every build of
the project, its unit tests included, must pass under it. A hand-written base whose prices have
cents (12.34, 19.99) is built with the whole dbt project once with the defaults (won, no
decimals), then for each currency the marts are built again under its settings (dbt build of
the marts with their tests and unit tests) and published; computed amounts round to the
currency's decimals, and the BI file carries the same figures. Two customers who bought once
each are also a shop too new for the CLV fit: the value marts build all the same, with empty
predictions.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from ingest.schemas import ENTITIES, ERP_CUSTOMERS, ERP_ORDER_LINES, ERP_ORDERS, ERP_PRODUCTS
from ingest.settings import Settings, dbt_cli_vars
from orchestration.dbt_project import dbt_project
from tests.conftest import dbt_build, erp_customer, load_sources, write_csv

pytestmark = pytest.mark.slow

# (code, symbol, decimals) as a deployment sets them.
CURRENCIES = [("KRW", "₩", 0), ("GBP", "£", 2), ("USD", "$", 2), ("JPY", "¥", 0)]
# Booked gross sales per month of the base below, exact: 3 × 12.34 in October, 19.99 in November.
GROSS = {202610: Decimal("37.02"), 202611: Decimal("19.99")}


def write_sources(root: Path) -> None:
    landing = root / "landing"
    for folder in ("erp", "callcenter", "esp"):
        (landing / folder).mkdir(parents=True)
    day = "20261118"
    write_csv(
        landing / "erp" / f"erp_customers_{day}.csv",
        ERP_CUSTOMERS,
        [
            erp_customer(고객번호="C1"),
            erp_customer(
                고객번호="C2", 고객명="박철수", 휴대폰="010-5555-6666", 이메일="cs@daum.net"
            ),
        ],
    )
    product = {"카테고리": "식품", "사용여부": "Y", "품목구분": ""}
    write_csv(
        landing / "erp" / f"erp_products_{day}.csv",
        ERP_PRODUCTS,
        [
            {**product, "상품코드": "P1", "상품명": "tea", "판매가": "12.34", "원가": "6.17"},
            {**product, "상품코드": "P2", "상품명": "mug", "판매가": "19.99", "원가": "9.99"},
        ],
    )
    order = {"판매채널": "매장", "주문상태": "정상", "원주문번호": ""}
    write_csv(
        landing / "erp" / f"erp_orders_{day}.csv",
        ERP_ORDERS,
        [
            {
                **order,
                "주문번호": "O1",
                "고객번호": "C1",
                "주문일자": "2026-10-01",
                "총금액": "37.02",
            },
            {
                **order,
                "주문번호": "O2",
                "고객번호": "C2",
                "주문일자": "2026-11-03",
                "총금액": "19.99",
            },
        ],
    )
    line = {"행번호": "1", "원행번호": ""}
    write_csv(
        landing / "erp" / f"erp_order_lines_{day}.csv",
        ERP_ORDER_LINES,
        [
            {
                **line,
                "주문번호": "O1",
                "상품코드": "P1",
                "수량": "3",
                "단가": "12.34",
                "금액": "37.02",
            },
            {
                **line,
                "주문번호": "O2",
                "상품코드": "P2",
                "수량": "1",
                "단가": "19.99",
                "금액": "19.99",
            },
        ],
    )
    with sqlite3.connect(root / "shop.sqlite") as db:  # a shop database with no rows yet
        for spec in (s for s in ENTITIES if s.format == "sql"):
            db.execute(f"create table {spec.location} ({', '.join(spec.column_names)})")


def currency_env(code: str, symbol: str, decimals: int) -> dict[str, str]:
    return {
        "GOGAEK_CURRENCY_CODE": code,
        "GOGAEK_CURRENCY_SYMBOL": symbol,
        "GOGAEK_CURRENCY_DECIMALS": str(decimals),
    }


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-written base loaded, its models up to the CLV fit built once with the defaults,
    and the fit run as `make dbt-build` runs it: two customers who bought once each leave it
    nothing to learn from, so its tables stay empty and it says why."""
    root = tmp_path_factory.mktemp("currency")
    write_sources(root)
    warehouse = load_sources(root)
    # Models only: the tests run below, under each currency.
    dbt_build(root, warehouse, "--exclude-resource-type", "test", "unit_test")
    fit = subprocess.run(
        [*(sys.executable, "-m", "orchestration.clv"), "--warehouse", str(warehouse)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert fit.returncode == 0, fit.stdout + fit.stderr
    assert "CLV not fitted, its tables are empty: none of the 2 customers has a repeat" in (
        fit.stdout
    )
    return root


@pytest.mark.parametrize(("code", "symbol", "decimals"), CURRENCIES)
def test_amounts_keep_the_currencys_decimals_through_marts_and_bi_file(
    base: Path, tmp_path: Path, code: str, symbol: str, decimals: int
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(base / "warehouse.duckdb", warehouse)
    # The marts with their tests and unit tests, under the currency's settings.
    # The settings reach dbt as the project's commands pass them: resolved, with --vars.
    env = {"GOGAEK_WAREHOUSE": str(warehouse), **currency_env(code, symbol, decimals)}
    dbt_vars = json.dumps(dbt_cli_vars(Settings.from_env(env), environ=env))
    dbt_build(tmp_path, warehouse, "--select", "marts", "--vars", dbt_vars, before_clv=False)
    expected = {
        month: amount.quantize(Decimal(1).scaleb(-decimals)) for month, amount in GROSS.items()
    }
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        lines = con.execute("select sum(net_amount) from core.fct_order_lines").fetchone()
        in_marts = dict(
            con.execute(
                "select year_month, gross_sales "
                "from marketing.mart_kpi_monthly where gross_sales <> 0"
            ).fetchall()
        )
    finally:
        con.close()
    # Facts keep what the source wrote; marts show the currency's decimals.
    assert lines == (Decimal("57.01"),)
    assert in_marts == expected
    published = subprocess.run(
        [
            *(sys.executable, "-m", "orchestration.serving.publish"),
            *("--warehouse", str(warehouse), "--serving-dir", str(tmp_path / "serving")),
            *("--manifest", str(Path(dbt_project.manifest_path))),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert published.returncode == 0, published.stdout + published.stderr
    bi = duckdb.connect(str(tmp_path / "serving" / "bi.duckdb"), read_only=True)
    try:
        in_bi = dict(
            bi.execute(
                "select year_month, gross_sales "
                "from marketing.mart_kpi_monthly where gross_sales <> 0"
            ).fetchall()
        )
    finally:
        bi.close()
    assert in_bi == expected


def test_the_clv_asset_of_a_shop_too_new_to_fit_materialises_empty_and_says_why(
    base: Path, tmp_path: Path
) -> None:
    import dagster as dg

    from orchestration.assets.clv import FIT_KEY, PREDICTIONS_KEY, clv_models
    from orchestration.resources import SettingsResource, WarehouseResource

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(base / "warehouse.duckdb", warehouse)
    result = dg.materialize(
        [clv_models],
        resources={
            "warehouse": WarehouseResource(path=str(warehouse)),
            "settings": SettingsResource(),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    metadata = {
        m.asset_key: m.metadata
        for m in (
            e.event_specific_data.materialization for e in result.get_asset_materialization_events()
        )
    }
    assert metadata[PREDICTIONS_KEY]["dagster/row_count"].value == 0
    assert "none of the 2 customers has a repeat" in metadata[FIT_KEY]["why_empty"].value
