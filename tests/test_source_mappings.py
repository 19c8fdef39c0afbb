"""Source mappings: a company's own exports read into the raw contract by a declared file.

Each export here is written for the test with a known answer; the mappings are the ones a data
team would write (or the shipped presets)."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import openpyxl
import pytest

from ingest.file_loader import load_entity_files
from ingest.schemas import BY_NAME
from ingest.shop_loader import load_shop_table
from ingest.source_mapping import MappingError, load_deliveries, load_mapping, mappings_in
from tests.conftest import SALT, mariadb_database

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ROOT / "ingest" / "presets"
EXPORTS = Path(__file__).parent / "fixtures" / "exports"


def quarantine(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select source_file, source_line, field, reason_code, reason "
        "from raw._quarantine order by source_file, source_line"
    ).fetchall()


def write_mapping(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yml"
    path.write_text(text, encoding="utf-8")
    return path


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-s", "--no-print-directory", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


# ------------------------------------------------------------------ the ESP preset


BOUNCE = "수신자 없음 (550 5.1.1)"


def test_the_esp_preset_reads_an_activity_report(warehouse, landing: Path) -> None:
    export = landing / "esp" / "activity_20261120.csv"
    export.parent.mkdir(parents=True, exist_ok=True)
    export.write_bytes((EXPORTS / "esp_activity_20261120.csv").read_bytes())
    mapping = load_mapping(PRESETS / "esp_events_generic_csv.yml")
    assert mapping.spec.name == "esp_events"
    assert {m.spec.source for m in mappings_in(PRESETS)} == {"esp", "shop"}

    [result] = load_entity_files(warehouse, mapping.spec, landing, SALT, mappings=[mapping])

    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (8, 7, 1)
    rows = warehouse.execute(
        "select recipient, event_type, occurred_at, url, reason, _source_line "
        "from raw.esp_events order by _source_line"
    ).fetchall()
    assert rows == [
        ("minsu@naver.com", "sent", "2026-11-20T09:00:00+09:00", None, None, 2),
        ("minsu@naver.com", "delivered", "2026-11-20T09:00:05+09:00", None, None, 3),
        ("minsu@naver.com", "open", "2026-11-20T12:31:00+09:00", None, None, 4),
        (
            "minsu@naver.com",
            "click",
            "2026-11-20T12:32:10+09:00",
            "https://shop.example.kr/sale",
            None,
            5,
        ),
        ("yhlee@daum.net", "sent", "2026-11-20T09:00:00+09:00", None, None, 6),
        (
            "yhlee@daum.net",
            "hard_bounce",
            "2026-11-20T09:00:07+09:00",
            None,
            "수신자 없음 (550 5.1.1)",
            7,
        ),
        ("jisoo.park@gmail.com", "unsubscribe", "2026-11-20T18:00:00+09:00", None, None, 8),
    ]
    # An event without an id gets the digest of what it is: never the address itself.
    ids = [i for (i,) in warehouse.execute("select event_id from raw.esp_events").fetchall()]
    assert len(set(ids)) == 7 and not any("@" in i for i in ids)
    assert quarantine(warehouse) == [
        (
            "esp/activity_20261120.csv",
            9,
            "event_type",
            "unmapped_value",
            "event_type: 이벤트 '전달' is in no value of the mapping (도달, 반송, 발송, 수신거부, "
            "스팸신고, 스팸차단, 실패, 열람)",
        )
    ]
    # The columns no rule reads are named, and stored nowhere (one holds phone numbers).
    assert result.unused_columns == ("캠페인명", "수신자 휴대폰")
    stored = warehouse.execute(
        "select count(*) from raw.esp_events e, raw._quarantine q "
        "where e::varchar like '%010-1234-5678%' or q::varchar like '%010-1234-5678%'"
    ).fetchone()
    assert stored == (0,)


# ------------------------------------------------------------------ an ERP export in Excel


ERP_CUSTOMERS_XLSX = """
about: ERP customer list as the admin downloads it (Excel)
delivers: erp_customers
files: erp/고객목록_*.xlsx
format: xlsx
sheet: 고객
columns:
  고객번호: 거래처코드
  고객명: {join: [성, 이름], separator: ""}
  휴대폰: {join: [휴대폰1, 휴대폰2, 휴대폰3], separator: "-"}
  이메일: 이메일
  고객등급: {from: 등급, values: {V: VIP, G: 골드, S: 실버, N: 일반}}
  생년월일: {from: 생일}
  가입일: {from: 등록일, format: ["%Y-%m-%d", "%Y.%m.%d"]}
  수정일시: {from: 수정, format: "%Y-%m-%d %H:%M:%S"}
  비고: {value: ""}
