"""The raw layer in the warehouse: raw tables, the quarantine, the batch log, watermarks,
delete markers.

Every loader ends the same way: rows it could read go into a temporary table `_incoming`
(`_line`, `_hash`, then the spec's columns as text) through `IncomingRows`, in Arrow chunks, and
`publish_batch` checks each field against the spec and the row-level bounds (settings.LoadLimits)
in SQL, inserts good rows into the raw table and bad ones into the quarantine, and logs the batch
— all in one transaction, so a crash never leaves half a batch behind. Nothing is staged on disk.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from ingest.db_rows import one_row
from ingest.dbt_macros import macro_sql
from ingest.erasure_list import (
    REASON_CODE,
    clear_listed_rejections,
    ensure_erasure_tables,
    mark_erased_rows,
)
from ingest.schemas import ENTITIES, Column, EntitySpec, key_value_sql
from ingest.settings import LoadLimits
from ingest.sql_text import quote, sql_literal

# Source timestamps without an offset are Korean local time (see the dbt macro parse_timestamp).
SOURCE_TIME_ZONE = ZoneInfo("Asia/Seoul")
CHUNK_ROWS = 50_000

LOAD_META_COLUMNS = (
    ("_batch_id", "varchar", "load batch that wrote the row"),
    ("_source_file", "varchar", "file (relative to the landing folder) or query the row came from"),
    ("_source_line", "bigint", "physical line in the file (header = 1), or offset in the query"),
    ("_loaded_at", "timestamptz", "load time"),
    ("_row_hash", "varchar", "md5 of the record as delivered (after RRN masking)"),
)


def ensure_raw_schema(
    con: duckdb.DuckDBPyConnection, specs: Sequence[EntitySpec] = ENTITIES
) -> None:
    con.execute("create schema if not exists raw")
    con.execute("""
        create table if not exists raw._load_batches (
            batch_id varchar primary key,
            source varchar not null,
            entity varchar not null,
            source_ref varchar not null,
            fingerprint varchar,
            status varchar not null,
            rows_read bigint not null,
            rows_loaded bigint not null,
            rows_quarantined bigint not null,
            rows_unchanged bigint not null,
            blank_lines bigint not null,
            started_at timestamptz not null,
            finished_at timestamptz not null
        )""")
    con.execute("""
        create table if not exists raw._quarantine (
            batch_id varchar not null,
            source varchar not null,
            entity varchar not null,
            source_file varchar not null,
            source_line bigint,
            field varchar,
            reason_code varchar not null,
            reason varchar not null,
            raw_record varchar,
            record_hash varchar,
            quarantined_at timestamptz not null
        )""")
    con.execute("""
        create table if not exists raw._watermarks (
            entity varchar primary key,
            watermark varchar not null,
            batch_id varchar not null,
            updated_at timestamptz not null
        )""")
    # A record the source no longer holds (found by a shop full compare); staging hides the
    # key while the marker is newer than the key's latest loaded version and not restored.
    con.execute("""
        create table if not exists raw._deletions (
            source varchar not null,
            entity varchar not null,
            record_key varchar not null,
            batch_id varchar not null,
            deleted_at timestamptz not null,
            restored_at timestamptz
        )""")
    con.execute("""
        create table if not exists raw._full_compares (
            source varchar not null,
            entity varchar not null,
            batch_id varchar not null,
            compared_at timestamptz not null,
            source_rows bigint not null,
            deleted bigint not null,
            restored bigint not null
        )""")
    ensure_erasure_tables(con)
    for spec in specs:
        columns = [f"{quote(spec.stored_name(c))} varchar" for c in spec.columns]
        columns += [f"{name} {type_}" for name, type_, _ in LOAD_META_COLUMNS]
        if spec.format == "jsonl":
            columns.append("_unknown_fields varchar")
        con.execute(f"create table if not exists {spec.raw_table} ({', '.join(columns)})")


@dataclass
class BatchResult:
    entity: str
    source_ref: str
    status: str
    batch_id: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_unchanged: int = 0
    blank_lines: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    deleted: int = 0  # delete markers written by a full compare
    # The source mapping a company's own export was read through (ingest.source_mapping), and
    # the columns of it no rule reads: named on the asset, never stored.
    mapping: str = ""
    read_columns: tuple[str, ...] = ()
    unused_columns: tuple[str, ...] = ()
    # Rows of a mapped export that make no record of this delivery (an order's second line
    # item, for its orders): another delivery's rows, not counted as read here.
    rows_skipped: int = 0


@dataclass
class Rejection:
    """A row the loader could not even stage (undecodable, bad quoting, wrong field count ...)."""

    line: int
    field: str | None
    reason_code: str
    reason: str
    raw_record: str


class IncomingRows:
    """The temporary table `_incoming`, filled from Python in Arrow chunks of CHUNK_ROWS rows."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, names: Sequence[str], with_unknown: bool = False
    ) -> None:
        self.con = con
        fields: list[tuple[str, pa.DataType]] = [("_line", pa.int64()), ("_hash", pa.string())]
        fields += [(name, pa.string()) for name in names]
        if with_unknown:
            fields.append(("_unknown", pa.string()))
        self.schema = pa.schema(fields)
        self.with_unknown = with_unknown
        self.rows: list[tuple[object, ...]] = []
        con.execute(
            "create or replace temp table _incoming ("
            + ", ".join(
                f"{quote(f.name)} {'bigint' if f.name == '_line' else 'varchar'}"
                for f in self.schema
            )
            + ")"
        )

    def add(
        self, line: int, digest: str, values: Sequence[str | None], unknown: str | None = None
    ) -> None:
        self.rows.append(
            (line, digest, *values, unknown) if self.with_unknown else (line, digest, *values)
        )
        if len(self.rows) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        columns = zip(*self.rows, strict=True)
        chunk = pa.Table.from_arrays(
            [pa.array(c, type=f.type) for c, f in zip(columns, self.schema, strict=True)],
            schema=self.schema,
        )
        self.con.register("_chunk", chunk)
        try:
            self.con.execute("insert into _incoming select * from _chunk")
        finally:
            self.con.unregister("_chunk")
        self.rows = []


