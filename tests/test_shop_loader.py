"""The shop loader on SQLite and on the real MariaDB: watermarks, overlap window, idempotency."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from ingest.raw_store import accounting_problems
from ingest.schemas import SHOP_MEMBERS
from ingest.shop_loader import current_watermark, load_shop_table
from tests.conftest import SALT, mariadb_database, shop_member, shop_members, shop_metadata

OVERLAP = timedelta(minutes=10)

metadata = shop_metadata
members = shop_members
member = shop_member


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
def shop(request, tmp_path: Path) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'shop.sqlite'}")
        metadata.create_all(engine)
        yield engine
        engine.dispose()
    else:
        for engine in mariadb_database():
            metadata.create_all(engine)
            yield engine


def names(warehouse) -> list[tuple]:
    return warehouse.execute(
        "select member_id, name, updated_at from raw.shop_members order by member_id, updated_at"
    ).fetchall()


def test_incremental_load_by_watermark(warehouse, shop: sa.Engine) -> None:
    with shop.begin() as connection:
        connection.execute(
            members.insert(),
            [
                member(1, "2026-11-18 09:00:00"),
                member(2, "2026-11-18 10:00:00"),
                # Signed up before the earliest plausible date: quarantined, never the watermark.
                member(3, "2026-11-18 11:00:00", joined_at=datetime(1850, 1, 1)),
            ],
        )

    first = load_shop_table(warehouse, shop, SHOP_MEMBERS, SALT, OVERLAP)
    assert (first.rows_read, first.rows_loaded, first.rows_quarantined) == (3, 2, 1)
    assert current_watermark(warehouse, SHOP_MEMBERS) == "2026-11-18 10:00:00"
    assert warehouse.execute(
        "select source_line, field, reason_code from raw._quarantine"
    ).fetchall() == [(3, "joined_at", "implausible_date")]

    # Same database state again: the overlap re-reads member 2 and 3, and adds nothing.
    again = load_shop_table(warehouse, shop, SHOP_MEMBERS, SALT, OVERLAP)
    assert (again.rows_read, again.rows_loaded, again.rows_quarantined, again.rows_unchanged) == (
        2,
        0,
        0,
        2,
    )
    assert warehouse.execute("select count(*) from raw._quarantine").fetchone()[0] == 1

    # Member 1 changes its name between two loads: a new version row, nothing else.
    with shop.begin() as connection:
        connection.execute(
            members.update()
            .where(members.c.member_id == 1)
            .values(name="최 지우", updated_at=datetime(2026, 11, 19, 8, 0))
        )
    third = load_shop_table(warehouse, shop, SHOP_MEMBERS, SALT, OVERLAP)
    # Member 2 and the quarantined member 3 sit inside the overlap window: re-read, unchanged.
    assert (third.rows_read, third.rows_loaded, third.rows_unchanged) == (3, 1, 2)
    assert [(m, n) for m, n, _ in names(warehouse)] == [
        ("1", "최지우"),
        ("1", "최 지우"),
        ("2", "최지우"),
    ]
    assert current_watermark(warehouse, SHOP_MEMBERS) == "2026-11-19 08:00:00"
    for spec_problem in accounting_problems(warehouse, SHOP_MEMBERS):
        pytest.fail(spec_problem)


def test_overlap_window_catches_late_commits(warehouse, shop: sa.Engine) -> None:
    with shop.begin() as connection:
        connection.execute(members.insert(), [member(1, "2026-11-18 12:00:00")])
    load_shop_table(warehouse, shop, SHOP_MEMBERS, SALT, OVERLAP)

    # Two transactions commit after that load with timestamps behind the watermark: one
    # inside the 10-minute overlap (caught), one far behind it (the documented limit).
    with shop.begin() as connection:
        connection.execute(
            members.insert(), [member(2, "2026-11-18 11:55:00"), member(3, "2026-11-18 09:00:00")]
        )
    late = load_shop_table(warehouse, shop, SHOP_MEMBERS, SALT, OVERLAP)

    assert (late.rows_read, late.rows_loaded, late.rows_unchanged) == (2, 1, 1)
    assert [m for m, _, _ in names(warehouse)] == ["1", "2"]


def test_sqlite_text_that_is_no_timestamp_is_quarantined(warehouse, tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'shop.sqlite'}")
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(members.insert(), [member(1, "2026-11-18 09:00:00")])
        connection.execute(
            sa.text(
                "insert into members (member_id, name, joined_at, updated_at) "
                "values (2, '한지민', '2024-02-30 10:00:00', '2026-11-18 09:30:00')"
            )
        )
    result = load_shop_table(warehouse, engine, SHOP_MEMBERS, SALT, OVERLAP)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert warehouse.execute(
        "select field, reason_code, raw_record like '2,%' from raw._quarantine"
    ).fetchall() == [("joined_at", "bad_timestamp", True)]
