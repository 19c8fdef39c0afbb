"""Erasure of a person (개인정보 파기): find every trace in the warehouse, remove or anonymise it,
list the person so a later delivery cannot bring them back, and log what was done.

The person is found through the identity crosswalk (`intermediate.int_identity_crosswalk`): a
customer id, or one source record (`erp_customer:C0001`, `shop_member:17`, ...) and the customer
it belongs to, gives every source record of that customer; those records give the contact values
(mobiles, home and work numbers, e-mails, the hashed RRN) used to find rows that name the person
without a key (calls, tickets, ESP events, guest orders, quarantined lines).

What happens to each raw table (every batch):
- the person's master records (ERP customers, shop members, their marketing consents) are
  deleted;
- rows that carry money or activity are kept and anonymised, so revenue, call and campaign
  counts stay: ERP orders lose the customer number, shop orders lose their member and
  the buyer's name, mobile and e-mail (they become anonymous guest orders), calls lose caller
  number, typed name, memo and unknown fields, tickets lose the caller number, ESP events get
  the recipient `erased`;
- quarantined rows that hold one of the person's values keep their place (the batch counts
  still add up) but lose the record and the reason text.
The histories no run rebuilds lose the person's rows: the SCD history
(`snapshots.snap_customers`) and the customer-id history (`intermediate.int_customer_id_history`,
counted with the snapshot rows in the log); every other table is rebuilt from raw by the next
run (the incremental facts re-resolve rows whose customer changed).

The erasure list (`raw._erasure_list`) holds, per identifying value, a keyed hash: SHA-256 over
a secret of its own (`GOGAEK_ERASURE_SECRET`, kept outside the warehouse), the kind and the
normalised value. Without the secret a token cannot be reversed or compared with a value; the
loaders, which have the secret, hash what a delivery holds in the same columns and quarantine a
match (`erased_person`) without its record: that load-time half is ingest.erasure_list, which
the raw layer uses; this module is the erasure itself. The erasure log (`raw._erasure_log`) and
the per-batch counts (`raw._erasure_rows`, which the batch accounting reads) hold no personal
value.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import psycopg2

from ingest.db_rows import one_row
from ingest.dbt_macros import macro_sql
from ingest.erasure_list import (
    ErasureError,
    ensure_erasure_tables,
    kind_and_value_sql,
    token_sql,
    with_secret,
)
from ingest.postgres_mirror import mirror_raw, pg_params
from ingest.schemas import BY_NAME
from ingest.sql_text import quote

ERASED = "erased"  # the value that replaces an ESP recipient (a required field)
# Crosswalk sources a source key may name (`<source>:<key>`).
SOURCES = ("erp_customer", "shop_member", "shop_guest_order", "callcenter_call", "esp_recipient")


# --------------------------------------------------------------------------- the person
@dataclass
class Person:
    customer_ids: list[str]
    records: dict[str, list[str]]  # crosswalk source -> source keys

    @property
    def source_records(self) -> int:
        return sum(len(keys) for keys in self.records.values())


def parse_source_key(text: str) -> tuple[str, str]:
    source, sep, key = text.partition(":")
    if not sep or source not in SOURCES or not key.strip():
        raise ErasureError(
            f"a source key is <source>:<key> with source one of {', '.join(SOURCES)}, "
            "e.g. erp_customer:C0001"
        )
    return source, key.strip()


def find_person(
    con: duckdb.DuckDBPyConnection, customer_id: str | None = None, source_key: str | None = None
) -> Person:
    """Every crosswalk record of the customer (or of the customer the source record belongs to;
    a record that belongs to nobody is a person of its own)."""
    if bool(customer_id) == bool(source_key):
        raise ErasureError("name the person by a customer id or by a source key, not both")
    crosswalk = "intermediate.int_identity_crosswalk"
    try:
        if source_key:
            source, key = parse_source_key(source_key)
            row = con.execute(
                f"select customer_id from {crosswalk} where source = ? and source_key = ?",
                [source, key],
            ).fetchone()
            if row is None:
                raise ErasureError(f"no {source} record with that key in the identity crosswalk")
            if row[0] is None:
                return Person([], {source: [key]})
            customer_id = row[0]
        assert customer_id is not None  # given, or the source key's (the check above)
        rows = con.execute(
            f"select source, source_key from {crosswalk} where customer_id = ? order by 1, 2",
            [customer_id],
        ).fetchall()
    except duckdb.CatalogException as error:
        raise ErasureError(
            "the warehouse has no identity crosswalk yet: run the daily refresh first"
        ) from error
    if not rows:
        raise ErasureError("no customer with that id in the identity crosswalk")
    records: dict[str, list[str]] = {}
    for source, key in rows:
        records.setdefault(source, []).append(key)
    return Person([customer_id], records)


def _key_table(con: duckdb.DuckDBPyConnection, person: Person) -> None:
    con.execute("create or replace temp table _erase_keys (source varchar, source_key varchar)")
    rows = [(s, k) for s, keys in person.records.items() for k in keys]
    if rows:
        con.executemany("insert into _erase_keys values (?, ?)", rows)


def _keys(source: str) -> str:
    return f"(select source_key from _erase_keys where source = '{source}')"


# The person's own records, per crosswalk source: (raw table, the record's key as the crosswalk
# writes it, the crosswalk source, whether the values found there go on the erasure list). A
# call's caller number may be an office line: scrubbed, not listed.
_RECORDS: tuple[tuple[str, str, str, bool], ...] = (
    ("erp_customers", 'trim("고객번호")', "erp_customer", True),
    ("shop_members", "trim(member_id)", "shop_member", True),
    ("shop_orders", "trim(order_id)", "shop_guest_order", True),
    ("callcenter_calls", "call_id", "callcenter_call", False),
    ("esp_events", "recipient", "esp_recipient", True),
)


def _collect_values(con: duckdb.DuckDBPyConnection) -> None:
    """`_erase_values(kind, value, listed)`: the person's normalised identifying values (the
    contract's `identifies` columns of their records); listed ones go on the erasure list, the
    rest (shared home, work and fax numbers, caller numbers) are only scrubbed."""
    parts = [
        f"select {kind_sql}, {value_sql}, {str(listed and not column.shared).lower()} "
        f"from {spec.raw_table} where {key_sql} in {_keys(source)}"
        for name, key_sql, source, listed in _RECORDS
        for spec in [BY_NAME[name]]
        for column in spec.columns
        if column.identifies is not None
        for kind_sql, value_sql in [
            kind_and_value_sql(quote(spec.stored_name(column)), column.identifies)
        ]
    ]
    con.execute(
        "create or replace temp table _erase_values as "
        "select kind, value, bool_or(listed) as listed from ("
        + " union all ".join(parts)
        + ") as found (kind, value, listed) where value is not null group by kind, value"
    )


# --------------------------------------------------------------------------- the erasure
@dataclass
class ErasureReport:
    erasure_id: str
    customer_ids: list[str]
    customers: int
    source_records: int
    values_listed: int
    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    quarantine_rows_cleared: int = 0
    snapshot_rows_deleted: int = 0

    @property
    def rows_deleted(self) -> int:
        return sum(t.get("deleted", 0) for t in self.tables.values())

    @property
    def rows_anonymised(self) -> int:
        return sum(t.get("anonymised", 0) for t in self.tables.values())

    def summary(self) -> str:
        per_table = ", ".join(
            f"{name}: " + " ".join(f"{k} {v}" for k, v in counts.items())
            for name, counts in self.tables.items()
            if any(counts.values())
        )
        return (
            f"erasure {self.erasure_id}: {self.source_records} source records of "
            f"{self.customers} customer(s); raw rows deleted {self.rows_deleted}, anonymised "
            f"{self.rows_anonymised} ({per_table or 'none'}); quarantine rows cleared "
            f"{self.quarantine_rows_cleared}; history rows deleted {self.snapshot_rows_deleted}; "
            f"{self.values_listed} identifying values on the erasure list"
        )


def _names_by_contact(entity_name: str) -> str:
    """Rows of the table whose identifying phone, e-mail or contact column holds one of the
    person's values (`_erase_values`, kind by kind)."""
    matches = [
        f"exists (select 1 from _erase_values as v where v.kind = {kind_sql} "
        f"and v.value = {value_sql})"
        for column, kind in BY_NAME[entity_name].identifying_columns
        if kind in ("phone", "email", "contact")
        for kind_sql, value_sql in [kind_and_value_sql(quote(column), kind)]
    ]
    return " or ".join(matches)


