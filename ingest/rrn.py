"""Resident registration numbers (주민등록번호): the project's one personal-data gate.

Korean law restricts storing RRNs, so nothing the project writes — raw rows, quarantine rows and
their reasons, logs, error messages, published files — may hold one in clear. This module owns
everything about them, once:

- the pattern, in every spelling people and systems produce: ASCII or full-width digits
  (`９００１０１－１２３４５６７`), any separator between the two halves (hyphen, en/em dash, minus,
  dot, underscore, slash, spaces, a line break; up to three of them, so `900101 - 1234567`), or
  none. It is compiled twice from one definition: for Python (`RRN_PATTERN`, with look-arounds)
  and for RE2 (`RRN_CANDIDATE_RE2`: DuckDB's `regexp_matches`, a pre-filter; Python then checks
  the birth date);
- the gate `mask_rrns`, which every loader applies to every text before it is written; JSON
  escapes (`900101\\u002d1234567`) are decoded before the check;
- the salted hash `hash_rrn` (`rrn_sha256:<hex>`), over the digits after NFKC normalisation,
  so `９００１０１－１２３４５６７` and `900101-1234567` hash alike (identity resolution matches);
- the scanners: `scan_table`, `scan_database` (every table of a DuckDB file), `scan_file` and
  `scan_tree` (every file under a folder). Findings never carry the number, only a masked sample.

The check digit proves nothing (numbers issued since October 2020 have random trailing digits);
what makes a 13-digit number an RRN here is a real birth date for the century its gender digit
names. Digits spaced one by one (`9 0 0 1 0 1 …`) are not recognised: too many other numbers
look like that.
"""

from __future__ import annotations

import codecs
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

TOKEN_PREFIX = "rrn_sha256:"

# --------------------------------------------------------------------------- the one definition
_DIGIT = "0-9０-９"
# Characters people put between the birth date and the other seven digits.
_SEPARATORS = (r"\-‐‑‒–—―−﹘﹣－._＿·・/／\\"  # hyphens, dashes, minus, dots, underscores, slashes
               " \u00a0\u3000" r"\t\n\r")  # spaces (also no-break, ideographic), line breaks
_MAX_SEPARATORS = 3
_LETTER = "A-Za-zＡ-Ｚａ-ｚ"
_BODY = (f"([{_DIGIT}]{{2}})([01０１][{_DIGIT}])([0-3０-３][{_DIGIT}])"
         f"[{_SEPARATORS}]{{0,{_MAX_SEPARATORS}}}([1-8１-８])([{_DIGIT}]{{6}})")
# Not touching another digit or letter: longer numbers (cards, orders) and hex strings (hashes,
# ids, our own tokens) do not match.
RRN_PATTERN = re.compile(f"(?<![{_DIGIT}{_LETTER}]){_BODY}(?![{_DIGIT}{_LETTER}])")
_JSON_ESCAPE_RE2 = r"\\u[0-9A-Fa-f]{4}"
# RE2 has no look-around: explicit boundaries instead. Text holding a JSON \u escape is a
# candidate too, because the escape may hide a digit or a dash.
RRN_CANDIDATE_RE2 = (f"(^|[^{_DIGIT}{_LETTER}]){_BODY.replace('(', '(?:')}([^{_DIGIT}{_LETTER}]|$)"
                     f"|{_JSON_ESCAPE_RE2}")

_CENTURY = {"1": 1900, "2": 1900, "5": 1900, "6": 1900, "3": 2000, "4": 2000, "7": 2000, "8": 2000}
_JSON_ESCAPE = re.compile(
    r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"  # a surrogate pair
    r"|\\u([0-9a-fA-F]{4})|\\([nrt/\"\\])")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "/": "/", '"': '"', "\\": "\\"}


def normalise_digits(value: str) -> str:
    """The ASCII digits of `value` after NFKC (full-width digits become 0-9), nothing else."""
    return re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", value))


def decode_json_escapes(text: str) -> str:
    """`text` with JSON string escapes decoded (lone surrogate escapes are left as written)."""
    def decode(match: re.Match[str]) -> str:
        high, low, single, simple = match.groups()
        if high:
            return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + int(low, 16) - 0xDC00)
        if single:
            code = int(single, 16)
            return match.group(0) if 0xD800 <= code <= 0xDFFF else chr(code)
        return _SIMPLE_ESCAPES[simple]

    return _JSON_ESCAPE.sub(decode, text)


def is_date_valid(yy: str, mm: str, dd: str, gender_digit: str) -> bool:
    """True when YYMMDD is a real calendar date for the century the gender digit implies."""
    yy, mm, dd, gender_digit = (unicodedata.normalize("NFKC", part)
                                for part in (yy, mm, dd, gender_digit))
    try:
        date(_CENTURY[gender_digit] + int(yy), int(mm), int(dd))
    except (KeyError, ValueError):
        return False
    return True


def hash_rrn(value: str, salt: str) -> str:
    """Salted hash of an RRN (or of whatever a legacy RRN column holds), as a token."""
    digits = normalise_digits(value) or value.strip()
    digest = hmac.new(salt.encode(), digits.encode(), hashlib.sha256).hexdigest()
    return TOKEN_PREFIX + digest


