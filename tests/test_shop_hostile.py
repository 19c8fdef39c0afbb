"""The shop database as a hostile source, one kind per case, on a real SQLite shop database:
timestamps SQLite lets into a DATETIME column, a poisoned watermark, rows changed behind the
watermark, deleted rows. Each case ends with every batch accounted for and no RRN anywhere."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from ingest.personal_data import RRN_ONLY, hash_rrn, scan_database
from ingest.raw_store import accounting_problems, ensure_raw_schema
from ingest.schemas import SHOP_MEMBERS, SHOP_ORDERS
from ingest.shop_loader import current_watermark, full_compare_due, load_shop_table
from tests.conftest import SALT, shop_member, shop_members, shop_metadata

OVERLAP = timedelta(minutes=10)
metadata = shop_metadata
members = shop_members
member = shop_member
orders = sa.Table(
    "orders",
    metadata,
    sa.Column("order_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("member_id", sa.Integer),
    sa.Column("orderer_name", sa.String(40)),
    sa.Column("orderer_mobile", sa.String(30)),
    sa.Column("orderer_email", sa.String(120)),
    sa.Column("ordered_at", sa.DateTime),
    sa.Column("paid_at", sa.DateTime),
    sa.Column("status", sa.String(20)),
    sa.Column("total_amount", sa.BigInteger),
    sa.Column("shipping_fee", sa.BigInteger),
    sa.Column("discount_amount", sa.BigInteger),
    sa.Column("original_order_id", sa.Integer),
    sa.Column("updated_at", sa.DateTime),
)


class Shop:
    """The shop database and the warehouse, with the loads a case runs."""

    def __init__(self, engine: sa.Engine, con: duckdb.DuckDBPyConnection) -> None:
        self.engine = engine
        self.con = con

    def sql(self, statement: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(sa.text(statement))

    def insert(self, *rows: dict[str, object], table: sa.Table = members) -> None:
        with self.engine.begin() as connection:
            connection.execute(table.insert(), list(rows))

    def load(self, full: bool = False, spec=SHOP_MEMBERS):  # -> BatchResult
        return load_shop_table(self.con, self.engine, spec, SALT, OVERLAP, full_compare=full)

    def reasons(self) -> list[tuple[int, str, str]]:
        return self.con.execute(
            "select source_line, field, reason_code from raw._quarantine order by 1"
        ).fetchall()

    def staged_members(self) -> list[str]:
        """Member ids staging would show: latest loaded version, delete markers honoured
        (the same rule as the dbt macro not_deleted)."""
        return [
            m
            for (m,) in self.con.execute("""
            select member_id from (
                select trim(member_id) as member_id, _loaded_at,
                    row_number() over (partition by trim(member_id)
                                       order by _loaded_at desc, _source_line desc) as version
                from raw.shop_members) as latest
            where version = 1 and not exists (
                select 1 from raw._deletions as deletions
                where deletions.source = 'shop' and deletions.entity = 'members'
                  and deletions.restored_at is null and deletions.record_key = member_id
                  and deletions.deleted_at >= latest._loaded_at)
            order by 1""").fetchall()
        ]


def null_updated_at(shop: Shop) -> None:
    shop.insert(member(1, "2026-11-18 09:00:00"))
    shop.load()
    shop.sql(
        "insert into members (member_id, name, joined_at, updated_at) "
        "values (2, '한지민', '2024-01-02 09:00:00', null)"
    )
    first = shop.load()
    assert (first.rows_read, first.rows_quarantined) == (2, 1)  # member 1 in the overlap
    assert [r[1:] for r in shop.reasons()] == [("updated_at", "missing_required")]
    again = shop.load()  # read again every load, recognised, counted unchanged
    assert (again.rows_read, again.rows_quarantined, again.rows_unchanged) == (2, 0, 2)


def unreadable_updated_at(value: str) -> Callable[[Shop], None]:
    """A value SQLite lets into a DATETIME column that no load may skip."""

    def case(shop: Shop) -> None:
        shop.insert(member(1, "2026-11-18 09:00:00"))
        shop.load()
        shop.sql(
            "insert into members (member_id, name, joined_at, updated_at) "
            f"values (2, '한지민', '2024-01-02 09:00:00', {value})"
        )
        assert shop.load().rows_quarantined == 1
        assert [r[1:] for r in shop.reasons()] == [("updated_at", "bad_timestamp")]

    return case


def updated_at_in_2099(shop: Shop) -> None:
    shop.insert(member(1, "2026-11-18 09:00:00"), member(2, "2099-01-01 00:00:00"))
    first = shop.load()
    assert (first.rows_loaded, first.rows_quarantined) == (1, 1)
    assert [r[1:] for r in shop.reasons()] == [("updated_at", "watermark_in_future")]
    assert current_watermark(shop.con, SHOP_MEMBERS) == "2026-11-18 09:00:00"
    shop.insert(member(3, "2026-11-18 10:00:00"))  # a later change is still read
    assert shop.load().rows_loaded == 1
    assert shop.staged_members() == ["1", "3"]


def poisoned_watermark(shop: Shop) -> None:
    # A watermark an older loader let reach 2099 is ignored: the next load reads everything.
    shop.insert(member(1, "2026-11-18 09:00:00"))
    shop.load()
    shop.con.execute("update raw._watermarks set watermark = '2099-01-01 00:00:00'")
    shop.insert(member(2, "2026-11-18 08:00:00"))
    result = shop.load()
    assert (result.rows_loaded, result.rows_unchanged) == (1, 1)
    assert current_watermark(shop.con, SHOP_MEMBERS) == "2026-11-18 09:00:00"


def change_behind_watermark(shop: Shop) -> None:
    shop.insert(member(1, "2026-11-18 09:00:00"), member(2, "2026-11-18 12:00:00"))
    shop.load()
    # Member 1 changes with an updated_at far behind the watermark: incremental loads miss it.
    shop.sql(
        "update members set name = '최 지우', updated_at = '2026-11-01 00:00:00' "
        "where member_id = 1"
    )
    assert shop.load().rows_loaded == 0
    full = shop.load(full=True)
    assert (full.rows_read, full.rows_loaded, full.rows_unchanged) == (2, 1, 1)
    assert shop.con.execute(
        "select name from raw.shop_members where member_id = '1' order by _loaded_at desc limit 1"
    ).fetchone() == ("최 지우",)


def deleted_member(shop: Shop) -> None:
    shop.insert(member(1, "2026-11-18 09:00:00"), member(2, "2026-11-18 10:00:00"))
    shop.load()
    shop.sql("delete from members where member_id = 2")
    full = shop.load(full=True)
    assert full.deleted == 1
    assert shop.staged_members() == ["1"]
    assert shop.load(full=True).deleted == 0  # no second marker for the same deletion
    assert shop.con.execute("select count(*) from raw._deletions").fetchone() == (1,)


def member_back_after_delete(shop: Shop) -> None:
    shop.insert(member(1, "2026-11-18 09:00:00"), member(2, "2026-11-18 10:00:00"))
    shop.load()
    shop.sql("delete from members where member_id = 2")
    shop.load(full=True)
    shop.insert(member(2, "2026-11-18 10:00:00"))  # restored from a backup, same content
    shop.load(full=True)
    assert shop.staged_members() == ["1", "2"]
    assert shop.con.execute(
        "select count(*) from raw._deletions where restored_at is not null"
    ).fetchone() == (1,)


def full_compare_schedule(shop: Shop) -> None:
    shop.insert(member(1, "2026-11-18 09:00:00"))
    assert full_compare_due(shop.con, SHOP_MEMBERS, every_days=7)
    shop.load(full=True)
    assert not full_compare_due(shop.con, SHOP_MEMBERS, every_days=7)
    assert full_compare_due(shop.con, SHOP_MEMBERS, every_days=0)


def rrn_full_width_in_a_column(shop: Shop) -> None:
    shop.insert(member(1, "2026-11-18 09:00:00", address2="주민 ９００１０１－１２３４５６７"))
    shop.load()
    address = shop.con.execute("select address2 from raw.shop_members").fetchone()[0]
    assert hash_rrn("900101-1234567", SALT) in address


def amount_9e18(shop: Shop) -> None:
    shop.insert(
        {
            "order_id": 1,
            "member_id": 1,
            "ordered_at": datetime(2026, 11, 18, 9),
            "status": "paid",
            "total_amount": 35_000,
            "updated_at": datetime(2026, 11, 18, 9),
        },
        {
            "order_id": 2,
            "member_id": 1,
            "ordered_at": datetime(2026, 11, 18, 9),
            "status": "paid",
            "total_amount": 9 * 10**18,
            "updated_at": datetime(2026, 11, 18, 9),
        },
        table=orders,
    )
    result = shop.load(spec=SHOP_ORDERS)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert [r[1:] for r in shop.reasons()] == [("total_amount", "implausible_number")]


def overlap_reread(shop: Shop) -> None:
    shop.insert(member(1, "2026-11-18 09:00:00"), member(2, "2026-11-18 09:05:00"))
    shop.load()
    again = shop.load()
    assert (again.rows_read, again.rows_loaded, again.rows_unchanged) == (2, 0, 2)


def non_numeric_id(shop: Shop) -> None:
    shop.sql(
        "insert into orders (order_id, member_id, ordered_at, status, total_amount, "
        "updated_at) values (1, 'M-7', '2026-11-18 09:00:00', 'paid', 35000, "
        "'2026-11-18 09:00:00')"
    )
    shop.load(spec=SHOP_ORDERS)
    assert [r[1:] for r in shop.reasons()] == [("member_id", "bad_number")]


SHOP_CASES: dict[str, Callable[[Shop], None]] = {
    "shop_null_updated_at": null_updated_at,
    "shop_epoch_updated_at": unreadable_updated_at("1763456789"),
    "shop_text_updated_at": unreadable_updated_at("'18/11/2026 09:30'"),
    "shop_updated_at_in_2099": updated_at_in_2099,
    "shop_poisoned_watermark": poisoned_watermark,
    "shop_change_behind_watermark": change_behind_watermark,
    "shop_deleted_member": deleted_member,
    "shop_member_back_after_delete": member_back_after_delete,
    "shop_full_compare_schedule": full_compare_schedule,
    "shop_rrn_full_width": rrn_full_width_in_a_column,
    "shop_amount_9e18": amount_9e18,
    "shop_overlap_reread": overlap_reread,
    "shop_non_numeric_id": non_numeric_id,
}
SHOP_KINDS = tuple(SHOP_CASES)


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'shop.sqlite'}")
    metadata.create_all(engine)
    con = duckdb.connect()
    ensure_raw_schema(con)
    yield Shop(engine, con)
    con.close()
    engine.dispose()


@pytest.mark.parametrize("kind", SHOP_KINDS)
def test_hostile_shop(kind: str, shop: Shop) -> None:
    SHOP_CASES[kind](shop)
    for spec in (SHOP_MEMBERS, SHOP_ORDERS):
        assert accounting_problems(shop.con, spec) == []
    assert scan_database(shop.con, RRN_ONLY) == []
