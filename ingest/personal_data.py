"""Personal data: the project's one module for recognising, masking and scanning it.

Resident registration numbers (주민등록번호) are the strictest case: Korean law restricts storing
them, so nothing the project writes — raw rows, quarantine rows and their reasons, logs, error
messages, published files — may hold one in clear. This module owns everything about them, once:

- the pattern, in every spelling people and systems produce: ASCII or full-width digits
  (`９００１０１－１２３４５６７`), any separator between the two halves (hyphen, en/em dash, minus,
  dot, underscore, slash, spaces, a line break; up to three of them, so `900101 - 1234567`), or
  none. It is compiled twice from one definition: for Python (`RRN_PATTERN`, with look-arounds)
  and for RE2 (`RRN_CANDIDATE_RE2`: DuckDB's `regexp_matches`, a pre-filter; Python then checks
  the birth date);
- the gate `mask_rrns`, which every loader applies to every text before it is written; JSON
  escapes (`900101\\u002d1234567`) are decoded before the check;
- the salted hash `hash_rrn` (`rrn_sha256:<hex>`), over the digits after NFKC normalisation,
  so `９００１０１－１２３４５６７` and `900101-1234567` hash alike (identity resolution matches).

The check digit proves nothing (numbers issued since October 2020 have random trailing digits);
what makes a 13-digit number an RRN here is a real birth date for the century its gender digit
names. Digits spaced one by one (`9 0 0 1 0 1 …`) are not recognised: too many other numbers
look like that.

The other direct identifiers — names, phone numbers, e-mail addresses, street addresses — are
recognised by column name (`is_identifier_column`: the raw contract's flags, else a naming
vocabulary) and value pattern (`VALUE_PATTERNS`) for the publish gate to BI tools. One scanner
(`scan_table`, `scan_database`; `scan_file`, `scan_tree` for RRNs in files) reports findings
of any of these kinds, and one `mask` is the only way a finding, a quality example or a log
shows a personal value.
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

from ingest.db_rows import one_row
from ingest.schemas import ENTITIES
from ingest.vocabularies import seed_rows

TOKEN_PREFIX = "rrn_sha256:"

# --------------------------------------------------------------------------- the one definition
_DIGIT = "0-9０-９"
# Characters people put between the birth date and the other seven digits.
_SEPARATORS = (
    r"\-‐‑‒–—―−﹘﹣－._＿·・/／\\"  # hyphens, dashes, minus, dots, underscores, slashes
    " \u00a0\u3000"
    r"\t\n\r"
)  # spaces (also no-break, ideographic), line breaks
_MAX_SEPARATORS = 3
_LETTER = "A-Za-zＡ-Ｚａ-ｚ"
_BODY = (
    f"([{_DIGIT}]{{2}})([01０１][{_DIGIT}])([0-3０-３][{_DIGIT}])"
    f"[{_SEPARATORS}]{{0,{_MAX_SEPARATORS}}}([1-8１-８])([{_DIGIT}]{{6}})"
)
# Not touching another digit or letter: longer numbers (cards, orders) and hex strings (hashes,
# ids, our own tokens) do not match.
RRN_PATTERN = re.compile(f"(?<![{_DIGIT}{_LETTER}]){_BODY}(?![{_DIGIT}{_LETTER}])")
_JSON_ESCAPE_RE2 = r"\\u[0-9A-Fa-f]{4}"
# RE2 has no look-around: explicit boundaries instead. Text holding a JSON \u escape is a
# candidate too, because the escape may hide a digit or a dash.
RRN_CANDIDATE_RE2 = (
    f"(^|[^{_DIGIT}{_LETTER}]){_BODY.replace('(', '(?:')}([^{_DIGIT}{_LETTER}]|$)"
    f"|{_JSON_ESCAPE_RE2}"
)

_CENTURY = {"1": 1900, "2": 1900, "5": 1900, "6": 1900, "3": 2000, "4": 2000, "7": 2000, "8": 2000}
_JSON_ESCAPE = re.compile(
    r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"  # a surrogate pair
    r"|\\u([0-9a-fA-F]{4})|\\([nrt/\"\\])"
)
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
    yy, mm, dd, gender_digit = (
        unicodedata.normalize("NFKC", part) for part in (yy, mm, dd, gender_digit)
    )
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


# --------------------------------------------------------------------------- other identifiers
def _phone_pattern(*kinds: str) -> str:
    """A Korean number written in text, with one of the prefixes the numbering plan (seed
    phone_prefixes) gives these kinds; RE2 syntax (DuckDB regexp_matches): no look-around, so
    boundaries are explicit (a hex hash holds digit runs that look like phone numbers)."""
    prefixes = sorted(
        row["prefix"][1:]
        for row in seed_rows("phone_prefixes")
        if row["kind"] in kinds and row["prefix"].startswith("0")
    )
    return (
        rf"(^|[^0-9A-Za-z])(\+82[- ]?|0)({'|'.join(prefixes)})[- .)]?[0-9]{{3,4}}[- .]?"
        r"[0-9]{4}([^0-9A-Za-z]|$)"
    )


VALUE_PATTERNS: dict[str, str] = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "mobile_phone": _phone_pattern("mobile"),
    # area codes and 070 internet phones; 15XX company and 050X forwarding numbers are not
    # personal
    "landline_phone": _phone_pattern("landline", "voip"),
    "street_address": r"[가-힣0-9]+(로|길)[ ]?[0-9]+(-[0-9]+)?([^0-9]|$)"
    r"|[가-힣]+[0-9]*(동|리|가) [0-9]+(-[0-9]+)?(번지)?([^0-9]|$)",
    "rrn": RRN_CANDIDATE_RE2,
}
_NAME_TOKENS = r"(customer|person|full|first|last|given|family|contact|recipient|sender|member)"
# Text columns named like a person's name or a contact: the vocabulary for the columns the raw
# contract does not know (staging, marts, a user's own models). Only text columns are judged:
# `emails_sent` or `bad_address` counts are metrics, not identifiers.
IDENTIFIER_COLUMN = re.compile(
    rf"^(name|{_NAME_TOKENS}_name|name_ko|이름|성명|.*(mobile|phone|tel|fax|email|e_mail|caller"
    r"|address|addr|postal_code|zip_code|rrn|jumin|recipient|sender|전화|이메일|주소|주민).*)$",
    re.IGNORECASE,
)
# The raw columns the contract says hold personal data, by their stored names (고객명, 휴대폰,
# 우편번호, the RRN hash, ...): known, not guessed from the name.
RAW_PERSONAL_COLUMNS: frozenset[str] = frozenset(
    spec.stored_name(column)
    for spec in ENTITIES
    for column in spec.columns
    if column.holds_personal_data
)


def is_identifier_column(name: str) -> bool:
    """Whether a column's name says it holds personal data: a raw column the contract flags, or
    a name in the vocabulary above."""
    return name in RAW_PERSONAL_COLUMNS or IDENTIFIER_COLUMN.match(name) is not None


COLUMN_NAME = "column_name"
ALL_KINDS: tuple[str, ...] = (COLUMN_NAME, *VALUE_PATTERNS)
RRN_ONLY: tuple[str, ...] = ("rrn",)


# --------------------------------------------------------------------------- the mask
_NON_DIGIT = re.compile(r"[^0-9]")


def mask(value: object) -> str:
    """What may be shown of a personal value: its shape and at most a hint.

    An RRN shows its first two digits (90****-*******); an e-mail the first two characters of
    its local part and the domain (mi***@naver.com); a number its last four digits
    (***-****-6789); text with letters (a name, an address) its first characters.
    """
    text = str(value)
    rrns = find_rrns(text)
    if rrns:
        return normalise_digits(rrns[0])[:2] + "****-*******"
    for at in ("@", "＠"):  # the full-width sign shows up in Korean input
        if at in text:
            local, _, domain = text.partition(at)
            return f"{local[:2]}***{at}{domain}"
    if re.search(r"[^\W\d_]", text) and len(text) > 3:  # letters: an address gone wrong
        return text[:2] + "*" * (len(text) - 2)
    if re.search(r"[0-9]", text):
        if len(_NON_DIGIT.sub("", text)) <= 4:
            return "*" * len(text)
        return re.sub(r"[0-9]", "*", text[: len(text) - 4]) + text[len(text) - 4 :]
    return text[:1] + "*" * max(len(text) - 1, 0)


# --------------------------------------------------------------------------- the scanner
@dataclass(frozen=True)
class Finding:
    where: str  # table, or file
    column: str  # column, or "" for a file
    kind: str  # COLUMN_NAME or a key of VALUE_PATTERNS
    rows: int  # matching values (RRNs: date-valid ones among the first candidates)
    masked_sample: str

    def __str__(self) -> str:
        place = f"{self.where}.{self.column}" if self.column else self.where
        if self.kind == COLUMN_NAME:
            return f"{place}: named like an identifier"
        if self.kind == "rrn":
            return f"{place}: {self.rows} value(s) hold an RRN in clear, e.g. {self.masked_sample}"
        return f"{place}: {self.rows} value(s) look like {self.kind}, e.g. {self.masked_sample!r}"


_RRN_CANDIDATES = 1000  # candidates read per column: Python checks their birth dates


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def text_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".", 1)
    return [
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns where table_schema = ? "
            "and table_name = ? and data_type = 'VARCHAR' and table_catalog = current_database() "
            "order by ordinal_position",
            [schema, name],
        ).fetchall()
    ]


def scan_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    kinds: tuple[str, ...] = ALL_KINDS,
    where: str | None = None,
    sample_rows: int | None = None,
) -> list[Finding]:
    """Personal data of the given kinds in the text columns of `schema.table`, in one pass:
    DuckDB matches the RE2 patterns, Python keeps the date-valid RRNs. `where` limits the rows,
    `sample_rows` bounds how many are read (None = all)."""
    schema, name = table.split(".", 1)
    columns = text_columns(con, table)
    findings = [
        Finding(table, column, COLUMN_NAME, 0, "")
        for column in columns
        if COLUMN_NAME in kinds and is_identifier_column(column)
    ]
    checks = [
        (column, kind, VALUE_PATTERNS[kind].replace("'", "''"))
        for column in columns
        for kind in kinds
        if kind in VALUE_PATTERNS
    ]
    if not checks:
        return findings
    source = f"{_quote(schema)}.{_quote(name)}" + (f" where {where}" if where else "")
    if sample_rows is not None:
        source = (
            f"(select {', '.join(_quote(c) for c in columns)} from {source} "
            f"using sample {int(sample_rows)} rows)"
        )
    aggregates = ", ".join(
        f"count(*) filter (where regexp_matches({_quote(column)}, '{pattern}')), "
        f"list({_quote(column)}) filter (where regexp_matches({_quote(column)}, '{pattern}'))"
        f"[1:{_RRN_CANDIDATES if kind == 'rrn' else 1}]"
        for column, kind, pattern in checks
    )
    row = one_row(con.execute(f"select {aggregates} from {source}"))
    for i, (column, kind, _) in enumerate(checks):
        count, values = row[2 * i], row[2 * i + 1] or []
        if kind == "rrn":  # date-valid only: order numbers can share the digit shape
            values = [found for value in values for found in find_rrns(value)]
            count = len(values)
        if count:
            findings.append(Finding(table, column, kind, count, mask(values[0])))
    return findings


def scan_database(
    con: duckdb.DuckDBPyConnection,
    kinds: tuple[str, ...] = ALL_KINDS,
    sample_rows: int | None = None,
) -> list[Finding]:
    """Every base table in every schema of the connection's database."""
    tables = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and table_catalog = current_database() "
        "order by 1"
    ).fetchall()
    return [
        finding
        for (table,) in tables
        for finding in scan_table(con, table, kinds, sample_rows=sample_rows)
    ]


