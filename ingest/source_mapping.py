"""Source mappings: a company's own export, read into the raw contract by a declared file.

A mapping is a YAML file, one per delivery kind. It says where the files are (a pattern under
the landing folder), how to read them (CSV in UTF-8, UTF-8 with BOM or CP949; Excel .xlsx) and
how each contract column (ingest.schemas) is made from the export: from a source column named
by its header (column order never matters), a constant, several columns joined, with a value map
for vocabularies, a date format and time zone, amounts as written (`45,000원`, `₩45,000`, a
decimal comma). Everything after the mapping is the contract's: the loaders' field checks,
quarantine, the personal-data gate, accounting.

    delivers: esp_events                 # the contract entity (ingest.schemas)
    files: esp/recipients_*.csv          # under the landing folder
    format: csv                          # csv | xlsx
    encoding: utf-8                      # csv: utf-8 | utf-8-sig | cp949
    columns:
      event_id: {from: Event ID}
      event_type: {from: Event, values: {Opened: open, Clicked: click}}
      occurred_at: {from: Time, format: "%Y-%m-%d %H:%M", time_zone: UTC}
      campaign_id: {from: Campaign}
      reason: {value: ""}

A mapping that names a column the contract does not have, or leaves a required one unmapped, is
refused with a sentence (MappingError). A file that lacks a mapped column is refused whole, the
file and the column named; a value outside a value map quarantines its row with the reason.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from ingest.schemas import BY_NAME, EntitySpec

# The encodings Korean exports come in, under the names people write them with. EUC-KR is a
# subset of CP949 (Windows' 확장 완성형), so CP949 reads both.
ENCODING_NAMES = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf8-sig": "utf-8-sig",
    "cp949": "cp949",
    "ms949": "cp949",
    "uhc": "cp949",
    "euc-kr": "cp949",
    "euckr": "cp949",
}
FORMATS = ("csv", "xlsx", "jsonl", "sql")
_MAPPING_KEYS = {
    "delivers",
    "files",
    "format",
    "encoding",
    "delimiter",
    "sheet",
    "columns",
    "about",
    "group_by",
    "database",
}
_DELIVERY_KEYS = {"columns", "once", "when", "query"}
_RULE_KEYS = {
    "from",
    "value",
    "join",
    "first",
    "separator",
    "values",
    "format",
    "time_zone",
    "amount",
    "digest",
    "number",
}
# The pseudo-column of a grouped file (group_by): the row's place in its group, 001, 002, ...
# With `number: digits` it makes a line id from the order's: join [Id, $line].
LINE = "$line"
# The time the export file was written (its modification time, Korean time): the "as of" of a
# snapshot that says nowhere when its rows changed (Shopify's customer export).
FILE_TIME = "$file_time"
PSEUDO_COLUMNS = (LINE, FILE_TIME)
# Excel's way to keep a value as text (leading zeros, a key that looks like a number): the
# formula ="C1000005". Saved as CSV it reaches us as the formula, never as the value it shows.
# The one reading of it, for our own exports (ingest.file_loader) and mapped ones alike.
_FORMULA_TEXT = re.compile(r'^="(.*)"$', re.DOTALL)
# Currency marks as Korean exports write amounts: 45,000원, ₩45,000, KRW 45,000, and the
# backslash, which Korean Windows fonts draw as ₩ (the same byte in CP949 text).
_CURRENCY_MARKS = re.compile(r"(원|₩|\\|KRW|\s)")


_KOREA = ZoneInfo("Asia/Seoul")


class MappingError(ValueError):
    """A mapping file that cannot be used, said in a sentence naming the file."""


@dataclass(frozen=True)
class Problem:
    """Why one row of a mapped file is quarantined."""

    field: str
    code: str  # unmapped_value | bad_date | bad_amount
    reason: str


@dataclass(frozen=True)
class ColumnRule:
    """How one contract column is made from a row of the export."""

    target: str
    sources: tuple[str, ...] = ()  # header names read (one, or several joined)
    separator: str = ""
    constant: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)
    formats: tuple[str, ...] = ()  # strptime formats of a date or timestamp
    time_zone: str | None = None  # of timestamps written without an offset
    amount: Literal["", "point", "comma"] = ""  # decimal separator of an amount
    # A key made of the row's own values (an event without an id): their digest, so a key never
    # carries the e-mail address or phone number it was made from.
    digest: bool = False
    # first: the first of the sources that holds a value (the latest of several times).
    pick_first: bool = False
    # An integer key from a text one: its digits (20261120-0000123 → 202611200000123), or a
    # stable number for a text id (a login name) where the contract keys by number.
    number: Literal["", "digits", "digest"] = ""

    def apply(self, row: Mapping[str, str], kind: str) -> str | Problem:
        if self.constant is not None:
            return self.constant
        parts = [excel_text(row.get(name, "")).strip() for name in self.sources]
        if self.pick_first:
            value = next((part for part in parts if part), "")
        else:
            value = self.separator.join(part for part in parts if part)
        if not value:
            return ""
        if self.digest:
            return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]
        if self.number:
            return self._number(unicodedata.normalize("NFKC", value))
        if self.values:
            mapped = self.values.get(value, self.values.get(value.casefold()))
            if mapped is None:
                shown = value if len(value) <= 40 else value[:40] + "…"
                return Problem(
                    self.target,
                    "unmapped_value",
                    f"{self.target}: {self.sources[0]} {shown!r} is in no value of the "
                    f"mapping ({', '.join(sorted(self.values)[:8])})",
                )
            value = mapped
        if self.formats:
            return self._moment(value, kind)
        if self.amount:
            return self._amount(value)
        return value

    def _moment(self, value: str, kind: str) -> str | Problem:
        # Korean Excel and admin screens write the half of the day in Korean: 오후 3:15:00.
        english = value.replace("오전", "AM").replace("오후", "PM")
        for pattern in self.formats:
            try:
                parsed = datetime.strptime(english if "%p" in pattern else value, pattern)
            except ValueError:
                continue
            if kind == "date":
                return parsed.date().isoformat()
            if parsed.tzinfo is not None:  # written with its offset (%z): kept
                return parsed.isoformat()
            if self.time_zone:
                parsed = parsed.replace(tzinfo=ZoneInfo(self.time_zone))
                return parsed.isoformat()
            return parsed.strftime("%Y-%m-%d %H:%M:%S")  # local Korean time, as the ERP writes
        return Problem(
            self.target,
            "bad_date",
            f"{self.target}: {value[:40]!r} matches no format of the mapping "
            f"({' or '.join(self.formats)})",
        )

    def _number(self, value: str) -> str | Problem:
        if self.number == "digest":
            # 48 bits: a bigint, and no two ids of one shop alike (collision odds ~1e-5 at 1M).
            return str(int(hashlib.sha256(value.encode("utf-8")).hexdigest()[:12], 16))
        if re.fullmatch(r"[0-9.]+[eE][+-]?[0-9]+", value.strip()):
            # Excel shows a long number it took for a number as 2.0261119E+14: the digits are
            # gone, and keeping the ones left would make another order's key.
            return Problem(
                self.target,
                "bad_number",
                f"{self.target}: {value[:40]!r} is in Excel's scientific notation, its digits "
                "lost (format the column as text before saving)",
            )
        digits = re.sub(r"[^0-9]", "", value)
        if not digits or len(digits) > 18:  # a bigint holds 18 digits
            return Problem(
                self.target, "bad_number", f"{self.target}: {value[:40]!r} holds no key number"
            )
        return digits.lstrip("0") or "0"

    def _amount(self, value: str) -> str | Problem:
        # NFKC: full-width digits and signs as a Korean IME types them (４５，０００￦) are the
        # ASCII ones, the full-width won sign the ₩ below.
        text = _CURRENCY_MARKS.sub("", unicodedata.normalize("NFKC", value))
        if self.amount == "comma":  # 1.234,50: the point groups thousands
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
        if text.startswith("(") and text.endswith(")"):  # accounting: (15,000) is negative
            text = "-" + text[1:-1]
        if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
            return Problem(self.target, "bad_amount", f"{self.target}: {value[:40]!r} is no amount")
        return text


@dataclass(frozen=True)
class Database:
    """Where a SQL mapping reads: the URL in an environment variable (passwords stay out of the
    mapping), or the default for a local server."""

    env: str
    default: str

    @property
    def url(self) -> str:
        return os.environ.get(self.env) or self.default


@dataclass(frozen=True)
class SourceMapping:
    """One delivery of a mapping file: the records of one contract entity made from the export.
    A file that holds several (orders and their lines) is one SourceMapping per entity."""

    path: Path
    spec: EntitySpec
    files: str
    format: Literal["csv", "xlsx", "jsonl", "sql"]
    encoding: str
    sheet: str | None
    rules: tuple[ColumnRule, ...]
    delimiter: str = ","
    # The delivery's name within a file of several (its `delivers` key), else "".
    label: str = ""
    # Rows sharing this column are one group (an order and its lines): the rows after the first
    # may leave the group's columns empty (Shopify's continuation rows) and take them from it.
    group_by: str | None = None
    group_columns: tuple[str, ...] = ()
    once: bool = False  # one record per group, from its first row (that holds `when`)
    # Only rows where this column holds a value (not a zero amount), or one of these values.
    when: tuple[str, tuple[str, ...]] | None = None
    query: str | None = None  # format sql: the select whose columns the rules read
    database: Database | None = None
    # What the file's deliveries read together: the rest of the export is never stored.
    file_columns: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.path.stem}:{self.label}" if self.label else self.path.stem

    @property
    def source_columns(self) -> tuple[str, ...]:
        """The export's columns the mapping reads, each once."""
        names = (name for rule in self.rules for name in rule.sources)
        when = (self.when[0],) if self.when else ()
        group = (self.group_by,) if self.group_by else ()
        return tuple(n for n in dict.fromkeys([*group, *names, *when]) if n not in PSEUDO_COLUMNS)

    def holds(self, row: Mapping[str, str]) -> bool:
        """Whether a row holds what `when` asks for (every row without `when`)."""
        if self.when is None:
            return True
        column, wanted = self.when
        value = excel_text(row.get(column, "")).strip()
        if wanted:
            return value in wanted
        return bool(value) and not re.fullmatch(r"[-+(]?[0.,\s]*\)?(원|₩)?", value)

    def records(self, rows: Iterable[Row]) -> Iterator[tuple[int, dict[str, str] | str, bool]]:
        """Each row of the export and whether it makes a record of this delivery: it holds
        what `when` asks for and, with `once`, is the first such row of its group."""
        seen: set[str] = set()
        for line, cells in rows:
            if isinstance(cells, str):
                yield line, cells, True
                continue
            keep = self.holds(cells)
            if keep and self.once:
                group = excel_text(cells.get(self.group_by or "", "")).strip()
                keep = group not in seen
                seen.add(group)
            yield line, cells, keep

    def matches(self, relative: str) -> bool:
        """Whether a file (its path under the landing folder) is one of this delivery's."""
        return fnmatchcase(relative.lower(), self.files.lower())

    def missing_columns(self, header: list[str]) -> list[str]:
        return [name for name in self.source_columns if name not in header]

    def unused_columns(self, header: list[str]) -> list[str]:
        """Columns of the export no rule of the file's deliveries reads: never stored (they may
        hold personal data)."""
        used = set(self.file_columns or self.source_columns)
        return [name for name in header if name and name not in used]

    def contract_row(self, row: Mapping[str, str]) -> list[str] | Problem:
        """The row as the contract's fields, in the contract's order."""
        by_target = {rule.target: rule for rule in self.rules}
        out = []
        for column in self.spec.columns:
            rule = by_target.get(column.name)
            value = rule.apply(row, column.kind) if rule else ""
            if isinstance(value, Problem):
                return value
            out.append(value)
        return out


