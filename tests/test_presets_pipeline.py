"""The shipped source-mapping presets through the whole daily job, as a company connects its
own systems: its mappings copied into the data folder's mappings folder, its exports dropped in
the landing folder, its 영카트 database on MariaDB, `make refresh`. A company that moved its
shop (영카트 in the past, Cafe24 now, a Shopify store abroad) and sends e-mail campaigns from a
service whose activity report is a CSV — every preset at once, with no file of the contract's
shop layout. Each sample file is written for the tests with a known answer: a customer's
orders, returns and contacts must arrive where they should."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from tests.conftest import mariadb_database
from tests.journeys import make, project_copy, user_env

pytestmark = [pytest.mark.slow, pytest.mark.mariadb]

ROOT = Path(__file__).resolve().parents[1]
EXPORTS = Path(__file__).parent / "fixtures" / "exports"
PRESETS = ROOT / "ingest" / "presets"

CAMPAIGN = {
    "campaign_id": "CMP-2026-11-T",
    "name": "11월 차 신상품",
    "channel": "email",
    "subject": "햇녹차가 왔어요",
    "sender": "녹차원 <news@nokchawon.example>",
    "wave": 1,
    "parent_campaign_id": None,
    "scheduled_at": "2026-11-21T10:00:00+09:00",
}
ACTIVITY = (
    "발생일시,수신자,캠페인ID,캠페인명,이벤트,링크,사유\n"
    "2026-11-21 10:00:00,sujin@hanmail.net,CMP-2026-11-T,11월 차 신상품,발송,,\n"
    "2026-11-21 10:00:04,sujin@hanmail.net,CMP-2026-11-T,11월 차 신상품,도달,,\n"
    "2026-11-21 12:40:00,sujin@hanmail.net,CMP-2026-11-T,11월 차 신상품,열람,,\n"
    "2026-11-21 10:00:00,minjun88@naver.com,CMP-2026-11-T,11월 차 신상품,발송,,\n"
    "2026-11-21 10:00:06,minjun88@naver.com,CMP-2026-11-T,11월 차 신상품,반송,,수신자 없음\n"
)


def seed_youngcart(engine: sa.Engine) -> None:
    script = (EXPORTS / "youngcart_sample.sql").read_text(encoding="utf-8")
    statements = [s.strip() for s in script.split(";") if s.strip()]
    with engine.begin() as connection:
        for statement in statements:
            lines = [line for line in statement.splitlines() if not line.startswith("--")]
            connection.exec_driver_sql("\n".join(lines))


def connect_company(project: Path, youngcart_url: str) -> dict[str, str]:
    """The company's mappings, exports and settings in `project`; the environment it runs in."""
    mappings = project / "data" / "mappings"
    mappings.mkdir(parents=True)
    for preset in PRESETS.glob("*.yml"):
        shutil.copy(preset, mappings / preset.name)
    landing = project / "data" / "landing"
    drops = {
        "shopify/orders_export_20261123.csv": "shopify_orders_export_20261123.csv",
        "shopify/customers_export_20261123.csv": "shopify_customers_export_20261123.csv",
        "cafe24/members_20261120.csv": "cafe24_members_20261120.csv",
        "cafe24/orders_20261120.xlsx": "cafe24_orders_20261120.xlsx",
    }
    for target, sample in drops.items():
        (landing / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(EXPORTS / sample, landing / target)
    (landing / "esp").mkdir(parents=True, exist_ok=True)
    (landing / "esp" / "campaigns_20261121.jsonl").write_text(
        json.dumps(CAMPAIGN, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (landing / "esp" / "activity_20261121.csv").write_text(ACTIVITY, encoding="utf-8")
    return user_env(project, GOGAEK_SOURCES="shop,esp", YOUNGCART_DB_URL=youngcart_url)


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int, str]]:
    for engine in mariadb_database():
        seed_youngcart(engine)
        url = engine.url.render_as_string(hide_password=False)
        project = project_copy(tmp_path_factory.mktemp("presets") / "gogaek")
        env = connect_company(project, url)
        status, output = make(project, "refresh", env=env)
        yield project, status, output


def query(project: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(project / "data" / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_the_daily_job_succeeds_on_the_presets(company: tuple[Path, int, str]) -> None:
    _, status, output = company
    assert status == 0, output[-6000:]
    assert "Traceback" not in output
    assert re.search(r"of job daily_refresh: SUCCESS", output)
    assert re.findall(r"^  check FAILED: .*$", output, re.M) == []


def customer(project: Path, name: str) -> str:
    [(customer_id,)] = query(
        project,
        f"select customer_id from core.dim_customer where is_current and customer_name = '{name}'",
    )
    return customer_id


def documents(project: Path, customer_id: str | None) -> dict[str, tuple]:
    """order_key → (status, document amount, customer value) of a customer's documents."""
    who = "is null" if customer_id is None else f"= '{customer_id}'"
    rows = query(
        project,
        "select order_key, order_status, document_amount, customer_value_amount "
        f"from core.fct_orders where customer_id {who}",
    )
    return {key: (status, amount, value) for key, status, amount, value in rows}


def lines(project: Path, order_key: str) -> list[tuple]:
    return query(
        project,
        "select product_code, quantity, unit_price from core.fct_order_lines "
        f"where order_key = '{order_key}' and line_type = 'merchandise' order by line_key",
    )


def consents(project: Path, customer_id: str) -> tuple:
    [row] = query(
        project,
        "select mobile, email, email_consent, sms_consent from core.dim_customer "
        f"where is_current and customer_id = '{customer_id}'",
    )
    return row


def test_shopify_orders_reach_their_buyers_with_every_line_and_refund(
    company: tuple[Path, int, str],
) -> None:
    project, status, _ = company
    assert status == 0
    jiwoo = customer(project, "김지우")
    # Two orders: the second by an upper-case e-mail and a +82 phone, joined by the buyer's
    # mobile to the customer export's record; its partial refund a credit of what was refunded.
    assert documents(project, jiwoo) == {
        "shop:5501000000001": ("completed", 63000, 60000),
        "shop:5501000000002": ("completed", 45000, 45000),
        "shop-claim:5501000000002": ("returned", -15000, 0),
    }
    # The order's second line item is a continuation row: its order fields came from the first.
    assert lines(project, "shop:5501000000001") == [("P-1001", 2, 15000), ("P-2002", 1, 30000)]
    assert consents(project, jiwoo) == (
        "010-4821-7730",
        "jiwoo.kim@gmail.com",
        "consented",
        "refused",
    )
    seoyeon = customer(project, "박서연")
    assert documents(project, seoyeon) == {
        "shop:5501000000003": ("returned", 29000, 0),  # refunded in whole
        "shop-return:5501000000003": ("returned", None, 0),
        "shop:5501000000004": ("cancelled", 18000, 0),  # voided
    }
    # A buyer the customer export does not hold stays an anonymous guest order.
    assert "shop:5501000000005" in documents(project, None)


def test_cafe24_members_and_order_download_reach_the_same_customer(
    company: tuple[Path, int, str],
) -> None:
    project, status, _ = company
    assert status == 0
    minjun = customer(project, "박민준")
    assert documents(project, minjun) == {
        "shop:202611190000101": ("completed", 78000, 75000),
        # One of its two items returned (반품완료 on the second row): the claim takes it back.
        "shop:202611190000102": ("completed", 60000, 15000),
        "shop-claim:202611190000102": ("returned", -45000, 0),
    }
    assert lines(project, "shop:202611190000101") == [("P-1001", 1, 15000), ("P-2002", 2, 30000)]
    # 이메일 수신여부 N, SMS 수신여부 Y: two consents from one member row.
    assert consents(project, minjun)[2:] == ("refused", "consented")
    hana = customer(project, "이하나")
    assert documents(project, hana) == {
        "shop:202611200000104": ("awaiting_payment", 29000, 0),  # 입금전
        "shop:202611200000105": ("cancelled", 33000, 0),  # 입금전취소
    }
    assert "shop:202611200000103" in documents(project, None)  # a guest (비회원) order
    # The text ID is the member number's digest: the same ID, the same number, in both files.
    [(member_id,)] = query(
        project, "select member_id from raw.shop_members where login_id = 'minjun88'"
    )
    assert member_id == str(int(hashlib.sha256(b"minjun88").hexdigest()[:12], 16))


def test_the_youngcart_database_is_read_through_its_mapping(
    company: tuple[Path, int, str],
) -> None:
    project, status, _ = company
    assert status == 0
    sujin = customer(project, "정수진")
    assert documents(project, sujin) == {
        "shop:2026111810301255": ("completed", 55000, 52000),
        "shop:2026111911000078": ("returned", 45000, 0),  # od_status 반품
        "shop-return:2026111911000078": ("returned", None, 0),
    }
    # A chosen option adds its price to the item's (20,000 + 2,000).
    assert lines(project, "shop:2026111810301255") == [("P-1001", 2, 15000), ("P-4004", 1, 22000)]
    dongho = customer(project, "최동호")
    assert documents(project, dongho) == {
        "shop:2026112009152031": ("completed", 48000, 15000),
        "shop-claim:105": ("returned", -30000, 0),  # the line sent back (ct_status 반품)
    }
    # A member who left is no customer; a basket line (쇼핑) is no order.
    assert query(
        project, "select count(*) from core.dim_customer where customer_name = '탈퇴회원'"
    ) == [(0,)]
    assert query(
        project, "select count(*) from core.fct_orders where order_key like '%2026112100000000'"
    ) == [(0,)]


def test_the_esp_report_reaches_the_shop_customers(company: tuple[Path, int, str]) -> None:
    project, status, _ = company
    assert status == 0
    events = query(
        project,
        "select dim_customer.customer_name, fct_email_events.event_type from core.fct_email_events "
        "join core.dim_customer using (customer_id) where dim_customer.is_current order by 1, 2",
    )
    assert events == [
        ("박민준", "hard_bounce"),
        ("박민준", "sent"),
        ("정수진", "delivered"),
        ("정수진", "open"),
        ("정수진", "sent"),
    ]