def is_duckdb_file(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(12)[8:12] == b"DUCK"


_CHUNK = 1 << 20
_OVERLAP = 64  # longer than any spelling of one RRN


def scan_file(path: Path) -> list[Finding]:
    """Clear RRNs in a file: a DuckDB file table by table (its strings are compressed), any
    other file as text."""
    path = Path(path)
    if is_duckdb_file(path):
        con = duckdb.connect(str(path), read_only=True)
        try:
            return [
                Finding(f"{path}:{f.where}", f.column, f.kind, f.rows, f.masked_sample)
                for f in scan_database(con, RRN_ONLY)
            ]
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
    return [Finding(str(path), "", "rrn", len(hits), mask(hits[0]))] if hits else []


# Fonts the Data Docs site serves (copied from packages, never written from data): their glyph
# tables hold digit runs that look like numbers, and no personal value can be in them.
FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2", ".eot")


def scan_tree(root: Path, skip: tuple[str, ...] = ()) -> list[Finding]:
    """Every file under `root` (DuckDB WAL files are read through their database; fonts are
    left out)."""
    findings = []
    for path in sorted(Path(root).rglob("*")):
        if (
            not path.is_file()
            or path.name.endswith(".wal")
            or path.suffix.lower() in FONT_SUFFIXES
            or any(s in path.parts for s in skip)
        ):
            continue
        findings += scan_file(path)
    return findings