def _row_hash_sql(entity_name: str) -> str:
    """A new `_row_hash` over the anonymised row, so no hash of the delivered record stays."""
    spec = BY_NAME[entity_name]
    columns = ", ".join(f"coalesce({quote(spec.stored_name(c))}, '')" for c in spec.columns)
    return f"md5(concat_ws(chr(31), {columns}))"


def _anonymise(entity_name: str) -> tuple[str, ...]:
    """The assignments that anonymise a kept row: every column the contract flags as personal
    or identifying is emptied; a required one (the ESP recipient) says `erased` instead, since
    staging expects a value. A JSON source's fields beyond the contract may hold anything."""
    spec = BY_NAME[entity_name]
    assignments = [
        f"{quote(spec.stored_name(c))} = "
        + (f"'{ERASED}'" if c.required and c.holds_personal_data else "null")
        for c in spec.columns
        if c.holds_personal_data or c.identifies is not None
    ]
    if spec.format == "jsonl":
        assignments.append("_unknown_fields = null")
    return tuple(assignments)


# (raw table, rows of the person, whether the rows are kept anonymised or deleted): the master
# records go, the rows that carry money or activity stay so the counts do.
_ACTIONS: tuple[tuple[str, str, bool], ...] = (
    ("erp_customers", f'trim("고객번호") in {_keys("erp_customer")}', False),
    ("shop_members", f"trim(member_id) in {_keys('shop_member')}", False),
    ("shop_marketing_consents", f"trim(member_id) in {_keys('shop_member')}", False),
    ("erp_orders", f'trim("고객번호") in {_keys("erp_customer")}', True),
    (
        "shop_orders",
        f"trim(member_id) in {_keys('shop_member')} or trim(order_id) in "
        f"{_keys('shop_guest_order')} or {_names_by_contact('shop_orders')}",
        True,
    ),
    (
        "callcenter_calls",
        f"call_id in {_keys('callcenter_call')} or {_names_by_contact('callcenter_calls')}",
        True,
    ),
    (
        "callcenter_tickets",
        f"call_id in {_keys('callcenter_call')} or {_names_by_contact('callcenter_tickets')}",
        True,
    ),
    (
        "esp_events",
        f"recipient in {_keys('esp_recipient')} or {_names_by_contact('esp_events')}",
        True,
    ),
)