"""


def _excel_export(path: Path) -> Path:
    """An Excel download: a cover sheet first, columns in the admin's order, date cells."""
    book = openpyxl.Workbook()
    book.active.title = "안내"
    sheet = book.create_sheet("고객")
    sheet.append(
        [
            "등급",
            "거래처코드",
            "성",
            "이름",
            "휴대폰1",
            "휴대폰2",
            "휴대폰3",
            "이메일",
            "생일",
            "등록일",
            "수정",
            "주민번호",
        ]
    )
    sheet.append(
        [
            "G",
            "C2000001",
            "김",
            "민수",
            "010",
            "1234",
            "5678",
            "minsu@naver.com",
            datetime(1985, 3, 7),
            "2019.07.01",
            datetime(2026, 11, 20, 15, 15),
            "850307-1234567",
        ]
    )
    sheet.append(
        [
            "V",
            "C2000002",
            "이",
            "영희",
            "010",
            "2345",
            "",
            "yh@daum.net",
            None,
            "2020-01-02",
            datetime(2026, 11, 20, 9, 0),
            "",
        ]
    )
    sheet.append(
        [
            "X",
            "C2000003",
            "박",
            "지수",
            "",
            "",
            "",
            "",
            None,
            "2021-05-05",
            datetime(2026, 11, 20, 9, 0),
            "",
        ]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def test_an_excel_export_with_its_own_columns_loads_by_header_name(
    warehouse, landing: Path, tmp_path: Path
) -> None:
    mapping = load_mapping(write_mapping(tmp_path / "mappings", "erp_xlsx", ERP_CUSTOMERS_XLSX))
    _excel_export(landing / "erp" / "고객목록_20261120.xlsx")

    [result] = load_entity_files(warehouse, mapping.spec, landing, SALT, mappings=[mapping])

    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    rows = warehouse.execute(
        "select 고객번호, 고객명, 휴대폰, 이메일, 고객등급, 생년월일, 가입일, 수정일시, "
        "주민등록번호_해시 from raw.erp_customers order by 고객번호"
    ).fetchall()
    assert rows == [
        (
            "C2000001",
            "김민수",
            "010-1234-5678",
            "minsu@naver.com",
            "골드",
            "1985-03-07",
            "2019-07-01",
            "2026-11-20 15:15:00",
            None,
        ),
        (
            "C2000002",
            "이영희",
            "010-2345",
            "yh@daum.net",
            "VIP",
            None,
            "2020-01-02",
            "2026-11-20 09:00:00",
            None,
        ),
    ]
    [(line, field, code, reason)] = [q[1:] for q in quarantine(warehouse)]
    assert (line, field, code) == (4, "고객등급", "unmapped_value")
    assert "'X'" in reason
    # The RRN column is not mapped: named as not read, its values stored nowhere.
    assert "주민번호" in result.unused_columns
    assert "850307" not in str(warehouse.execute("from raw._quarantine").fetchall())


def test_amounts_as_korean_and_european_exports_write_them(
    warehouse, landing: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "mappings"
    text = """
delivers: erp_products
files: "erp/{name}_*.csv"
encoding: cp949
columns:
  상품코드: 코드
  상품명: 이름
  판매가: {{from: 가격, amount: {sep}}}
  원가: {{from: 원가, amount: {sep}}}
"""
    won = load_mapping(write_mapping(folder, "won", text.format(name="won", sep="point")))
    euro = load_mapping(write_mapping(folder, "euro", text.format(name="euro", sep="comma")))
    (landing / "erp").mkdir(parents=True, exist_ok=True)
    # In CP949 text the backslash is the won sign (Korean Windows fonts draw it as ₩).
    (landing / "erp" / "won_1.csv").write_bytes(
        '코드,이름,가격,원가\nP1,양말,"45,000원",\\30000\nP2,모자,KRW 45000,"(1,500)"\n'
        'P3,장갑,무료,0\nP4,목도리,"４５，０００￦",０\n'.encode("cp949")
    )
    (landing / "erp" / "euro_1.csv").write_bytes(
        '코드,이름,가격,원가\nE1,Socks,"1.234,50","12,5"\n'.encode("cp949")
    )

    results = load_entity_files(warehouse, won.spec, landing, SALT, mappings=[won, euro])

    assert [(r.rows_loaded, r.rows_quarantined) for r in results] == [(3, 1), (1, 0)]
    prices = warehouse.execute(
        "select 상품코드, 판매가, 원가 from raw.erp_products order by 상품코드"
    ).fetchall()
    assert prices == [
        ("E1", "1234.50", "12.5"),
        ("P1", "45000", "30000"),
        ("P2", "45000", "-1500"),
        ("P4", "45000", "0"),  # full-width digits, as a Korean IME types them
    ]
    assert [q[2:4] for q in quarantine(warehouse)] == [("판매가", "bad_amount")]


# ------------------------------------------------------------------ refused, with sentences


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        (
            "delivers: erp_clients\nfiles: a.csv\ncolumns: {x: y}",
            "'erp_clients' is no entity of the contract",
        ),
        (
            "format: sql\ndatabase: {env: SHOP_URL}\ndelivers:\n"
            "  esp_events: {query: select 1, columns: {x: y}}",
            "a sql mapping delivers the shop database's entities",
        ),
        (
            "format: sql\ndatabase: {env: SHOP_URL}\ndelivers:\n"
            "  shop_orders: {columns: {order_id: od_id}}",
            "shop_orders: a sql mapping gives each delivery its query",
        ),
        ("format: sql\ndelivers: shop_orders\ncolumns: {order_id: a}", "database says which"),
        (
            "files: a.csv\ndelivers:\n  shop_orders: {once: true, columns: {order_id: Id}}",
            "once takes the first row of each group: say which column groups (group_by)",
        ),
        (
            "files: a.csv\ndelivers: shop_order_items\ncolumns:\n"
            "  order_item_id: {join: [Id, $line]}",
            "$line is a row's place in its group",
        ),
        (
            "files: a.csv\ndelivers: shop_members\ncolumns:\n  member_id: {from: ID, number: hex}",
            "number is digits (keep the digits) or digest, not 'hex'",
        ),
        (
            "delivers: esp_events\nfiles: a.csv\ncolumns: {recipient_email: Email}",
            "'recipient_email' is no column of esp_events",
        ),
        (
            "delivers: esp_events\nfiles: a.csv\ncolumns: {recipient: Email}",
            "esp_events needs event_id, campaign_id, event_type, occurred_at (required by the "
            "contract), which the mapping leaves unmapped",
        ),
        ("delivers: esp_events\nfiles: a.csv\nformat: xls\ncolumns: {a: b}", "format 'xls'"),
        ("delivers: erp_orders\nfiles: a.csv\nencoding: latin-1\ncolumns: {a: b}", "'latin-1'"),
        (
            "delivers: esp_events\nfiles: a.csv\ncolumns:\n"
            "  occurred_at: {from: T, time_zone: KST}",
            "time_zone 'KST' is no IANA time zone",
        ),
        (
            "delivers: esp_events\nfiles: a.csv\ncolumns:\n  recipient: {from: E, format: '%Y'}",
            "a format is for date and timestamp columns",
        ),
        ("delivers: esp_events\nfiles: a.csv\ncolums: {}", "unknown key(s) colums"),
        ("delivers: [esp_events", "cannot be read as YAML"),
    ],
)
def test_a_bad_mapping_is_refused_with_a_sentence(tmp_path: Path, text: str, sentence: str) -> None:
    path = write_mapping(tmp_path, "bad", text)
    with pytest.raises(MappingError) as refused:
        load_mapping(path)
    assert str(refused.value).startswith(f"mapping {path}: ")
    assert sentence in str(refused.value)