def new_batch_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class _Bounds:
    """LoadLimits as SQL literals, fixed once per batch."""

    limits: LoadLimits
    now_local: datetime

    def literal(self, moment: datetime) -> str:
        return f"timestamp '{moment:%Y-%m-%d %H:%M:%S}'"

    @property
    def earliest(self) -> str:
        return f"timestamp '{self.limits.earliest_date.isoformat()} 00:00:00'"

    @property
    def latest(self) -> str:
        return self.literal(self.now_local + timedelta(days=self.limits.max_future_days))

    @property
    def watermark_latest(self) -> str:
        return self.literal(
            self.now_local + timedelta(minutes=self.limits.watermark_tolerance_minutes)
        )


def _field_problems(
    column: Column, stored: str, bounds: _Bounds, watermark: bool = False
) -> list[tuple[str, str]]:
    """(sql condition that marks the value bad, reason code) pairs for one column, in order."""
    value = f"trim({quote(stored)})"
    present = f"({quote(stored)} is not null and {value} <> '')"
    problems: list[tuple[str, str]] = []
    if column.key:  # the contract's reading of a key value: blank is missing
        problems.append((f"{key_value_sql(quote(stored))} is null", "missing_key"))
    elif column.required:
        problems.append((f"not {present}", "missing_required"))
    if column.kind in ("date", "timestamp"):
        if column.kind == "date":
            # staging's own parsing (the dbt macros), so a value that passes here casts there
            parsed, code = macro_sql("parse_date", value), "bad_date"
        else:
            parsed, code = macro_sql("parse_timestamp", value, "try_cast"), "bad_timestamp"
        problems.append((f"{present} and {parsed} is null", code))
        if watermark:
            problems.append(
                (f"{present} and {parsed} > {bounds.watermark_latest}", "watermark_in_future")
            )
        problems.append(
            (
                f"{present} and ({parsed} < {bounds.earliest} or {parsed} > {bounds.latest})",
                "implausible_date",
            )
        )
    elif column.kind in ("int", "decimal"):
        number = f"replace({value}, ',', '')"
        if column.kind == "int":
            problems.append((f"{present} and try_cast({number} as bigint) is null", "bad_number"))
        else:
            # Amounts in any currency: thousands separators and a decimal point, no exponent.
            problems.append(
                (
                    f"{present} and not regexp_full_match({number}, "
                    r"'-?[0-9]+(\.[0-9]+)?')",
                    "bad_number",
                )
            )
        # A comma only between groups of three digits ("1,234,000"). Anywhere else it is a
        # decimal comma ("12,34" from a European export) or a typo: quarantined, never 1234.
        problems.append(
            (
                f"{present} and contains({value}, ',') and not regexp_full_match(trim({value}), "
                r"'[-+]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?')",
                "bad_number",
            )
        )
        if not column.is_identifier:  # an id is bounded by its type (bigint), not summed
            problems.append(
                (
                    f"{present} and abs(try_cast({number} as double)) > "
                    f"{bounds.limits.max_abs_number!r}",
                    "implausible_number",
                )
            )
    return problems


