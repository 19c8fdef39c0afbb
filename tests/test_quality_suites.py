"""Contact validators and Great Expectations suites on small tables with known good and bad rows:
the good rows pass every rule, each bad row fails exactly the rule written for it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ingest.personal_data import mask
from ingest.raw_store import ensure_raw_schema
from ingest.schemas import BY_NAME
from quality import history
from quality.contacts import (
    KNOWN_TYPO_DOMAINS,
    email_verdict,
    mobile_verdict,
    phone_verdict,
    postal_verdict,
)
from quality.runner import SuiteRunner
from quality.suites import all_suites, suite

DBT_CONTACTS = Path(__file__).resolve().parents[1] / "dbt_project" / "macros" / "contacts.sql"


# --------------------------------------------------------------------------- validators
@pytest.mark.parametrize("value, verdict", [
    ("010-2345-6789", "valid"), ("01023456789", "valid"), ("+82 10-2345-6789", "valid"),
    ("8210 2345 6789", "valid"), ("1023456789", "leading_zero_lost"),
    ("011-234-5678", "legacy_prefix"), ("016-2345-6789", "legacy_prefix"),
    ("019-876-5432", "legacy_prefix"), ("010-0000-0000", "dummy_number"),
    ("010-1111-1111", "dummy_number"), ("010-0000-1234", "dummy_number"),
    ("010-123-456", "too_short"), ("010-2345-67890", "too_long"),
    ("02-345-6789", "not_a_mobile"), ("없음", "invalid_number"), ("", None), (None, None),
])
def test_mobile_verdicts(value: str | None, verdict: str | None) -> None:
    assert mobile_verdict(value) == verdict


@pytest.mark.parametrize("value, verdict", [
    ("02-345-6789", "valid"), ("031-234-5678", "valid"), ("070-2345-6789", "valid"),
    ("1588-2345", "valid"), ("064-712-3456", "valid"), ("02-000-0000", "dummy_number"),
    ("02-123-45", "too_short"), ("099-123-4567", "invalid_number"),
])
def test_landline_verdicts(value: str, verdict: str) -> None:
    assert phone_verdict(value) == verdict


@pytest.mark.parametrize("value, verdict", [
    ("minsu@naver.com", "valid"), ("Kim.MS@Naver.com", "valid"), ("a.b+c@company.co.kr", "valid"),
    ("minsu.naver.com", "no_at_sign"), ("minsu＠naver.com", "no_at_sign"),
    ("없음", "placeholder"), ("-", "placeholder"), ("minsu@naver", "bad_format"),
    ("minsu@naver.con", "typo_domain"), ("minsu@gmial.com", "typo_domain"),
    ("minsu@outlok.com", "typo_domain"), ("minsu@hanmail.com", "typo_domain"),
    ("minsu@nate.com", "valid"), (" ", None),
])
def test_email_verdicts(value: str, verdict: str | None) -> None:
    assert email_verdict(value) == verdict


def test_python_typo_list_covers_the_dbt_macro_list() -> None:
    text = DBT_CONTACTS.read_text(encoding="utf-8")
    block = text[text.index("email_typo_domains() -%}"):text.index("{%- endmacro %}",
                                                                    text.index("email_typo"))]
    import re
    pairs = dict(re.findall(r"'([a-z.]+)': '([a-z.]+)'", block))
    assert pairs and all(KNOWN_TYPO_DOMAINS.get(typo) == fix for typo, fix in pairs.items())


@pytest.mark.parametrize("value, verdict", [
    ("06236", "valid"), ("135-080", "legacy_6_digit"), ("135080", "legacy_6_digit"),
    ("6236", "leading_zero_lost"), ("서울", "bad_format"), ("", None),
])
def test_postal_verdicts(value: str, verdict: str | None) -> None:
    assert postal_verdict(value) == verdict


def test_one_mask_for_every_personal_value() -> None:
    assert mask("010-2345-6789") == "***-****-6789"
    assert mask("minsu@naver.com") == "mi***@naver.com"
    assert mask("minsu＠naver.com") == "mi***＠naver.com"
    assert mask("minsu1234.naver.com") == "mi*****************"
    # an RRN never shows more than the two digits of its birth year, in any spelling
    assert mask("900101-1234567") == "90****-*******"
    assert mask("메모 ９００１０１－１２３４５６７ 확인") == "90****-*******"


# --------------------------------------------------------------------------- suites
def _raw_table(con: duckdb.DuckDBPyConnection, entity: str, rows: list[dict[str, str]]) -> None:
    spec = BY_NAME[entity]
    con.execute(f"insert into raw._load_batches values ('b-{entity}', '{spec.source}', "
                f"'{spec.entity}', 'test', null, 'loaded', {len(rows)}, {len(rows)}, 0, 0, 0, "
                "now(), now())")
    frame = pd.DataFrame([{spec.stored_name(c): row.get(c.name) for c in spec.columns}
                          for row in rows])
    frame["_batch_id"] = f"b-{entity}"
    con.register("_rows", frame)
    con.execute(f"create or replace table {spec.raw_table} as select * from _rows")
    con.unregister("_rows")


def _table(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict[str, object]]) -> None:
    con.execute(f"create schema if not exists {name.split('.')[0]}")
    con.register("_rows", pd.DataFrame(rows))
    con.execute(f"create or replace table {name} as select * from _rows")
    con.unregister("_rows")


GOOD_MOBILES = ["010-2345-6789", "010-3456-7890", "010-4567-8901", "010-5678-9012",
                "010-6789-0123", "010-7890-1234", "010-8901-2345", "010-9012-3456",
                "010-2468-1357", "010-3579-2468"]


def _erp_customer(i: int, **overrides: str) -> dict[str, str]:
    row = {"고객번호": f"C{i:04d}", "고객명": "김민수", "휴대폰": GOOD_MOBILES[i % 10],
           "자택전화": "02-345-6789", "직장전화": "031-234-5678", "팩스": "",
           "이메일": f"user{i}@naver.com", "우편번호": "06236", "주소": "서울 강남구 테헤란로 152",
           "비고": "", "가입일": "2020-01-01", "수정일시": "2026-11-18 21:05:00"}
    row.update(overrides)
    return row


def _shop_member(i: int, **overrides: str) -> dict[str, str]:
    row = {"member_id": str(i), "name": "이영희", "mobile": GOOD_MOBILES[i % 10],
           "email": f"m{i}@daum.net", "zipcode": "48058", "address1": "부산 해운대구 중앙로 1",
           "joined_at": "2021-01-01 00:00:00", "updated_at": "2026-11-18 00:00:00"}
    row.update(overrides)
    return row


def _staged_customer(i: int, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "erp_customer_no": f"C{i:04d}", "mobile_raw": GOOD_MOBILES[i % 10],
        "mobile_e164": "+82" + GOOD_MOBILES[i % 10].replace("-", "")[1:],
        "mobile_status": "valid", "email": f"user{i}@naver.com", "email_status": "valid",
        "postal_code": "06236", "postal_code_status": "valid", "address": "서울 중앙로 1"}
    row.update(overrides)
    return row


def _build(con: duckdb.DuckDBPyConnection, case: str, bad: dict[str, object] | None) -> None:
    """Tables for one suite: 30 good rows, plus bad rows spelled out by the case."""
    bad = bad or {}
    if case == "raw_erp_customers":
        rows = [_erp_customer(i) for i in range(30)] + [_erp_customer(99, **bad)]
        _raw_table(con, "erp_customers", rows)
    elif case == "raw_shop_members":
        _raw_table(con, "shop_members", [_shop_member(i) for i in range(30)]
                   + [_shop_member(99, **bad)])
    elif case == "raw_callcenter_calls":
        rows = [{"call_id": f"c{i}", "caller_number": GOOD_MOBILES[i % 10], "memo": "",
                 "started_at": "2026-11-18T09:00:00+09:00", "direction": "inbound"}
                for i in range(30)]
        _raw_table(con, "callcenter_calls", [*rows, {**rows[0], "call_id": "c99", **bad}])
    elif case == "raw_esp_events":
        rows = [{"event_id": f"ev-{i}", "recipient": f"user{i}@naver.com", "campaign_id": "c",
                 "event_type": "sent", "occurred_at": "2026-11-18T09:00:00+09:00"}
                for i in range(29)] + [{"event_id": "ev-0sms", "recipient": "010-2345-6789"}]
        _raw_table(con, "esp_events", [*rows, {**rows[0], "event_id": "ev-99", **bad}])
    elif case in ("stg_erp__customers", "stg_shop__members"):
        rows = [_staged_customer(i) for i in range(30)] + [_staged_customer(99, **bad)]
        if case == "stg_shop__members":
            rows = [{"shop_member_id": 1000 + int(str(r.pop("erp_customer_no"))[1:]), **r}
                    for r in rows]
        _table(con, f"staging.{case}", rows)
    elif case in ("stg_erp__orders", "stg_erp__order_lines"):
        _table(con, "staging.stg_erp__customers", [_staged_customer(i) for i in range(30)])
        orders = [{"erp_order_no": f"O{i}", "erp_customer_no": f"C{i % 30:04d}",
                   "order_date": datetime(2026, 11, 1).date(),
                   "order_status": "returned" if i == 0 else "completed",
                   "document_type": "credit_note" if i == 0 else "order"} for i in range(30)]
        lines = [{"erp_order_no": f"O{i}", "line_no": 1, "quantity": -1 if i == 0 else 2,
                  "unit_price": 10_000} for i in range(30)]
        if case == "stg_erp__orders":
            orders.append({**orders[1], "erp_order_no": "O99", **bad})
        else:
            lines.append({**lines[1], "erp_order_no": "O1", "line_no": 2, **bad})
        _table(con, "staging.stg_erp__orders", orders)
        _table(con, "staging.stg_erp__order_lines", lines)
    elif case in ("stg_shop__orders", "stg_shop__order_items"):
        _table(con, "staging.stg_shop__members", [{"shop_member_id": i} for i in range(30)])
        # Order 0 is a credit note (negative quantities), order 1 a guest order.
        orders = [{"shop_order_id": i, "shop_member_id": None if i == 1 else i,
                   "is_guest_order": i == 1, "document_type": "credit_note" if i == 0 else "order",
                   "ordered_at": datetime(2026, 11, 1, 10)} for i in range(30)]
        items = [{"shop_order_item_id": i, "shop_order_id": i, "quantity": -1 if i == 0 else 1,
                  "unit_price": 25_000} for i in range(30)]
        if case == "stg_shop__orders":
            orders.append({**orders[1], "shop_order_id": 99, **bad})
        else:
            items.append({**items[1], "shop_order_item_id": 99, **bad})
        _table(con, "staging.stg_shop__orders", orders)
        _table(con, "staging.stg_shop__order_items", items)
    elif case == "stg_esp__events":
        _table(con, "staging.stg_esp__campaigns", [{"campaign_id": "cmp-1"}])
        events = [{"event_id": f"ev-{i}", "event_type": "delivered", "campaign_id": "cmp-1"}
                  for i in range(30)]
        _table(con, "staging.stg_esp__events", [*events, {**events[1], "event_id": "ev-99", **bad}])


# (suite, bad row, the rules that must fail)
BAD_ROWS = [
    ("raw_erp_customers", {"고객번호": "C0001"}, {"customer_no_unique"}),
    ("raw_shop_members", {"member_id": "1"}, {"member_id_unique"}),
    ("raw_callcenter_calls", {"call_id": "c1"}, {"call_id_unique"}),
    ("raw_esp_events", {"event_id": None}, {"event_id_not_null"}),
    ("stg_erp__customers", {"erp_customer_no": "C0001"}, {"customer_no_unique"}),
    ("stg_erp__customers", {"mobile_e164": "+8210123"}, {"mobile_e164_format",
                                                         "mobile_confirmed_by_phonenumbers"}),
    ("stg_shop__members", {"mobile_e164": "+82100000000000"},
     {"mobile_e164_format", "mobile_confirmed_by_phonenumbers"}),
    ("stg_erp__orders", {"order_date": datetime(2099, 1, 1).date()},
     {"order_date_not_in_future"}),
    ("stg_erp__orders", {"erp_order_no": "O1"}, {"order_no_unique"}),
    ("stg_erp__order_lines", {"quantity": -3}, {"quantity_non_negative_except_returns"}),
    ("stg_erp__order_lines", {"unit_price": 900_000_000}, {"unit_price_within_bounds"}),
    ("stg_shop__orders", {"ordered_at": datetime(2099, 1, 1)}, {"order_date_not_in_future"}),
    ("stg_shop__order_items", {"quantity": -1}, {"quantity_non_negative_except_credit_notes"}),
    ("stg_shop__order_items", {"unit_price": -5}, {"unit_price_within_bounds"}),
    ("stg_esp__events", {"event_id": "ev-1"}, {"event_id_unique"}),
    ("stg_esp__events", {"event_id": None}, {"event_id_not_null"}),
]
# Warning rules with a `mostly`: 30 good rows and 10 bad ones push the share below it.
SHARE_CASES = [
    ("raw_erp_customers", "휴대폰", "011-234-5678", {"mobile_valid", "mobile_not_legacy_prefix"}),
    ("raw_erp_customers", "이메일", "kim@naver.con", {"email_valid", "email_no_typo_domain"}),
    ("raw_erp_customers", "우편번호", "135-080", {"postal_code_5_digit",
                                                 "postal_code_not_legacy"}),
    ("raw_shop_members", "mobile", "010-0000-0000", {"mobile_valid"}),
    ("raw_callcenter_calls", "caller_number", "02-12", {"caller_number_valid"}),
    ("raw_esp_events", "recipient", "kim＠naver.com", {"recipient_valid"}),
]


@pytest.fixture(scope="module")
def runner() -> SuiteRunner:
    return SuiteRunner(None)  # ephemeral GE context: the same validation, nothing stored


def _validate(runner: SuiteRunner, tmp_path: Path, name: str,
              bad: dict[str, object] | None, extra: int = 0) -> dict[str, bool]:
    con = duckdb.connect(str(tmp_path / f"{name}.duckdb"))
    ensure_raw_schema(con)
    _build(con, name, bad)
    if extra:  # more bad rows for the share rules
        spec = {"raw_erp_customers": "erp_customers", "raw_shop_members": "shop_members",
                "raw_callcenter_calls": "callcenter_calls", "raw_esp_events": "esp_events"}[name]
        table = BY_NAME[spec].raw_table
        key = BY_NAME[spec].key_columns[0]
        for i in range(extra):
            con.execute(f"insert into {table} select * replace ('{i}x' || \"{key}\" as \"{key}\") "
                        f"from {table} where \"{key}\" in (select max(\"{key}\") from {table})")
    outcome = runner.validate_duckdb(suite(name), con, "test")
    history.append(con, outcome)
    assert con.execute("select count(*) from dq.validation_results").fetchone()[0] == \
        len(suite(name).rules)
    con.close()
    return {r.rule.name: r.success for r in outcome.rules}


@pytest.mark.parametrize("name", [s.name for s in all_suites()])
def test_good_rows_pass_every_rule(runner: SuiteRunner, tmp_path: Path, name: str) -> None:
    results = _validate(runner, tmp_path, name, None)
    assert results and all(results.values()), results


@pytest.mark.parametrize("name, bad, failing", BAD_ROWS)
def test_a_bad_row_fails_its_rule(runner: SuiteRunner, tmp_path: Path, name: str,
                                  bad: dict[str, object], failing: set[str]) -> None:
    results = _validate(runner, tmp_path, name, bad)
    assert {rule for rule, ok in results.items() if not ok} == failing


@pytest.mark.parametrize("name, column, value, failing", SHARE_CASES)
def test_too_many_bad_values_fail_the_share_rules(runner: SuiteRunner, tmp_path: Path, name: str,
                                                  column: str, value: str,
                                                  failing: set[str]) -> None:
    results = _validate(runner, tmp_path, name, {column: value}, extra=9)
    assert {rule for rule, ok in results.items() if not ok} == failing


def test_failing_examples_are_masked_and_docs_are_built(tmp_path: Path) -> None:
    docs_runner = SuiteRunner(tmp_path / "gx_docs", build_docs=True)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_raw_schema(con)
    _build(con, "raw_erp_customers", {"휴대폰": "011-234-5678"})
    outcome = docs_runner.validate_duckdb(suite("raw_erp_customers"), con, "docs-test")
    mobile = next(r for r in outcome.rules if r.rule.name == "mobile_valid")
    assert mobile.unexpected_count == 1 and mobile.examples == ["***-***-5678 (legacy_prefix)"]
    assert outcome.docs_url and Path(outcome.docs_url.removeprefix("file://")).exists()
    assert docs_runner.docs_index.exists()
    # Data Docs never list the failing contact values themselves
    page = Path(outcome.docs_url.removeprefix("file://")).read_text(encoding="utf-8")
    assert "234-5678" not in page