def test_make_source_check_previews_and_refuses_as_a_user_sees_it(tmp_path: Path) -> None:
    preset = PRESETS / "esp_events_generic_csv.yml"
    export = EXPORTS / "esp_activity_20261120.csv"
    shown = make("source-check", f"MAPPING={preset}", f"FILE={export}")
    assert shown.returncode == 0, shown.stderr
    assert "columns not read (never stored): 캠페인명, 수신자 휴대폰" in shown.stdout
    assert "would load 7 of 8 rows, quarantine 1" in shown.stdout
    assert "unmapped_value: 1 (first at line 9" in shown.stdout
    assert "010-1234-5678" not in shown.stdout

    # The export's layout changed: a mapped column is gone. The whole file would be refused.
    renamed = tmp_path / "activity.csv"
    renamed.write_text(export.read_text(encoding="utf-8-sig").replace("발생일시", "일시"))
    refused = make("source-check", f"MAPPING={preset}", f"FILE={renamed}")
    assert refused.returncode != 0
    assert "the whole file would be refused: it has no column 발생일시" in refused.stdout

    broken = write_mapping(tmp_path, "broken", "delivers: esp_event\nfiles: a.csv\ncolumns: {}")
    bad = make("source-check", f"MAPPING={broken}", f"FILE={export}")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "'esp_event' is no entity of the contract" in bad.stderr
    assert make("source-check").stdout.startswith("usage: make source-check")