def _matches(text: str) -> Iterator[re.Match[str]]:
    return (m for m in RRN_PATTERN.finditer(text) if is_date_valid(*m.groups()[:4]))


def find_rrns(text: str) -> list[str]:
    """Every date-valid RRN in `text`, as written (JSON escapes decoded first)."""
    if "\\" in text:
        text = decode_json_escapes(text)
    return [m.group(0) for m in _matches(text)]


def mask_rrns(text: str, salt: str) -> str:
    """The gate: `text` with every date-valid RRN replaced by its hash token.

    Text whose JSON escapes hide an RRN is returned decoded, with the RRN masked; any other
    text comes back unchanged but for the masked numbers.
    """
    if "\\" in text:
        decoded = decode_json_escapes(text)
        if decoded != text and any(_matches(decoded)):
            text = decoded
    if not RRN_PATTERN.search(text):
        return text

    def replace(match: re.Match[str]) -> str:
        if is_date_valid(*match.groups()[:4]):
            return hash_rrn(match.group(0), salt)
        return match.group(0)

    return RRN_PATTERN.sub(replace, text)


def masked_sample(value: str) -> str:
    """What a finding may show of an RRN: its first two digits."""
    return normalise_digits(value)[:2] + "****-*******" if value else value


# --------------------------------------------------------------------------- scanners
@dataclass(frozen=True)
class RrnFinding:
    where: str  # table, or file
    column: str  # column, or "" for a file
    rows: int  # matching values (rows of a table, lines of a file)
    masked_sample: str

    def __str__(self) -> str:
        place = f"{self.where}.{self.column}" if self.column else self.where
        return f"{place}: {self.rows} value(s) hold an RRN in clear, e.g. {self.masked_sample}"


_SAMPLE_LIMIT = 1000


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def scan_table(con: duckdb.DuckDBPyConnection, table: str,
               where: str | None = None) -> list[RrnFinding]:
    """Clear RRNs in the text columns of `schema.table`: DuckDB pre-filters with the RE2 pattern
    in one pass, Python keeps the date-valid ones."""
    schema, name = table.split(".", 1)
    columns = [row[0] for row in con.execute(
        "select column_name from information_schema.columns where table_schema = ? "
        "and table_name = ? and data_type = 'VARCHAR' and table_catalog = current_database() "
        "order by ordinal_position", [schema, name]).fetchall()]
    if not columns:
        return []
    pattern = RRN_CANDIDATE_RE2.replace("'", "''")
    lists = ", ".join(f"list({_quote(c)}) filter (where regexp_matches({_quote(c)}, '{pattern}'))"
                      f"[1:{_SAMPLE_LIMIT}]" for c in columns)
    condition = f" where {where}" if where else ""
    row = con.execute(f"select {lists} from {_quote(schema)}.{_quote(name)}{condition}").fetchone()
    findings = []
    for column, candidates in zip(columns, row, strict=True):
        hits = [found for value in candidates or [] for found in find_rrns(value)]
        if hits:
            findings.append(RrnFinding(table, column, len(hits), masked_sample(hits[0])))
    return findings


def scan_database(con: duckdb.DuckDBPyConnection) -> list[RrnFinding]:
    """Every base table in every schema of the connection's database."""
    tables = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and table_catalog = current_database() "
        "order by 1").fetchall()
    return [finding for (table,) in tables for finding in scan_table(con, table)]


def is_duckdb_file(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(12)[8:12] == b"DUCK"


_CHUNK = 1 << 20
_OVERLAP = 64  # longer than any spelling of one RRN


def scan_file(path: Path) -> list[RrnFinding]:
    """A DuckDB file table by table (its strings are compressed), any other file as text."""
    path = Path(path)
    if is_duckdb_file(path):
        con = duckdb.connect(str(path), read_only=True)
        try:
            return [RrnFinding(f"{path}:{f.where}", f.column, f.rows, f.masked_sample)
                    for f in scan_database(con)]
        finally:
            con.close()
    hits: list[str] = []
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    tail = ""
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            last = not chunk
            text = tail + decoder.decode(chunk, final=last)
            decoded = decode_json_escapes(text) if "\\" in text else text
            # A match starting in the overlap is counted with the next chunk, which repeats it.
            cut = len(decoded) if last else len(decoded) - _OVERLAP
            hits += [m.group(0) for m in _matches(decoded) if m.start() < cut]
            if last:
                break
            tail = text[-_OVERLAP:]
    return [RrnFinding(str(path), "", len(hits), masked_sample(hits[0]))] if hits else []


def scan_tree(root: Path, skip: tuple[str, ...] = ()) -> list[RrnFinding]:
    """Every file under `root` (DuckDB WAL files are read through their database)."""
    findings = []
    for path in sorted(Path(root).rglob("*")):
        if not path.is_file() or path.name.endswith(".wal") or any(s in path.parts for s in skip):
            continue
        findings += scan_file(path)
    return findings
