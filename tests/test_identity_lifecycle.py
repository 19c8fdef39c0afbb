"""Customer ids under change, on hand-written records built run after run.

Run 1: 김민수 is in the ERP (C1) and, with another mobile and e-mail, a shop member (201): two
customers, each with a purchase. 이영희 is in the ERP (C3) and a shop member (202) with nothing
in common. Run 2: a new ERP record (C9) carries C1's e-mail and member 201's mobile and name —
a bridge: the two customers merge, C1's id (issued first, C1 seen first) survives. Run 3: staff
record "C1 and member 201 are different people" (and "C3 and member 202 are the same person"):
the customer splits, member 201 gets its old id back. Run 4: `--full-refresh` keeps every id.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import duckdb
import pytest

from ingest.file_loader import load_entity_files
from ingest.schemas import ENTITIES, ERP_CUSTOMERS, ERP_ORDER_LINES, ERP_ORDERS, ERP_PRODUCTS
from tests.conftest import (
    SALT,
    dbt_build,
    erp_customer,
    expected_customer_id,
    load_sources,
    write_csv,
    write_jsonl,
)
from tests.test_postgres_build import bi_role  # noqa: F401  (a throwaway BI role, a fixture)

# Five dbt builds of hand-written records and two on PostgreSQL: the full tier.
pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"


customer_id = expected_customer_id


KIM, KIM_SHOP = customer_id("erp_customer:C1"), customer_id("shop_member:201")
LEE, LEE_SHOP = customer_id("erp_customer:C3"), customer_id("shop_member:202")


def copy_project(root: Path) -> Path:
    """A private copy of the dbt project, so a test can write the overrides seed."""
    project = root / "dbt_project"
    shutil.copytree(
        PROJECT, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    return project


# What the tests read, what it is built from, and those models' dbt tests (about 70% of the
# project's nodes): the other marts only read these, so they would lengthen each build and
# assert nothing more about ids.
READ_BY_THE_TESTS = (
    "--select",
    "+int_identity_crosswalk +int_customer_id_history +customer_id_events +customer_id_lookup"
    " +dim_customer +fct_order_lines +fct_calls +fct_email_events +mart_rfm_history",
    "--indirect-selection",
    "cautious",
)


def build(root: Path, project: Path, *args: str, env: dict[str, str] | None = None) -> None:
    dbt_build(root, root / "warehouse.duckdb", *READ_BY_THE_TESTS, *args, project=project, env=env)


def write_first_day(landing: Path, shop: Path) -> None:
    day = "20261118"
    write_csv(
        landing / "erp" / f"erp_customers_{day}.csv",
        ERP_CUSTOMERS,
        [
            erp_customer(
                고객번호="C1",
                고객명="김민수",
                휴대폰="010-1111-2222",
                이메일="minsu@naver.com",
                주소="서울 강남구 테헤란로 1",
            ),
            erp_customer(
                고객번호="C3",
                고객명="이영희",
                휴대폰="010-3333-4444",
                이메일="younghee@naver.com",
                주소="부산 해운대구 우동 2",
                우편번호="48094",
                생년월일="1979-01-09",
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
            }
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
                "총금액": "30000",
            }
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
            }
        ],
    )
    write_jsonl(
        landing / "callcenter" / f"calls_{day}.jsonl",
        [
            {
                "call_id": "K1",
                "caller_number": "010-7777-8888",
                "customer_name": "김민수",
                "category": "문의",
                "started_at": "2026-11-07T10:00:00+09:00",
                "direction": "inbound",
                "duration_sec": 60,
                "agent_id": "A1",
            }
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
                "scheduled_at": "2026-11-03T09:00:00+09:00",
            }
        ],
    )
    write_jsonl(
        landing / "esp" / f"events_{day}.jsonl",
        [
            {
                "event_id": f"e{number}",
                "campaign_id": "CMP1",
                "recipient": "kimms@daum.net",
                "event_type": event_type,
                "occurred_at": f"2026-11-03T09:0{number}:00+09:00",
                "url": None,
                "reason": None,
            }
            for number, event_type in ((1, "sent"), (2, "delivered"), (3, "open"))
        ],
    )
    with sqlite3.connect(shop) as db:
        for spec in ENTITIES:
            if spec.format == "sql":
                db.execute(f"create table {spec.location} ({', '.join(spec.column_names)})")
        ts = "2026-11-03 12:00:00"
        db.executemany(
            "insert into members values (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                # 김민수 again, another mobile, e-mail and address: nothing ties him to C1 yet.
                (201, "kms", "김민수", "010-7777-8888", "kimms@daum.net", None, "04524",
                 "서울 중구 세종대로 2", None, "일반", ts, ts),
                # 이영희 on the shop: nothing in common with C3 (staff will say she is C3).
                (202, "lyh", "이영희", "010-5555-6666", "lyh@kakao.com", None, "04524",
                 "서울 중구 세종대로 9", None, "일반", ts, ts),
            ],
        )  # fmt: skip
        db.execute(
            "insert into orders (order_id, member_id, ordered_at, paid_at, status, "
            "total_amount, updated_at) values (?,?,?,?,?,?,?)",
            (6001, 201, "2026-11-04 15:00:00", "2026-11-04 15:01:00", "paid", 20000, ts),
        )
        db.execute("insert into order_items values (?,?,?,?,?,?)", (1, 6001, "P1", 1, 20000, ts))


def add_bridge_record(landing: Path) -> None:
    write_csv(
        landing / "erp" / "erp_customers_20261119.csv",
        ERP_CUSTOMERS,
        [
            erp_customer(
                고객번호="C9",
                고객명="김민수",
                휴대폰="010-7777-8888",
                이메일="minsu@naver.com",
                주소="경기 성남시 분당구 판교로 5",
                우편번호="13487",
                생년월일="",
                수정일시="2026-11-19 09:00:00",
            )
        ],
    )


def write_overrides(project: Path) -> None:
    (project / "seeds" / "identity_overrides.csv").write_text(
        "record_a,record_b,decision,decided_by,decided_on,reason\n"
        "erp_customer:C1,shop_member:201,different,kim.cs,2026-11-20,"
        "called both: father and son share the family mobile\n"
        "shop_member:202,erp_customer:C3,same,lee.crm,2026-11-20,"
        "she confirmed both accounts at the store\n",
        encoding="utf-8",
    )


def query(warehouse: Path, sql: str, *params: object) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def customer_of(warehouse: Path, source: str, key: str) -> str:
    rows = query(
        warehouse,
        "select customer_id from intermediate.int_identity_crosswalk "
        "where source = ? and source_key = ?",
        source,
        key,
    )
    assert len(rows) == 1, rows
    return rows[0][0]


def facts_of(warehouse: Path) -> dict[str, str | None]:
    """The customer each fact names: the shop order, the call, the e-mail open."""
    return {
        "order_6001": query(
            warehouse,
            "select distinct customer_id from core.fct_order_lines where order_key = 'shop:6001'",
        )[0][0],
        "call_K1": query(warehouse, "select customer_id from core.fct_calls")[0][0],
        "open_e3": query(
            warehouse, "select customer_id from core.fct_email_events where event_id = 'e3'"
        )[0][0],
    }


def rfm_history(warehouse: Path) -> dict[str, int]:
    """Frequency per customer on the newest RFM snapshot."""
    return dict(
        query(
            warehouse,
            "select customer_id, frequency from marketing.mart_rfm_history "
            "where snapshot_date = (select max(snapshot_date) from marketing.mart_rfm_history)",
        )
    )


def lookup(warehouse: Path) -> dict[str, tuple[str | None, bool]]:
    return {
        row[0]: (row[1], row[2])
        for row in query(
            warehouse,
            "select customer_id, current_customer_id, is_retired from core.customer_id_lookup",
        )
    }


def events(warehouse: Path) -> list[tuple]:
    return query(
        warehouse,
        "select event_type, from_customer_id, to_customer_id, id_outcome, match_rule, "
        "decided_by, moved_record_ids, joined_record_ids from core.customer_id_events "
        "order by changed_at, event_type, from_customer_id",
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """Build the four runs once; record what each one left in the warehouse."""
    root = tmp_path_factory.mktemp("identity")
    for folder in ("erp", "callcenter", "esp"):
        (root / "landing" / folder).mkdir(parents=True)
    project = copy_project(root)
    write_first_day(root / "landing", root / "shop.sqlite")
    warehouse = load_sources(root)

    def observe() -> dict[str, object]:
        return {
            "crosswalk": {
                key: customer_of(warehouse, *key.split(":"))
                for key in (
                    "erp_customer:C1",
                    "shop_member:201",
                    "erp_customer:C3",
                    "shop_member:202",
                )
            },
            "facts": facts_of(warehouse),
            "rfm": rfm_history(warehouse),
            "lookup": lookup(warehouse),
            "events": events(warehouse),
            "history_rows": query(
                warehouse, "select count(*) from intermediate.int_customer_id_history"
            )[0][0],
            "dim_customer": query(
                warehouse,
                "select customer_id, current_customer_id, is_retired_id, is_current, "
                "customer_records from core.dim_customer order by customer_id, valid_from",
            ),
        }

    seen: dict[str, dict[str, object]] = {}
    build(root, project)
    seen["first"] = observe()
    build(root, project)  # nothing new: nothing may change
    seen["again"] = observe()

    add_bridge_record(root / "landing")
    con = duckdb.connect(str(warehouse))
    load_entity_files(con, ERP_CUSTOMERS, root / "landing", SALT)
    con.close()
    build(root, project)
    seen["bridged"] = observe()
    seen["bridged"]["root"] = root

    from orchestration.serving.catalog import load_manifest, served_models
    from orchestration.serving.publish import publish

    built = {
        f"{schema}.{name}"
        for schema, name in query(
            warehouse, "select table_schema, table_name from information_schema.tables"
        )
    }
    models = [  # the served models this build made (the CLV marts are not built here)
        model
        for model in served_models(load_manifest(root / "target" / "manifest.json"))
        if model.relation in built
    ]
    report = publish(warehouse, root / "serving", models, run_id="after-merge")
    seen["bridged"]["bi_lookup"] = query(
        report.files["bi"].path,
        "select customer_id, current_customer_id from core.customer_id_lookup",
    )

    write_overrides(project)
    build(root, project)
    seen["overridden"] = observe()
    build(root, project, "--full-refresh")
    seen["refreshed"] = observe()
    return seen


def test_two_customers_before_the_bridge(runs) -> None:
    first = runs["first"]
    assert first["crosswalk"] == {
        "erp_customer:C1": KIM,
        "shop_member:201": KIM_SHOP,
        "erp_customer:C3": LEE,
        "shop_member:202": LEE_SHOP,
    }
    assert first["facts"] == {"order_6001": KIM_SHOP, "call_K1": KIM_SHOP, "open_e3": KIM_SHOP}
    assert first["rfm"] == {KIM: 1, KIM_SHOP: 1}
    assert first["events"] == []
    assert first["history_rows"] == 4  # each record issued its id once
    assert {key: value for key, value in first["lookup"].items() if value[1]} == {}
    # a second run with nothing new writes no history and changes no id
    assert runs["again"]["history_rows"] == 4
    assert runs["again"]["crosswalk"] == first["crosswalk"]


def test_a_bridge_record_merges_two_customers_and_the_first_issued_id_survives(runs) -> None:
    bridged = runs["bridged"]
    assert bridged["crosswalk"]["erp_customer:C1"] == KIM
    assert bridged["crosswalk"]["shop_member:201"] == KIM
    # the audit log: which ids, by which rule, which records moved and which joined
    assert bridged["events"] == [
        (
            "merge",
            KIM_SHOP,
            KIM,
            "retired_into_survivor",
            "mobile_name",
            None,
            "shop_member:201",
            "erp_customer:C9",
        )
    ]
    run_id, changed_at = query(
        runs["bridged"]["root"] / "warehouse.duckdb",
        "select run_id, changed_at from core.customer_id_events",
    )[0]
    assert len(run_id) == 36 and changed_at is not None
    # the retired id resolves to the survivor, in the warehouse and in the published BI file
    assert bridged["lookup"][KIM_SHOP] == (KIM, True)
    assert bridged["lookup"][KIM] == (KIM, False)
    assert (KIM_SHOP, KIM) in bridged["bi_lookup"]


def test_facts_and_rfm_history_follow_the_merge(runs) -> None:
    bridged = runs["bridged"]
    assert bridged["facts"] == {"order_6001": KIM, "call_K1": KIM, "open_e3": KIM}
    # one customer with both purchases; the retired id has no RFM row of its own any more
    assert bridged["rfm"] == {KIM: 2}


def test_dim_customer_records_the_merge(runs) -> None:
    versions = runs["bridged"]["dim_customer"]
    retired = [row for row in versions if row[0] == KIM_SHOP]
    assert retired == [(KIM_SHOP, KIM, True, False, 1)]  # closed, pointing at the survivor
    survivor = [row for row in versions if row[0] == KIM]
    assert survivor == [(KIM, KIM, False, False, 1), (KIM, KIM, False, True, 3)]


def test_a_different_people_decision_splits_and_restores_the_old_id(runs) -> None:
    overridden = runs["overridden"]
    # C9 is one link from both C1 and member 201: it stays with C1, seen first
    assert overridden["crosswalk"]["erp_customer:C1"] == KIM
    assert overridden["crosswalk"]["shop_member:201"] == KIM_SHOP
    # the call came from the mobile C9 and member 201 share, both named 김민수: two customers
    # hold it now and the typed name decides nothing, so it is nobody's
    assert overridden["facts"] == {"order_6001": KIM_SHOP, "call_K1": None, "open_e3": KIM_SHOP}
    assert overridden["rfm"] == {KIM: 1, KIM_SHOP: 1}
    assert overridden["lookup"][KIM_SHOP] == (KIM_SHOP, False)
    new_events = overridden["events"][1:]
    assert (
        "split",
        KIM,
        KIM_SHOP,
        "restored",
        "manual_different",
        "kim.cs",
        "shop_member:201",
        None,
    ) in new_events


def test_a_same_person_decision_merges_what_no_key_links(runs) -> None:
    overridden = runs["overridden"]
    assert overridden["crosswalk"]["shop_member:202"] == LEE
    assert overridden["lookup"][LEE_SHOP] == (LEE, True)
    assert (
        "merge",
        LEE_SHOP,
        LEE,
        "retired_into_survivor",
        "manual_same",
        "lee.crm",
        "shop_member:202",
        None,
    ) in overridden["events"]
    assert len(overridden["events"]) == 3


def test_a_full_refresh_keeps_every_id_and_the_log(runs) -> None:
    refreshed, overridden = runs["refreshed"], runs["overridden"]
    assert refreshed["crosswalk"] == overridden["crosswalk"]
    assert refreshed["facts"] == overridden["facts"]
    assert refreshed["events"] == overridden["events"]
    assert refreshed["lookup"] == overridden["lookup"]


@pytest.mark.postgres
def test_the_same_merge_and_split_on_postgres(
    tmp_path: Path,
    pg_database,
    bi_role,  # noqa: F811  (the fixture imported above)
) -> None:
    """The bridge and the staff decisions, replayed on PostgreSQL: the same ids and log."""
    import psycopg2

    from ingest.postgres_mirror import mirror_raw, pg_params

    for folder in ("erp", "callcenter", "esp"):
        (tmp_path / "landing" / folder).mkdir(parents=True)
    project = copy_project(tmp_path)
    write_first_day(tmp_path / "landing", tmp_path / "shop.sqlite")
    warehouse = load_sources(tmp_path)
    env = {
        "GOGAEK_DBT_TARGET": "postgres",
        "GOGAEK_PG_DATABASE": pg_database,
        "GOGAEK_BI_READER_ROLE": bi_role,
    }
    mirror_raw(str(warehouse), pg_database)
    build(tmp_path, project, env=env)
    add_bridge_record(tmp_path / "landing")
    con = duckdb.connect(str(warehouse))
    load_entity_files(con, ERP_CUSTOMERS, tmp_path / "landing", SALT)
    con.close()
    mirror_raw(str(warehouse), pg_database)
    build(tmp_path, project, env=env)

    pg = psycopg2.connect(**pg_params(pg_database))
    pg.autocommit = True  # no transaction left open to block the next build
    try:
        with pg.cursor() as cursor:

            def rows(sql: str) -> list[tuple]:
                cursor.execute(sql)
                return cursor.fetchall()

            assert rows(
                "select customer_id from core.fct_order_lines where order_key = 'shop:6001'"
            ) == [(KIM,)]
            assert rows(
                "select customer_id, frequency from marketing.mart_rfm_history "
                "where snapshot_date = (select max(snapshot_date) from marketing.mart_rfm_history)"
            ) == [(KIM, 2)]
            write_overrides(project)
            build(tmp_path, project, env=env)
            assert rows(
                "select source_key, customer_id from intermediate.int_identity_crosswalk "
                "where source in ('erp_customer', 'shop_member') order by source_key"
            ) == [("201", KIM_SHOP), ("202", LEE), ("C1", KIM), ("C3", LEE), ("C9", KIM)]
            assert rows(
                "select event_type, from_customer_id, to_customer_id, id_outcome, match_rule, "
                "decided_by, moved_record_ids, joined_record_ids from core.customer_id_events "
                "order by changed_at, event_type, from_customer_id"
            ) == [
                (
                    "merge",
                    KIM_SHOP,
                    KIM,
                    "retired_into_survivor",
                    "mobile_name",
                    None,
                    "shop_member:201",
                    "erp_customer:C9",
                ),
                *sorted(
                    [
                        ("merge", LEE_SHOP, LEE, "retired_into_survivor", "manual_same",
                         "lee.crm", "shop_member:202", None),
                        ("split", KIM, KIM_SHOP, "restored", "manual_different", "kim.cs",
                         "shop_member:201", None),
                    ],
                    key=lambda event: (event[0], event[1]),
                ),
            ]  # fmt: skip
            assert rows(
                "select customer_id, current_customer_id, is_retired "
                "from core.customer_id_lookup where customer_id in "
                "(select customer_id from intermediate.int_customer_id_history) order by 1"
            ) == sorted([
                (KIM, KIM, False), (KIM_SHOP, KIM_SHOP, False), (LEE, LEE, False),
                (LEE_SHOP, LEE, True),
            ])  # fmt: skip
    finally:
        pg.close()