def test_a_file_without_a_mapped_column_is_refused_whole(warehouse, landing: Path) -> None:
    mapping = load_mapping(PRESETS / "esp_events_generic_csv.yml")
    export = landing / "esp" / "activity_20261121.csv"
    export.parent.mkdir(parents=True, exist_ok=True)
    export.write_text(
        (EXPORTS / "esp_activity_20261120.csv")
        .read_text(encoding="utf-8-sig")
        .replace("캠페인ID", "캠페인번호"),
        encoding="utf-8",
    )
    [result] = load_entity_files(warehouse, mapping.spec, landing, SALT, mappings=[mapping])
    assert (result.rows_loaded, result.rows_quarantined) == (0, 8)
    reasons = {q[2:] for q in quarantine(warehouse)}
    assert reasons == {
        (
            "header",
            "header_mismatch",
            "activity_20261121.csv has no column 캠페인ID, which the mapping "
            "esp_events_generic_csv reads (wrong file, or the export's layout changed?)",
        )
    }


def test_the_raw_asset_reads_the_mappings_folder_and_names_what_it_left(tmp_path: Path) -> None:
    """As a run does it: the settings name the mappings folder; the asset loads the mapped
    export besides the contract's own files, and its metadata names the columns not read."""
    import dagster as dg

    from ingest.schemas import ESP_EVENTS
    from ingest.settings import Settings
    from orchestration.assets.ingest import build_file_asset
    from orchestration.definitions import default_resources

    settings = Settings.from_env({"GOGAEK_DATA_DIR": str(tmp_path)})
    mappings = Path(settings.mappings_dir)
    mappings.mkdir(parents=True)
    (mappings / "esp.yml").write_bytes((PRESETS / "esp_events_generic_csv.yml").read_bytes())
    export = Path(settings.landing_dir) / "esp" / "activity_20261120.csv"
    export.parent.mkdir(parents=True)
    export.write_bytes((EXPORTS / "esp_activity_20261120.csv").read_bytes())
    resources = default_resources(settings)

    result = dg.materialize([build_file_asset(ESP_EVENTS)], resources=resources)

    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["rows_loaded"].value == 7 and metadata["rows_quarantined"].value == 1
    assert metadata["export_columns_not_read"].value == {
        "esp/activity_20261120.csv": ["캠페인명", "수신자 휴대폰"]
    }
    assert metadata["export_columns_read"].value == {
        "esp/activity_20261120.csv": ["캠페인ID", "수신자", "이벤트", "발생일시", "링크", "사유"]
    }
    assert "| esp/activity_20261120.csv | esp | loaded | 8 | 7 | 1 | 0 |" in (
        metadata["batches"].value
    )


