"""A tiny hand-written source set and the star schema it must produce, written out by hand."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest

from ingest.file_loader import load_entity_files
from ingest.schemas import (
    ENTITIES,
    ERP_CUSTOMERS,
    ERP_ORDER_LINES,
    ERP_ORDERS,
    ERP_PRODUCTS,
)
from tests.conftest import (
    SALT,
    dbt_build,
    erp_customer,
    expected_customer_id,
    load_sources,
    write_csv,
    write_jsonl,
)

# Builds a warehouse (dbt, Dagster): the full tier, not `make test-fast`.
pytestmark = pytest.mark.slow

RRN = "850302-1234567"
BUILT: dict[str, Path] = {}  # where the module's warehouse was built


customer_id = expected_customer_id


def write_sources(landing: Path, shop: Path) -> None:
    day = "20261118"
    write_csv(
        landing / "erp" / f"erp_customers_{day}.csv",
        ERP_CUSTOMERS,
        [
            erp_customer(
                고객번호="C1",
                고객명="김민수",
                주민등록번호=RRN,
                휴대폰="010-1111-2222",
                이메일="minsu@naver.com",
                주소="서울 강남구 테헤란로 1",
            ),
            # The same person registered again: other spacing, no mobile, same RRN.
            erp_customer(
                고객번호="C2",
                고객명="김 민수",
                주민등록번호=RRN,
                휴대폰="",
                이메일="",
                주소="서울 강남구 테헤란로 1",
                수정일시="2026-11-10 09:00:00",
            ),
            erp_customer(
                고객번호="C3",
                고객명="이영희",
                휴대폰="010-3333-4444",
                이메일="younghee@naver.con",
                주소="부산 해운대구 우동 2",
                우편번호="612-020",
            ),
        ],
    )
    write_csv(
        landing / "erp" / f"erp_products_{day}.csv",
        ERP_PRODUCTS,
        [
            {
                "상품코드": "P1",
                "상품명": "홍삼정",
                "카테고리": "건강",
                "판매가": "15000",
                "원가": "9000",
                "사용여부": "Y",
            },
            {
                "상품코드": "P2",
                "상품명": "녹차",
                "카테고리": "식품",
                "판매가": "20000",
                "원가": "12000",
                "사용여부": "Y",
            },
        ],
    )
    write_csv(
        landing / "erp" / f"erp_orders_{day}.csv",
        ERP_ORDERS,
        [
            {
                "주문번호": "O1",
                "고객번호": "C1",
                "주문일자": "2026-11-01",
                "판매채널": "매장",
                "주문상태": "정상",
                "총금액": "30,000",
            },
            {
                "주문번호": "O2",
                "고객번호": "C2",
                "주문일자": "2026-11-05",
                "판매채널": "매장",
                "주문상태": "반품",
                "총금액": "-15000",
            },
            {
                "주문번호": "O3",
                "고객번호": "C3",
                "주문일자": "20261106",
                "판매채널": "TV홈쇼핑",
                "주문상태": "취소",
                "총금액": "50000",
            },
        ],
    )
    write_csv(
        landing / "erp" / f"erp_order_lines_{day}.csv",
        ERP_ORDER_LINES,
        [
            {
                "주문번호": "O1",
                "행번호": "1",
                "상품코드": "P1",
                "수량": "2",
                "단가": "15000",
                "금액": "30000",
            },
            {
                "주문번호": "O2",
                "행번호": "1",
                "상품코드": "P1",
                "수량": "-1",
                "단가": "15000",
                "금액": "-15000",
            },
            {
                "주문번호": "O3",
                "행번호": "1",
                "상품코드": "P2",
                "수량": "2",
                "단가": "25000",
                "금액": "50000",
            },
        ],
    )
    call = {
        "started_at": "2026-11-07T10:00:00+09:00",
        "direction": "inbound",
        "duration_sec": 120,
        "agent_id": "A1",
    }
    write_jsonl(
        landing / "callcenter" / f"calls_{day}.jsonl",
        [
            {
                **call,
                "call_id": "K1",
                "caller_number": "01011112222",
                "customer_name": "김민수",
                "category": "불만",
                "satisfaction": 2,
            },
            {
                **call,
                "call_id": "K2",
                "caller_number": "010-9999-8888",
                "customer_name": "모르는",
                "category": "문의",
            },
            {**call, "call_id": "K3", "caller_number": "+82-10-5555-6666", "category": "반품"},
        ],
    )
    write_jsonl(
        landing / "esp" / f"campaigns_{day}.jsonl",
        [
            {
                "campaign_id": "CMP1",
                "name": "가을 세일",
                "channel": "email",
                "subject": "가을",
                "sender": "shop",
                "wave": 1,
                "parent_campaign_id": None,
                "scheduled_at": "2026-11-02T09:00:00+09:00",
            },
        ],
    )
    event = {"campaign_id": "CMP1", "url": None, "reason": None}
    at = "2026-11-02T09:0{}:00+09:00"
    write_jsonl(
        landing / "esp" / f"events_{day}.jsonl",
        [
            {
                **event,
                "event_id": "e1",
                "recipient": "minsu@naver.com",
                "event_type": "sent",
                "occurred_at": at.format(0),
            },
            {
                **event,
                "event_id": "e2",
                "recipient": "minsu@naver.com",
                "event_type": "delivered",
                "occurred_at": at.format(1),
            },
            {
                **event,
                "event_id": "e3",
                "recipient": "minsu@naver.com",
                "event_type": "open",
                "occurred_at": at.format(5),
            },
            {
                **event,
                "event_id": "e4",
                "recipient": "younghee@naver.con",
                "event_type": "sent",
                "occurred_at": at.format(0),
            },
            {
                **event,
                "event_id": "e5",
                "recipient": "younghee@naver.con",
                "event_type": "hard_bounce",
                "occurred_at": at.format(1),
            },
            {
                **event,
                "event_id": "e6",
                "recipient": "chulsoo@daum.net",
                "event_type": "sent",
                "occurred_at": at.format(0),
            },
            {
                **event,
                "event_id": "e7",
                "recipient": "chulsoo@daum.net",
                "event_type": "delivered",
                "occurred_at": at.format(2),
            },
            {
                **event,
                "event_id": "e7",
                "recipient": "chulsoo@daum.net",
                "event_type": "delivered",
                "occurred_at": at.format(2),
            },  # the webhook delivered it twice
        ],
    )
    with sqlite3.connect(shop) as db:
        specs = [s for s in ENTITIES if s.format == "sql"]
        for spec in specs:
            db.execute(f"create table {spec.location} ({', '.join(spec.column_names)})")
        ts = "2026-11-03 12:00:00"
        db.executemany(
            "insert into members values (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    101,
                    "minsu",
                    "김민수",
                    "01011112222",
                    "MINSU@naver.com",
                    None,
                    "06236",
                    "서울 강남구 테헤란로 1",
                    None,
                    "일반",
                    ts,
                    ts,
                ),
                (
                    102,
                    "chulsoo",
                    "박철수",
                    "010-5555-6666",
                    "chulsoo@daum.net",
                    None,
                    "04524",
                    "서울 중구 세종대로 2",
                    None,
                    "일반",
                    ts,
                    ts,
                ),
                (
                    103,
                    "yh",
                    "이영희",
                    "+82-10-3333-4444",
                    None,
                    None,
                    None,
                    None,
                    None,
                    "일반",
                    ts,
                    ts,
                ),
            ],
        )
        db.executemany(
            "insert into orders (order_id, member_id, ordered_at, paid_at, status, "
            "total_amount, updated_at) values (?,?,?,?,?,?,?)",
            [
                (5001, 102, "2026-11-04 15:00:00", "2026-11-04 15:01:00", "paid", 20000, ts),
                # Returned whole, and the shop sent no claim rows: taken back on its last update.
                (5002, 101, "2026-11-04 16:00:00", "2026-11-04 16:01:00", "returned", 10000, ts),
            ],
        )
        db.executemany(
            "insert into order_items values (?,?,?,?,?,?)",
            [
                (1, 5001, "P2", 1, 20000, ts),
                (2, 5002, "P9", 1, 10000, ts),
            ],
        )
        db.executemany(
            "insert into marketing_consents values (?,?,?,?)",
            [
                (101, "email", 1, ts),
                (102, "email", 0, ts),
                (103, "sms", 1, ts),
            ],
        )


@pytest.fixture(scope="module")
def star(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    root = tmp_path_factory.mktemp("known")
    BUILT["root"] = root
    for folder in ("erp", "callcenter", "esp"):
        (root / "landing" / folder).mkdir(parents=True)
    write_sources(root / "landing", root / "shop.sqlite")
    warehouse = load_sources(root)
    dbt_build(root, warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    yield con
    con.close()


KIM, LEE, PARK = (
    customer_id("erp_customer:C1"),
    customer_id("erp_customer:C3"),
    customer_id("shop_member:102"),
)


def test_crosswalk(star) -> None:
    rows = star.execute(
        "select source, source_key, customer_id, match_rule "
        "from intermediate.int_identity_crosswalk order by 1, 2"
    ).fetchall()
    assert rows == [
        ("callcenter_call", "K1", KIM, "caller_number_name"),
        ("callcenter_call", "K2", None, "unmatched"),
        ("callcenter_call", "K3", PARK, "caller_number"),
        ("erp_customer", "C1", KIM, "rrn"),
        ("erp_customer", "C2", KIM, "rrn"),
        ("erp_customer", "C3", LEE, "mobile_name"),
        ("esp_recipient", "chulsoo@daum.net", PARK, "email"),
        ("esp_recipient", "minsu@naver.com", KIM, "email"),
        ("esp_recipient", "younghee@naver.con", LEE, "email"),
        ("shop_member", "101", KIM, "mobile_name"),
        ("shop_member", "102", PARK, "single_record"),
        ("shop_member", "103", LEE, "mobile_name"),
    ]
    rates = dict(
        star.execute(
            "select source, duplicate_record_count from intermediate.int_identity_duplicate_rates"
        ).fetchall()
    )
    assert rates == {"erp_customer": 1, "shop_member": 0, "all_customer_masters": 3}


def test_golden_record_and_dim_customer(star) -> None:
    rows = star.execute("""
        select customer_id, customer_name, mobile, email, email_consent, has_valid_email,
               postal_code, is_current
        from core.dim_customer order by customer_name""").fetchall()
    assert rows == [
        (KIM, "김민수", "010-1111-2222", "minsu@naver.com", "consented", True, "06236", True),
        (PARK, "박철수", "010-5555-6666", "chulsoo@daum.net", "refused", True, "04524", True),
        (LEE, "이영희", "010-3333-4444", "younghee@naver.con", "unknown", False, "612020", True),
    ]
    sources = star.execute(
        "select mobile_source from intermediate.int_customers_golden where customer_id = ?", [LEE]
    ).fetchone()
    # Both records hold the mobile as valid; the ERP record (updated 11-18) is more recent than
    # the shop's (11-03) and wins. The email comes from the only record that has one.
    assert sources == ("erp_customer:C3",)


def test_orders_net_of_returns_and_cancellations(star) -> None:
    rows = star.execute("""
        select order_key, document_type, customer_id, channel_code, order_status,
               gross_amount, cancelled_amount, booked_amount, returned_amount, net_amount
        from core.fct_orders order by order_key""").fetchall()
    assert rows == [
        # O2 (반품, naming no original) takes back one of O1's two units: the same customer's
        # latest earlier sale of P1. Booked on its own day, netted on the sale it reverses.
        ("erp:O1", "order", KIM, "store", "completed", 30000, 0, 30000, 15000, 15000),
        ("erp:O2", "credit_note", KIM, "store", "returned", -15000, 0, -15000, 0, 0),
        ("erp:O3", "order", LEE, "tv_home_shopping", "cancelled", 50000, 50000, 0, 0, 0),
        (
            "shop-return:5002",
            "credit_note",
            KIM,
            "online_shop",
            "returned",
            -10000,
            0,
            -10000,
            0,
            0,
        ),
        ("shop:5001", "order", PARK, "online_shop", "completed", 20000, 0, 20000, 0, 20000),
        ("shop:5002", "order", KIM, "online_shop", "returned", 10000, 0, 10000, 10000, 0),
    ]
    lines = star.execute(
        "select line_key, quantity, booked_amount, net_amount, returns_line_key "
        "from core.fct_order_lines order by line_key"
    ).fetchall()
    assert lines == [
        ("erp:O1:1", 2, 30000, 15000, None),
        ("erp:O2:1", -1, -15000, 0, "erp:O1:1"),
        ("erp:O3:1", 2, 0, 0, None),
        ("shop-return:5002:2", -1, -10000, 0, "shop:5002:2"),
        ("shop:5001:1", 1, 20000, 20000, None),
        ("shop:5002:2", 1, 10000, 0, None),
    ]
    net_by_customer = dict(
        star.execute(
            "select customer_id, sum(net_amount) from core.fct_orders group by 1"
        ).fetchall()
    )
    assert net_by_customer == {KIM: 15000, LEE: 0, PARK: 20000}
    assert star.execute(
        "select in_erp_master from core.dim_product where product_code = 'P9'"
    ).fetchone() == (False,)


def test_calls_and_campaign_sends(star) -> None:
    calls = star.execute(
        "select call_id, customer_id, call_category, is_complaint from core.fct_calls order by 1"
    ).fetchall()
    assert calls == [
        ("K1", KIM, "complaint", True),
        ("K2", None, "inquiry", False),
        ("K3", PARK, "return", False),
    ]
    assert star.execute("select count(*) from core.fct_email_events").fetchone() == (7,)
    sends = star.execute("""
        select customer_id, is_delivered, is_hard_bounce, is_open, event_count
        from core.fct_campaign_sends order by customer_id""").fetchall()
    assert sorted(sends) == sorted(
        [(KIM, True, False, True, 3), (LEE, False, True, False, 2), (PARK, True, False, False, 2)]
    )


def test_a_changed_address_opens_a_new_customer_version(star) -> None:
    root = BUILT["root"]
    # Runs last: a new ERP snapshot moves 김민수, and the next build records the move.
    write_csv(
        root / "landing" / "erp" / "erp_customers_20261119.csv",
        ERP_CUSTOMERS,
        [
            erp_customer(
                고객번호="C1",
                고객명="김민수",
                주민등록번호=RRN,
                휴대폰="010-1111-2222",
                이메일="minsu@naver.com",
                주소="서울 마포구 월드컵로 9",
                수정일시="2026-11-19 08:00:00",
            ),
        ],
    )
    star.close()
    warehouse = root / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    load_entity_files(con, ERP_CUSTOMERS, root / "landing", SALT)
    con.close()
    dbt_build(root, warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    versions = con.execute(
        "select address, is_current from core.dim_customer "
        "where customer_id = ? order by valid_from",
        [KIM],
    ).fetchall()
    con.close()
    assert versions == [("서울 강남구 테헤란로 1", False), ("서울 마포구 월드컵로 9", True)]
