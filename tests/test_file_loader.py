"""File loaders on small files whose right answer is known, and a corpus of broken input."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingest.file_loader import load_entity_files, load_file
from ingest.personal_data import RRN_ONLY, hash_rrn, scan_database
from ingest.raw_store import accounting_problems
from ingest.schemas import (
    CALLCENTER_CALLS,
    CALLCENTER_TICKETS,
    ERP_CUSTOMERS,
    ERP_ORDERS,
    ESP_EVENTS,
    EntitySpec,
)
from tests.conftest import SALT, csv_line, erp_customer, esp_event, write_csv, write_jsonl


def quarantine(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select source_file, source_line, field, reason_code, reason "
        "from raw._quarantine order by source_file, source_line"
    ).fetchall()


def test_cp949_erp_customers_with_korean_headers(warehouse, landing: Path) -> None:
    rrn = "850302-1234567"
    path = write_csv(
        landing / "erp" / "erp_customers_20261118.csv",
        ERP_CUSTOMERS,
        [
            erp_customer(주민등록번호=rrn),
            erp_customer(
                고객번호="C0002",
                고객명="이 영희 ",
                주소="부산광역시 해운대구, 우동",
                비고=f"주민번호 {rrn} 확인",
                우편번호="612-020",
            ),
        ],
    )
    assert path.read_bytes().decode("cp949").startswith("고객번호,고객명,주민등록번호")

    [result] = load_entity_files(warehouse, ERP_CUSTOMERS, landing, SALT)

    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == (
        "loaded",
        2,
        2,
        0,
    )
    rows = warehouse.execute("""
        select 고객번호, 고객명, 주민등록번호_해시, 주소, 우편번호, 비고, _source_file, _source_line
        from raw.erp_customers order by _source_line""").fetchall()
    token = hash_rrn(rrn, SALT)
    assert rows == [
        (
            "C0001",
            "김민수",
            token,
            "서울특별시 강남구 테헤란로 152",
            "06236",
            None,
            "erp/erp_customers_20261118.csv",
            2,
        ),
        (
            "C0002",
            "이 영희 ",
            None,
            "부산광역시 해운대구, 우동",
            "612-020",
            f"주민번호 {token} 확인",
            "erp/erp_customers_20261118.csv",
            3,
        ),
    ]
    batch = warehouse.execute(
        "select status, rows_read, rows_loaded, rows_quarantined, "
        "fingerprint is not null from raw._load_batches"
    ).fetchall()
    assert batch == [("loaded", 2, 2, 0, True)]


def test_same_file_twice_adds_nothing(warehouse, landing: Path) -> None:
    write_csv(
        landing / "erp" / "erp_customers_20261118.csv",
        ERP_CUSTOMERS,
        [erp_customer(), erp_customer(고객번호="C0002"), "broken,row"],
    )
    write_jsonl(
        landing / "esp" / "events_20261118.jsonl",
        [esp_event(), esp_event(event_id="ev-2"), "{not json"],
    )

    def snapshot() -> list:
        return [
            warehouse.execute(f"select count(*), sum(hash({column})) from {table}").fetchall()
            for table, column in (
                ("raw.erp_customers", "_row_hash"),
                ("raw.esp_events", "_row_hash"),
                ("raw._quarantine", "raw_record"),
                ("raw._load_batches", "batch_id"),
            )
        ]

    for spec in (ERP_CUSTOMERS, ESP_EVENTS):
        load_entity_files(warehouse, spec, landing, SALT)
    first = snapshot()
    again = [
        load_entity_files(warehouse, spec, landing, SALT) for spec in (ERP_CUSTOMERS, ESP_EVENTS)
    ]

    assert [r.status for results in again for r in results] == ["already_loaded"] * 2
    assert snapshot() == first
    assert warehouse.execute("select count(*) from raw.erp_customers").fetchone()[0] == 2


def test_rrn_never_written_in_clear(warehouse, landing: Path) -> None:
    rrn = "010203-3123456"
    write_csv(
        landing / "erp" / "erp_customers_20261118.csv",
        ERP_CUSTOMERS,
        [
            erp_customer(주민등록번호=rrn),
            erp_customer(고객번호="C0002", 주민등록번호="8503021234567"),  # no hyphen
            erp_customer(고객번호="C0003", 주민등록번호="851302-1234567"),  # not date-valid: hashed
            f"C0004,{rrn},too,few",  # quarantined, still masked
            f"C0005,{rrn},".encode("cp949") + b"\xff\xfe",  # undecodable: quarantined, masked
        ],
    )
    write_jsonl(
        landing / "callcenter" / "calls_20261118.jsonl",
        [
            {
                "call_id": "K1",
                "started_at": "2026-11-18T10:00:00+09:00",
                "direction": "inbound",
                "memo": f"고객 주민번호 {rrn} 불러줌",
            },
            f'{{"call_id": "K2", "memo": "{rrn}"',
        ],
    )
    load_entity_files(warehouse, ERP_CUSTOMERS, landing, SALT)
    load_entity_files(warehouse, CALLCENTER_CALLS, landing, SALT)

    assert scan_database(warehouse, RRN_ONLY) == []
    dump = "".join(
        str(row)
        for table in ("raw.erp_customers", "raw.callcenter_calls", "raw._quarantine")
        for row in warehouse.execute(f"select * from {table}").fetchall()
    )
    assert "3123456" not in dump and "1234567" not in dump
    assert (
        warehouse.execute(
            "select count(*) from raw.erp_customers where 주민등록번호_해시 like 'rrn_sha256:%'"
        ).fetchone()[0]
        == 3
    )


# One broken row per case, next to a good row: (spec, file, good row, broken row, line of the
# broken row, expected reason code, expected field).
GOOD_ORDER = {
    "주문번호": "O1",
    "고객번호": "C0001",
    "주문일자": "2026-11-18",
    "판매채널": "매장",
    "주문상태": "정상",
    "총금액": "35000",
}
GOOD_CALL = {
    "call_id": "K1",
    "started_at": "2026-11-18T10:00:00+09:00",
    "direction": "inbound",
    "caller_number": "010-1234-5678",
    "category": "문의",
    "duration_sec": 95,
}
GOOD_TICKET = {
    "ticket_id": "T1",
    "call_id": "K1",
    "status": "received",
    "received_at": "2026-11-18 10:02:00",
}

CUSTOMERS = ("erp/erp_customers_20261118.csv", ERP_CUSTOMERS)
CORPUS: list[tuple[str, tuple[str, EntitySpec], object, str | None]] = [
    ("undecodable_bytes", CUSTOMERS, "C0009,\xff\xfe".encode("latin-1") + b",x", "고객명"),
    ("wrong_field_count", CUSTOMERS, "C0009,too,many," + ",".join(["x"] * 14), None),
    ("wrong_field_count", CUSTOMERS, "C0009,김철수,,010-1111-2222", None),
    ("malformed_quoting", CUSTOMERS, 'C0009,"김철수,,,,,,,,,,,,,,2026-11-18 10:00:00', None),
    ("missing_key", CUSTOMERS, erp_customer(고객번호=""), "고객번호"),
    ("missing_key", CUSTOMERS, erp_customer(고객번호="   "), "고객번호"),
    ("missing_required", CUSTOMERS, erp_customer(고객번호="C0009", 가입일=""), "가입일"),
    ("bad_date", CUSTOMERS, erp_customer(고객번호="C0009", 가입일="2024-13-45"), "가입일"),
    ("bad_date", CUSTOMERS, erp_customer(고객번호="C0009", 생년월일="미상"), "생년월일"),
    ("bad_timestamp", CUSTOMERS, erp_customer(고객번호="C0009", 수정일시="어제 오후"), "수정일시"),
    (
        "bad_number",
        ("erp/erp_orders_20261118.csv", ERP_ORDERS),
        {**GOOD_ORDER, "주문번호": "O9", "총금액": "12만원"},
        "총금액",
    ),
    (  # a decimal comma (a European export): not 1234, and not 12.34 by guess
        "bad_number",
        ("erp/erp_orders_20261118.csv", ERP_ORDERS),
        {**GOOD_ORDER, "주문번호": "O9", "총금액": "12,34"},
        "총금액",
    ),
    (  # a comma that groups no thousands
        "bad_number",
        ("callcenter/calls_20261118.jsonl", CALLCENTER_CALLS),
        {**GOOD_CALL, "call_id": "K9", "duration_sec": "1,20"},
        "duration_sec",
    ),
    (
        "wrong_field_count",
        ("callcenter/tickets_20261118.csv", CALLCENTER_TICKETS),
        "T9,K9,010-1234-5678,문의,received",
        None,
    ),
    (
        "bad_timestamp",
        ("callcenter/tickets_20261118.csv", CALLCENTER_TICKETS),
        {**GOOD_TICKET, "ticket_id": "T9", "resolved_at": "2026-02-30 10:00:00"},
        "resolved_at",
    ),
    (
        "malformed_json",
        ("callcenter/calls_20261118.jsonl", CALLCENTER_CALLS),
        '{"call_id": "K9", "started_at": "2026-11-18T10:00:00+09:00"',
        None,
    ),
    (
        "not_an_object",
        ("callcenter/calls_20261118.jsonl", CALLCENTER_CALLS),
        '["K9", "2026-11-18T10:00:00+09:00"]',
        None,
    ),
    (
        "missing_key",
        ("callcenter/calls_20261118.jsonl", CALLCENTER_CALLS),
        {**GOOD_CALL, "call_id": None},
        "call_id",
    ),
    (
        "bad_number",
        ("callcenter/calls_20261118.jsonl", CALLCENTER_CALLS),
        {**GOOD_CALL, "call_id": "K9", "duration_sec": "3분"},
        "duration_sec",
    ),
    (
        "bad_timestamp",
        ("esp/events_20261118.jsonl", ESP_EVENTS),
        esp_event(event_id="ev-9", occurred_at="18/11/2026 9am"),
        "occurred_at",
    ),
    (
        "missing_required",
        ("esp/events_20261118.jsonl", ESP_EVENTS),
        {k: v for k, v in esp_event(event_id="ev-9").items() if k != "event_type"},
        "event_type",
    ),
    (
        "undecodable_bytes",
        ("esp/events_20261118.jsonl", ESP_EVENTS),
        b'{"event_id": "ev-9", "recipient": "\xed\xa0\x80"}',
        None,
    ),
]


def _good_row(spec: EntitySpec) -> dict:
    return {
        ERP_CUSTOMERS: erp_customer(),
        ERP_ORDERS: GOOD_ORDER,
        CALLCENTER_CALLS: GOOD_CALL,
        CALLCENTER_TICKETS: GOOD_TICKET,
        ESP_EVENTS: esp_event(),
    }[spec]


@pytest.mark.parametrize(
    ("code", "target", "broken", "field"),
    CORPUS,
    ids=[f"{i:02d}-{c[0]}" for i, c in enumerate(CORPUS)],
)
def test_broken_row_is_quarantined_with_its_reason(
    warehouse,
    landing: Path,
    code: str,
    target: tuple[str, EntitySpec],
    broken: object,
    field: str | None,
) -> None:
    relative, spec = target
    path = landing / relative
    rows = [_good_row(spec), broken, {**_good_row(spec)}]
    if spec.format == "csv":
        # The second good row must not collide with the first on its key.
        key = spec.key_columns[0]
        rows[2] = {**rows[2], key: rows[2][key] + "b"}
        write_csv(
            path,
            spec,
            rows,
            encoding="utf-8-sig" if spec.encoding == "utf-8" else None,
            newline="\n" if spec.encoding == "utf-8" else "\r\n",
        )
    else:
        rows[2] = {**rows[2], spec.key_columns[0]: "second"}
        write_jsonl(path, rows)

    result = load_file(warehouse, spec, path, landing, SALT)

    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    [(source_file, line, got_field, got_code, reason)] = quarantine(warehouse)
    broken_line = 3 if spec.format == "csv" else 2  # CSV line 1 is the header
    assert (source_file, line, got_code) == (relative, broken_line, code)
    assert got_field == field
    assert reason
    assert accounting_problems(warehouse, spec) == []


def test_wrong_encoding_quarantines_every_row_with_header_reason(warehouse, landing) -> None:
    # A UTF-8 file dropped where the ERP's CP949 export belongs.
    path = write_csv(
        landing / "erp" / "erp_customers_20261118.csv",
        ERP_CUSTOMERS,
        [erp_customer(), erp_customer(고객번호="C0002")],
        encoding="utf-8",
    )
    result = load_file(warehouse, ERP_CUSTOMERS, path, landing, SALT)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 0, 2)
    assert {row[3] for row in quarantine(warehouse)} == {"header_mismatch"}
    assert {row[1] for row in quarantine(warehouse)} == {2, 3}


def test_truncated_last_line_and_blank_lines(warehouse, landing: Path) -> None:
    path = write_csv(
        landing / "erp" / "erp_customers_20261118.csv",
        ERP_CUSTOMERS,
        [erp_customer(), "", erp_customer(고객번호="C0002")],
    )
    path.write_bytes(path.read_bytes() + "C0003,박지성,,010-22".encode("cp949"))  # cut off
    result = load_file(warehouse, ERP_CUSTOMERS, path, landing, SALT)
    assert (result.rows_read, result.rows_loaded, result.blank_lines) == (3, 2, 1)
    assert quarantine(warehouse)[0][1:4] == (5, None, "wrong_field_count")


def test_empty_file_is_logged_not_loaded(warehouse, landing: Path) -> None:
    path = landing / "esp" / "events_20261118.jsonl"
    path.write_bytes(b"")
    result = load_file(warehouse, ESP_EVENTS, path, landing, SALT)
    assert (result.status, result.rows_read) == ("empty_file", 0)
    assert warehouse.execute("select status from raw._load_batches").fetchall() == [("empty_file",)]


def test_unknown_json_fields_are_kept(warehouse, landing: Path) -> None:
    write_jsonl(
        landing / "esp" / "events_20261118.jsonl",
        [esp_event(), esp_event(event_id="ev-2", ip="10.0.0.1")],
    )
    load_entity_files(warehouse, ESP_EVENTS, landing, SALT)
    rows = warehouse.execute(
        "select event_id, _unknown_fields is not null from raw.esp_events order by event_id"
    ).fetchall()
    assert rows == [("ev-1", False), ("ev-2", True)]
    assert (
        '"ip":"10.0.0.1"'
        in warehouse.execute(
            "select _unknown_fields from raw.esp_events where event_id = 'ev-2'"
        ).fetchone()[0]
    )


def test_identical_snapshot_under_a_new_name_is_logged_not_reloaded(warehouse, landing) -> None:
    first = write_csv(
        landing / "erp" / "erp_customers_20261118.csv", ERP_CUSTOMERS, [erp_customer()]
    )
    (landing / "erp" / "erp_customers_20261119.csv").write_bytes(first.read_bytes())
    results = load_entity_files(warehouse, ERP_CUSTOMERS, landing, SALT)
    assert [r.status for r in results] == ["loaded", "duplicate_of:erp/erp_customers_20261118.csv"]
    assert warehouse.execute("select count(*) from raw.erp_customers").fetchone()[0] == 1
    again = load_entity_files(warehouse, ERP_CUSTOMERS, landing, SALT)
    assert [r.status for r in again] == ["already_loaded", "already_loaded"]
    assert warehouse.execute("select count(*) from raw._load_batches").fetchone()[0] == 2
    assert accounting_problems(warehouse, ERP_CUSTOMERS) == []


def test_an_erp_export_saved_by_korean_excel_loads_as_the_values_it_shows(
    warehouse, landing: Path
) -> None:
    """An admin opens the ERP export in Excel and saves it as CSV: keys and phones kept as text
    come as formulas (="C1000005"), date cells in Excel's Korean spellings, and every line,
    the header too, ends in the empty cells of columns once used further right."""
    header = ",".join(ERP_CUSTOMERS.column_names) + ",,,"
    excel = erp_customer(
        고객번호='="C1000005"',
        휴대폰='="010-2345-6789"',
        우편번호='="06236"',
        생년월일="1985. 3. 7.",
        가입일="2019-07-01",
        수정일시="2026-11-20 오후 3:15:00",
    )
    plain = erp_customer(고객번호="C1000006", 수정일시="2026. 11. 20. 오전 9:05")
    lines = [header]
    for row in (excel, plain):
        lines.append(csv_line([row[c] for c in ERP_CUSTOMERS.column_names]) + ",,,")
    # A filled cell past the header is a real extra field, not Excel's padding.
    lines.append(csv_line([plain[c] for c in ERP_CUSTOMERS.column_names]) + ",,메모")
    path = landing / "erp" / "erp_customers_20261120.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp949"))

    [result] = load_entity_files(warehouse, ERP_CUSTOMERS, landing, SALT)

    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    assert quarantine(warehouse) == [
        (f"erp/{path.name}", 4, None, "wrong_field_count", "expected 16 fields, found 18")
    ]
    rows = warehouse.execute(
        "select 고객번호, 휴대폰, 우편번호, 생년월일, 수정일시 from raw.erp_customers "
        "order by _source_line"
    ).fetchall()
    # No phantom customer ="C1000005" carrying the real one's contacts: the value as shown.
    assert rows == [
        ("C1000005", "010-2345-6789", "06236", "1985. 3. 7.", "2026-11-20 오후 3:15:00"),
        ("C1000006", "010-1234-5678", "06236", "1985-03-02", "2026. 11. 20. 오전 9:05"),
    ]