def test_a_call_log_in_tab_separated_euc_kr_and_one_in_json_lines(
    warehouse, landing: Path, tmp_path: Path
) -> None:
    """Exports as other systems write them: a CTI's tab-separated log in EUC-KR (as the mapping
    names it), and a JSON Lines dump with its own keys and one broken line."""
    folder = tmp_path / "mappings"
    rules = """
columns:
  direction: {value: inbound}
  call_id: {from: %(id)s}
  caller_number: {from: %(caller)s}
  started_at: {from: %(start)s, format: "%%Y/%%m/%%d %%H:%%M:%%S"}
  category: {from: %(kind)s, values: {문의: 문의, 불만: 불만, A: 문의, C: 불만}}
  duration_sec: {from: %(seconds)s}
"""
    tsv = load_mapping(
        write_mapping(
            folder,
            "cti",
            "delivers: callcenter_calls\nfiles: callcenter/cti_*.tsv\nencoding: euc-kr\n"
            "delimiter: tab\n"
            + rules
            % dict(id="통화ID", caller="발신번호", start="시작", kind="유형", seconds="통화초"),
        )
    )
    jsonl = load_mapping(
        write_mapping(
            folder,
            "dump",
            "delivers: callcenter_calls\nfiles: callcenter/dump_*.jsonl\nformat: jsonl\n"
            + rules % dict(id="id", caller="ani", start="begin", kind="type", seconds="secs"),
        )
    )
    (landing / "callcenter").mkdir(parents=True, exist_ok=True)
    tsv_text = "통화ID\t발신번호\t시작\t유형\t통화초\n"
    tsv_text += "T1\t010-1111-2222\t2026/11/20 09:10:00\t문의\t180\n"
    (landing / "callcenter" / "cti_1.tsv").write_bytes(tsv_text.encode("euc-kr"))
    (landing / "callcenter" / "dump_1.jsonl").write_text(
        '{"id": "J1", "ani": "01033334444", "begin": "2026/11/20 10:00:00", "type": "C", '
        '"secs": 95}\n{"id": "J2", "ani": \n["not", "an", "object"]\n',
        encoding="utf-8",
    )
    from ingest.schemas import CALLCENTER_CALLS

    results = load_entity_files(warehouse, CALLCENTER_CALLS, landing, SALT, mappings=[tsv, jsonl])

    assert [(r.rows_read, r.rows_loaded, r.rows_quarantined) for r in results] == [
        (1, 1, 0),
        (3, 1, 2),
    ]
    calls = warehouse.execute(
        "select call_id, caller_number, started_at, category, duration_sec "
        "from raw.callcenter_calls order by call_id"
    ).fetchall()
    assert calls == [
        ("J1", "01033334444", "2026-11-20 10:00:00", "불만", "95"),
        ("T1", "010-1111-2222", "2026-11-20 09:10:00", "문의", "180"),
    ]
    assert [q[3] for q in quarantine(warehouse)] == ["malformed_json", "not_an_object"]


# ------------------------------------------------------------------ one file, several entities


def land(landing: Path, target: str, sample: str) -> Path:
    path = landing / target
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((EXPORTS / sample).read_bytes())
    return path


def load_preset(warehouse, landing: Path, preset: str) -> dict[str, list]:
    """Every delivery of a preset over the landing folder: entity → its batch results."""
    out: dict[str, list] = {}
    for mapping in load_deliveries(PRESETS / preset):
        out.setdefault(mapping.spec.name, []).extend(
            load_entity_files(warehouse, mapping.spec, landing, SALT, mappings=[mapping])
        )
    return out


