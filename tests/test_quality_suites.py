"""Great Expectations suites on small tables with known good and bad rows: the good rows pass
every rule, each bad row fails exactly the rule written for it. (The contact verdicts themselves
are the staging models' and are tested as dbt unit tests; here the suites read them.)"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ingest.personal_data import mask
from ingest.raw_store import ensure_raw_schema
from ingest.schemas import BY_NAME
from quality import history
from quality.contacts import phonenumbers_opinion
from quality.runner import SuiteRunner
from quality.suites import all_suites, suite


# --------------------------------------------------------------------------- second opinion
@pytest.mark.parametrize(
    "raw, verdict, opinion",
    [
        ("010-2345-6789", "valid", "agrees"),
        ("02-345-6789", "valid", "agrees"),
        ("010-234-56", "too_short", "agrees"),
        ("099-123-4567", "unknown_prefix", "agrees"),
        ("010-234-56", "valid", "libphonenumber: not a valid number"),
        ("010-2345-6789", "too_short", "libphonenumber: valid"),
        # libphonenumber still accepts 10-digit 010 numbers; the numbering plan
        # (seed phone_prefixes) issues 010 with 8 subscriber digits only: a disagreement
        # worth a warning
        ("010-234-5678", "too_short", "libphonenumber: valid"),
        # our own rules are not libphonenumber's to judge
        ("011-234-5678", "legacy_prefix", None),
        ("010-0000-0000", "dummy_number", None),
        ("없음", "placeholder", None),
        (None, None, None),
    ],
)
def test_libphonenumber_second_opinion(
    raw: str | None, verdict: str | None, opinion: str | None
) -> None:
    assert phonenumbers_opinion(raw, verdict) == opinion


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
    con.execute(
        f"insert into raw._load_batches values ('b-{entity}', '{spec.source}', "
        f"'{spec.entity}', 'test', null, 'loaded', {len(rows)}, {len(rows)}, 0, 0, 0, "
        "now(), now())"
    )
    frame = pd.DataFrame(
        [{spec.stored_name(c): row.get(c.name) for c in spec.columns} for row in rows]
    )
    frame["_batch_id"] = f"b-{entity}"
    con.register("_rows", frame)
    con.execute(f"create or replace table {spec.raw_table} as select * from _rows")
    con.unregister("_rows")


def _table(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict[str, object]]) -> None:
    con.execute(f"create schema if not exists {name.split('.')[0]}")
    frame = pd.DataFrame(rows)
    # a column of nulls only is text here (a reason column where every value is valid)
    con.register("_rows", frame.astype({c: "string" for c in frame if frame[c].isna().all()}))
    con.execute(f"create or replace table {name} as select * from _rows")
    con.unregister("_rows")


GOOD_MOBILES = [
    "010-2345-6789",
    "010-3456-7890",
    "010-4567-8901",
    "010-5678-9012",
    "010-6789-0123",
    "010-7890-1234",
    "010-8901-2345",
    "010-9012-3456",
    "010-2468-1357",
    "010-3579-2468",
]
VALID = {"status": "valid", "reason": None}


def _contact(
    prefix: str, raw: str | None, status: str = "valid", reason: str | None = None
) -> dict[str, object]:
    return {f"{prefix}_raw": raw, f"{prefix}_status": status, f"{prefix}_invalid_reason": reason}


def _staged_customer(i: int, shop: bool = False) -> dict[str, object]:
    row: dict[str, object] = {
        **_contact("mobile", GOOD_MOBILES[i % 10]),
        **_contact("email", f"user{i}@naver.com"),
        **_contact("postal_code", "06236"),
        "address": "서울 중앙로 1",
    }
    if not shop:
        row |= {
            **_contact("home_phone", "02-345-6789"),
            **_contact("work_phone", "031-234-5678"),
            **_contact("fax", None, "missing"),
        }
    return row


def _build(con: duckdb.DuckDBPyConnection, case: str, bad: dict[str, object], n_bad: int) -> None:
    """Tables for one suite: 30 good rows and n_bad rows changed as the case says."""
    if case == "raw_erp_customers":
        rows = [
            {
                "고객번호": f"C{i:04d}",
                "고객명": "김민수",
                "주소": "서울 강남구 테헤란로 152",
                "가입일": "2020-01-01",
                "수정일시": "2026-11-18 21:05:00",
            }
            for i in range(30)
        ]
        _raw_table(
            con,
            "erp_customers",
            rows + [{**rows[0], "고객번호": f"X{i}", **bad} for i in range(n_bad)],
        )
    elif case == "raw_shop_members":
        rows = [
            {"member_id": str(i), "name": "이영희", "address1": "부산 해운대구 중앙로 1"}
            for i in range(30)
        ]
        _raw_table(
            con,
            "shop_members",
            rows + [{**rows[0], "member_id": f"9{i}", **bad} for i in range(n_bad)],
        )
    elif case == "raw_callcenter_calls":
        rows = [{"call_id": f"c{i}"} for i in range(30)]
        _raw_table(
            con, "callcenter_calls", rows + [{"call_id": f"x{i}", **bad} for i in range(n_bad)]
        )
    elif case == "raw_esp_events":
        rows = [{"event_id": f"ev-{i}"} for i in range(30)]
        _raw_table(con, "esp_events", rows + [{"event_id": f"x{i}", **bad} for i in range(n_bad)])
    elif case in ("stg_erp__customers", "stg_shop__members"):
        shop = case == "stg_shop__members"
        rows = [_staged_customer(i, shop) for i in range(30)]
        _table(
            con,
            f"staging.{case}",
            rows + [{**_staged_customer(99, shop), **bad} for _ in range(n_bad)],
        )
    elif case == "stg_callcenter__calls":
        rows = [
            {
                "caller_number_raw": GOOD_MOBILES[i % 10],
                "caller_status": "valid",
                "caller_invalid_reason": None,
            }
            for i in range(30)
        ]
        _table(
            con, "staging.stg_callcenter__calls", rows + [{**rows[0], **bad} for _ in range(n_bad)]
        )
    elif case == "stg_esp__events":
        rows = [
            {"recipient_raw": f"user{i}@naver.com", **_contact("recipient", None)}
            for i in range(30)
        ]
        rows = [{**r, "recipient_raw": f"user{i}@naver.com"} for i, r in enumerate(rows)]
        _table(con, "staging.stg_esp__events", rows + [{**rows[0], **bad} for _ in range(n_bad)])


# (suite, one bad row, the rules that must fail)
BAD_ROWS = [
    ("raw_erp_customers", {"고객번호": "C0001"}, {"customer_no_unique"}),
    ("raw_shop_members", {"member_id": "1"}, {"member_id_unique"}),
    ("raw_callcenter_calls", {"call_id": "c1"}, {"call_id_unique"}),
    ("raw_esp_events", {"event_id": None}, {"event_id_not_null"}),
    ("raw_erp_customers", {"고객번호": None}, {"customer_no_not_null"}),
    # Keys read as the contract reads them (ingest.schemas.key_value_sql), as the loaders do:
    # blank is missing, and a key is compared trimmed.
    ("raw_callcenter_calls", {"call_id": "   "}, {"call_id_not_null"}),
    ("raw_shop_members", {"member_id": " 1 "}, {"member_id_unique"}),
    # The ESP repeats events (EntitySpec.repeats_records): a repeated id breaks no rule.
    ("raw_esp_events", {"event_id": "ev-1"}, set()),
    # libphonenumber disagrees with the staging verdict, both ways
    ("stg_erp__customers", _contact("mobile", "010-234-56"), {"mobile_confirmed_by_phonenumbers"}),
    (
        "stg_erp__customers",
        _contact("home_phone", "02-345-6789", "invalid", "unknown_prefix"),
        {"home_phone_confirmed_by_phonenumbers"},
    ),
    (
        "stg_shop__members",
        _contact("mobile", "010-0000-12345"),
        {"mobile_confirmed_by_phonenumbers"},
    ),
    (
        "stg_callcenter__calls",
        {"caller_number_raw": "010-12", "caller_status": "valid"},
        {"caller_confirmed_by_phonenumbers"},
    ),
]
# Rules with a `mostly`: 30 good rows and 10 bad ones push the share below it.
SHARE_CASES = [
    ("raw_erp_customers", {"고객명": None}, {"name_present"}),
    ("raw_shop_members", {"address1": None}, {"address_present"}),
    (
        "stg_erp__customers",
        _contact("mobile", "011-234-5678", "invalid", "legacy_prefix"),
        {"mobile_valid", "mobile_not_legacy_prefix"},
    ),
    (
        "stg_erp__customers",
        _contact("email", "kim@naver.con", "invalid", "typo_domain"),
        {"email_valid", "email_no_typo_domain"},
    ),
    (
        "stg_erp__customers",
        _contact("postal_code", "135-080", "invalid", "legacy_6_digit"),
        {"postal_code_5_digit", "postal_code_not_legacy"},
    ),
    (
        "stg_erp__customers",
        _contact("work_phone", "02-000-0000", "invalid", "dummy_number"),
        {"work_phone_valid"},
    ),
    (
        "stg_shop__members",
        _contact("mobile", "010-0000-0000", "invalid", "dummy_number"),
        {"mobile_valid"},
    ),
    (
        "stg_callcenter__calls",
        {
            "caller_number_raw": "02-12",
            "caller_status": "invalid",
            "caller_invalid_reason": "too_short",
        },
        {"caller_valid"},
    ),
    (
        "stg_esp__events",
        _contact("recipient", "kim＠naver.com", "invalid", "no_at_sign"),
        {"recipient_valid"},
    ),
]


@pytest.fixture(scope="module")
def runner() -> SuiteRunner:
    return SuiteRunner(None)  # ephemeral GE context: the same validation, nothing stored


def _validate(
    runner: SuiteRunner, tmp_path: Path, name: str, bad: dict[str, object], n_bad: int
) -> dict[str, bool]:
    con = duckdb.connect(str(tmp_path / f"{name}-{n_bad}.duckdb"))
    ensure_raw_schema(con)
    _build(con, name, bad, n_bad)
    outcome = runner.validate_duckdb(suite(name), con, "test")
    history.append(con, outcome)
    assert con.execute("select count(*) from dq.validation_results").fetchone()[0] == len(
        suite(name).rules
    )
    con.close()
    return {r.rule.name: r.success for r in outcome.rules}


@pytest.mark.parametrize("name", [s.name for s in all_suites()])
def test_good_rows_pass_every_rule(runner: SuiteRunner, tmp_path: Path, name: str) -> None:
    results = _validate(runner, tmp_path, name, {}, 0)
    assert results and all(results.values()), results


@pytest.mark.parametrize("name, bad, failing", BAD_ROWS)
def test_a_bad_row_fails_its_rule(
    runner: SuiteRunner, tmp_path: Path, name: str, bad: dict[str, object], failing: set[str]
) -> None:
    results = _validate(runner, tmp_path, name, bad, 1)
    assert {rule for rule, ok in results.items() if not ok} == failing


@pytest.mark.parametrize("name, bad, failing", SHARE_CASES)
def test_too_many_bad_values_fail_the_share_rules(
    runner: SuiteRunner, tmp_path: Path, name: str, bad: dict[str, object], failing: set[str]
) -> None:
    assert _validate(runner, tmp_path, name, bad, 1)[sorted(failing)[0]]  # one alone passes
    results = _validate(runner, tmp_path, name, bad, 10)
    assert {rule for rule, ok in results.items() if not ok} == failing


def test_failing_examples_are_masked_and_docs_are_built(tmp_path: Path) -> None:
    docs_runner = SuiteRunner(tmp_path / "gx_docs", build_docs=True)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    _build(
        con, "stg_erp__customers", _contact("mobile", "011-234-5678", "invalid", "legacy_prefix"), 1
    )
    outcome = docs_runner.validate_duckdb(suite("stg_erp__customers"), con, "docs-test")
    mobile = next(r for r in outcome.rules if r.rule.name == "mobile_valid")
    assert mobile.unexpected_count == 1 and mobile.examples == ["***-***-5678 (legacy_prefix)"]
    assert outcome.docs_url and Path(outcome.docs_url.removeprefix("file://")).exists()
    assert docs_runner.docs_index.exists()
    # Data Docs never list the failing contact values themselves
    page = Path(outcome.docs_url.removeprefix("file://")).read_text(encoding="utf-8")
    assert "234-5678" not in page
