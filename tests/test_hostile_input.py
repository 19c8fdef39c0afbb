"""Hostile input, one kind per case, each loaded through the project's own loaders into a fresh
warehouse: wrong encodings, byte-order marks, line endings, quoting, headers, sizes, dates,
numbers, keys, redeliveries, RRNs in odd places and spellings, JSON oddities.

Every case asserts what docs/sources.md promises: rows read = loaded + quarantined + unchanged, the
reason code of each quarantined row, the valid rows loaded (none lost), and no RRN in any
spelling anywhere in the warehouse — raw tables, quarantine rows and their reasons, the batch
log. The shop database's kinds are in test_shop_hostile.py. docs/sources.md lists every kind.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from ingest.file_loader import load_entity_files
from ingest.personal_data import RRN_ONLY, TOKEN_PREFIX, hash_rrn, scan_database
from ingest.raw_store import accounting_problems, ensure_raw_schema
from ingest.schemas import (
    CALLCENTER_CALLS,
    CALLCENTER_TICKETS,
    ERP_CUSTOMERS,
    ERP_ORDERS,
    ESP_EVENTS,
    EntitySpec,
)
from ingest.settings import LoadLimits
from tests.conftest import SALT, csv_line, erp_customer, esp_event

RRN = "900101-1234567"
SOURCES_PAGE = Path(__file__).resolve().parents[1] / "docs" / "sources.md"
Check = Callable[[duckdb.DuckDBPyConnection, Path], None]
Line = dict[str, str] | str | bytes


def csv_file(
    spec: EntitySpec,
    rows: list[Line],
    *,
    encoding: str | None = None,
    newline: str = "\r\n",
    header: list[str] | None = None,
    final_newline: bool = True,
) -> bytes:
    """A source CSV: dict rows are well-formed lines, str/bytes rows go in verbatim."""
    encoding = encoding or spec.encoding
    names = list(spec.column_names) if header is None else header
    parts: list[str | bytes] = [csv_line(names)] if names else []
    parts += [
        csv_line([row.get(c, "") for c in spec.column_names]) if isinstance(row, dict) else row
        for row in rows
    ]
    if not any(isinstance(part, bytes) for part in parts):  # one encode: one BOM at most
        return (newline.join(parts) + (newline if final_newline else "")).encode(encoding)
    separator = newline.encode(encoding)
    encoded = [part if isinstance(part, bytes) else part.encode(encoding) for part in parts]
    return separator.join(encoded) + (separator if final_newline else b"")


def customer(number: str, **overrides: str) -> dict[str, str]:
    return erp_customer(고객번호=number, **overrides)


def order(number: str, **overrides: str) -> dict[str, str]:
    row = {
        "주문번호": number,
        "고객번호": "C0001",
        "주문일자": "2026-11-18",
        "판매채널": "매장",
        "주문상태": "정상",
        "총금액": "35000",
    }
    row.update(overrides)
    return row


def call(call_id: str, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "call_id": call_id,
        "started_at": "2026-11-18T10:00:00+09:00",
        "direction": "inbound",
        "caller_number": "010-1234-5678",
        "customer_name": "김민수",
        "category": "문의",
        "duration_sec": 95,
        "agent_id": "A01",
        "satisfaction": 5,
        "memo": "배송 문의",
    }
    row.update(overrides)
    return row


def jsonl(rows: list[dict[str, object] | str | bytes], newline: bytes = b"\n") -> bytes:
    out = [
        json.dumps(r, ensure_ascii=False).encode()
        if isinstance(r, dict)
        else r.encode()
        if isinstance(r, str)
        else r
        for r in rows
    ]
    return newline.join(out) + newline


def ticket(ticket_id: str, **overrides: str) -> dict[str, str]:
    row = {
        "ticket_id": ticket_id,
        "call_id": "K1",
        "caller_number": "010-1234-5678",
        "category": "문의",
        "status": "received",
        "received_at": "2026-11-18 10:02:00",
    }
    row.update(overrides)
    return row


CUSTOMERS_FILE = "erp/erp_customers_20261118.csv"
ORDERS_FILE = "erp/erp_orders_20261118.csv"
CALLS_FILE = "callcenter/calls_20261118.jsonl"
TICKETS_FILE = "callcenter/tickets_20261118.csv"
EVENTS_FILE = "esp/events_20261118.jsonl"
GOOD = [customer("C0001"), customer("C0002", 고객명="이영희")]


@dataclass(frozen=True)
class Case:
    kind: str
    spec: EntitySpec
    files: dict[str, bytes]
    loaded: int
    reasons: dict[str, int] = field(default_factory=dict)
    keys: tuple[str, ...] = ()  # key values that must be in raw: no valid row lost
    status: str | None = None  # of the first batch
    limits: LoadLimits | None = None
    check: Check | None = None


def value(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchone()[0]


def memo_is(expected: str) -> Check:
    def check(con: duckdb.DuckDBPyConnection, _: Path) -> None:
        assert value(con, "select 비고 from raw.erp_customers where 고객번호 = 'C0003'") == expected

    return check


def memo_masked(con: duckdb.DuckDBPyConnection, _: Path) -> None:
    memo = value(con, "select 비고 from raw.erp_customers where 고객번호 = 'C0003'")
    assert memo is not None and f"{hash_rrn(RRN, SALT)}" in memo, memo


def reason_echoes_nothing(con: duckdb.DuckDBPyConnection, _: Path) -> None:
    reasons = [r for (r,) in con.execute("select reason from raw._quarantine").fetchall()]
    assert reasons and not any("김민수" in r or "010-1234" in r for r in reasons), reasons


def loads_again_as_nothing(con: duckdb.DuckDBPyConnection, landing: Path) -> None:
    before = value(con, "select count(*) from raw.erp_customers")
    again = load_entity_files(con, ERP_CUSTOMERS, landing, SALT)
    assert {r.status for r in again} == {"already_loaded"}
    assert value(con, "select count(*) from raw.erp_customers") == before


def call_memo(expected: Callable[[str], bool]) -> Check:
    def check(con: duckdb.DuckDBPyConnection, _: Path) -> None:
        memo = value(con, "select memo from raw.callcenter_calls where call_id = 'K2'")
        assert expected(memo), memo

    return check


def deep(levels: int) -> str:
    return '{"call_id": "K2", "memo": ' + "[" * levels + "]" * levels + "}"


SMALL_FIELDS = LoadLimits.from_env({"GOGAEK_MAX_FIELD_CHARS": "1000"})

CASES: list[Case] = [
    # --- encodings and byte-order marks (ERP customers, CP949 declared) --------------------
    Case(
        "cp949_crlf",
        ERP_CUSTOMERS,
        {CUSTOMERS_FILE: csv_file(ERP_CUSTOMERS, GOOD)},
        2,
        keys=("C0001", "C0002"),
    ),
    Case(
        "euc_kr_subset",
        ERP_CUSTOMERS,
        {CUSTOMERS_FILE: csv_file(ERP_CUSTOMERS, GOOD, encoding="euc-kr")},
        2,
    ),
    Case(
        "utf8_with_bom",
        ERP_CUSTOMERS,
        {CUSTOMERS_FILE: csv_file(ERP_CUSTOMERS, GOOD, encoding="utf-8-sig")},
        2,
        check=lambda con, _: (
            None
            if value(con, "select 고객명 from raw.erp_customers where 고객번호 = 'C0002'")
            == "이영희"
            else pytest.fail("UTF-8 with BOM decoded wrongly")
        ),
    ),
    Case(
        "utf16_with_bom",
        ERP_CUSTOMERS,
        {CUSTOMERS_FILE: csv_file(ERP_CUSTOMERS, GOOD, encoding="utf-16")},
        2,
    ),
    Case(
        "utf8_without_bom",
        ERP_CUSTOMERS,
        {CUSTOMERS_FILE: csv_file(ERP_CUSTOMERS, GOOD, encoding="utf-8")},
        0,
        {"header_mismatch": 2},
    ),
    Case(
        "undecodable_bytes",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, [GOOD[0], "C0003,".encode("cp949") + b"\xff\xfe" + b",,,,,,,,,,,,,,"]
            )
        },
        1,
        {"undecodable_bytes": 1},
    ),
    Case(
        "multibyte_char_cut",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS,
                [
                    GOOD[0],
                    csv_line(list(customer("C0003").values()))
                    .encode("cp949")
                    .replace("김민수".encode("cp949"), "김민".encode("cp949") + b"\xbc"),
                ],
            )
        },
        1,
        {"undecodable_bytes": 1},
    ),
    # --- line endings ------------------------------------------------------------------------
    Case(
        "lf_endings",
        ERP_CUSTOMERS,
        {CUSTOMERS_FILE: csv_file(ERP_CUSTOMERS, GOOD, newline="\n")},
        2,
    ),
    Case(
        "cr_endings",
        ERP_CUSTOMERS,
        {CUSTOMERS_FILE: csv_file(ERP_CUSTOMERS, GOOD, newline="\r")},
        2,
    ),
    Case(
        "mixed_endings",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: b"".join(
                csv_line(line).encode("cp949") + end
                for line, end in [
                    (list(ERP_CUSTOMERS.column_names), b"\r\n"),
                    (list(GOOD[0].values()), b"\n"),
                    (list(GOOD[1].values()), b"\r"),
                ]
            )
        },
        2,
    ),
    Case(
        "no_final_line_break",
        ERP_CUSTOMERS,
        {CUSTOMERS_FILE: csv_file(ERP_CUSTOMERS, GOOD, final_newline=False)},
        2,
    ),
    Case(
        "blank_lines",
        ERP_CUSTOMERS,
        {CUSTOMERS_FILE: csv_file(ERP_CUSTOMERS, [GOOD[0], "", "   ", GOOD[1], ""])},
        2,
        check=lambda con, _: (
            None
            if value(con, "select blank_lines from raw._load_batches") == 3
            else pytest.fail("blank lines not counted")
        ),
    ),
    # --- headers -----------------------------------------------------------------------------
    Case(
        "header_missing",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, [customer("C0001", 비고=f"주민번호 {RRN}"), GOOD[1]], header=[]
            )
        },
        0,
        {"header_mismatch": 2},
        check=reason_echoes_nothing,
    ),
    Case(
        "header_reordered",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS,
                [csv_line(list(reversed(GOOD[0].values())))],
                header=list(reversed(ERP_CUSTOMERS.column_names)),
            )
        },
        1,
        check=lambda con, _: (
            None
            if value(con, "select 이메일 from raw.erp_customers") == "minsu@naver.com"
            else pytest.fail("columns not mapped by name")
        ),
    ),
    Case(
        "header_padded",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, GOOD, header=[f" {n} " for n in ERP_CUSTOMERS.column_names]
            )
        },
        2,
    ),
    Case(
        "header_extra_column",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS,
                [csv_line([*GOOD[0].values(), "x"])],
                header=[*ERP_CUSTOMERS.column_names, "메모2"],
            )
        },
        0,
        {"header_mismatch": 1},
        check=lambda con, _: (
            None
            if "메모2" in value(con, "select reason from raw._quarantine")
            else pytest.fail("the unexpected column is not named")
        ),
    ),
    Case(
        "header_missing_column",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS,
                [csv_line(list(GOOD[0].values())[:-1])],
                header=list(ERP_CUSTOMERS.column_names)[:-1],
            )
        },
        0,
        {"header_mismatch": 1},
    ),
    # --- field counts and quoting (RFC 4180) -----------------------------------------------
    Case(
        "extra_field",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, [GOOD[0], csv_line([*customer("C0003").values(), "초과"])]
            )
        },
        1,
        {"wrong_field_count": 1},
    ),
    Case(
        "missing_field",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, [GOOD[0], csv_line(list(customer("C0003").values())[:-1])]
            )
        },
        1,
        {"wrong_field_count": 1},
    ),
    Case(
        "truncated_last_line",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, [*GOOD, "C0003,박지성,,010-22"], final_newline=False
            )
        },
        2,
        {"wrong_field_count": 1},
    ),
    Case(
        "unbalanced_quote_costs_one_line",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, ['C0009,"김철수,,,,,,,,,,,,,,2026-11-18 10:00:00', *GOOD]
            )
        },
        2,
        {"malformed_quoting": 1},
        keys=("C0001", "C0002"),
    ),
    Case(
        "text_after_closing_quote",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, [GOOD[0], 'C0003,"김철수"x,,,,,,,,,,,,,,2026-11-18 10:00:00']
            )
        },
        1,
        {"malformed_quoting": 1},
    ),
    Case(
        "quoted_line_break_lf",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, [GOOD[0], customer("C0003", 비고="첫 줄\n둘째 줄"), GOOD[1]]
            )
        },
        3,
        check=lambda con, _: (
            None
            if con.execute(
                "select 비고, _source_line from raw.erp_customers where 고객번호 in ('C0003', "
                "'C0002') order by _source_line"
            ).fetchall()
            == [("첫 줄\n둘째 줄", 3), (None, 5)]
            else pytest.fail("multi-line memo or line numbers wrong")
        ),
    ),
    Case(
        "quoted_line_break_crlf",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, [GOOD[0], customer("C0003", 비고="첫 줄\r\n둘째 줄\r\n셋째 줄")]
            )
        },
        2,
        check=memo_is("첫 줄\r\n둘째 줄\r\n셋째 줄"),
    ),
    Case(
        "quoted_blank_line",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, [GOOD[0], customer("C0003", 비고="위\r\n\r\n아래")]
            )
        },
        2,
        check=memo_is("위\r\n\r\n아래"),
    ),
    Case(
        "doubled_quotes",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, [GOOD[0], customer("C0003", 비고='고객이 "네"라고 함')]
            )
        },
        2,
        check=memo_is('고객이 "네"라고 함'),
    ),
    Case(
        "comma_in_quoted_field",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, [GOOD[0], customer("C0003", 비고="부산, 해운대")]
            )
        },
        2,
        check=memo_is("부산, 해운대"),
    ),
    Case(
        "literal_quote_unquoted",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS,
                [
                    ",".join(
                        [
                            *list(customer("C0003").values())[:14],
                            '27" 모니터',
                            "2026-11-18 21:05:00",
                        ]
                    ),
                    GOOD[1],
                ],
            )
        },
        2,
        check=memo_is('27" 모니터'),
    ),
    Case(
        "field_of_200000_chars",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, [GOOD[0], customer("C0003", 비고="가" * 200_000)]
            )
        },
        2,
    ),
    Case(
        "field_over_the_limit",
        ERP_CUSTOMERS,
        {CUSTOMERS_FILE: csv_file(ERP_CUSTOMERS, [GOOD[0], customer("C0003", 비고="가" * 1_001)])},
        1,
        {"field_too_large": 1},
        limits=SMALL_FIELDS,
    ),
    Case(
        "nul_character",
        ERP_CUSTOMERS,
        {CUSTOMERS_FILE: csv_file(ERP_CUSTOMERS, [GOOD[0], customer("C0003", 비고="a\x00b")])},
        1,
        {"invalid_characters": 1},
    ),
    Case("empty_file", ERP_CUSTOMERS, {CUSTOMERS_FILE: b""}, 0, status="empty_file"),
    Case(
        "header_only",
        ERP_CUSTOMERS,
        {CUSTOMERS_FILE: csv_file(ERP_CUSTOMERS, [])},
        0,
        status="no_change",
    ),
    # --- keys and required values ----------------------------------------------------------
    Case(
        "missing_key",
        ERP_CUSTOMERS,
        {CUSTOMERS_FILE: csv_file(ERP_CUSTOMERS, [GOOD[0], customer("")])},
        1,
        {"missing_key": 1},
    ),
    Case(
        "blank_key",
        ERP_CUSTOMERS,
        {CUSTOMERS_FILE: csv_file(ERP_CUSTOMERS, [GOOD[0], customer("   ")])},
        1,
        {"missing_key": 1},
    ),
    Case(
        "missing_required",
        ERP_CUSTOMERS,
        {CUSTOMERS_FILE: csv_file(ERP_CUSTOMERS, [GOOD[0], customer("C0003", 가입일="")])},
        1,
        {"missing_required": 1},
    ),
    Case(
        "duplicate_key_in_snapshot",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, [GOOD[0], customer("C0001", 수정일시="2026-11-18 22:00:00")]
            )
        },
        2,
    ),
    # --- dates and timestamps --------------------------------------------------------------
    Case(
        "bad_date",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, [GOOD[0], customer("C0003", 가입일="2024-13-45")]
            )
        },
        1,
        {"bad_date": 1},
    ),
    Case(
        "impossible_date",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, [GOOD[0], customer("C0003", 생년월일="2025-02-30")]
            )
        },
        1,
        {"bad_date": 1},
    ),
    Case(
        "compact_and_dotted_dates",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS,
                [customer("C0001", 가입일="20190701"), customer("C0002", 가입일="2019.07.01")],
            )
        },
        2,
    ),
    Case(
        "bad_timestamp",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, [GOOD[0], customer("C0003", 수정일시="어제 오후")]
            )
        },
        1,
        {"bad_timestamp": 1},
    ),
    Case(
        "timestamp_with_zone_name",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS,
                [GOOD[0], customer("C0003", 수정일시="2026-11-18 21:05:00 Asia/Seoul")],
            )
        },
        1,
        {"bad_timestamp": 1},
    ),
    Case(
        "date_in_2099",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, [GOOD[0], customer("C0003", 가입일="2099-01-01")]
            )
        },
        1,
        {"implausible_date": 1},
    ),
    Case(
        "date_before_1900",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, [GOOD[0], customer("C0003", 생년월일="1800-01-01")]
            )
        },
        1,
        {"implausible_date": 1},
    ),
    # --- resident registration numbers -----------------------------------------------------
    Case(
        "rrn_column_hashed",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS,
                [
                    customer("C0003", 주민등록번호=RRN),
                    customer("C0004", 주민등록번호="901301-1234567"),
                ],
            )
        },
        2,
        check=lambda con, _: (
            None
            if value(
                con,
                "select count(*) from raw.erp_customers where 주민등록번호_해시 like "
                f"'{TOKEN_PREFIX}%'",
            )
            == 2
            else pytest.fail("RRN column not hashed")
        ),
    ),
    *[
        Case(
            f"rrn_in_memo_{name}",
            ERP_CUSTOMERS,
            {
                CUSTOMERS_FILE: csv_file(
                    ERP_CUSTOMERS,
                    [GOOD[0], customer("C0003", 비고=f"주민번호 {spelled} 확인")],
                    encoding=encoding,
                )
            },
            2,
            check=memo_masked,
        )
        for name, spelled, encoding in [
            ("hyphen", RRN, None),
            ("full_width", "９００１０１－１２３４５６７", None),
            ("dot", "900101.1234567", None),
            ("underscore", "900101_1234567", None),
            ("horizontal_bar", "900101―1234567", None),  # the dash CP949 has
            ("en_dash", "900101–1234567", "utf-8-sig"),  # not in CP949: an Excel UTF-8 export
            ("spaced_dash", "900101 - 1234567", None),
            ("no_separator", "9001011234567", None),
            ("line_break", "900101\r\n1234567", None),
            ("json_escape", "900101\\u002d1234567", None),
        ]
    ],
    Case(
        "rrn_in_broken_row",
        ERP_CUSTOMERS,
        {CUSTOMERS_FILE: csv_file(ERP_CUSTOMERS, [GOOD[0], f"C0003,{RRN},too,few"])},
        1,
        {"wrong_field_count": 1},
    ),
    Case(
        "rrn_in_undecodable_row",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(
                ERP_CUSTOMERS, [GOOD[0], f"C0003,{RRN},".encode("cp949") + b"\xff\xfe"]
            )
        },
        1,
        {"undecodable_bytes": 1},
    ),
    Case(
        "rrn_in_a_date_field",
        ERP_CUSTOMERS,
        {CUSTOMERS_FILE: csv_file(ERP_CUSTOMERS, [GOOD[0], customer("C0003", 생년월일=RRN)])},
        1,
        {"bad_date": 1},
    ),
    # --- file names and redeliveries -------------------------------------------------------
    Case(
        "upper_case_file_name",
        ERP_CUSTOMERS,
        {"erp/ERP_CUSTOMERS_20261118.CSV": csv_file(ERP_CUSTOMERS, GOOD)},
        2,
    ),
    Case(
        "same_file_twice",
        ERP_CUSTOMERS,
        {CUSTOMERS_FILE: csv_file(ERP_CUSTOMERS, GOOD)},
        2,
        check=loads_again_as_nothing,
    ),
    Case(
        "same_bytes_new_name",
        ERP_CUSTOMERS,
        {
            CUSTOMERS_FILE: csv_file(ERP_CUSTOMERS, GOOD),
            "erp/erp_customers_20261119.csv": csv_file(ERP_CUSTOMERS, GOOD),
        },
        2,
        check=lambda con, _: (
            None
            if value(
                con, "select count(*) from raw._load_batches where status like 'duplicate_of:%'"
            )
            == 1
            else pytest.fail("duplicate not logged")
        ),
    ),
    # --- numbers (ERP orders) --------------------------------------------------------------
    Case(
        "amount_with_thousands_separator",
        ERP_ORDERS,
        {ORDERS_FILE: csv_file(ERP_ORDERS, [order("O1", 총금액="35,000")])},
        1,
    ),
    Case(
        "negative_amount_on_return",
        ERP_ORDERS,
        {ORDERS_FILE: csv_file(ERP_ORDERS, [order("O1", 주문상태="반품", 총금액="-35000")])},
        1,
    ),
    Case(
        "amount_9e18",
        ERP_ORDERS,
        {
            ORDERS_FILE: csv_file(
                ERP_ORDERS, [order("O1"), order("O2", 총금액="9000000000000000000")]
            )
        },
        1,
        {"implausible_number": 1},
        keys=("O1",),
    ),
    Case(
        "amount_beyond_bigint",
        ERP_ORDERS,
        {
            ORDERS_FILE: csv_file(
                ERP_ORDERS, [order("O1"), order("O2", 총금액="99999999999999999999")]
            )
        },
        1,
        {"implausible_number": 1},
    ),
    Case(
        "amount_in_words",
        ERP_ORDERS,
        {ORDERS_FILE: csv_file(ERP_ORDERS, [order("O1"), order("O2", 총금액="12만원")])},
        1,
        {"bad_number": 1},
    ),
    Case(
        "full_width_amount",
        ERP_ORDERS,
        {ORDERS_FILE: csv_file(ERP_ORDERS, [order("O1"), order("O2", 총금액="３５０００")])},
        1,
        {"bad_number": 1},
    ),
    Case(
        "order_dated_2099",
        ERP_ORDERS,
        {ORDERS_FILE: csv_file(ERP_ORDERS, [order("O1"), order("O2", 주문일자="2099-01-01")])},
        1,
        {"implausible_date": 1},
    ),
    # --- call-center tickets (UTF-8 CSV) ---------------------------------------------------
    Case(
        "tickets_bom_and_lf",
        CALLCENTER_TICKETS,
        {
            TICKETS_FILE: csv_file(
                CALLCENTER_TICKETS, [ticket("T1"), ticket("T2")], encoding="utf-8-sig", newline="\n"
            )
        },
        2,
    ),
    Case(
        "tickets_quoted_line_break",
        CALLCENTER_TICKETS,
        {
            TICKETS_FILE: csv_file(
                CALLCENTER_TICKETS,
                [ticket("T1", category="문의\n(재접수)"), ticket("T2")],
                encoding="utf-8",
            )
        },
        2,
    ),
    # --- JSON Lines (call-center calls) ----------------------------------------------------
    Case("json_well_formed", CALLCENTER_CALLS, {CALLS_FILE: jsonl([call("K1"), call("K2")])}, 2),
    Case(
        "json_crlf",
        CALLCENTER_CALLS,
        {CALLS_FILE: jsonl([call("K1"), call("K2")], newline=b"\r\n")},
        2,
    ),
    Case("json_bom", CALLCENTER_CALLS, {CALLS_FILE: codecs.BOM_UTF8 + jsonl([call("K1")])}, 1),
    Case(
        "json_blank_lines",
        CALLCENTER_CALLS,
        {CALLS_FILE: jsonl([call("K1"), "", "  ", call("K2")])},
        2,
    ),
    Case(
        "json_malformed",
        CALLCENTER_CALLS,
        {
            CALLS_FILE: jsonl(
                [call("K1"), '{"call_id": "K2", "started_at": "2026-11-18T10:00:00+09:00"']
            )
        },
        1,
        {"malformed_json": 1},
    ),
    Case(
        "json_trailing_comma",
        CALLCENTER_CALLS,
        {CALLS_FILE: jsonl([call("K1"), '{"call_id": "K2", "direction": "inbound",}'])},
        1,
        {"malformed_json": 1},
    ),
    Case(
        "json_not_an_object",
        CALLCENTER_CALLS,
        {CALLS_FILE: jsonl([call("K1"), '["K2", "2026-11-18T10:00:00+09:00"]'])},
        1,
        {"not_an_object": 1},
    ),
    Case(
        "json_nested_100000_deep",
        CALLCENTER_CALLS,
        {CALLS_FILE: jsonl([call("K1"), deep(100_000)])},
        1,
        {"json_too_deep": 1},
    ),
    Case(
        "json_nested_100_deep",
        CALLCENTER_CALLS,
        {CALLS_FILE: jsonl([call("K1"), deep(100)])},
        1,
        {"json_too_deep": 1},
    ),
    Case(
        "json_lone_surrogate_escape",
        CALLCENTER_CALLS,
        {
            CALLS_FILE: jsonl(
                [
                    call("K1"),
                    '{"call_id": "K2", "started_at": "2026-11-18T10:00:00+09:00", '
                    '"direction": "inbound", "memo": "\\ud800"}',
                ]
            )
        },
        1,
        {"invalid_characters": 1},
    ),
    Case(
        "json_nul_escape",
        CALLCENTER_CALLS,
        {CALLS_FILE: jsonl([call("K1"), '{"call_id": "K2", "memo": "a\\u0000b"}'])},
        1,
        {"invalid_characters": 1},
    ),
    Case(
        "json_surrogate_pair_escape",
        CALLCENTER_CALLS,
        {
            CALLS_FILE: jsonl(
                [call("K1"), json.dumps(call("K2", memo="감사 😀"), ensure_ascii=True)]
            )
        },
        2,
        check=call_memo(lambda memo: memo == "감사 😀"),
    ),
    Case(
        "json_raw_surrogate_bytes",
        CALLCENTER_CALLS,
        {CALLS_FILE: jsonl([call("K1"), b'{"call_id": "K2", "memo": "\xed\xa0\x80"}'])},
        1,
        {"undecodable_bytes": 1},
    ),
    Case(
        "json_latin1_bytes",
        CALLCENTER_CALLS,
        {CALLS_FILE: jsonl([call("K1"), '{"call_id": "K2", "memo": "café"}'.encode("latin-1")])},
        1,
        {"undecodable_bytes": 1},
    ),
    Case(
        "json_unknown_fields",
        CALLCENTER_CALLS,
        {CALLS_FILE: jsonl([call("K1"), call("K2", queue="VIP", ivr={"path": [1, 2]})])},
        2,
        check=lambda con, _: (
            None
            if json.loads(
                value(con, "select _unknown_fields from raw.callcenter_calls where call_id = 'K2'")
            )
            == {"queue": "VIP", "ivr": {"path": ["1", "2"]}}
            else pytest.fail("unknown fields")
        ),
    ),
    Case(
        "json_numbers_as_strings",
        CALLCENTER_CALLS,
        {CALLS_FILE: jsonl([call("K1", duration_sec="95", satisfaction="4")])},
        1,
    ),
    Case(
        "json_number_in_words",
        CALLCENTER_CALLS,
        {CALLS_FILE: jsonl([call("K1"), call("K2", duration_sec="3분")])},
        1,
        {"bad_number": 1},
    ),
    Case(
        "json_nan",
        CALLCENTER_CALLS,
        {
            CALLS_FILE: jsonl(
                [
                    call("K1"),
                    '{"call_id": "K2", "started_at": "2026-11-18T10:00:00+09:00", '
                    '"direction": "inbound", "duration_sec": NaN}',
                ]
            )
        },
        1,
        {"bad_number": 1},
    ),
    Case(
        "json_null_key",
        CALLCENTER_CALLS,
        {CALLS_FILE: jsonl([call("K1"), call(None)])},
        1,
        {"missing_key": 1},
    ),  # type: ignore[arg-type]
    Case(
        "json_object_as_value",
        CALLCENTER_CALLS,
        {CALLS_FILE: jsonl([call("K2", memo={"text": "배송", "tags": ["급함"]})])},
        1,
        check=call_memo(lambda memo: json.loads(memo) == {"text": "배송", "tags": ["급함"]}),
    ),
    Case(
        "json_duplicate_keys",
        CALLCENTER_CALLS,
        {
            CALLS_FILE: jsonl(
                [
                    '{"call_id": "K2", "started_at": "2026-11-18T10:00:00+09:00", '
                    '"direction": "inbound", '
                    '"memo": "first", "memo": "second"}'
                ]
            )
        },
        1,
        check=call_memo(lambda m: m == "second"),
    ),
    Case(
        "json_line_over_the_limit",
        CALLCENTER_CALLS,
        {CALLS_FILE: jsonl([call("K1"), call("K2", memo="가" * 20_000)])},
        1,
        {"field_too_large": 1},
        limits=SMALL_FIELDS,
    ),
    Case(
        "json_field_over_the_limit",
        CALLCENTER_CALLS,
        {CALLS_FILE: jsonl([call("K1"), call("K2", memo="가" * 1_001)])},
        1,
        {"field_too_large": 1},
        limits=SMALL_FIELDS,
    ),
    *[
        Case(
            f"json_rrn_{name}",
            CALLCENTER_CALLS,
            {CALLS_FILE: jsonl([call("K1"), line])},
            2,
            check=call_memo(lambda memo: hash_rrn(RRN, SALT) in memo),
        )
        for name, line in [
            (
                "escaped_dash",
                '{"call_id": "K2", "started_at": "2026-11-18T10:00:00+09:00", '
                '"direction": "inbound", "memo": "주민번호 900101\\u002d1234567"}',
            ),
            (
                "escaped_digits",
                '{"call_id": "K2", "started_at": "2026-11-18T10:00:00+09:00", '
                '"direction": "inbound", "memo": "'
                + "".join(f"\\u{ord(c):04x}" for c in RRN)
                + '"}',
            ),
            (
                "escaped_line_break",
                '{"call_id": "K2", "started_at": "2026-11-18T10:00:00+09:00",'
                ' "direction": "inbound", "memo": "900101\\n1234567"}',
            ),
            (
                "full_width",
                json.dumps(call("K2", memo="９００１０１－１２３４５６７"), ensure_ascii=False),
            ),
        ]
    ],
    Case(
        "json_rrn_as_a_key",
        CALLCENTER_CALLS,
        {CALLS_FILE: jsonl([call("K1"), call("K2", **{RRN: "본인"})])},
        2,
        check=lambda con, _: (
            None
            if hash_rrn(RRN, SALT)
            in value(con, "select _unknown_fields from raw.callcenter_calls where call_id = 'K2'")
            else pytest.fail("RRN key not masked")
        ),
    ),
    Case(
        "json_rrn_in_a_broken_line",
        CALLCENTER_CALLS,
        {CALLS_FILE: jsonl([call("K1"), '{"call_id": "K2", "memo": "900101\\u002d1234567"'])},
        1,
        {"malformed_json": 1},
    ),
    # --- ESP events --------------------------------------------------------------------------
    Case(
        "esp_unknown_event_type",
        ESP_EVENTS,
        {EVENTS_FILE: jsonl([esp_event(), esp_event(event_id="ev-2", event_type="deferred")])},
        2,
    ),
    Case(
        "esp_event_redelivered",
        ESP_EVENTS,
        {
            EVENTS_FILE: jsonl([esp_event()]),
            "esp/events_20261119.jsonl": jsonl([esp_event(), esp_event(event_id="ev-2")]),
        },
        3,
    ),
    Case(
        "esp_utc_timestamp",
        ESP_EVENTS,
        {EVENTS_FILE: jsonl([esp_event(occurred_at="2026-11-18T00:00:05Z")])},
        1,
    ),
    Case(
        "esp_missing_event_type",
        ESP_EVENTS,
        {
            EVENTS_FILE: jsonl(
                [
                    esp_event(),
                    {k: v for k, v in esp_event(event_id="ev-2").items() if k != "event_type"},
                ]
            )
        },
        1,
        {"missing_required": 1},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_hostile_file(case: Case, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    for relative, content in case.files.items():
        (landing / relative).parent.mkdir(parents=True, exist_ok=True)
        (landing / relative).write_bytes(content)
    con = duckdb.connect()
    ensure_raw_schema(con)

    results = load_entity_files(con, case.spec, landing, SALT, case.limits)

    assert results, "no file picked up"
    read, loaded, quarantined, unchanged = (
        sum(getattr(r, f) for r in results)
        for f in ("rows_read", "rows_loaded", "rows_quarantined", "rows_unchanged")
    )
    assert read == loaded + quarantined + unchanged
    assert loaded == case.loaded
    reasons = dict(
        con.execute("select reason_code, count(*) from raw._quarantine group by 1").fetchall()
    )
    assert reasons == case.reasons
    assert accounting_problems(con, case.spec) == []
    if case.status:
        assert results[0].status == case.status
    if case.keys:
        key = case.spec.key_columns[0]
        present = {
            k for (k,) in con.execute(f'select "{key}" from {case.spec.raw_table}').fetchall()
        }
        assert set(case.keys) <= present
    assert scan_database(con, RRN_ONLY) == []
    if case.check:
        case.check(con, landing)


def test_every_kind_is_listed_in_the_docs() -> None:
    from tests.test_shop_hostile import SHOP_KINDS

    listed = set(re.findall(r"`([a-z0-9_]+)`", SOURCES_PAGE.read_text(encoding="utf-8")))
    kinds = [c.kind for c in CASES] + list(SHOP_KINDS)
    assert len(kinds) == len(set(kinds)) >= 60
    assert [k for k in kinds if k not in listed] == []