def test_shopify_continuation_rows_make_an_order_its_lines_and_its_refund(
    warehouse, landing: Path
) -> None:
    land(landing, "shopify/orders_export_20261123.csv", "shopify_orders_export_20261123.csv")
    results = load_preset(warehouse, landing, "shop_shopify_orders_csv.yml")

    # 6 rows: 5 orders (one row continues #1001), 6 line items, 1 partial refund.
    assert [(r.rows_read, r.rows_loaded, r.rows_skipped) for r in results["shop_orders"]] == [
        (5, 5, 1)
    ]
    assert [r.rows_loaded for r in results["shop_order_items"]] == [6]
    assert [(r.rows_loaded, r.rows_skipped) for r in results["shop_claims"]] == [(1, 5)]
    items = warehouse.execute(
        "select order_item_id, order_id, product_code, quantity, unit_price, updated_at "
        "from raw.shop_order_items where order_id = '5501000000001' order by 1"
    ).fetchall()
    # The second line item's row leaves Id and the times empty: its group's first row fills them.
    assert items == [
        (
            "5501000000001001",
            "5501000000001",
            "P-1001",
            "2",
            "15000.00",
            "2026-11-19T14:00:00+09:00",
        ),
        (
            "5501000000001002",
            "5501000000001",
            "P-2002",
            "1",
            "30000.00",
            "2026-11-19T14:00:00+09:00",
        ),
    ]
    orders = warehouse.execute(
        "select order_id, status, total_amount, updated_at from raw.shop_orders order by 1"
    ).fetchall()
    assert orders == [
        ("5501000000001", "paid", "63000.00", "2026-11-19T14:00:00+09:00"),
        ("5501000000002", "paid", "45000.00", "2026-11-21T11:30:00+09:00"),
        ("5501000000003", "returned", "29000.00", "2026-11-20T10:00:00+09:00"),
        ("5501000000004", "cancelled", "18000.00", "2026-11-21T09:30:00+09:00"),  # voided
        ("5501000000005", "pending_payment", "33000.00", "2026-11-22T16:20:00+09:00"),
    ]
    assert warehouse.execute(
        "select claim_id, claim_type, claim_status, refund_amount from raw.shop_claims"
    ).fetchall() == [("5501000000002", "return", "completed", "15000.00")]
    # Columns of the export no delivery reads are named, never stored: the buyer's notes
    # (a line break in one), addresses, payment references.
    unused = results["shop_orders"][0].unused_columns
    assert {"Notes", "Billing Address1", "Payment Reference"} <= set(unused)
    assert "Lineitem sku" not in unused  # read by the order items


def test_one_member_row_makes_a_member_and_two_consents_each_loaded_once(
    warehouse, landing: Path
) -> None:
    land(landing, "cafe24/members_20261120.csv", "cafe24_members_20261120.csv")
    first = load_preset(warehouse, landing, "shop_cafe24_members_csv.yml")
    again = load_preset(warehouse, landing, "shop_cafe24_members_csv.yml")

    assert [r.rows_loaded for r in first["shop_members"]] == [3]
    assert [r.rows_loaded for r in first["shop_marketing_consents"]] == [3, 3]
    assert {r.status for rs in again.values() for r in rs} == {"already_loaded"}
    digest = str(int(__import__("hashlib").sha256(b"hana_lee").hexdigest()[:12], 16))
    assert warehouse.execute(
        "select channel, consented from raw.shop_marketing_consents where member_id = ? order by 1",
        [digest],
    ).fetchall() == [("email", "1"), ("sms", "0")]
    # CP949 text, a birth date written 19951130, a phone with spaces: read as written.
    assert warehouse.execute(
        "select login_id, name, mobile, birth_date from raw.shop_members where member_id = ?",
        [digest],
    ).fetchall() == [("hana_lee", "이하나", "010 9876 5432", "1995-11-30")]


