"""The erasure list as every load checks it: its tables, the keyed tokens of identifying values,
and the marking of delivered rows that name a listed person (`erased_person`).

The erasure itself (finding a person, removing or anonymising them, listing them) is
ingest.erasure; it writes the list this module reads. The loaders (ingest.raw_store) need only
this half, so the raw layer does not depend on the operation that rewrites it.

A token is SHA-256 over a secret of its own (`GOGAEK_ERASURE_SECRET`, kept outside the
warehouse), the kind and the normalised value: without the secret a token cannot be reversed or
compared with a value; the loaders, which have the secret, hash what a delivery holds in the
same columns and quarantine a match without its record.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ingest.db_rows import one_row
from ingest.dbt_macros import macro_sql
from ingest.personal_data import TOKEN_PREFIX, VALUE_PATTERNS
from ingest.schemas import BY_NAME, ENTITIES
from ingest.sql_text import quote, sql_literal

REASON_CODE = "erased_person"

# Columns that identify a person, per raw table, and what kind of value each holds: what the
# erasure list is checked against at load. The contract declares them (Column.identifies).
IDENTIFYING_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    spec.name: spec.identifying_columns for spec in ENTITIES if spec.identifying_columns
}


class ErasureError(ValueError):
    """The request names nobody the warehouse knows, or cannot be carried out."""


# --------------------------------------------------------------------------- normalisation
def phone_digits_sql(column: str) -> str:
    """A phone as staging normalises it (the macro `phone_national`: `+82 10-1234-5678` →
    `01012345678`), null when shorter than 9 digits (a placeholder, an extension)."""
    national = macro_sql("phone_national", column)
    return f"case when length({national}) >= 9 then {national} end"


def email_sql(column: str) -> str:
    """An e-mail as staging compares it (the macro `email_normalised`), null without an @."""
    return f"case when {column} like '%@%' then {macro_sql('email_normalised', column)} end"


def kind_and_value_sql(column: str, kind: str) -> tuple[str, str]:
    """(kind expression, normalised value expression) of one identifying column."""
    if kind == "phone":
        return "'phone'", phone_digits_sql(column)
    if kind == "email":
        return "'email'", email_sql(column)
    if kind == "contact":
        return (
            f"case when {column} like '%@%' then 'email' else 'phone' end",
            f"coalesce({email_sql(column)}, {phone_digits_sql(column)})",
        )
    return sql_literal(kind), f"nullif(trim({column}), '')"


def token_sql(kind: str, value: str) -> str:
    """The keyed hash of a normalised value; needs the temp table `_erasure_key` (the secret)."""
    return f"sha256((select secret from _erasure_key) || chr(31) || {kind} || ':' || {value})"


def with_secret(con: duckdb.DuckDBPyConnection, secret: str) -> None:
    """The secret for token_sql, in a temp table of this connection only (never written to the
    warehouse file)."""
    con.execute("create or replace temp table _erasure_key (secret varchar)")
    con.execute("insert into _erasure_key values (?)", [secret])


# --------------------------------------------------------------------------- tables
def ensure_erasure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute("""
        create table if not exists raw._erasure_list (
            token varchar not null,
            kind varchar not null,
            erasure_id varchar not null,
            listed_at timestamptz not null
        )""")
    con.execute("""
        create table if not exists raw._erasure_log (
            erasure_id varchar primary key,
            requested_as varchar not null,
            subject_token varchar not null,
            started_at timestamptz not null,
            finished_at timestamptz not null,
            customers bigint not null,
            source_records bigint not null,
            values_listed bigint not null,
            rows_deleted bigint not null,
            rows_anonymised bigint not null,
            quarantine_rows_cleared bigint not null,
            snapshot_rows_deleted bigint not null,
            tables varchar not null
        )""")
    con.execute("""
        create table if not exists raw._erasure_rows (
            erasure_id varchar not null,
            source varchar not null,
            entity varchar not null,
            batch_id varchar not null,
            rows_deleted bigint not null,
            rows_anonymised bigint not null
        )""")


def listed_count(con: duckdb.DuckDBPyConnection) -> int:
    exists = one_row(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'raw' and table_name = '_erasure_list' "
            "and table_catalog = current_database()"
        )
    )[0]
    if not exists:
        return 0
    return one_row(con.execute("select count(*) from raw._erasure_list"))[0]


# --------------------------------------------------------------------------- at load
def mark_erased_rows(
    con: duckdb.DuckDBPyConnection, entity_name: str, table: str, secret: str | None
) -> None:
    """Rows of `table` (the loader's `_checked`) whose identifying columns match the erasure
    list get reason `erased_person`, whatever else is wrong with them; the loader keeps no record
    of them in the quarantine."""
    columns = IDENTIFYING_COLUMNS.get(entity_name)
    if not columns or not listed_count(con):
        return
    if secret is None:
        raise ErasureError(
            "the erasure list is not empty, but this load was given no erasure secret "
            "(GOGAEK_ERASURE_SECRET): erased people would not be recognised"
        )
    with_secret(con, secret)
    for column, kind in columns:
        kind_sql, value_sql = kind_and_value_sql(quote(column), kind)
        con.execute(f"""
            update {table} set
                _reason = {sql_literal(column + ": names a person on the erasure list")},
                _reason_code = '{REASON_CODE}',
                _field = {sql_literal(column)}
            where coalesce(_reason_code, '') <> '{REASON_CODE}'
              and {token_sql(kind_sql, value_sql)} in (select token from raw._erasure_list)""")
    con.execute("drop table if exists _erasure_key")


def clear_listed_rejections(
    con: duckdb.DuckDBPyConnection, batch_id: str, secret: str | None
) -> None:
    """Lines of the batch a loader could not parse (kept as delivered in the quarantine) that
    hold a listed e-mail, mobile or hashed RRN: reason `erased_person`, record and reason text
    removed."""
    if not listed_count(con):
        return
    if secret is None:
        raise ErasureError(
            "the erasure list is not empty, but this load was given no erasure secret "
            "(GOGAEK_ERASURE_SECRET): erased people would not be recognised"
        )
    patterns = {
        "email": VALUE_PATTERNS["email"],
        "phone": VALUE_PATTERNS["mobile_phone"],
        "rrn": TOKEN_PREFIX + "[0-9a-f]{64}",
    }
    found = " union all ".join(
        f"select {token_sql(sql_literal(kind), normalised)} as token from ("
        f"select unnest(regexp_extract_all(q.raw_record, {sql_literal(pattern)})) as value)"
        for kind, pattern in patterns.items()
        for normalised in [kind_and_value_sql("value", kind)[1]]
    )
    with_secret(con, secret)
    try:
        con.execute(
            f"""
            update raw._quarantine as q
            set reason_code = '{REASON_CODE}', field = null, raw_record = null,
                reason = 'the line names a person on the erasure list'
            where q.batch_id = ? and q.raw_record is not null
              and exists (select 1 from ({found}) as found
                          where token in (select token from raw._erasure_list))""",
            [batch_id],
        )
    finally:
        con.execute("drop table if exists _erasure_key")


@dataclass(frozen=True)
class ListedRows:
    """What the load-time check of one raw table found."""

    loaded: int  # rows in the raw table that name a listed person (should be none)
    held: int  # rows quarantined as erased_person, all batches
    held_last_batch: int  # of them, in the table's latest batch


def listed_rows(con: duckdb.DuckDBPyConnection, entity_name: str, secret: str) -> ListedRows:
    """Rows of a raw table naming a person on the erasure list, and re-deliveries held back."""
    spec = BY_NAME[entity_name]
    held, last = one_row(
        con.execute(
            f"""
        select count(*), count(*) filter (where batch_id = (
            select batch_id from raw._load_batches where source = ? and entity = ?
            order by started_at desc limit 1))
        from raw._quarantine
        where source = ? and entity = ? and reason_code = '{REASON_CODE}'""",
            [spec.source, spec.entity, spec.source, spec.entity],
        )
    )
    columns = IDENTIFYING_COLUMNS.get(entity_name, ())
    if not columns or not listed_count(con):
        return ListedRows(0, held, last)
    with_secret(con, secret)
    try:
        matches = " or ".join(
            f"{token_sql(*kind_and_value_sql(quote(column), kind))} in "
            "(select token from raw._erasure_list)"
            for column, kind in columns
        )
        loaded = one_row(con.execute(f"select count(*) from {spec.raw_table} where {matches}"))[0]
    finally:
        con.execute("drop table if exists _erasure_key")
    return ListedRows(loaded, held, last)
