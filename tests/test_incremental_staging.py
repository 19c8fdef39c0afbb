"""Staging of the sources that deliver changes (ERP slips and lines, e-mail events, calls,
tickets) is built incrementally: day by day it must equal a full refresh, through late versions
of old keys, an erasure (raw rows anonymised in place, no new batch) and changed settings."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from ingest.erasure import erase
from lab.generator import generate
from tests.test_incremental_facts import dbt_run_selected, ingest

pytestmark = pytest.mark.slow

# the incrementally staged models, by key
STAGED = {
    "staging.stg_erp__orders": "erp_order_no",
    "staging.stg_erp__order_lines": "erp_order_no, line_no",
    "staging.stg_esp__events": "event_id",
    "staging.stg_callcenter__calls": "call_id",
    "staging.stg_callcenter__tickets": "ticket_id",
}
# they, with what they read, and the crosswalk an erasure finds a person through
SELECT = ("+path:models/staging", "+int_identity_crosswalk")


def staged(warehouse: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            t: con.execute(f"select * from {t} order by {k}").fetchall() for t, k in STAGED.items()
        }
    finally:
        con.close()


def full_refresh_of(warehouse: Path, tmp_path: Path, name: str, *extra: str) -> dict:
    """The same raw layer built from scratch: a copy of the warehouse, --full-refresh."""
    copy = tmp_path / f"{name}.duckdb"
    shutil.copy(warehouse, copy)
    dbt_run_selected(copy, tmp_path / "target", SELECT, "--full-refresh", *extra)
    return staged(copy)


def land(source: Path, landing: Path, day: str) -> None:
    for path in (source / "landing").rglob("*"):
        if path.is_file() and day in path.name:
            target = landing / path.relative_to(source / "landing")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)


def differing(left: dict, right: dict) -> dict[str, int]:
    return {t: len(set(left[t]) ^ set(right[t])) for t in STAGED if left[t] != right[t]}


def test_day_by_day_staging_equals_a_full_refresh(tmp_path: Path) -> None:
    source = tmp_path / "source"
    generate(source, customers=300, days=3, seed=23)
    days = sorted({p.stem.rsplit("_", 1)[1] for p in (source / "landing").rglob("*_2026*.*")})
    landing, warehouse, shop = (
        tmp_path / "landing",
        tmp_path / "warehouse.duckdb",
        source / "shop.sqlite",
    )
    target = tmp_path / "target"

    land(source, landing, days[0])
    ingest(warehouse, landing, shop)
    dbt_run_selected(warehouse, target, SELECT)

    # Day two. Before its build, one day-one event is changed in the raw layer in place, as no
    # loader does: an incremental build leaves that key alone (it only takes keys a new batch
    # touched), a full refresh shows the change. Exactly that row differs.
    land(source, landing, days[1])
    ingest(warehouse, landing, shop)
    con = duckdb.connect(str(warehouse))
    (event_id,) = con.execute(
        "select min(event_id) from raw.esp_events where event_id not in "
        "(select event_id from raw.esp_events where _loaded_at = (select max(_loaded_at) "
        "from raw.esp_events))"
    ).fetchone()
    con.execute(
        "update raw.esp_events set reason = 'changed in place' where event_id = ?", [event_id]
    )
    # A warehouse staged by a release whose rows carried no rules: that table is staged again.
    con.execute("alter table staging.stg_erp__orders drop column _staging_rules")
    con.close()
    dbt_run_selected(warehouse, target, SELECT)
    day_two, full = staged(warehouse), full_refresh_of(warehouse, tmp_path, "day_two")
    assert differing(day_two, full) == {"staging.stg_esp__events": 2}
    assert [r for r in full["staging.stg_esp__events"] if "changed in place" in r]
    con = duckdb.connect(str(warehouse))
    con.execute("update raw.esp_events set reason = null where event_id = ?", [event_id])
    con.close()

    # An erasure anonymises the person's slips, calls and e-mail events in place: the next
    # build takes every key again, and no staged row keeps the person.
    con = duckdb.connect(str(warehouse))
    (customer_no, email) = con.execute(
        "select c.erp_customer_no, c.email from staging.stg_erp__customers as c "
        "where c.email is not null and exists (select 1 from staging.stg_erp__orders as o "
        "where o.erp_customer_no = c.erp_customer_no) order by 1 limit 1"
    ).fetchone()
    erase(con, "secret", source_key=f"erp_customer:{customer_no}")
    con.close()
    dbt_run_selected(warehouse, target, SELECT)

    # Day three, and a late delivery: an older slip's newer version in a file of its own.
    land(source, landing, days[2])
    erp = next((landing / "erp").glob(f"*orders_{days[0]}*"))
    # the ERP writes CP949; the generator's files hold some undecodable bytes too
    rows = csv.DictReader(io.StringIO(erp.read_bytes().decode("cp949", errors="replace")))
    sale = next(
        r
        for r in rows
        if (r.get("주문상태") or "").strip() == "정상"
        and "\ufffd" not in "".join(map(str, r.values()))
    )
    late = {**sale, "주문상태": "취소"}  # the newest load of a slip wins
    late_file = erp.with_name(erp.name.replace(days[0], days[2]).replace("orders", "orders_late"))
    with late_file.open("w", encoding="cp949", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(sale))
        writer.writeheader()
        writer.writerow(late)
    ingest(warehouse, landing, shop, erasure_secret="secret")
    dbt_run_selected(warehouse, target, SELECT)
    day_three = staged(warehouse)
    assert differing(day_three, full_refresh_of(warehouse, tmp_path, "day_three")) == {}
    slip = next(r for r in day_three["staging.stg_erp__orders"] if r[0] == late["주문번호"].strip())
    assert "취소" in slip or "cancelled" in slip, slip
    assert not any(
        email in str(value) for rows in day_three.values() for row in rows for value in row
    )

    # Other settings: every key is staged again under them, as a full refresh would.
    settings = ("--vars", json.dumps({"currency_decimals": 2}))
    dbt_run_selected(warehouse, target, SELECT, *settings)
    assert (
        differing(staged(warehouse), full_refresh_of(warehouse, tmp_path, "vars", *settings)) == {}
    )

    # Nothing new: a re-run changes nothing.
    before = staged(warehouse)
    dbt_run_selected(warehouse, target, SELECT, *settings)
    assert staged(warehouse) == before
