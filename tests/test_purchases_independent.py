"""On a generated base with every pattern real sources send, the marts equal an independent
pandas computation of the documented definitions (tests/independent_purchases.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import duckdb
import pytest

from tests import independent_purchases as independent

# Builds a warehouse (dbt, Dagster): the full tier, not `make test-fast`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base(pipeline) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict]]:
    root, result = pipeline
    assert result.success
    manifest = json.loads((root / "truth" / "manifest.json").read_text(encoding="utf-8"))
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    yield con, manifest
    con.close()


def test_the_generated_base_holds_every_pattern(base) -> None:
    _, manifest = base
    patterns = manifest["order_patterns"]
    for name in (
        "erp_return_slips_partial",
        "erp_return_slips_full",
        "erp_same_day_reversals",
        "erp_credit_slips_without_original",
        "erp_credit_slips_naming_unknown_order",
        "erp_zero_value_slips",
        "erp_cancelled_slips",
        "shop_cancel_claims_whole",
        "shop_cancel_claims_minutes_after_payment",
        "shop_cancel_claims_partial",
        "shop_return_claims_full",
        "shop_return_claims_partial",
        "shop_credit_notes",
        "shop_guest_orders",
        "shop_zero_value_orders",
        "shop_cancelled_before_payment",
        "shop_orders_with_shipping_fee",
        "shop_orders_with_discount",
    ):
        assert patterns[name] > 0, name
    assert set(patterns["erp_lines_by_item_type"]) == {
        "상품",
        "배송비",
        "수수료",
        "할인",
        "조정",
        "기부금",
    }
    # History long before the calendar the project used to assume.
    assert manifest["arguments"]["history_years"] >= 7


def test_lines_and_purchases_equal_the_independent_computation(base) -> None:
    con, _ = base
    lines = independent.net_lines(independent.order_lines(con))
    facts = con.execute(
        "select line_key, cast(booked_amount as double), "
        "cast(net_amount as double) from core.fct_order_lines"
    ).fetchall()
    assert {k: (round(b, 2), round(n, 2)) for k, b, n in facts} == {
        row.line_key: (round(row.booked, 2), round(row.net, 2)) for row in lines.itertuples()
    }

    days = independent.purchases(lines)
    expected = {
        (row.customer_id, row.date.date()): (int(row.purchase_orders), round(row.value, 2))
        for row in days.itertuples()
    }
    actual = {
        (c, d): (int(n), round(float(v), 2))
        for c, d, n, v in con.execute(
            "select customer_id, purchase_date, purchase_orders, merchandise_value "
            "from core.fct_purchases"
        ).fetchall()
    }
    assert actual == expected


def test_rfm_equals_the_independent_computation(base) -> None:
    con, _ = base
    as_of, window = con.execute(
        "select as_of_date, (select 365) from intermediate.int_scoring_date"
    ).fetchone()
    scored = independent.rfm(
        independent.purchases(independent.net_lines(independent.order_lines(con))), as_of, window
    )
    expected = {
        customer: (
            int(row.recency),
            int(row.frequency),
            round(row.monetary, 2),
            int(row.r),
            int(row.f),
            int(row.m),
        )
        for customer, row in scored.iterrows()
    }
    actual = {
        row[0]: (row[1], row[2], round(float(row[3]), 2), row[4], row[5], row[6])
        for row in con.execute(
            "select customer_id, recency_days, frequency, monetary, r_score, f_score, "
            "m_score from marketing.mart_customer_rfm"
        ).fetchall()
    }
    assert actual == expected
    # On this base most customers bought once in the window, and they still score F = 1; the
    # few who bought most score 5 (shares of customers: tied frequencies share their score, so
    # a base where 2 and 3 purchases are rare skips scores between).
    scores = {f for *_, f, _m in expected.values()}
    assert {1, 5} <= scores and len(scores) >= 3, scores
