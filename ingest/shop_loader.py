"""Load the online shop's operational database (SQLite, MariaDB/MySQL, ...) incrementally.

Each table is read through SQLAlchemy, streamed in chunks, from its watermark (the highest
`updated_at` loaded so far) minus an overlap window: a transaction that commits late with a
slightly older `updated_at` is still picked up. Rows re-read inside the window are recognised by
key and content hash and count as unchanged, so re-reading adds nothing.

The watermark cannot be poisoned: an `updated_at` beyond now plus a tolerance is quarantined
(`watermark_in_future`), never taken as the watermark, and a stored watermark in the future is
ignored. Rows whose `updated_at` is NULL, or (SQLite) not a timestamp at all, are read by every
load and quarantined, never invisible. Every `GOGAEK_SHOP_FULL_COMPARE_DAYS` a load reads the
whole table instead: rows changed behind the watermark load as new versions, and keys the source
no longer holds get a delete marker in `raw._deletions` that staging honours (a key that comes
back lifts its marker).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import duckdb
import sqlalchemy as sa

from ingest.db_rows import one_row
from ingest.personal_data import mask_rrns
from ingest.raw_store import (
    SOURCE_TIME_ZONE,
    BatchResult,
    IncomingRows,
    Rejection,
    new_batch_id,
    publish_batch,
    quote,
    sql_literal,
)
from ingest.schemas import EntitySpec
from ingest.settings import LoadLimits
from ingest.source_mapping import Problem, SourceMapping

CHUNK_ROWS = 50_000
_NULL = "\x00"


def record_key_sql(spec: EntitySpec) -> str:
    """The key of a row as one text, the form `raw._deletions.record_key` holds (and the dbt
    macro record_key builds)."""
    return "concat_ws('|', " + ", ".join(f"trim({quote(k)})" for k in spec.key_columns) + ")"


def _query(spec: EntitySpec, since: str | None, dialect: str) -> sa.Select:
    table = sa.table(spec.location, *[sa.column(c.name) for c in spec.columns])
    # Read every value as text: raw keeps what the source holds, even values its own types
    # would refuse (SQLite lets any text into a DATETIME column).
    query = sa.select(*[sa.cast(table.c[c.name], sa.String).label(c.name) for c in spec.columns])
    if spec.watermark_column is None:
        raise ValueError(f"{spec.name}: a shop table is read by its watermark column, none is set")
    watermark = table.c[spec.watermark_column]
    if since is not None:
        unreadable = [watermark.is_(None)]
        if dialect == "sqlite":
            # SQLite compares numbers below text: an epoch integer or '18/11/2026' would never
            # be ">= since". MariaDB's DATETIME cannot hold such values.
            unreadable.append(sa.cast(watermark, sa.String).not_like("____-__-__%"))
        query = query.where(sa.or_(watermark >= since, *unreadable))
    order = [watermark] + [table.c[k] for k in spec.key_columns]
    return query.order_by(*order)


def _describe(engine: sa.Engine, spec: EntitySpec, since: str | None) -> str:
    where = f" where {spec.watermark_column} >= '{since}' or unreadable" if since else ""
    database = engine.url.render_as_string(hide_password=True)
    return f"{database} :: select * from {spec.location}{where}"


def _now_local() -> datetime:
    return datetime.now(SOURCE_TIME_ZONE).replace(tzinfo=None)


def current_watermark(
    con: duckdb.DuckDBPyConnection, spec: EntitySpec, limits: LoadLimits | None = None
) -> str | None:
    """The stored watermark, or None when there is none or it lies in the future (a value an
    older version of the loader let through must not hide every later change)."""
    limits = limits or LoadLimits.default()
    row = con.execute(
        "select watermark from raw._watermarks where entity = ?", [spec.name]
    ).fetchone()
    if row is None:
        return None
    latest = _now_local() + timedelta(minutes=limits.watermark_tolerance_minutes)
    return row[0] if datetime.fromisoformat(row[0]) <= latest else None


def full_compare_due(con: duckdb.DuckDBPyConnection, spec: EntitySpec, every_days: int) -> bool:
    last = one_row(
        con.execute(
            "select max(compared_at) from raw._full_compares where source = ? and entity = ?",
            [spec.source, spec.entity],
        )
    )[0]
    return last is None or datetime.now(UTC) - last >= timedelta(days=every_days)


def load_shop_table(
    con: duckdb.DuckDBPyConnection,
    engine: sa.Engine,
    spec: EntitySpec,
    salt: str,
    overlap: timedelta,
    limits: LoadLimits | None = None,
    full_compare: bool = False,
    erasure_secret: str | None = None,
    mapping: SourceMapping | None = None,
) -> BatchResult:
    """One batch of `spec`: incremental from the watermark, or the whole table with
    `full_compare` (then deletes and returns are recorded too). Through a SQL `mapping` (a shop
    database of another layout) its query is read whole at every load: such tables rarely say
    when a row changed, and unchanged rows are recognised by content."""
    limits = limits or LoadLimits.default()
    full_compare = full_compare or mapping is not None
    watermark = None if full_compare else current_watermark(con, spec, limits)
    since = None
    if watermark is not None:
        since = (datetime.fromisoformat(watermark) - overlap).strftime("%Y-%m-%d %H:%M:%S")
    started_at = datetime.now(UTC)
    described = (
        _describe(engine, spec, since)
        if mapping is None
        else f"{engine.url.render_as_string(hide_password=True)} :: mapping {mapping.name}"
    )
    result = BatchResult(spec.name, described, "loaded", batch_id=new_batch_id())
    result.mapping = mapping.name if mapping is not None else ""
    names = list(spec.column_names)
    rows = IncomingRows(con, names)
    rejections: list[Rejection] = []
    try:
        with engine.connect() as connection:
            stream = connection.execution_options(stream_results=True, yield_per=CHUNK_ROWS)
            query = (
                _query(spec, since, engine.dialect.name)
                if mapping is None
                else sa.text(mapping.query or "")
            )
            for chunk in stream.execute(query).partitions(CHUNK_ROWS):
                for row in chunk:
                    if mapping is None:
                        texts: list[str | None] = [None if v is None else str(v) for v in row]
                    else:
                        cells = {k: "" if v is None else str(v) for k, v in row._mapping.items()}
                        if not mapping.holds(cells):
                            result.rows_skipped += 1
                            continue
                        made = mapping.contract_row(cells)
                        if isinstance(made, Problem):
                            result.rows_read += 1
                            shown = mask_rrns(
                                repr([cells.get(n, "") for n in mapping.source_columns]), salt
                            )
                            rejections.append(
                                Rejection(
                                    result.rows_read, made.field, made.code, made.reason, shown
                                )
                            )
                            continue
                        texts = [value or None for value in made]
                    result.rows_read += 1
                    values = [None if v is None else mask_rrns(v, salt) for v in texts]
                    joined = "\x1f".join(_NULL if v is None else v for v in values)
                    rows.add(result.rows_read, hashlib.md5(joined.encode()).hexdigest(), values)
        rows.flush()
        if full_compare:  # every key the source holds now, quarantined rows' included
            con.execute(
                "create or replace temp table _source_keys as "
                f"select distinct {record_key_sql(spec)} as record_key from _incoming"
            )
        record = "concat_ws(',', " + ", ".join(f"coalesce({quote(n)}, '')" for n in names) + ")"
        result = publish_batch(
            con,
            spec,
            result,
            fingerprint=None,
            record_sql=record,
            rejections=rejections,
            started_at=started_at,
            skip_known_rows=True,
            limits=limits,
            erasure_secret=erasure_secret,
        )
        _advance_watermark(con, spec, result.batch_id, limits)
        if full_compare:
            # Through a mapping, the query answers only for the keys it delivered: rows that
            # came another way (an earlier platform's exports) are not its to delete.
            _record_deletions(con, spec, result, result.source_ref if mapping else None)
        return result
    finally:
        con.execute("drop table if exists _incoming")
        con.execute("drop table if exists _source_keys")


def _advance_watermark(
    con: duckdb.DuckDBPyConnection, spec: EntitySpec, batch_id: str, limits: LoadLimits
) -> None:
    """The watermark: the newest `updated_at` raw holds that is not in the future (rows an
    older loader let through included), so it never runs ahead and never falls back."""
    column = quote(spec.watermark_column or "")
    latest = _now_local() + timedelta(minutes=limits.watermark_tolerance_minutes)
    newest = one_row(
        con.execute(
            f"select max(try_cast({column} as timestamp)) from {spec.raw_table} "
            f"where try_cast({column} as timestamp) <= ?",
            [latest],
        )
    )[0]
    if newest is None:
        return
    con.execute(
        f"""
        insert into raw._watermarks values ({sql_literal(spec.name)}, ?, ?, ?)
        on conflict (entity) do update set
            watermark = excluded.watermark, batch_id = excluded.batch_id,
            updated_at = excluded.updated_at""",
        [newest.isoformat(sep=" "), batch_id, datetime.now(UTC)],
    )


def _record_deletions(
    con: duckdb.DuckDBPyConnection,
    spec: EntitySpec,
    result: BatchResult,
    delivered_as: str | None = None,
) -> None:
    """Delete markers for keys raw holds and the source (`_source_keys`) no longer does; lift
    the markers of keys that are back. With `delivered_as`, only keys raw holds from batches
    of that source_ref are the source's."""
    scope = ""
    if delivered_as is not None:
        scope = (
            "where _batch_id in (select batch_id from raw._load_batches "
            f"where source_ref = {sql_literal(delivered_as)})"
        )
    now = datetime.now(UTC)
    entity = [spec.source, spec.entity]
    con.execute("begin transaction")
    try:
        restored = one_row(
            con.execute(
                """
            update raw._deletions set restored_at = ?
            where source = ? and entity = ? and restored_at is null
              and record_key in (select record_key from _source_keys)""",
                [now, *entity],
            )
        )[0]
        deleted = one_row(
            con.execute(
                f"""
            insert into raw._deletions
            select ?, ?, record_key, ?, ?, null from (
                select distinct {record_key_sql(spec)} as record_key from {spec.raw_table}
                {scope}
            ) as known
            where record_key <> ''
              and record_key not in (select record_key from _source_keys)
              and record_key not in (select record_key from raw._deletions
                                     where source = ? and entity = ? and restored_at is null)""",
                [*entity, result.batch_id, now, *entity],
            )
        )[0]
        con.execute(
            "insert into raw._full_compares values (?, ?, ?, ?, ?, ?, ?)",
            [*entity, result.batch_id, now, result.rows_read, deleted, restored],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    result.deleted = deleted