def _reason_text(code: str, bounds: _Bounds) -> str:
    limits = bounds.limits
    return {
        "missing_key": "missing key value",
        "missing_required": "missing required value",
        "bad_date": "unparsable date",
        "bad_timestamp": "unparsable timestamp",
        "bad_number": "not a number",
        "implausible_date": (
            f"outside {limits.earliest_date} .. today + {limits.max_future_days} days"
        ),
        "implausible_number": f"beyond ±{limits.max_abs_number:,.0f}",
        "watermark_in_future": (
            f"later than now + {limits.watermark_tolerance_minutes} min, not taken as the watermark"
        ),
    }[code]


def _validation_sql(spec: EntitySpec, bounds: _Bounds) -> tuple[str, str, str]:
    """SQL expressions for: reason text, reason code and field of the first problem (or null).

    A reason names the field and the problem and shows that field's value (already through the
    personal-data gate), never the row."""
    reasons, codes, fields = [], [], []
    for column in spec.columns:
        stored = spec.stored_name(column)
        watermark = column.name == spec.watermark_column
        for condition, code in _field_problems(column, stored, bounds, watermark):
            shown = f"coalesce({quote(stored)}, '')"
            text = (
                f"{sql_literal(column.name + ': ' + _reason_text(code, bounds) + ' ')}"
                f" || '''' || left({shown}, 60) || ''''"
            )
            reasons.append(f"case when {condition} then {text} end")
            codes.append(f"case when {condition} then {sql_literal(code)} end")
            fields.append(f"case when {condition} then {sql_literal(column.name)} end")
    reason = f"nullif(concat_ws('; ', {', '.join(reasons)}), '')" if reasons else "null"
    code = f"coalesce({', '.join(codes)})" if codes else "null"
    field_ = f"coalesce({', '.join(fields)})" if fields else "null"
    return reason, code, field_


def publish_batch(
    con: duckdb.DuckDBPyConnection,
    spec: EntitySpec,
    result: BatchResult,
    *,
    fingerprint: str | None,
    record_sql: str,
    rejections: Sequence[Rejection],
    started_at: datetime,
    skip_known_rows: bool = False,
    extra_select: str = "",
    limits: LoadLimits | None = None,
    erasure_secret: str | None = None,
) -> BatchResult:
    """Validate `_incoming`, write good rows to raw and bad ones to quarantine, log the batch.

    `record_sql` rebuilds the delivered record from `_incoming` columns for quarantine rows.
    With `skip_known_rows`, rows whose key and content hash are already in raw (or already
    quarantined) count as unchanged: that is how re-reading an overlap window adds nothing.
    Rows naming a person on the erasure list are quarantined as `erased_person`, without their
    record (ingest.erasure_list; `erasure_secret` is the key of its tokens).
    """
    batch_id = result.batch_id
    bounds = _Bounds(
        limits or LoadLimits.default(), datetime.now(SOURCE_TIME_ZONE).replace(tzinfo=None)
    )
    reason, code, field_ = _validation_sql(spec, bounds)
    stored = [spec.stored_name(c) for c in spec.columns]
    cols = ", ".join(quote(c) for c in stored)
    now = datetime.now(UTC)
    con.execute("begin transaction")
    try:
        con.execute(f"""
            create or replace temp table _checked as
            select *, {reason} as _reason, {code} as _reason_code, {field_} as _field
            from _incoming""")
        if skip_known_rows:
            keys = " and ".join(
                f"known.{quote(k)} is not distinct from _checked.{quote(k)}"
                for k in spec.key_columns
            )
            con.execute(f"""
                create or replace temp table _checked as
                select * from _checked
                where not exists (
                    select 1 from {spec.raw_table} as known
                    where known._row_hash = _checked._hash and {keys})
                and not exists (
                    select 1 from raw._quarantine as q
                    where q.entity = {sql_literal(spec.entity)}
                      and q.source = {sql_literal(spec.source)}
                      and q.record_hash = _checked._hash)""")
        mark_erased_rows(con, spec.name, "_checked", erasure_secret)
        staged = one_row(con.execute("select count(*) from _checked"))[0]
        result.rows_unchanged = result.rows_read - len(rejections) - staged
        unknown_column = ", _unknown_fields" if extra_select else ""
        con.execute(
            f"""
            insert into {spec.raw_table} ({cols}, _batch_id, _source_file, _source_line,
                                          _loaded_at, _row_hash{unknown_column})
            select {cols}, ?, ?, _line, ?, _hash{extra_select and ", " + extra_select}
            from _checked where _reason is null order by _line""",
            [batch_id, result.source_ref, now],
        )
        con.execute(
            f"""
            insert into raw._quarantine
            select ?, ?, ?, ?, _line, _field, _reason_code, _reason,
                   case when _reason_code = '{REASON_CODE}' then null else {record_sql} end,
                   _hash, ?
            from _checked where _reason is not null order by _line""",
            [batch_id, spec.source, spec.entity, result.source_ref, now],
        )
        if rejections:
            con.executemany(
                "insert into raw._quarantine values (?, ?, ?, ?, ?, ?, ?, ?, ?, null, ?)",
                [
                    [
                        batch_id,
                        spec.source,
                        spec.entity,
                        result.source_ref,
                        r.line,
                        r.field,
                        r.reason_code,
                        r.reason,
                        r.raw_record,
                        now,
                    ]
                    for r in rejections
                ],
            )
            clear_listed_rejections(con, batch_id, erasure_secret)
        result.rows_loaded = one_row(
            con.execute(f"select count(*) from {spec.raw_table} where _batch_id = ?", [batch_id])
        )[0]
        reasons = con.execute(
            "select reason_code, count(*) from raw._quarantine where batch_id = ? group by 1",
            [batch_id],
        ).fetchall()
        result.reasons = dict(sorted(reasons))
        result.rows_quarantined = sum(result.reasons.values())
        if result.status == "loaded" and result.rows_loaded == 0 and result.rows_quarantined == 0:
            result.status = "no_change"
        con.execute(
            "insert into raw._load_batches values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                batch_id,
                spec.source,
                spec.entity,
                result.source_ref,
                fingerprint,
                result.status,
                result.rows_read,
                result.rows_loaded,
                result.rows_quarantined,
                result.rows_unchanged,
                result.blank_lines,
                started_at,
                datetime.now(UTC),
            ],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.execute("drop table if exists _checked")
    return result