def test_cafe24_returned_items_make_a_claim_of_the_actual_refund(warehouse, landing: Path) -> None:
    land(landing, "cafe24/orders_20261120.xlsx", "cafe24_orders_20261120.xlsx")
    load_preset(warehouse, landing, "shop_cafe24_orders_xlsx.yml")
    assert warehouse.execute(
        "select order_id, status, total_amount from raw.shop_orders order by 1"
    ).fetchall() == [
        ("202611190000101", "delivered", "78000"),
        ("202611190000102", "delivered", "60000"),
        ("202611200000103", "confirmed", "18000"),  # amounts typed as text: "18,000"
        ("202611200000104", "pending_payment", "29000"),
        ("202611200000105", "cancelled", "33000"),
    ]
    # The returned item is the order's second row: the claim is made from it, not the first.
    assert warehouse.execute(
        "select claim_id, refund_amount, completed_at from raw.shop_claims"
    ).fetchall() == [("202611190000102", "45000", "2026-11-24 16:00:00")]
    assert warehouse.execute(
        "select claim_id, order_item_id, quantity from raw.shop_claim_items"
    ).fetchall() == [("202611190000102", "20261119000010202", "1")]


def test_an_order_status_outside_the_value_map_is_quarantined_with_its_reason(
    warehouse, landing: Path, tmp_path: Path
) -> None:
    export = land(
        landing, "shopify/orders_export_20261124.csv", "shopify_orders_export_20261123.csv"
    )
    export.write_text(
        export.read_text(encoding="utf-8").replace(",pending,", ",expired,"), encoding="utf-8"
    )
    results = load_preset(warehouse, landing, "shop_shopify_orders_csv.yml")
    assert [(r.rows_loaded, r.rows_quarantined) for r in results["shop_orders"]] == [(4, 1)]
    [(line, field, code, reason)] = warehouse.execute(
        "select source_line, field, reason_code, reason from raw._quarantine "
        "where entity = 'orders'"
    ).fetchall()
    assert (line, field, code) == (7, "status", "unmapped_value")
    assert reason.startswith("status: Financial Status 'expired' is in no value of the mapping")


@pytest.mark.mariadb
def test_a_youngcart_database_read_whole_deletes_only_what_it_delivered(
    warehouse, landing: Path
) -> None:
    """영카트 on MariaDB through the preset: read whole at every load; a member who leaves
    (mb_leave_date) is marked deleted; members another delivery brought stay."""
    import sqlalchemy as sa

    from tests.test_presets_pipeline import seed_youngcart

    land(landing, "cafe24/members_20261120.csv", "cafe24_members_20261120.csv")
    cafe24 = load_deliveries(PRESETS / "shop_cafe24_members_csv.yml")
    load_entity_files(warehouse, BY_NAME["shop_members"], landing, SALT, mappings=cafe24)
    [members] = [
        m
        for m in load_deliveries(PRESETS / "shop_youngcart_mariadb.yml")
        if m.spec.name == "shop_members"
    ]
    for engine in mariadb_database():
        seed_youngcart(engine)
        first = load_shop_table(
            warehouse, engine, members.spec, SALT, timedelta(0), mapping=members
        )
        assert (first.rows_read, first.rows_loaded, first.deleted) == (3, 3, 0)
        with engine.begin() as connection:
            connection.execute(
                sa.text("update g5_member set mb_leave_date = '20261205' where mb_id = 'dongho'")
            )
        second = load_shop_table(
            warehouse, engine, members.spec, SALT, timedelta(0), mapping=members
        )
        assert (second.rows_read, second.rows_loaded, second.rows_unchanged, second.deleted) == (
            2,
            0,
            2,
            1,
        )
    deleted = warehouse.execute(
        "select record_key from raw._deletions where entity = 'members' and restored_at is null"
    ).fetchall()
    assert deleted == [("3",)]  # dongho's mb_no; the Cafe24 members are not the query's


