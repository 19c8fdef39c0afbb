"""Orders as real systems hold them → one definition of a purchase → the marts, by hand.

A small world whose data ends on 2019-06-30 (years ago: every default must come from the data),
written as an ERP export and a shop database would hold it, with every pattern the rules must
handle: partial returns (naming the line, naming only the order, naming nothing), credit notes
as documents of their own, a sale cancelled twelve minutes after payment, a cancellation before
payment, a ₩0 gift slip, several orders on one day, shipping / fee / discount / adjustment /
donation lines, guest orders (tied to a customer by the mobile typed at checkout, or
anonymous), and bad input (a return naming an order that does not exist, a return of more than
was bought). Every expected figure below is worked out by hand in the comments.

The same story is also delivered twice — once through the ERP, once through the shop — by two
customers (E and S), and both must come out with identical net figures.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from ingest.schemas import (
    ENTITIES,
    ERP_CUSTOMERS,
    ERP_ORDER_LINES,
    ERP_ORDERS,
    ERP_PRODUCTS,
)
from tests.conftest import dbt_build, erp_customer, load_sources, write_csv

# Builds a warehouse (dbt, Dagster): the full tier, not `make test-fast`.
pytestmark = pytest.mark.slow

DAY = "20190630"


def _product(code: str, name: str, price: int, cost: int, item_type: str) -> dict[str, str]:
    return {
        "상품코드": code,
        "상품명": name,
        "카테고리": "",
        "판매가": str(price),
        "원가": str(cost),
        "사용여부": "Y",
        "품목구분": item_type,
    }


def _slip(
    no: str, customer: str, day: str, status: str, total: int, original: str = ""
) -> dict[str, str]:
    return {
        "주문번호": no,
        "고객번호": customer,
        "주문일자": day,
        "판매채널": "매장",
        "주문상태": status,
        "총금액": str(total),
        "원주문번호": original,
    }


def _line(
    no: str, line: int, product: str, qty: int, price: int, original_line: str = ""
) -> dict[str, str]:
    return {
        "주문번호": no,
        "행번호": str(line),
        "상품코드": product,
        "수량": str(qty),
        "단가": str(price),
        "금액": str(qty * price),
        "원행번호": original_line,
    }


def write_erp(landing: Path) -> None:
    erp = landing / "erp"
    write_csv(
        erp / f"erp_customers_{DAY}.csv",
        ERP_CUSTOMERS,
        [
            erp_customer(
                고객번호="C1",
                고객명="김하나",
                휴대폰="010-1000-0001",
                이메일="one@naver.com",
                자택전화="",
                주소="서울 종로구 1",
                수정일시="2018-01-01 09:00:00",
            ),
            erp_customer(
                고객번호="C2",
                고객명="이둘",
                휴대폰="010-1000-0002",
                이메일="two@naver.com",
                자택전화="",
                주소="서울 종로구 2",
                수정일시="2018-01-01 09:00:00",
            ),
            erp_customer(
                고객번호="C3",
                고객명="박셋",
                휴대폰="010-1000-0003",
                이메일="three@naver.com",
                자택전화="",
                주소="서울 종로구 3",
                수정일시="2018-01-01 09:00:00",
            ),
            erp_customer(
                고객번호="C9",
                고객명="한이",
                휴대폰="010-1000-0009",
                이메일="e@naver.com",
                자택전화="",
                주소="서울 종로구 9",
                수정일시="2018-01-01 09:00:00",
            ),
        ],
    )
    write_csv(
        erp / f"erp_products_{DAY}.csv",
        ERP_PRODUCTS,
        [
            _product("P1", "홍삼정", 10_000, 6_000, "상품"),
            _product("P2", "녹차", 50_000, 30_000, "상품"),
            _product("P3", "안마기", 100_000, 70_000, "상품"),
            _product("P4", "사은품 샘플", 0, 500, "상품"),
            _product("DLV", "택배비", 3_000, 2_500, "배송비"),
            _product("FEE", "선물 포장비", 2_000, 800, "수수료"),
            _product("DSC", "쿠폰 할인", 0, 0, "할인"),
            _product("ADJ", "끝전 조정", 0, 0, "조정"),
            _product("DON", "기부금", 1_000, 1_000, "기부금"),
        ],
    )
    write_csv(
        erp / f"erp_orders_{DAY}.csv",
        ERP_ORDERS,
        [
            _slip("OA", "C1", "2019-06-01", "정상", 34_000),
            _slip("RA", "C1", "2019-06-10", "반품", -10_000, original="OA"),
            _slip("OB", "C1", "2019-06-15", "정상", 46_700),
            _slip("OC", "C1", "2019-06-15", "정상", 10_000),
            _slip("X1", "C1", "2019-06-20", "반품", -10_000, original="SO-NOPE"),
            _slip("OD", "C2", "2019-05-01", "정상", 200_000),
            _slip("RD", "C2", "2019-05-01", "반품", -200_000),
            _slip("OE", "C2", "2018-02-01", "정상", 10_000),
            _slip("OF", "C2", "2019-03-01", "정상", 0),
            _slip("OG", "C3", "2019-04-01", "취소", 10_000),
            _slip("OH", "C3", "2019-04-02", "정상", 20_000),
            _slip("RH", "C3", "2019-04-05", "반품", -30_000, original="OH"),
            # Customer E's story, told by the ERP.
            _slip("EO1", "C9", "2019-06-03", "정상", 33_000),
            _slip("ER1", "C9", "2019-06-08", "반품", -10_000, original="EO1"),
            _slip("EO2", "C9", "2019-06-10", "취소", 50_000),
            _slip("ER2", "C9", "2019-06-12", "반품", -10_000, original="EO1"),
        ],
    )
    write_csv(
        erp / f"erp_order_lines_{DAY}.csv",
        ERP_ORDER_LINES,
        [
            _line("OA", 1, "P1", 3, 10_000),
            _line("OA", 2, "DLV", 1, 3_000),
            _line("OA", 3, "DON", 1, 1_000),
            _line("RA", 1, "P1", -1, 10_000, original_line="1"),
            _line("OB", 1, "P2", 1, 50_000),
            _line("OB", 2, "FEE", 1, 2_000),
            _line("OB", 3, "DSC", 1, -5_000),
            _line("OB", 4, "ADJ", 1, -300),
            _line("OC", 1, "P1", 1, 10_000),
            _line("X1", 1, "P1", -1, 10_000),
            _line("OD", 1, "P3", 2, 100_000),
            _line("RD", 1, "P3", -2, 100_000),
            _line("OE", 1, "P1", 1, 10_000),
            _line("OF", 1, "P4", 1, 0),
            _line("OG", 1, "P1", 1, 10_000),
            _line("OH", 1, "P1", 2, 10_000),
            _line("RH", 1, "P1", -3, 10_000, original_line="1"),
            _line("EO1", 1, "P1", 3, 10_000),
            _line("EO1", 2, "DLV", 1, 3_000),
            _line("ER1", 1, "P1", -1, 10_000, original_line="1"),
            _line("EO2", 1, "P2", 1, 50_000),
            _line("ER2", 1, "P1", -1, 10_000),
        ],
    )


def write_shop(path: Path) -> None:
    with sqlite3.connect(path) as db:
        for spec in (s for s in ENTITIES if s.format == "sql"):
            db.execute(f"create table {spec.location} ({', '.join(spec.column_names)})")
        ts = "2019-06-30 20:00:00"
        db.executemany(
            "insert into members (member_id, login_id, name, mobile, email, zipcode, "
            "address1, grade, joined_at, updated_at) values (?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    201,
                    "choi",
                    "최넷",
                    "010-2000-0004",
                    "four@daum.net",
                    "04524",
                    "서울 중구 4",
                    "일반",
                    "2018-05-01 10:00:00",
                    ts,
                ),
                (
                    202,
                    "jung",
                    "정다섯",
                    "010-2000-0005",
                    "five@daum.net",
                    "04524",
                    "서울 중구 5",
                    "일반",
                    "2018-05-01 10:00:00",
                    ts,
                ),
                (
                    209,
                    "hans",
                    "한에스",
                    "010-2000-0009",
                    "s@daum.net",
                    "04524",
                    "서울 중구 9",
                    "일반",
                    "2018-05-01 10:00:00",
                    ts,
                ),
            ],
        )
        order_columns = (
            "order_id, member_id, orderer_name, orderer_mobile, ordered_at, paid_at, "
            "status, total_amount, shipping_fee, discount_amount, original_order_id, "
            "updated_at"
        )
        db.executemany(
            f"insert into orders ({order_columns}) values (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                # 최넷: 3 × P1 with shipping and a coupon; one unit returned by a claim, one more by
                # a credit note naming the order: one unit (₩10,000) is left.
                (
                    9001,
                    201,
                    "최넷",
                    "010-2000-0004",
                    "2019-06-20 10:00:00",
                    "2019-06-20 10:01:00",
                    "delivered",
                    31_000,
                    3_000,
                    2_000,
                    None,
                    ts,
                ),
                # The largest order, cancelled twelve minutes after payment: no purchase.
                (
                    9002,
                    201,
                    "최넷",
                    "010-2000-0004",
                    "2019-06-21 11:00:00",
                    "2019-06-21 11:00:00",
                    "cancelled",
                    100_000,
                    0,
                    0,
                    None,
                    ts,
                ),
                # Cancelled before payment: no purchase.
                (
                    9003,
                    201,
                    "최넷",
                    "010-2000-0004",
                    "2019-06-22 09:00:00",
                    None,
                    "cancelled",
                    50_000,
                    0,
                    0,
                    None,
                    ts,
                ),
                (
                    9004,
                    201,
                    "최넷",
                    "010-2000-0004",
                    "2019-06-23 15:00:00",
                    "2019-06-23 15:00:00",
                    "confirmed",
                    -10_000,
                    0,
                    0,
                    9001,
                    ts,
                ),
                # 정다섯: an exchange changes no money.
                (
                    9005,
                    202,
                    "정다섯",
                    "010-2000-0005",
                    "2019-06-28 12:00:00",
                    "2019-06-28 12:00:00",
                    "exchanged",
                    50_000,
                    0,
                    0,
                    None,
                    ts,
                ),
                # Guest orders: one typed 김하나's mobile (tied to C1), one nobody's (anonymous).
                (
                    9006,
                    None,
                    "김하나",
                    "010-1000-0001",
                    "2019-06-29 14:00:00",
                    "2019-06-29 14:00:00",
                    "paid",
                    50_000,
                    0,
                    0,
                    None,
                    ts,
                ),
                (
                    9007,
                    None,
                    "손님",
                    "010-9999-0000",
                    "2019-06-30 16:00:00",
                    "2019-06-30 16:00:00",
                    "paid",
                    10_000,
                    0,
                    0,
                    None,
                    ts,
                ),
                # Customer S's story, told by the shop (same events as E's in the ERP).
                (
                    9101,
                    209,
                    "한에스",
                    "010-2000-0009",
                    "2019-06-03 10:00:00",
                    "2019-06-03 10:00:00",
                    "confirmed",
                    33_000,
                    3_000,
                    0,
                    None,
                    ts,
                ),
                (
                    9102,
                    209,
                    "한에스",
                    "010-2000-0009",
                    "2019-06-10 10:00:00",
                    "2019-06-10 10:00:00",
                    "cancelled",
                    50_000,
                    0,
                    0,
                    None,
                    ts,
                ),
                (
                    9103,
                    209,
                    "한에스",
                    "010-2000-0009",
                    "2019-06-12 10:00:00",
                    "2019-06-12 10:00:00",
                    "confirmed",
                    -10_000,
                    0,
                    0,
                    9101,
                    ts,
                ),
            ],
        )
        db.executemany(
            "insert into order_items values (?,?,?,?,?,?)",
            [
                (1, 9001, "P1", 3, 10_000, ts),
                (2, 9002, "P3", 1, 100_000, ts),
                (3, 9003, "P2", 1, 50_000, ts),
                (4, 9004, "P1", -1, 10_000, ts),
                (5, 9005, "P2", 1, 50_000, ts),
                (6, 9006, "P2", 1, 50_000, ts),
                (7, 9007, "P1", 1, 10_000, ts),
                (11, 9101, "P1", 3, 10_000, ts),
                (12, 9102, "P2", 1, 50_000, ts),
                (13, 9103, "P1", -1, 10_000, ts),
            ],
        )
        db.executemany(
            "insert into claims values (?,?,?,?,?,?,?,?)",
            [
                (
                    701,
                    9001,
                    "return",
                    "completed",
                    "2019-06-24 09:00:00",
                    "2019-06-25 09:00:00",
                    10_000,
                    ts,
                ),
                (
                    702,
                    9002,
                    "cancel",
                    "completed",
                    "2019-06-21 11:10:00",
                    "2019-06-21 11:12:00",
                    100_000,
                    ts,
                ),
                (
                    703,
                    9005,
                    "exchange",
                    "completed",
                    "2019-06-29 09:00:00",
                    "2019-06-29 18:00:00",
                    0,
                    ts,
                ),
                (704, 9001, "return", "withdrawn", "2019-06-26 09:00:00", None, None, ts),
                (
                    801,
                    9101,
                    "return",
                    "completed",
                    "2019-06-07 09:00:00",
                    "2019-06-08 09:00:00",
                    10_000,
                    ts,
                ),
                (
                    802,
                    9102,
                    "cancel",
                    "completed",
                    "2019-06-10 10:10:00",
                    "2019-06-10 10:12:00",
                    50_000,
                    ts,
                ),
            ],
        )
        db.executemany(
            "insert into claim_items values (?,?,?,?,?)",
            [
                (1, 701, 1, 1, ts),
                (2, 702, 2, 1, ts),
                (3, 703, 5, 1, ts),
                (4, 704, 1, 1, ts),
                (5, 801, 11, 1, ts),
                (6, 802, 12, 1, ts),
            ],
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    root = tmp_path_factory.mktemp("purchases")
    for folder in ("erp", "callcenter", "esp"):
        (root / "landing" / folder).mkdir(parents=True)
    write_erp(root / "landing")
    write_shop(root / "shop.sqlite")
    warehouse = load_sources(root)
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("select count(*) from raw._quarantine").fetchone()[0] == 0
    con.close()
    dbt_build(root, warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    yield con
    con.close()


def _customer(con: duckdb.DuckDBPyConnection, source: str, key: str) -> str:
    return con.execute(
        "select customer_id from intermediate.int_identity_crosswalk "
        "where source = ? and source_key = ?",
        [source, key],
    ).fetchone()[0]


def _document(con: duckdb.DuckDBPyConnection, key: str, *columns: str) -> tuple:
    return con.execute(
        f"select {', '.join(columns)} from core.fct_orders where order_key = ?", [key]
    ).fetchone()


def test_defaults_come_from_the_data_not_the_clock(world) -> None:
    assert world.execute(
        "select as_of_date, is_set_by_var from intermediate.int_scoring_date"
    ).fetchone() == (date(2019, 6, 30), False)
    # The oldest order is from 2018: the calendar starts then (an old ERP history would fail
    # a fixed 2020 calendar's relationship tests) and ends a year after the last activity.
    assert world.execute("select min(date_day), max(date_day) from core.dim_date").fetchone() == (
        date(2018, 1, 1),
        date(2020, 12, 31),
    )
    assert world.execute("select count(*) from marketing.mart_customer_rfm").fetchone()[0] == 6


def test_a_partial_return_naming_its_line_takes_back_units(world) -> None:
    # OA: 3 × P1 (30,000) + shipping 3,000 + donation 1,000; RA takes back one unit on 10 June.
    assert _document(
        world,
        "erp:OA",
        "booked_amount",
        "returned_amount",
        "net_amount",
        "merchandise_net_amount",
        "shipping_net_amount",
        "donation_net_amount",
    ) == (34_000, 10_000, 24_000, 20_000, 3_000, 1_000)
    assert world.execute("""
        select returns_line_key, return_match_rule, booked_amount, net_amount
        from core.fct_order_lines where line_key = 'erp:RA:1'""").fetchone() == (
        "erp:OA:1",
        "line_reference",
        -10_000,
        0,
    )


def test_a_credit_note_naming_nothing_cancels_the_largest_order(world) -> None:
    # RD names no original: it takes back the same customer's latest earlier sale of P3 — OD,
    # the same day. C2's largest order nets nothing and is no purchase.
    assert _document(world, "erp:OD", "booked_amount", "net_amount") == (200_000, 0)
    assert world.execute(
        "select return_match_rule from core.fct_order_lines where line_key = 'erp:RD:1'"
    ).fetchone() == ("customer_and_product",)
    c2 = _customer(world, "erp_customer", "C2")
    assert world.execute(
        "select count(*) from core.fct_purchases where customer_id = ? "
        "and purchase_date >= '2019-01-01' and is_purchase",
        [c2],
    ).fetchone() == (0,)
    assert world.execute(
        "select count(*) from marketing.mart_customer_rfm where customer_id = ?", [c2]
    ).fetchone() == (0,)


def test_cancellations_and_zero_value_orders_are_no_purchases(world) -> None:
    # Twelve minutes after payment (a cancel claim), before payment (status only), a cancelled
    # ERP slip, and a ₩0 gift slip: nothing booked or nothing worth anything.
    assert _document(world, "shop:9002", "gross_amount", "cancelled_amount", "booked_amount") == (
        100_000,
        100_000,
        0,
    )
    assert _document(world, "shop:9003", "gross_amount", "cancelled_amount", "booked_amount") == (
        50_000,
        50_000,
        0,
    )
    assert _document(world, "erp:OG", "cancelled_amount", "booked_amount") == (10_000, 0)
    assert _document(world, "erp:OF", "gross_amount", "merchandise_net_amount") == (0, 0)
    purchase_days = {
        row[0]
        for row in world.execute(
            "select purchase_date from core.fct_purchases where is_purchase"
        ).fetchall()
    }
    assert (
        not {date(2019, 6, 21), date(2019, 6, 22), date(2019, 4, 1), date(2019, 3, 1)}
        & purchase_days
    )


def test_shop_returns_claims_and_credit_notes(world) -> None:
    # 9001: 3 × P1; a return claim (25 June) and a credit note naming 9001 (23 June) take back
    # one unit each; the withdrawn claim takes nothing. Shipping stays, the coupon is a
    # discount line: merchandise net 10,000.
    assert _document(
        world,
        "shop:9001",
        "gross_amount",
        "returned_amount",
        "merchandise_net_amount",
        "shipping_net_amount",
        "discount_net_amount",
    ) == (31_000, 20_000, 10_000, 3_000, -2_000)
    rules = dict(
        world.execute(
            "select line_key, return_match_rule from core.fct_order_lines "
            "where line_key in ('shop-claim:701:1', 'shop:9004:4')"
        ).fetchall()
    )
    assert rules == {"shop-claim:701:1": "line_reference", "shop:9004:4": "order_and_product"}
    assert _document(world, "shop-claim:701", "document_type", "order_date", "booked_amount") == (
        "credit_note",
        date(2019, 6, 25),
        -10_000,
    )
    # An exchange changes no money.
    assert _document(world, "shop:9005", "booked_amount", "net_amount") == (50_000, 50_000)


def test_several_orders_on_one_day_are_one_purchase_and_only_merchandise_counts(world) -> None:
    c1 = _customer(world, "erp_customer", "C1")
    rows = world.execute(
        """
        select purchase_date, purchase_orders, merchandise_value from core.fct_purchases
        where customer_id = ? order by purchase_date""",
        [c1],
    ).fetchall()
    # 15 June: OB (P2 50,000 with a fee, a coupon and a rounding adjustment) and OC (P1
    # 10,000) are one purchase worth 60,000. 29 June: the guest order typed with C1's mobile.
    assert rows == [
        (date(2019, 6, 1), 1, 20_000),
        (date(2019, 6, 15), 2, 60_000),
        (date(2019, 6, 29), 1, 50_000),
    ]


def test_rfm_scores_reachable_on_skewed_data(world) -> None:
    rows = world.execute("""
        select customer_id, recency_days, frequency, monetary, r_score, f_score, m_score,
               segment_code
        from marketing.mart_customer_rfm""").fetchall()
    names = {
        "C1": ("erp_customer", "C1"),
        "C3": ("erp_customer", "C3"),
        "E": ("erp_customer", "C9"),
        "M1": ("shop_member", "201"),
        "M2": ("shop_member", "202"),
        "S": ("shop_member", "209"),
    }
    ids = {_customer(world, *key): name for name, key in names.items()}
    by_name = {ids[row[0]]: row[1:] for row in rows}
    # Five of six customers bought once in the window: all of them F = 1 (the lowest value
    # always scores 1). Score = 1 + floor(5 × customers strictly below / 6); E and S tie.
    assert by_name == {
        "C1": (1, 3, 130_000, 5, 5, 5, "champions"),
        "C3": (89, 1, 20_000, 1, 1, 3, "hibernating"),
        "E": (27, 1, 10_000, 1, 1, 1, "hibernating"),
        "S": (27, 1, 10_000, 1, 1, 1, "hibernating"),
        "M1": (10, 1, 10_000, 3, 1, 1, "need_attention"),
        "M2": (2, 1, 50_000, 4, 1, 4, "new"),
    }


def test_bad_returns_are_held_with_a_reason(world) -> None:
    held = dict(
        world.execute(
            "select line_key, exception_code from intermediate.int_order_line_exceptions"
        ).fetchall()
    )
    assert held == {"erp:X1:1": "unknown_original_order", "erp:RH:1": "returned_more_than_bought"}
    assert world.execute(
        "select count(*) from core.fct_order_lines where line_key in ('erp:X1:1', 'erp:RH:1')"
    ).fetchone() == (0,)
    # OH keeps its two units: the over-return is held, not netted.
    assert _document(world, "erp:OH", "net_amount") == (20_000,)


def test_guest_orders_tied_or_anonymous(world) -> None:
    rules = dict(
        world.execute(
            "select source_key, match_rule from "
            "intermediate.int_identity_crosswalk "
            "where source = 'shop_guest_order'"
        ).fetchall()
    )
    assert rules == {"9006": "guest_mobile_name", "9007": "anonymous_guest"}
    assert _document(world, "shop:9007", "customer_id", "is_guest_order") == (None, True)
    june = world.execute("""
        select purchases, returns, anonymous_revenue from marketing.mart_kpi_monthly
        where year_month = 201906""").fetchone()
    # Purchases in June: C1 three, 최넷 one, 정다섯 one, E one, S one. Returns booked in June:
    # RA, the claim, the credit note 9004, ER1, ER2, S's claim and credit note (7 × 10,000);
    # X1 is held. The anonymous guest order is revenue of nobody.
    assert june == (7, 70_000, 10_000)


def test_erp_and_shop_deliveries_of_the_same_events_give_the_same_figures(world) -> None:
    e = _customer(world, "erp_customer", "C9")
    s = _customer(world, "shop_member", "209")
    assert e != s

    def figures(customer: str) -> dict[str, object]:
        purchases = world.execute(
            "select purchase_date, purchase_orders, merchandise_value, gross_margin "
            "from core.fct_purchases where customer_id = ? order by 1",
            [customer],
        ).fetchall()
        booked = world.execute(
            """
            select order_date, line_type, sum(booked_amount), sum(net_amount),
                   sum(cancelled_amount), sum(returned_amount)
            from core.fct_order_lines where customer_id = ?
            group by all order by 1, 2""",
            [customer],
        ).fetchall()
        rfm = world.execute(
            "select frequency, monetary from marketing.mart_customer_rfm where customer_id = ?",
            [customer],
        ).fetchone()
        return {"purchases": purchases, "booked": booked, "rfm": rfm}

    erp, shop = figures(e), figures(s)
    assert erp == shop
    # Bought 3 units and shipping, returned one naming the line and one naming the order,
    # a second order cancelled: one purchase worth one unit.
    assert erp["purchases"] == [(date(2019, 6, 3), 1, Decimal("10000.00"), Decimal("4000.00"))]