def earlier_load(
    con: duckdb.DuckDBPyConnection, spec: EntitySpec, fingerprint: str
) -> tuple[str, ...] | None:
    """Every source_ref a file with this content was logged under, or None if never seen. A
    file loaded as labelled deliveries (`<content>/<label>`) counts as seen by its content."""
    rows = con.execute(
        "select source_ref from raw._load_batches where source = ? and entity = ? "
        "and (fingerprint = ? or starts_with(fingerprint, ? || '/')) order by started_at",
        [spec.source, spec.entity, fingerprint, fingerprint],
    ).fetchall()
    return tuple(r[0] for r in rows) or None


def log_duplicate_file(
    con: duckdb.DuckDBPyConnection,
    spec: EntitySpec,
    source_ref: str,
    fingerprint: str,
    duplicate_of: str,
) -> BatchResult:
    """A new file whose bytes equal a file already loaded: logged, nothing loaded twice."""
    result = BatchResult(
        spec.name, source_ref, f"duplicate_of:{duplicate_of}", batch_id=new_batch_id()
    )
    now = datetime.now(UTC)
    con.execute(
        "insert into raw._load_batches values (?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, ?, ?)",
        [
            result.batch_id,
            spec.source,
            spec.entity,
            source_ref,
            fingerprint,
            result.status,
            now,
            now,
        ],
    )
    return result


def accounting_problems(con: duckdb.DuckDBPyConnection, spec: EntitySpec) -> list[str]:
    """Batches of `spec` whose counts do not add up, or disagree with what the tables hold."""
    rows = con.execute(
        f"""
        with held as (
            select _batch_id as batch_id, count(*) as n from {spec.raw_table} group by 1
        ), erased as (
            -- rows an erasure of a person deleted (ingest.erasure)
            select batch_id, sum(rows_deleted) as n from raw._erasure_rows
            where source = ? and entity = ? group by 1
        ), loaded as (
            select batch_id, sum(n) as n from (select * from held union all select * from erased)
            group by 1
        ), quarantined as (
            select batch_id, count(*) as n from raw._quarantine
            where source = ? and entity = ? group by 1
        )
        select b.batch_id, b.source_ref, b.rows_read, b.rows_loaded, b.rows_quarantined,
               b.rows_unchanged, coalesce(l.n, 0), coalesce(q.n, 0)
        from raw._load_batches as b
        left join loaded as l on l.batch_id = b.batch_id
        left join quarantined as q on q.batch_id = b.batch_id
        where b.source = ? and b.entity = ?
          and (b.rows_read <> b.rows_loaded + b.rows_quarantined + b.rows_unchanged
               or b.rows_loaded <> coalesce(l.n, 0)
               or b.rows_quarantined <> coalesce(q.n, 0))
        order by b.started_at""",
        [spec.source, spec.entity, spec.source, spec.entity, spec.source, spec.entity],
    ).fetchall()
    orphans = one_row(
        con.execute(f"""
        select count(*) from {spec.raw_table}
        where _batch_id not in (select batch_id from raw._load_batches)""")
    )[0]
    problems = [
        f"batch {b} ({ref}): read {r} != loaded {lo} + quarantined {q} + unchanged {u}"
        f" (tables hold {tl} loaded, {tq} quarantined)"
        for b, ref, r, lo, q, u, tl, tq in rows
    ]
    if orphans:
        problems.append(f"{orphans} rows in {spec.raw_table} belong to no logged batch")
    return problems