@pytest.mark.mariadb
def test_make_source_check_previews_a_database_mapping() -> None:
    from tests.test_presets_pipeline import seed_youngcart

    for engine in mariadb_database():
        seed_youngcart(engine)
        url = engine.url.render_as_string(hide_password=False)
        shown = subprocess.run(
            [
                "make",
                "-s",
                "--no-print-directory",
                "source-check",
                f"MAPPING={PRESETS / 'shop_youngcart_mariadb.yml'}",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**__import__("os").environ, "YOUNGCART_DB_URL": url},
        )
    assert shown.returncode == 0, shown.stderr
    assert "shop_youngcart_mariadb:shop_orders" in shown.stdout
    assert "'status': 'delivered', 'total_amount': '55000'" in shown.stdout
    assert "would load 6 of 6 rows, quarantine 0" in shown.stdout  # the order lines


def test_a_shop_database_that_does_not_answer_fails_the_load_with_a_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a run does it: a 영카트 mapping whose server is down stops its raw asset with a
    sentence naming the mapping, the database and the setting, not a driver's traceback."""
    import dagster as dg

    from ingest.settings import Settings
    from orchestration.assets.ingest import build_shop_asset
    from orchestration.definitions import default_resources

    settings = Settings.from_env({"GOGAEK_DATA_DIR": str(tmp_path)})
    mappings = Path(settings.mappings_dir)
    mappings.mkdir(parents=True)
    (mappings / "youngcart.yml").write_bytes((PRESETS / "shop_youngcart_mariadb.yml").read_bytes())
    # Nothing listens on port 9: the driver's connection is refused.
    monkeypatch.setenv("YOUNGCART_DB_URL", "mysql+pymysql://reader:secret@127.0.0.1:9/youngcart")

    result = dg.materialize(
        [build_shop_asset(BY_NAME["shop_orders"])],
        resources=default_resources(settings),
        raise_on_error=False,
    )

    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    said = failure.step_failure_data.user_failure_data.description
    assert said.startswith(f"mapping {mappings / 'youngcart.yml'}: shop_orders: the database at ")
    assert "127.0.0.1:9" in said and "check YOUNGCART_DB_URL" in said
    assert "secret" not in said  # the password is never shown


def test_a_korean_half_day_and_an_offset_are_read_as_written(tmp_path: Path) -> None:
    mapping = load_mapping(
        write_mapping(
            tmp_path,
            "calls",
            "delivers: callcenter_calls\nfiles: callcenter/*.csv\ncolumns:\n"
            "  call_id: {from: ID}\n  direction: {value: inbound}\n"
            "  started_at:\n    from: 시작\n"
            "    format: ['%Y-%m-%d %p %I:%M:%S', '%Y-%m-%d %H:%M:%S %z']\n",
        )
    )
    made = [
        mapping.contract_row({"ID": "1", "시작": when})[1]
        for when in (
            "2026-11-20 오후 3:15:00",
            "2026-11-20 오전 12:05:00",
            "2026-11-20 06:00:00 +0000",
        )
    ]
    assert made == ["2026-11-20 15:15:00", "2026-11-20 00:05:00", "2026-11-20T06:00:00+00:00"]


def test_a_key_excel_wrote_in_scientific_notation_is_quarantined_not_shortened(
    tmp_path: Path,
) -> None:
    """Cafe24's guide warns of it: a long order number Excel took for a number is saved as
    2.0261119E+14. Its digits are gone; keeping those left would be another order's key."""
    mapping = load_mapping(
        write_mapping(
            tmp_path,
            "orders",
            "delivers: shop_order_items\nfiles: a.csv\ncolumns:\n"
            "  order_item_id: {from: 품목, number: digits}\n"
            "  order_id: {from: 주문, number: digits}\n"
            "  product_code: {from: 상품}\n  quantity: {from: 수량}\n  unit_price: {from: 가격}\n"
            "  updated_at: {from: 시각}\n",
        )
    )
    row = {"품목": "20261119-0000101-01", "상품": "P-1", "수량": "1", "가격": "1000"}
    row["시각"] = "2026-11-19 10:00:00"
    assert mapping.contract_row({**row, "주문": "20261119-0000101"})[:2] == [
        "20261119000010101",
        "202611190000101",
    ]
    refused = mapping.contract_row({**row, "주문": "2.0261119E+14"})
    assert (refused.field, refused.code) == ("order_id", "bad_number")
    assert "scientific notation" in refused.reason
