"""Load the online shop's operational database (SQLite, MariaDB/MySQL, ...) incrementally.

Each table is read through SQLAlchemy, streamed in chunks, from its watermark (the highest
`updated_at` loaded so far) minus an overlap window: a transaction that commits late with an
older `updated_at` is still picked up. Rows re-read inside the window are recognised by key and
content hash and count as unchanged, so re-reading adds nothing.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa
import sqlalchemy as sa

from ingest.raw_store import BatchResult, new_batch_id, publish_batch, quote, sql_literal
from ingest.rrn import mask_rrns
from ingest.schemas import EntitySpec

CHUNK_ROWS = 50_000
_NULL = "\x00"


def _query(spec: EntitySpec, since: str | None) -> sa.Select:
    table = sa.table(spec.location, *[sa.column(c.name) for c in spec.columns])
    # Read every value as text: raw keeps what the source holds, even values its own types
    # would refuse (SQLite lets any text into a DATETIME column).
    query = sa.select(*[sa.cast(table.c[c.name], sa.String).label(c.name) for c in spec.columns])
    watermark = table.c[spec.watermark_column]
    if since is not None:
        query = query.where(watermark >= since)
    order = [watermark] + [table.c[k] for k in spec.key_columns]
    return query.order_by(*order)


def _describe(engine: sa.Engine, spec: EntitySpec, since: str | None) -> str:
    where = f" where {spec.watermark_column} >= '{since}'" if since else ""
    database = engine.url.render_as_string(hide_password=True)
    return f"{database} :: select * from {spec.location}{where}"


def current_watermark(con: duckdb.DuckDBPyConnection, spec: EntitySpec) -> str | None:
    row = con.execute("select watermark from raw._watermarks where entity = ?",
                      [spec.name]).fetchone()
    return row[0] if row else None


def load_shop_table(con: duckdb.DuckDBPyConnection, engine: sa.Engine, spec: EntitySpec,
                    salt: str, overlap: timedelta) -> BatchResult:
    watermark = current_watermark(con, spec)
    since = None
    if watermark is not None:
        since = (datetime.fromisoformat(watermark) - overlap).strftime("%Y-%m-%d %H:%M:%S")
    started_at = datetime.now(UTC)
    result = BatchResult(spec.name, _describe(engine, spec, since), "loaded",
                         batch_id=new_batch_id())
    names = list(spec.column_names)
    schema = pa.schema([("_line", pa.int64()), ("_hash", pa.string())]
                       + [(n, pa.string()) for n in names])
    con.execute("create or replace temp table _incoming ("
                "_line bigint, _hash varchar, "
                + ", ".join(f"{quote(n)} varchar" for n in names) + ")")
    try:
        with engine.connect() as connection:
            rows = connection.execution_options(stream_results=True, yield_per=CHUNK_ROWS)
            for chunk in rows.execute(_query(spec, since)).partitions(CHUNK_ROWS):
                columns: list[list[object]] = [[] for _ in range(len(names) + 2)]
                for row in chunk:
                    result.rows_read += 1
                    values = [None if v is None else mask_rrns(str(v), salt) for v in row]
                    joined = "\x1f".join(_NULL if v is None else v for v in values)
                    columns[0].append(result.rows_read)
                    columns[1].append(hashlib.md5(joined.encode()).hexdigest())
                    for index, value in enumerate(values):
                        columns[index + 2].append(value)
                arrow_chunk = pa.Table.from_arrays(
                    [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)],
                    schema=schema)
                con.register("_chunk", arrow_chunk)
                con.execute("insert into _incoming select * from _chunk")
                con.unregister("_chunk")
        record = "concat_ws(',', " + ", ".join(
            f"coalesce({quote(n)}, '')" for n in names) + ")"
        result = publish_batch(con, spec, result, fingerprint=None, record_sql=record,
                               rejections=[], started_at=started_at, skip_known_rows=True)
        _advance_watermark(con, spec, result.batch_id)
        return result
    finally:
        con.execute("drop table if exists _incoming")


def _advance_watermark(con: duckdb.DuckDBPyConnection, spec: EntitySpec, batch_id: str) -> None:
    column = quote(spec.watermark_column or "")
    newest = con.execute(
        f"select max(try_cast({column} as timestamp)) from {spec.raw_table} where _batch_id = ?",
        [batch_id]).fetchone()[0]
    if newest is None:
        return
    con.execute(f"""
        insert into raw._watermarks values ({sql_literal(spec.name)}, ?, ?, ?)
        on conflict (entity) do update set
            watermark = greatest(raw._watermarks.watermark, excluded.watermark),
            batch_id = excluded.batch_id, updated_at = excluded.updated_at""",
                [newest.isoformat(sep=" "), batch_id, datetime.now(UTC)])
