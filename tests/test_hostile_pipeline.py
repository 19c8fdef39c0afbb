"""The full job on a combination of hostile inputs across the four sources: every bad row costs
one row (quarantined, or kept and warned about), never the night — every mart is built and
published — and no RRN, in any spelling, reaches any table or file the project writes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import sqlalchemy as sa

from ingest.personal_data import scan_file, scan_tree
from tests.conftest import csv_line, run_everything

# Builds a warehouse (dbt, Dagster): the full tier, not `make test-fast`.
pytestmark = pytest.mark.slow

RRN_FULL_WIDTH = "９００１０１－１２３４５６７"


def _append(path: Path, lines: list[bytes], newline: bytes) -> None:
    content = path.read_bytes()
    path.write_bytes(content.rstrip(newline) + newline + newline.join(lines) + newline)


def _inject(root: Path) -> None:
    landing = root / "landing"
    customers = sorted((landing / "erp").glob("erp_customers_*.csv"))[-1]
    first = next(csv.reader([customers.read_bytes().split(b"\r\n")[1].decode("cp949")]))
    rows = [
        csv_line([first[0], "중복고객", *first[2:]]),  # same 고객번호 twice in one snapshot
        csv_line(
            [
                "H0000",
                "여러줄",
                "",
                "010-2345-6789",
                "",
                "",
                "",
                "",
                "06236",
                "서울 강남구 테헤란로 1",
                "",
                "일반",
                "",
                "2020-01-01",
                f"첫 줄\r\n주민 {RRN_FULL_WIDTH}\r\n끝",
                "2026-11-01 09:00:00",
            ]
        ),
    ]
    _append(customers, [row.encode("cp949") for row in rows], b"\r\n")
    orders = sorted((landing / "erp").glob("erp_orders_*.csv"))[-1]
    _append(
        orders,
        [
            f"HO1,{first[0]},2026-11-01,매장,정상,9000000000000000000,".encode("cp949"),
            f"HO2,{first[0]},2099-01-01,매장,정상,10000,".encode("cp949"),
        ],
        b"\r\n",
    )
    (landing / "erp" / "erp-orders-20261121.csv").write_bytes(orders.read_bytes())
    events = sorted((landing / "esp").glob("events_*.jsonl"))[-1]
    event = json.loads(events.read_text(encoding="utf-8").splitlines()[0])
    _append(
        events,
        [json.dumps({**event, "event_id": "H-ev-1", "event_type": "deferred"}).encode()],
        b"\n",
    )
    calls = sorted((landing / "callcenter").glob("calls_*.jsonl"))[-1]
    call = json.loads(calls.read_text(encoding="utf-8").splitlines()[0])
    _append(
        calls,
        [
            ('{"call_id": "H-K1", "memo": ' + "[" * 50_000 + "]" * 50_000 + "}").encode(),
            b'{"call_id": "H-K2", "memo": "\\ud800"}',
            json.dumps({**call, "call_id": "H-K3", "memo": "주민번호 900101\\u002d1234567"})
            .replace("\\\\u002d", "\\u002d")
            .encode(),
        ],
        b"\n",
    )
    engine = sa.create_engine(f"sqlite:///{root / 'shop.sqlite'}")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "insert into members (member_id, name, joined_at, updated_at) values "
                "(990001, '미래회원', '2024-01-02 09:00:00', '2099-01-01 00:00:00'), "
                "(990002, '시각없음', '2024-01-02 09:00:00', null)"
            )
        )
    engine.dispose()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory):
    from lab.generator import generate

    root = tmp_path_factory.mktemp("hostile")
    generate(root, customers=40, days=1, seed=13)
    _inject(root)
    result = run_everything(root, instance_dir=root / "dagster_home")
    return root, result


def _evaluations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], object]:
    return {
        (
            e.event_specific_data.asset_key.to_user_string(),  # type: ignore[union-attr]
            e.event_specific_data.check_name,
        ): e.event_specific_data  # type: ignore[union-attr]
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def test_bad_rows_cost_rows_not_the_night(hostile) -> None:
    root, result = hostile
    assert result.success
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {
        "marts/marketing/mart_kpi_monthly",
        "marts/core/fct_orders",
        "serving/bi_marts",
        "serving/operational_lists",
    } <= materialised
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        reasons = set(con.execute("select reason_code from raw._quarantine").fetchall())
        assert {
            ("implausible_number",),
            ("implausible_date",),
            ("json_too_deep",),
            ("invalid_characters",),
            ("watermark_in_future",),
            ("missing_required",),
        } <= reasons
        # kept and counted: the duplicate customer, the unknown event type, the memo
        assert con.execute(
            "select count(*) from staging.stg_esp__events where event_id = 'H-ev-1'"
        ).fetchone() == (1,)
        memo = con.execute(
            "select 비고 from raw.erp_customers where 고객번호 = 'H0000'"
        ).fetchone()[0]
        assert memo.startswith("첫 줄\r\n주민 rrn_sha256:") and memo.endswith("\r\n끝")
        assert (
            "rrn_sha256:"
            in con.execute(
                "select memo from raw.callcenter_calls where call_id = 'H-K3'"
            ).fetchone()[0]
        )
        assert (
            con.execute("select max(order_amount) from staging.stg_erp__orders").fetchone()[0]
            < 10**12
        )
    finally:
        con.close()
    evaluations = _evaluations(result)
    duplicate = evaluations[("raw/erp_customers", "gx_customer_no_unique")]
    assert not duplicate.passed and duplicate.severity == dg.AssetCheckSeverity.WARN  # type: ignore[attr-defined]
    unknown = [
        e
        for (asset, name), e in evaluations.items()
        if asset == "staging/esp/stg_esp__events" and "esp_event_types" in name
    ]
    assert unknown and not unknown[0].passed  # type: ignore[attr-defined]
    assert unknown[0].severity == dg.AssetCheckSeverity.WARN  # type: ignore[attr-defined]
    ignored = evaluations[("raw/erp_orders", "landing_files_recognised")]
    assert not ignored.passed  # type: ignore[attr-defined]
    assert "erp/erp-orders-20261121.csv" in str(ignored.metadata["not_loaded"].value)  # type: ignore[attr-defined]


def test_no_rrn_in_any_table_or_file_the_project_writes(hostile) -> None:
    root, _ = hostile
    # The sources themselves (landing files, the shop database) and the generator's truth hold
    # RRNs by design; everything else under the data folder and the Dagster instance is ours.
    written = [p for p in root.iterdir() if p.name not in ("landing", "shop.sqlite", "truth")]
    assert {p.name for p in written} >= {"warehouse.duckdb", "serving", "quality", "dagster_home"}
    findings = [
        f for path in written for f in (scan_tree(path) if path.is_dir() else scan_file(path))
    ]
    assert findings == []