def _erase_raw(con: duckdb.DuckDBPyConnection, report: ErasureReport) -> None:
    for name, where, kept in _ACTIONS:
        assignments = _anonymise(name) if kept else None
        spec = BY_NAME[name]
        table = spec.raw_table
        counts = con.execute(
            f"select _batch_id, count(*) from {table} where {where} group by 1"
        ).fetchall()
        verb = "deleted" if assignments is None else "anonymised"
        for batch_id, n in counts:
            con.execute(
                "insert into raw._erasure_rows values (?, ?, ?, ?, ?, ?)",
                [
                    report.erasure_id,
                    spec.source,
                    spec.entity,
                    batch_id,
                    n if assignments is None else 0,
                    0 if assignments is None else n,
                ],
            )
        if assignments is None:
            con.execute(f"delete from {table} where {where}")
        elif counts:
            con.execute(
                f"create or replace temp table _erase_hits as "
                f"select rowid as id from {table} where {where}"
            )
            hits = "rowid in (select id from _erase_hits)"
            con.execute(f"update {table} set {', '.join(assignments)} where {hits}")
            # The rows now hold no personal value: hash what they hold.
            con.execute(f"update {table} set _row_hash = {_row_hash_sql(name)} where {hits}")
            con.execute("drop table _erase_hits")
        report.tables[name] = {verb: sum(n for _, n in counts)}


def _clear_quarantine(con: duckdb.DuckDBPyConnection, report: ErasureReport) -> None:
    """Quarantined rows holding one of the person's values keep their place but lose the
    record and the reason text."""
    digits = macro_sql("digits_only", "coalesce(raw_record, '') || ' ' || reason")
    text = "lower(coalesce(raw_record, '') || ' ' || reason)"
    matches = f"""
        exists (select 1 from _erase_values as v where
            (v.kind = 'phone' and contains({digits}, v.value))
            or (v.kind = 'email' and contains({text}, v.value))
            or (v.kind in ('rrn', 'erp_customer') and regexp_matches(
                coalesce(raw_record, '') || ' ' || reason,
                '(^|[^0-9A-Za-z])' || regexp_escape(v.value) || '([^0-9A-Za-z]|$)'))
            or (v.kind = 'shop_member' and entity in ('members', 'marketing_consents', 'orders')
                and regexp_matches(coalesce(raw_record, ''),
                                   '(^|,)' || regexp_escape(v.value) || '(,|$)')))"""
    report.quarantine_rows_cleared = one_row(
        con.execute(f"select count(*) from raw._quarantine where {matches}")
    )[0]
    con.execute(f"""
        update raw._quarantine
        set raw_record = null, reason = reason_code || ': record erased', record_hash = null
        where {matches}""")


def _delete_snapshots(con: duckdb.DuckDBPyConnection, person: Person) -> int:
    exists = one_row(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = 'snapshots' "
            "and table_name = 'snap_customers' and table_catalog = current_database()"
        )
    )[0]
    if not exists or not person.customer_ids:
        return 0
    placeholders = ", ".join("?" for _ in person.customer_ids)
    where = f"customer_id in ({placeholders})"
    n = one_row(
        con.execute(
            f"select count(*) from snapshots.snap_customers where {where}", person.customer_ids
        )
    )[0]
    con.execute(f"delete from snapshots.snap_customers where {where}", person.customer_ids)
    return n


