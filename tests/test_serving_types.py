"""The published files carry column types ODBC clients read: DuckDB's HUGEINT (what sum() of
integers gives) and unsigned integers become standard SQL integers at publish, values intact."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.serving.catalog import ServedModel, Serving
from orchestration.serving.publish import PORTABLE_TYPES, publish

TYPES = """
    select table_name, column_name, data_type from information_schema.columns
    where table_schema = 'marketing' order by table_name, ordinal_position"""


def _model(name: str, serving: Serving = "bi") -> ServedModel:
    return ServedModel(
        f"model.gogaek.{name}", "marketing", name, serving, ("gogaek", "marts", "marketing", name)
    )


def test_exotic_integer_types_are_published_as_standard_ones(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marketing")
    con.execute("""
        create table marketing.totals as
        select segment, sum(orders) as orders, count(*) as customers,
               sum(orders)::ubigint as orders_u, 7::uinteger as weeks,
               3::usmallint as waves, 1::utinyint as flag, 12.5::decimal(18, 2) as amount
        from (values ('a', 2), ('a', 3), ('b', 4)) as t(segment, orders)
        group by segment""")
    # a sum beyond BIGINT keeps every digit
    con.execute(
        "create table marketing.huge as select sum(x) as total "
        "from (values (9223372036854775807::bigint), (10::bigint)) as t(x)"
    )
    con.execute("create table marketing.waves as select sum(3) as sent")
    before = {(t, c): d for t, c, d in con.execute(TYPES).fetchall()}
    con.close()
    assert before[("totals", "orders")] == "HUGEINT"  # what the marts' sums look like

    models = [_model("totals"), _model("huge"), _model("waves", "operational")]
    report = publish(warehouse, tmp_path / "serving", models, "t")
    published = duckdb.connect(str(report.files["bi"].path), read_only=True)
    types = {(t, c): d for t, c, d in published.execute(TYPES).fetchall()}
    assert types == {
        ("huge", "total"): "DECIMAL(38,0)",
        ("totals", "segment"): "VARCHAR",
        ("totals", "orders"): "BIGINT",
        ("totals", "customers"): "BIGINT",
        ("totals", "orders_u"): "BIGINT",
        ("totals", "weeks"): "BIGINT",
        ("totals", "waves"): "INTEGER",
        ("totals", "flag"): "SMALLINT",
        ("totals", "amount"): "DECIMAL(18,2)",
    }
    assert not set(types.values()) & set(PORTABLE_TYPES)
    assert published.execute(
        "select segment, orders, orders_u, weeks from marketing.totals order by 1"
    ).fetchall() == [("a", 5, 5, 7), ("b", 4, 4, 7)]
    assert published.execute("select total from marketing.huge").fetchone()[0] == 2**63 + 9
    published.close()
    operational = duckdb.connect(str(report.files["operational"].path), read_only=True)
    assert operational.execute(TYPES).fetchall() == [("waves", "sent", "BIGINT")]
    operational.close()
