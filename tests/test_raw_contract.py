"""What the raw contract's flags (ingest/schemas.py) decide, on small raw tables whose answer is
known: the columns erasure finds a person by, the values it lists, the personal-data gate's raw
column names. (The dbt sources written from the contract: test_dbt_sources.py; the key rules:
test_quality_suites.py and test_file_loader.py.)"""

from __future__ import annotations

import duckdb
import pytest

from ingest.erasure import erase
from ingest.erasure_list import listed_rows, token_sql, with_secret
from ingest.personal_data import is_identifier_column
from ingest.raw_store import ensure_raw_schema, quote
from ingest.schemas import BY_NAME, ENTITIES

SECRET = "test-erasure-secret"
# The person's values, as the raw tables may hold them, and normalised as the list keeps them.
PERSON = {
    "erp_customer": ("C0001", "C0001"),
    "shop_member": ("17", "17"),
    "rrn": ("rrn_sha256:" + "ab" * 32, "rrn_sha256:" + "ab" * 32),
    "phone": ("010-1234-5678", "01012345678"),
    "email": ("Kim@Naver.com", "kim@naver.com"),
}
OTHER = {"erp_customer": "C0002", "shop_member": "18", "phone": "010-9999-8888"}
OTHER |= {"email": "lee@daum.net", "rrn": "rrn_sha256:" + "cd" * 32}


def _insert(con: duckdb.DuckDBPyConnection, entity: str, row: dict[str, str]) -> None:
    spec = BY_NAME[entity]
    values = {**row, "_batch_id": "b1", "_row_hash": "h"}
    con.execute(
        f"insert into {spec.raw_table} ({', '.join(quote(c) for c in values)}) "
        f"values ({', '.join('?' for _ in values)})",
        list(values.values()),
    )


def _list(con: duckdb.DuckDBPyConnection, kind: str, value: str) -> None:
    with_secret(con, SECRET)
    con.execute(
        f"insert into raw._erasure_list select {token_sql('?', '?')}, ?, 'e1', now()",
        [kind, value, kind],
    )


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    ensure_raw_schema(connection)
    return connection


def test_every_identifying_column_finds_a_listed_person(con: duckdb.DuckDBPyConnection) -> None:
    for kind, (_, normalised) in PERSON.items():
        _list(con, kind, normalised)
    expected: dict[str, int] = {}
    for spec in ENTITIES:
        for column, kind in spec.identifying_columns:
            # `contact` (an ESP recipient) holds an e-mail or a phone: one row of each.
            kinds = ("email", "phone") if kind == "contact" else (kind,)
            for one in kinds:
                _insert(con, spec.name, {column: PERSON[one][0]})
                _insert(con, spec.name, {column: OTHER[one]})
                expected[spec.name] = expected.get(spec.name, 0) + 1
        # A shared number (a household's home phone) finds nobody: it is not looked up.
        for column in spec.columns:
            if column.shared:
                _insert(con, spec.name, {spec.stored_name(column): PERSON["phone"][0]})
    # Every table that names people is covered, each by the columns the contract flags.
    assert expected == {
        "erp_customers": 4,
        "erp_orders": 1,
        "shop_members": 3,
        "shop_orders": 3,
        "shop_marketing_consents": 1,
        "callcenter_calls": 1,
        "callcenter_tickets": 1,
        "esp_events": 2,
    }
    found = {name: listed_rows(con, name, SECRET).loaded for name in expected}
    assert found == expected


def test_erasure_finds_lists_and_scrubs_by_the_contracts_columns(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute("create schema intermediate")
    con.execute(
        "create table intermediate.int_identity_crosswalk as select * from (values "
        "('K1', 'erp_customer', 'C0001'), ('K1', 'shop_member', '17'), "
        "('K2', 'erp_customer', 'C0002')) as t (customer_id, source, source_key)"
    )
    _insert(
        con,
        "erp_customers",
        {
            "고객번호": "C0001",
            "주민등록번호_해시": PERSON["rrn"][0],
            "휴대폰": PERSON["phone"][0],
            "자택전화": "02-123-4567",  # shared: scrubbed where found, never listed
            "이메일": PERSON["email"][0],
        },
    )
    _insert(con, "erp_customers", {"고객번호": "C0002", "휴대폰": OTHER["phone"]})
    _insert(con, "shop_members", {"member_id": "17", "mobile": "010-1111-2222"})
    # Rows that name the person only by a contact value.
    _insert(con, "shop_orders", {"order_id": "1", "orderer_mobile": "010 1234 5678"})
    _insert(con, "shop_orders", {"order_id": "2", "orderer_email": "KIM@naver.com"})
    _insert(con, "shop_orders", {"order_id": "3", "orderer_email": OTHER["email"]})
    _insert(
        con,
        "callcenter_calls",
        {
            "call_id": "c1",
            "caller_number": "02-123-4567",
            "customer_name": "김민수",
            "memo": "김민수님 반품 문의",
            "category": "반품",
        },
    )
    _insert(con, "callcenter_tickets", {"ticket_id": "t1", "caller_number": "01011112222"})
    _insert(con, "esp_events", {"event_id": "e1", "recipient": "kim@naver.com"})
    _insert(con, "esp_events", {"event_id": "e2", "recipient": "010-1234-5678"})
    _insert(con, "esp_events", {"event_id": "e3", "recipient": OTHER["email"]})

    report = erase(con, SECRET, customer_id="K1")

    assert report.tables["erp_customers"] == {"deleted": 1}
    assert report.tables["shop_members"] == {"deleted": 1}
    assert report.tables["shop_orders"] == {"anonymised": 2}
    assert report.tables["callcenter_calls"] == {"anonymised": 1}
    assert report.tables["callcenter_tickets"] == {"anonymised": 1}
    assert report.tables["esp_events"] == {"anonymised": 2}
    # Listed: the keys, the RRN hash, the two mobiles, the e-mail; not the shared home phone.
    listed = dict(con.execute("select kind, count(*) from raw._erasure_list group by 1").fetchall())
    assert listed == {"erp_customer": 1, "shop_member": 1, "rrn": 1, "phone": 2, "email": 1}
    assert con.execute("select 고객번호 from raw.erp_customers").fetchall() == [("C0002",)]
    # Kept rows lose every personal column the contract flags, and keep the rest.
    assert con.execute(
        "select caller_number, customer_name, memo, category from raw.callcenter_calls"
    ).fetchall() == [(None, None, None, "반품")]
    assert con.execute(
        "select order_id, member_id, orderer_mobile, orderer_email from raw.shop_orders "
        "order by order_id"
    ).fetchall() == [
        ("1", None, None, None),
        ("2", None, None, None),
        ("3", None, None, OTHER["email"]),
    ]
    assert con.execute("select recipient from raw.esp_events order by event_id").fetchall() == [
        ("erased",),
        ("erased",),
        (OTHER["email"],),
    ]


def test_the_gate_knows_the_raw_columns_the_contract_flags() -> None:
    personal = {
        spec.stored_name(c) for spec in ENTITIES for c in spec.columns if c.holds_personal_data
    }
    # Raw names the naming vocabulary alone would miss are known from the contract.
    assert {"고객명", "휴대폰", "팩스", "생년월일", "주민등록번호_해시", "zipcode"} <= personal
    assert all(is_identifier_column(name) for name in personal)
    # Record keys and business columns are not personal data.
    for name in ("고객번호", "member_id", "고객등급", "상품명", "campaign_id"):
        assert not is_identifier_column(name), name