def excel_text(value: str) -> str:
    """A cell as Excel shows it: the text formula ="C1000005" is C1000005."""
    formula = _FORMULA_TEXT.match(value.strip())
    return formula.group(1).replace('""', '"') if formula else value


def load_mapping(path: Path) -> SourceMapping:
    """A mapping file of one delivery, checked (load_deliveries reads files of several)."""
    deliveries = load_deliveries(path)
    if len(deliveries) != 1:
        raise MappingError(
            f"mapping {path}: delivers {len(deliveries)} entities; read it with load_deliveries"
        )
    return deliveries[0]


def load_deliveries(path: Path) -> list[SourceMapping]:
    """Read and check a mapping file, one SourceMapping per entity it delivers; every problem is
    a sentence naming the file."""

    def refuse(sentence: str) -> MappingError:
        return MappingError(f"mapping {path}: {sentence}")

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise refuse(f"cannot be read as YAML ({' '.join(str(error).split())[:200]})") from None
    if not isinstance(document, dict):
        raise refuse("must be a YAML mapping with delivers, files, format and columns")
    _known_keys(refuse, "", document, _MAPPING_KEYS)
    fmt = document.get("format", "csv")
    if fmt not in FORMATS:
        raise refuse(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    pattern = document.get("files", "")
    database = None
    if fmt == "sql":
        database = _database(refuse, document.get("database"))
        if "files" in document:
            raise refuse("a sql mapping reads a database, not files: give database, not files")
    elif not isinstance(pattern, str) or not pattern.strip() or pattern.startswith("/"):
        raise refuse("files must be a file pattern under the landing folder, e.g. erp/*.csv")
    elif "database" in document:
        raise refuse(f"database is for format sql; this mapping reads {fmt} files")
    named = str(document.get("encoding", "utf-8"))
    encoding = ENCODING_NAMES.get(named.strip().lower().replace("_", "-"))
    if encoding is None:
        raise refuse(f"encoding {named!r} is not one of {', '.join(sorted(ENCODING_NAMES))}")
    delimiter = str(document.get("delimiter", ","))
    delimiter = "\t" if delimiter.lower() in ("tab", "\\t") else delimiter
    if len(delimiter) != 1:
        raise refuse(f"delimiter {delimiter!r} must be one character, or tab")
    group_by = document.get("group_by")
    if group_by is not None and (fmt == "sql" or not str(group_by).strip()):
        raise refuse("group_by names the export column whose rows make one group (e.g. Name)")
    sheet = document.get("sheet")
    # One delivery (delivers: <entity> with columns), or several (delivers: {<entity>: {...}}).
    delivers = document.get("delivers")
    if isinstance(delivers, dict):
        if "columns" in document:
            raise refuse("with several deliveries, give each its columns under delivers")
        parts = [(str(key), how) for key, how in delivers.items()]
    else:
        parts = [(str(delivers), {"columns": document.get("columns")})]
    raw = [_delivery(refuse, key, how, fmt, len(parts) > 1, group_by) for key, how in parts]
    group_columns = tuple(
        dict.fromkeys(n for d in raw if d["once"] for rule in d["rules"] for n in rule.sources)
    )
    deliveries = [
        SourceMapping(
            path=path,
            spec=d["spec"],
            files=str(pattern).strip(),
            format=fmt,
            encoding=encoding,
            sheet=None if sheet is None else str(sheet),
            rules=d["rules"],
            delimiter=delimiter,
            label=d["label"],
            group_by=None if group_by is None else str(group_by).strip(),
            group_columns=tuple(n for n in group_columns if n not in PSEUDO_COLUMNS),
            once=d["once"],
            when=d["when"],
            query=d["query"],
            database=database,
        )
        for d in raw
    ]
    read = tuple(dict.fromkeys(n for d in deliveries for n in d.source_columns))
    return [replace(d, file_columns=read) for d in deliveries]


def _known_keys(refuse: Any, where: str, given: dict[Any, Any], known: set[str]) -> None:
    unknown = sorted(str(key) for key in set(given) - known)
    if unknown:
        raise refuse(
            f"{where}unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )


def _database(refuse: Any, how: Any) -> Database:
    if not isinstance(how, dict) or not isinstance(how.get("env"), str):
        raise refuse(
            "database says which environment variable holds the URL and a local default, "
            "e.g. {env: YOUNGCART_DB_URL, default: 'mysql+pymysql://root@127.0.0.1/youngcart'}"
        )
    _known_keys(refuse, "database: ", how, {"env", "default"})
    return Database(str(how["env"]), str(how.get("default", "")))


def _delivery(
    refuse: Any, key: str, how: Any, fmt: str, several: bool, group_by: Any
) -> dict[str, Any]:
    # A key may carry a label after a slash, for two deliveries of one entity from a file
    # (shop_marketing_consents/email and /sms from one member row).
    entity, _, label = key.partition("/")
    spec = BY_NAME.get(entity.strip())
    if spec is None:
        raise refuse(f"delivers {entity!r} is no entity of the contract ({', '.join(BY_NAME)})")
    if fmt == "sql" and spec.format != "sql":
        shop = ", ".join(name for name, s in BY_NAME.items() if s.format == "sql")
        raise refuse(f"a sql mapping delivers the shop database's entities ({shop}), not {entity}")
    if not isinstance(how, dict):
        raise refuse(f"{key}: give its columns (and once, when, query)")
    _known_keys(refuse, f"{key}: ", how, _DELIVERY_KEYS)
    if how.get("once") is True and group_by is None:
        raise refuse("once takes the first row of each group: say which column groups (group_by)")
    query = how.get("query")
    if fmt == "sql" and (not isinstance(query, str) or not query.strip()):
        raise refuse(f"{key}: a sql mapping gives each delivery its query (select ... from ...)")
    if fmt != "sql" and query is not None:
        raise refuse(f"{key}: query is for format sql; this mapping reads {fmt} files")
    columns = how.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise refuse("columns must map each contract column to how it is made")
    rules = tuple(_rule(refuse, spec, str(target), rule) for target, rule in columns.items())
    if group_by is None and any(LINE in rule.sources for rule in rules):
        raise refuse(f"{LINE} is a row's place in its group: say which column groups (group_by)")
    for rule in rules:
        unknown_pseudo = [n for n in rule.sources if n.startswith("$") and n not in PSEUDO_COLUMNS]
        if unknown_pseudo or (fmt == "sql" and set(rule.sources) & set(PSEUDO_COLUMNS)):
            raise refuse(
                f"{rule.target}: {', '.join(unknown_pseudo) or FILE_TIME} is no column a "
                f"{fmt} mapping has; a file's rows have {', '.join(PSEUDO_COLUMNS)}"
            )
    unmapped = [c.name for c in spec.columns if c.must_have_value and c.name not in columns]
    if unmapped:
        raise refuse(
            f"{spec.name} needs {', '.join(unmapped)} (required by the contract), which the "
            f"mapping leaves unmapped"
        )
    when = how.get("when")
    if isinstance(when, str):
        when_rule: tuple[str, tuple[str, ...]] | None = (when, ())
    elif isinstance(when, dict) and len(when) == 1:
        [(column, wanted)] = when.items()
        wanted = wanted if isinstance(wanted, list) else [wanted]
        when_rule = (str(column), tuple(str(v) for v in wanted))
    elif when is None:
        when_rule = None
    else:
        raise refuse(
            f"{key}: when names a column (rows where it holds a value), or one column "
            "and its values, e.g. {주문상태: [반품완료]}"
        )
    return {
        "spec": spec,
        "label": key if several or label else "",
        "rules": rules,
        "once": how.get("once") is True,
        "when": when_rule,
        "query": None if query is None else str(query),
    }


def _rule(refuse: Any, spec: EntitySpec, target: str, how: Any) -> ColumnRule:
    if target not in spec.column_names:
        raise refuse(
            f"{target!r} is no column of {spec.name}; its columns: {', '.join(spec.column_names)}"
        )
    if isinstance(how, str):
        how = {"from": how}
    if not isinstance(how, dict):
        raise refuse(f"{target}: say how it is made, e.g. {{from: <export column>}}")
    _known_keys(refuse, f"{target}: ", how, _RULE_KEYS)
    ways = [key for key in ("from", "value", "join", "first") if key in how]
    if len(ways) != 1:
        raise refuse(f"{target}: give exactly one of from, value, join or first")
    kind = next(c.kind for c in spec.columns if c.name == target)
    formats = how.get("format", ())
    formats = (formats,) if isinstance(formats, str) else tuple(str(f) for f in formats)
    if formats and kind not in ("date", "timestamp"):
        raise refuse(f"{target}: a format is for date and timestamp columns, this one is {kind}")
    for pattern in formats:
        try:
            datetime.combine(date(2001, 2, 3), time(4, 5, 6)).strftime(pattern)
        except ValueError:
            raise refuse(f"{target}: format {pattern!r} is no date format") from None
    zone = how.get("time_zone")
    if zone is not None:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise refuse(
                f"{target}: time_zone {zone!r} is no IANA time zone (e.g. UTC, Asia/Seoul)"
            ) from None
    amount = how.get("amount", "")
    if amount not in ("", "point", "comma", True):
        raise refuse(f"{target}: amount is point (1,234.50) or comma (1.234,50), not {amount!r}")
    values = how.get("values") or {}
    if not isinstance(values, dict):
        raise refuse(f"{target}: values must map each export value to the contract's")
    joined: list[Any] = how.get("join", how.get("first", [])) or []
    if ("join" in how or "first" in how) and (not isinstance(joined, list) or not joined):
        raise refuse(f"{target}: {ways[0]} lists export columns, e.g. [성, 이름]")
    number = how.get("number", "")
    if number not in ("", "digits", "digest"):
        raise refuse(f"{target}: number is digits (keep the digits) or digest, not {number!r}")
    if number and kind != "int":
        raise refuse(f"{target}: number makes an integer key; this column is {kind}")
    return ColumnRule(
        target=target,
        sources=(str(how["from"]),) if "from" in how else tuple(str(name) for name in joined),
        separator=str(how.get("separator", " " if "join" in how else "")),
        constant=None if "value" not in how else str(how["value"]),
        values={str(k).strip(): str(v) for k, v in values.items()}
        | {str(k).strip().casefold(): str(v) for k, v in values.items()},
        formats=formats,
        time_zone=None if zone is None else str(zone),
        amount="point" if amount is True else amount,
        digest=how.get("digest") is True,
        pick_first="first" in how,
        number=number,
    )


def mappings_in(folder: Path) -> list[SourceMapping]:
    """The deliveries of a folder's mappings (`*.yml`, `*.yaml`), each checked; none when it
    does not exist."""
    if not folder.is_dir():
        return []
    paths = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")])
    return [delivery for path in paths for delivery in load_deliveries(path)]


# --------------------------------------------------------------------------- reading an export
# The row's line (CSV, JSON Lines) or row number (Excel), and its cells by header, or why the
# record cannot be read at all (a line that is no JSON object).
Row = tuple[int, dict[str, str] | str]


def read_export(path: Path, mapping: SourceMapping) -> tuple[list[str], Iterator[Row]]:
    """The export's header and rows, cells as text by header name (grouped rows with their
    group's columns filled in and their place in it, $line)."""
    if mapping.format == "xlsx":
        header, rows = _read_xlsx(path, mapping.sheet)
    elif mapping.format == "jsonl":
        header, rows = _read_jsonl(path, mapping.encoding)
    elif mapping.format == "csv":
        header, rows = _read_csv(path, mapping.encoding, mapping.delimiter)
    else:
        raise MappingError(f"mapping {mapping.path}: a sql mapping reads its database, not files")
    written = datetime.fromtimestamp(path.stat().st_mtime, _KOREA).strftime("%Y-%m-%d %H:%M:%S")
    rows = (
        (line, cells if isinstance(cells, str) else cells | {FILE_TIME: written})
        for line, cells in rows
    )
    if mapping.group_by is None:
        return header, rows
    return header, _grouped(rows, mapping.group_by, mapping.group_columns)


def _grouped(rows: Iterator[Row], key: str, columns: tuple[str, ...]) -> Iterator[Row]:
    """Rows of a grouped export: a row after its group's first takes the group's columns it
    leaves empty from that first row (an order's fields on its second line item)."""
    first: dict[str, dict[str, str]] = {}
    count: dict[str, int] = {}
    for line, cells in rows:
        if isinstance(cells, str):
            yield line, cells
            continue
        group = excel_text(cells.get(key, "")).strip()
        if group in first:
            opened = first[group]
            cells = cells | {c: opened.get(c, "") for c in columns if not cells.get(c, "").strip()}
        else:
            first[group] = cells
        count[group] = count.get(group, 0) + 1
        yield line, cells | {LINE: f"{count[group]:03d}"}


def _header(cells: list[str]) -> list[str]:
    names = [excel_text(cell).strip().lstrip("\ufeff").strip() for cell in cells]
    while names and not names[-1]:
        names.pop()  # the empty cells Excel writes past the last column
    return names


def _read_csv(path: Path, encoding: str, delimiter: str) -> tuple[list[str], Iterator[Row]]:
    handle = path.open(encoding=encoding, newline="")
    reader = csv.reader(handle, delimiter=delimiter)
    first = next(reader, None)
    header = _header(first or [])

    def rows() -> Iterator[Row]:
        try:
            line = reader.line_num + 1
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    yield line, dict(zip(header, cells, strict=False))
                line = reader.line_num + 1
        finally:
            handle.close()

    return header, rows()


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)  # numbers, booleans, nested values as JSON


def _read_jsonl(path: Path, encoding: str) -> tuple[list[str], Iterator[Row]]:
    """One JSON object a line; its keys are the columns (those of the first record name them
    for the preview; a record without a key has it empty)."""
    with path.open(encoding=encoding) as handle:
        first = next((line for line in handle if line.strip()), "")
    try:
        opened = json.loads(first) if first else {}
    except ValueError:
        opened = {}
    header = list(opened) if isinstance(opened, dict) else []

    def rows() -> Iterator[Row]:
        with path.open(encoding=encoding) as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError as error:
                    yield number, f"malformed JSON: {error}"
                    continue
                if not isinstance(record, dict):
                    yield number, f"expected a JSON object, found {type(record).__name__}"
                    continue
                yield number, {str(k): _json_text(v) for k, v in record.items()}

    return header, rows()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.strftime("%Y-%m-%d %H:%M:%S")
            if value.time() != time()
            else value.date().isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(path: Path, sheet: str | None) -> tuple[list[str], Iterator[Row]]:
    import openpyxl  # type: ignore[import-untyped]  # only Excel deliveries need it

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    if sheet is not None and sheet not in book.sheetnames:
        book.close()
        raise MappingError(f"{path}: no sheet {sheet!r}; its sheets: {', '.join(book.sheetnames)}")
    worksheet = book[sheet] if sheet is not None else book.worksheets[0]
    values = worksheet.iter_rows(values_only=True)
    header = _header([_cell_text(cell) for cell in next(values, ())])

    def rows() -> Iterator[Row]:
        try:
            for number, cells in enumerate(values, start=2):
                texts = [_cell_text(cell) for cell in cells]
                if any(text.strip() for text in texts):
                    yield number, dict(zip(header, texts, strict=False))
        finally:
            book.close()

    return header, rows()


def relative_name(path: Path, landing_dir: Path) -> str:
    return PurePosixPath(path.relative_to(landing_dir)).as_posix()