def _delete_id_history(con: duckdb.DuckDBPyConnection, person: Person) -> int:
    """The person's rows of the customer-id history (int_customer_id_history, which no run
    rebuilds): every id their records were given, retired or current. The id lookup and the
    audit log are built from it and lose the person at the next run."""
    exists = one_row(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = 'intermediate' "
            "and table_name = 'int_customer_id_history' and table_catalog = current_database()"
        )
    )[0]
    if not exists:
        return 0
    ids = person.customer_ids or [""]
    placeholders = ", ".join("?" for _ in ids)
    where = (
        "record_id in (select source || ':' || source_key from _erase_keys) "
        f"or customer_id in ({placeholders}) or previous_customer_id in ({placeholders})"
    )
    table = "intermediate.int_customer_id_history"
    n = one_row(con.execute(f"select count(*) from {table} where {where}", [*ids, *ids]))[0]
    con.execute(f"delete from {table} where {where}", [*ids, *ids])
    return n


def erase(
    con: duckdb.DuckDBPyConnection,
    secret: str,
    customer_id: str | None = None,
    source_key: str | None = None,
) -> ErasureReport:
    """Erase one person from the warehouse in one transaction (see the module docstring). The
    tables built from raw keep the person until the next run rebuilds them."""
    ensure_erasure_tables(con)
    person = find_person(con, customer_id, source_key)
    started = datetime.now(UTC)
    erasure_id = uuid.uuid4().hex
    with_secret(con, secret)
    con.execute("begin transaction")
    try:
        _key_table(con, person)
        _collect_values(con)
        listed = one_row(
            con.execute(
                f"""
            insert into raw._erasure_list
            select distinct {token_sql("kind", "value")}, kind, ?, ?
            from _erase_values
            where listed and {token_sql("kind", "value")} not in
                (select token from raw._erasure_list)""",
                [erasure_id, started],
            )
        )[0]
        report = ErasureReport(
            erasure_id, person.customer_ids, len(person.customer_ids), person.source_records, listed
        )
        _clear_quarantine(con, report)
        _erase_raw(con, report)
        con.execute(
            "delete from raw._deletions where (entity = 'members' and record_key in "
            f"{_keys('shop_member')}) or (entity = 'marketing_consents' and "
            f"split_part(record_key, '|', 1) in {_keys('shop_member')})"
        )
        report.snapshot_rows_deleted = _delete_snapshots(con, person) + _delete_id_history(
            con, person
        )
        requested_as = "customer_id" if customer_id else "source_key"
        con.execute(
            f"""
            insert into raw._erasure_log values (
                ?, ?, {token_sql("?", "?")}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                erasure_id,
                requested_as,
                requested_as,
                customer_id or source_key,
                started,
                datetime.now(UTC),
                report.customers,
                report.source_records,
                report.values_listed,
                report.rows_deleted,
                report.rows_anonymised,
                report.quarantine_rows_cleared,
                report.snapshot_rows_deleted,
                json.dumps(report.tables, sort_keys=True),
            ],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        for temp in ("_erase_keys", "_erase_values", "_erasure_key"):
            con.execute(f"drop table if exists {temp}")
    return report


def subject_token(
    con: duckdb.DuckDBPyConnection, secret: str, requested_as: str, value: str
) -> str:
    """The token the erasure log keeps for a request: lets an auditor holding the secret answer
    "was this customer erased?" without the log naming anyone."""
    with_secret(con, secret)
    try:
        return one_row(con.execute(f"select {token_sql('?', '?')}", [requested_as, value]))[0]
    finally:
        con.execute("drop table if exists _erasure_key")


def erase_postgres_copy(warehouse_path: str, database: str, customer_ids: Sequence[str]) -> int:
    """The PostgreSQL copy (`make postgres`) after an erasure: the erased raw layer replaces its
    raw tables, and the customers' SCD history there is deleted (snapshot rows deleted). The
    marts there are rebuilt by the next `make postgres`."""
    mirror_raw(warehouse_path, database)
    con = psycopg2.connect(**pg_params(database))
    try:
        with con, con.cursor() as cursor:
            deleted = 0
            if not customer_ids:
                return 0
            cursor.execute("select to_regclass('snapshots.snap_customers') is not null")
            if one_row(cursor)[0]:
                cursor.execute(
                    "delete from snapshots.snap_customers where customer_id = any(%s)",
                    [list(customer_ids)],
                )
                deleted += cursor.rowcount
            cursor.execute("select to_regclass('intermediate.int_customer_id_history') is not null")
            if one_row(cursor)[0]:
                # the ids the records were given: the current one names every record of it
                cursor.execute(
                    "delete from intermediate.int_customer_id_history where record_id in ("
                    "select record_id from intermediate.int_customer_id_history "
                    "where customer_id = any(%s))",
                    [list(customer_ids)],
                )
                deleted += cursor.rowcount
            return deleted
    finally:
        con.close()
