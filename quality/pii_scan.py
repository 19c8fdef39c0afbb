"""Scan warehouse tables for clear-text resident registration numbers.

DuckDB pre-filters with a regular expression (fast, native); Python then keeps only candidates
whose birth date and gender digit are valid (RE2 has no look-around and no calendar). Findings
never carry the number itself: a finding names table, column, how many rows, and a masked sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ingest.raw_store import quote
from ingest.rrn import find_rrns

# Same shape as ingest.rrn.RRN_PATTERN, in RE2 syntax (no look-behind).
CANDIDATE_REGEX = (r"(^|[^0-9A-Za-z])[0-9]{2}[01][0-9][0-3][0-9][- ]?[1-8][0-9]{6}"
                   r"([^0-9A-Za-z]|$)")
_SAMPLE_LIMIT = 1000


@dataclass(frozen=True)
class RrnFinding:
    table: str
    column: str
    rows: int
    masked_sample: str


def _mask(value: str) -> str:
    return value[:2] + "****-*******" if value else value


def scan_table(con: duckdb.DuckDBPyConnection, table: str,
               where: str | None = None) -> list[RrnFinding]:
    schema, name = table.split(".", 1)
    columns = [row[0] for row in con.execute(
        "select column_name from information_schema.columns where table_schema = ? "
        "and table_name = ? and data_type = 'VARCHAR' order by ordinal_position",
        [schema, name]).fetchall()]
    findings = []
    for column in columns:
        condition = f"regexp_matches({quote(column)}, '{CANDIDATE_REGEX}')"
        if where:
            condition += f" and ({where})"
        candidates = con.execute(
            f"select {quote(column)} from {quote(schema)}.{quote(name)} where {condition} "
            f"limit {_SAMPLE_LIMIT}").fetchall()
        hits = [found for (value,) in candidates for found in find_rrns(value)]
        if hits:
            findings.append(RrnFinding(table, column, len(hits), _mask(hits[0])))
    return findings


def scan_warehouse(con: duckdb.DuckDBPyConnection) -> list[RrnFinding]:
    """Every base table in every schema of the warehouse."""
    tables = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and table_catalog = current_database() "
        "order by 1").fetchall()
    return [finding for (table,) in tables for finding in scan_table(con, table)]
