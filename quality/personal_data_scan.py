"""Scan tables for direct identifiers: names, phone numbers, emails, street addresses, RRNs.

Used as the gate of the BI publish (orchestration.serving.publish) and by its tests. Two kinds
of evidence:
- column names: a text column named like a person's name or a contact (customer_name, email,
  mobile, address, 주소, 이름, ...). Only text columns: `emails_sent` or `bad_address` counts are
  metrics, not identifiers.
- values: Korean mobile and landline numbers, email addresses, road/lot addresses
  (`테헤란로 152`, `역삼동 123-4`), and date-valid RRNs in any spelling (ingest.rrn). Names have no
  reliable value pattern; the column-name rule and the `이름 <email>` form catch them.
Findings never carry the value itself, only a masked sample.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from ingest.raw_store import quote
from ingest.rrn import RRN_CANDIDATE_RE2, find_rrns

# RE2 syntax (DuckDB regexp_matches): no look-around, so boundaries are explicit (a hex hash
# holds digit runs that look like phone numbers).
VALUE_PATTERNS: dict[str, str] = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "mobile_phone": r"(^|[^0-9A-Za-z])(\+82[- ]?|0)1[016789][- .)]?[0-9]{3,4}[- .]?[0-9]{4}"
                    r"([^0-9A-Za-z]|$)",
    # Seoul 02 and the 0xx area codes; 15xx/16xx company numbers are not personal.
    "landline_phone": r"(^|[^0-9A-Za-z])(\+82[- ]?|0)(2|[3-6][1-5])[- .)]?[0-9]{3,4}[- .]?"
                      r"[0-9]{4}([^0-9A-Za-z]|$)",
    "street_address": r"[가-힣0-9]+(로|길)[ ]?[0-9]+(-[0-9]+)?([^0-9]|$)"
                      r"|[가-힣]+[0-9]*(동|리|가) [0-9]+(-[0-9]+)?(번지)?([^0-9]|$)",
    "rrn": RRN_CANDIDATE_RE2,
}

_NAME_TOKENS = r"(customer|person|full|first|last|given|family|contact|recipient|sender|member)"
IDENTIFIER_COLUMN = re.compile(
    rf"^(name|{_NAME_TOKENS}_name|name_ko|이름|성명|고객명|.*(mobile|phone|tel|fax|email|e_mail"
    r"|address|addr|postal_code|zip_code|rrn|jumin|recipient|sender|휴대폰|전화|이메일|주소|"
    r"우편번호|주민).*)$", re.IGNORECASE)
_SAMPLE_LIMIT = 200


@dataclass(frozen=True)
class PersonalDataFinding:
    table: str
    column: str
    kind: str  # column_name or one of VALUE_PATTERNS
    rows: int  # matching rows scanned (RRN: date-valid ones among the first 200; 0 for names)
    masked_sample: str

    def __str__(self) -> str:
        detail = "named like an identifier" if self.kind == "column_name" else (
            f"{self.rows} row(s) look like {self.kind}, e.g. {self.masked_sample!r}")
        return f"{self.table}.{self.column}: {detail}"


def mask(value: str) -> str:
    """Keep the shape, hide the content: digits -> 9, letters -> x, Hangul -> ○."""
    masked = re.sub(r"[0-9]", "9", value[:40])
    masked = re.sub(r"[A-Za-z]", "x", masked)
    return re.sub(r"[가-힣]", "○", masked)


def text_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".", 1)
    return [column for (column,) in con.execute(
        "select column_name from information_schema.columns where table_schema = ? "
        "and table_name = ? and data_type = 'VARCHAR' and table_catalog = current_database() "
        "order by ordinal_position", [schema, name]).fetchall()]


def scan_table(con: duckdb.DuckDBPyConnection, table: str,
               sample_rows: int | None = None) -> list[PersonalDataFinding]:
    """Findings in one table; sample_rows bounds the rows read per table (None = all)."""
    schema, name = table.split(".", 1)
    columns = text_columns(con, table)
    findings = [PersonalDataFinding(table, column, "column_name", 0, "")
                for column in columns if IDENTIFIER_COLUMN.match(column)]
    if not columns:
        return findings
    source = f"{quote(schema)}.{quote(name)}"
    if sample_rows is not None:
        source = (f"(select {', '.join(quote(c) for c in columns)} from {source} "
                  f"using sample {int(sample_rows)} rows)")
    # One pass over the table for every column and pattern: matches and one example each.
    checks = [(column, kind, pattern.replace("'", "''"))
              for column in columns for kind, pattern in VALUE_PATTERNS.items()]
    aggregates = ", ".join(
        f"count(*) filter (where regexp_matches({quote(column)}, '{pattern}')), "
        f"list({quote(column)}) filter (where regexp_matches({quote(column)}, '{pattern}'))"
        f"[1:{_SAMPLE_LIMIT}]"
        for column, _, pattern in checks)
    row = con.execute(f"select {aggregates} from {source}").fetchone()
    for i, (column, kind, _) in enumerate(checks):
        count, values = row[2 * i], row[2 * i + 1] or []
        if kind == "rrn":  # date-valid only: order numbers can share the digit shape
            values = [found for value in values for found in find_rrns(value)]
            count = len(values)
        if count:
            findings.append(PersonalDataFinding(table, column, kind, count, mask(values[0])))
    return findings


def scan_database(con: duckdb.DuckDBPyConnection,
                  sample_rows: int | None = None) -> list[PersonalDataFinding]:
    """Every base table of the connection's database."""
    tables = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and table_catalog = current_database() "
        "order by 1").fetchall()
    return [finding for (table,) in tables for finding in scan_table(con, table, sample_rows)]
