"""Load landed files (CSV in any encoding, JSON Lines) into the raw layer, streaming.

One pass in Python reads every record, judges what only Python can judge per record, and hands
the rows to DuckDB in Arrow chunks (raw_store.IncomingRows); field checks then run in SQL
(raw_store.publish_batch). Nothing is written to disk on the way: no staging copy can outlive a
crash. Memory stays flat whatever the file size.

- CSV is read as RFC 4180: a quoted field may hold commas, doubled quotes and line breaks (a
  memo typed over several lines), and records may end in CRLF, LF or CR. A quote that is never
  closed costs its own line only: the loader looks ahead at most MAX_RECORD_LINES lines for the
  closing quote, and when the lines it joined do not make one record of the export's width it
  quarantines the first line and goes on with the next.
- The source encoding is decoded strictly; a byte-order mark names the encoding (an Excel
  "CSV UTF-8" export of a CP949 source loads). Undecodable bytes quarantine their record and
  name their field.
- Every text passes the personal-data gate (ingest.personal_data.mask_rrns) before anything
  is written; JSON is parsed first, so escaped RRNs are decoded before the check. Quarantine
  reasons name the field and the problem, never the row.
- Any parse error of a line — bad JSON, nesting deeper than MAX_JSON_DEPTH, lone surrogate
  escapes, NUL characters, fields over LoadLimits.max_field_chars — quarantines that line only.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

import duckdb

from ingest.personal_data import TOKEN_PREFIX, hash_rrn, mask_rrns
from ingest.raw_store import (
    BatchResult,
    IncomingRows,
    Rejection,
    earlier_load,
    log_duplicate_file,
    new_batch_id,
    publish_batch,
    quote,
    sql_literal,
)
from ingest.schemas import ENTITIES, EntitySpec
from ingest.settings import LoadLimits
from ingest.source_mapping import Problem, SourceMapping, excel_text, read_export

_CHUNK = 1 << 20
# Our own limit (LoadLimits.max_field_chars) applies; the csv module's must not cut in first.
csv.field_size_limit(2**31 - 1)
MAX_RECORD_LINES = 10_000  # physical lines one quoted CSV field may span
MAX_JSON_DEPTH = 64  # CTI and ESP exports are flat; deeper is hostile
_SHOWN_CHARS = 10_000  # of a record too large to keep whole in the quarantine
_ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")  # undecodable bytes (surrogateescape)
_BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")  # no database stores these as text
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def file_fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def delivery_fingerprint(path: Path, mapping: SourceMapping | None = None) -> str:
    """What a load of this file remembers it by: its content, and the delivery's label when one
    file makes two deliveries of one entity (a member's e-mail and SMS consents)."""
    fingerprint = file_fingerprint(path)
    return (
        f"{fingerprint}/{mapping.label}" if mapping is not None and mapping.label else fingerprint
    )


def source_encoding(path: Path, declared: str) -> str:
    """The declared encoding, unless a byte-order mark says otherwise."""
    with path.open("rb") as handle:
        head = handle.read(4)
    return next((encoding for bom, encoding in _BOMS if head.startswith(bom)), declared)


def _shown(text: str, salt: str) -> str:
    """A record as the quarantine may keep it: gated, undecodable bytes as U+FFFD, bounded."""
    text = _ESCAPED_BYTES.sub("\ufffd", _BAD_CHARACTERS.sub("\ufffd", mask_rrns(text, salt)))
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + " …(cut)"


def _escaped_bytes(value: str) -> bytes:
    found = _ESCAPED_BYTES.search(value)
    assert found is not None  # called on values _ESCAPED_BYTES was found in
    return bytes(ord(c) - 0xDC00 for c in found.group(0))


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8", errors="replace")).hexdigest()


# --------------------------------------------------------------------------- CSV
class _Lines:
    """Physical lines of a text file, line endings kept, with push-back."""

    def __init__(self, handle: io.TextIOBase) -> None:
        self._lines = enumerate(handle, start=1)
        self._back: list[tuple[int, str]] = []

    def next(self) -> tuple[int, str] | None:
        if self._back:
            return self._back.pop()
        return next(self._lines, None)

    def push_back(self, lines: list[tuple[int, str]]) -> None:
        self._back.extend(reversed(lines))


class _Record(NamedTuple):
    line: int  # first physical line
    text: str  # without its final line break
    fields: list[str] | None  # None: the quoting is broken


def _without_eol(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith(("\n", "\r")) else text


def _parse(text: str) -> list[str] | None:
    try:
        return next(csv.reader([text], strict=True))
    except (csv.Error, StopIteration):
        return None


def _excel_trimmed(fields: list[str], width: int) -> list[str]:
    """The fields without the empty cells Excel adds past the last column (`a,b,c,,,`) when a
    sheet once had wider rows; a filled cell past the header is a real extra field."""
    if len(fields) > width and not any(value.strip() for value in fields[width:]):
        return fields[:width]
    return fields


def _gated(
    fields: list[str], rrn_index: int | None, salt: str, text: str | None = None
) -> list[str]:
    """The fields through the personal-data gate: every RRN-like value masked, and whatever sits
    in the RRN column hashed, even if it is not date-valid. `text`, the record as delivered, lets
    a record with nothing RRN-like skip the per-field masking. A new list when anything changed."""
    if text is None or mask_rrns(text, salt) != text:
        fields = [mask_rrns(value, salt) for value in fields]
    value = fields[rrn_index].strip() if rrn_index is not None else ""
    if rrn_index is not None and value and not value.startswith(TOKEN_PREFIX):
        fields = [*fields[:rrn_index], hash_rrn(value, salt), *fields[rrn_index + 1 :]]
    return fields


def _csv_records(
    lines: _Lines, width: int, max_chars: int, result: BatchResult
) -> Iterator[_Record]:
    """RFC 4180 records; blank lines are counted in `result`, not returned."""
    following_line = lines.next
    while (first := following_line()) is not None:
        number, raw = first
        text = raw.rstrip("\r\n")  # each physical line ends in one line break at most
        if not text or text.isspace():
            result.blank_lines += 1
            continue
        if text.count('"') % 2 == 0:
            yield _Record(number, text, _parse(text))
            continue
        # A quote left open: the field goes on over the next lines, if they close it.
        taken, joined, open_quote = [first], raw, True
        while open_quote and len(taken) < MAX_RECORD_LINES and len(joined) <= max_chars:
            following = following_line()
            if following is None:
                break
            taken.append(following)
            joined += following[1]
            open_quote ^= following[1].count('"') % 2 == 1
        if not open_quote:
            fields = _parse(_without_eol(joined))
            if fields is not None and len(_excel_trimmed(fields, width)) == width:
                yield _Record(number, _without_eol(joined), fields)
                continue
        lines.push_back(taken[1:])
        yield _Record(number, text, _parse(text))


@dataclass(frozen=True)
class _Header:
    order: list[int] | None  # positions of the expected columns; None: as expected
    problem: str | None  # why the file cannot be read as this export
    is_data: bool  # the first line is a data row (the file lost its header)


def _read_header(record: _Record, spec: EntitySpec, encoding: str) -> _Header:
    expected = list(spec.column_names)
    intro = (
        f"header does not match the {spec.name} export (wrong file or encoding?): "
        f"expected {len(expected)} columns {', '.join(expected)}"
    )
    fields = record.fields
    if fields is None:
        return _Header(None, f"{intro}; the first line is not valid CSV", False)
    # Past the last column, the empty header cells Excel writes.
    names = _excel_trimmed(
        [name.strip().lstrip("\ufeff").strip() for name in fields], len(expected)
    )
    if names == expected:
        return _Header(None, None, False)
    if sorted(names) == sorted(expected) and len(set(names)) == len(names):
        return _Header([names.index(name) for name in expected], None, False)
    if any(_ESCAPED_BYTES.search(name) for name in names):
        return _Header(None, f"{intro}; the first line does not decode as {encoding}", False)
    if len(names) == len(expected) and not set(names) & set(expected):
        # Its values are a customer's data: say so, show none of them.
        return _Header(
            None,
            f"{intro}; the first line looks like a data row (a file without its header line?)",
            True,
        )
    missing = [name for name in expected if name not in names]
    unexpected = [name for name in names if name not in expected]
    return _Header(
        None,
        f"{intro}; missing {', '.join(missing) or 'none'}; unexpected "
        f"{', '.join(unexpected)[:200] or 'none'}",
        False,
    )


def _stage_csv(
    path: Path,
    spec: EntitySpec,
    salt: str,
    rows: IncomingRows,
    result: BatchResult,
    limits: LoadLimits,
) -> list[Rejection]:
    expected = list(spec.column_names)
    rrn_index = next((i for i, c in enumerate(spec.columns) if c.kind == "rrn"), None)
    encoding = source_encoding(path, spec.encoding)
    rejections: list[Rejection] = []
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="")

    def reject(record: _Record, field: str | None, code: str, reason: str) -> None:
        rejections.append(Rejection(record.line, field, code, reason, _shown(record.text, salt)))

    with path.open(encoding=encoding, errors="surrogateescape", newline="") as handle:
        records = _csv_records(
            _Lines(handle), len(expected), limits.max_field_chars * len(expected), result
        )
        first = next(records, None)
        if first is None:
            result.status = "empty_file"
            return rejections
        header = _read_header(first, spec, encoding)
        if header.is_data:
            result.rows_read += 1
            reject(first, "header", "header_mismatch", header.problem or "")
        for record in records:
            result.rows_read += 1
            if header.problem:
                reject(record, "header", "header_mismatch", header.problem)
                continue
            fields = record.fields
            if _ESCAPED_BYTES.search(record.text):
                # Bad bytes first: they may also be why the quoting or field count is off.
                where = next(
                    (i for i, v in enumerate(fields or []) if _ESCAPED_BYTES.search(v)), None
                )
                name = None if where is None else expected[min(where, len(expected) - 1)]
                reject(
                    record,
                    name,
                    "undecodable_bytes",
                    f"{name or 'a field'}: undecodable {encoding} bytes "
                    f"{_escaped_bytes(record.text)!r}",
                )
                continue
            if fields is None:
                reject(
                    record,
                    None,
                    "malformed_quoting",
                    "malformed CSV quoting: a quote is not closed, or text follows a closing quote",
                )
                continue
            fields = _excel_trimmed(fields, len(expected))
            if len(fields) != len(expected):
                reject(
                    record,
                    None,
                    "wrong_field_count",
                    f"expected {len(expected)} fields, found {len(fields)}",
                )
                continue
            if header.order:
                fields = [fields[i] for i in header.order]
            # Only a record this long, or holding a NUL, can have a field no database takes.
            if len(record.text) > limits.max_field_chars or "\x00" in record.text:
                problem = _field_problem(fields, expected, limits)
                if problem:
                    reject(record, *problem)
                    continue
            text = record.text
            changed = len(fields) != len(record.fields or ())
            if "=" in text:
                shown = [excel_text(value) for value in fields]
                changed = changed or shown != fields
                fields = shown
            gated = _gated(fields, rrn_index, salt, text)
            changed = changed or gated is not fields
            fields = gated
            if changed or header.order:
                buffer.seek(0)
                buffer.truncate()
                writer.writerow(fields)
                text = buffer.getvalue()
            # An empty field is a missing value (NULL), as DuckDB's own CSV reader has it.
            rows.add(record.line, _md5(text), [value or None for value in fields])
    return rejections


def _field_problem(
    fields: list[str], names: list[str], limits: LoadLimits
) -> tuple[str, str, str] | None:
    """(field, reason code, reason) of the first field no database may store as it is."""
    for name, value in zip(names, fields, strict=True):
        if len(value) > limits.max_field_chars:
            return (
                name,
                "field_too_large",
                (
                    f"{name}: {len(value):,} characters, more than "
                    f"the limit of {limits.max_field_chars:,}"
                ),
            )
        if _BAD_CHARACTERS.search(value):
            return (
                name,
                "invalid_characters",
                (
                    f"{name}: holds a NUL character or a lone "
                    "surrogate, which no database stores as text"
                ),
            )
    return None


# --------------------------------------------------------------------------- JSON Lines
def _literal(text: str) -> str:
    return text  # numbers keep their spelling: raw holds what was delivered


class _JsonRow(NamedTuple):
    """A JSON line that is staged."""

    digest: str  # md5 of the line as staged
    values: list[str | None]  # the spec's columns
    unknown: str | None  # fields the spec does not name, as JSON


class _JsonRefusal(NamedTuple):
    """A JSON line that is refused."""

    field: str | None  # None: the whole line
    reason_code: str
    reason: str


def _json_problem(record: dict[str, Any], limits: LoadLimits) -> _JsonRefusal | None:
    """(field, reason code, reason) for a record too deep, too large or holding characters no
    database stores; checked without recursion, so any nesting is safe to inspect."""
    stack: list[tuple[str, Any, int]] = [(key, value, 1) for key, value in record.items()]
    stack += [(key, key, 1) for key in record]  # keys are written too (_unknown_fields)
    while stack:
        field, value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return _JsonRefusal(
                field, "json_too_deep", f"{field}: nested deeper than {MAX_JSON_DEPTH} levels"
            )
        if isinstance(value, str):
            if len(value) > limits.max_field_chars:
                return _JsonRefusal(
                    field,
                    "field_too_large",
                    (
                        f"{field}: {len(value):,} characters, more "
                        f"than the limit of {limits.max_field_chars:,}"
                    ),
                )
            if _BAD_CHARACTERS.search(value):
                return _JsonRefusal(
                    field,
                    "invalid_characters",
                    (
                        f"{field}: holds a NUL character or a lone surrogate escape, which no "
                        "database stores as text"
                    ),
                )
        elif isinstance(value, dict):
            stack += [(field, v, depth + 1) for v in value.values()]
            stack += [(field, k, depth + 1) for k in value]
        elif isinstance(value, list):
            stack += [(field, v, depth + 1) for v in value]
    return None


def _gate_json(value: Any, salt: str) -> Any:
    """Every string of a parsed record (keys too) through the gate; depth is bounded already."""
    if isinstance(value, str):
        return mask_rrns(value, salt)
    if isinstance(value, dict):
        return {mask_rrns(k, salt): _gate_json(v, salt) for k, v in value.items()}
    if isinstance(value, list):
        return [_gate_json(v, salt) for v in value]
    return value


def _as_text(value: Any) -> str | None:
    """A JSON value as raw text: strings and numbers as written, objects as compact JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class _JsonShape:
    """What a JSON line is read against, worked out once per file."""

    names: tuple[str, ...]
    known: frozenset[str]
    encoding: str


def _json_row(
    text: str, shape: _JsonShape, salt: str, limits: LoadLimits
) -> _JsonRow | _JsonRefusal:
    """(row hash, values, unknown fields as JSON) of one JSON line, or (field, reason code,
    reason) when it is refused."""
    if _ESCAPED_BYTES.search(text):
        return _JsonRefusal(
            None,
            "undecodable_bytes",
            (f"undecodable {shape.encoding} bytes {_escaped_bytes(text)!r}"),
        )
    if len(text) > limits.max_field_chars * (len(shape.names) + 1):
        return _JsonRefusal(
            None,
            "field_too_large",
            (
                f"a line of {len(text):,} characters, more than the "
                f"limit of {limits.max_field_chars:,} per field allows"
            ),
        )
    # Without a backslash nothing is escaped: gating the line gates every string in it.
    escaped = "\\" in text
    if not escaped:
        text = mask_rrns(text, salt)
    try:
        record = json.loads(text, parse_int=_literal, parse_float=_literal, parse_constant=_literal)
    except RecursionError:
        return _JsonRefusal(None, "json_too_deep", f"nested deeper than {MAX_JSON_DEPTH} levels")
    except json.JSONDecodeError as error:
        return _JsonRefusal(
            None, "malformed_json", f"malformed JSON: {error.msg} at column {error.colno}"
        )
    if not isinstance(record, dict):
        return _JsonRefusal(
            None, "not_an_object", f"expected a JSON object, found {type(record).__name__}"
        )
    # A nested value shows as a brace or bracket after the first character (strings may
    # hold them too: then the walk just finds nothing).
    if escaped or len(text) > limits.max_field_chars or text.find("{", 1) > 0 or "[" in text:
        problem = _json_problem(record, limits)
        if problem:
            return problem
    if escaped:
        record = _gate_json(record, salt)
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    unknown = (
        None
        if record.keys() <= shape.known
        else {k: v for k, v in record.items() if k not in shape.known}
    )
    return _JsonRow(
        _md5(text),
        [_as_text(record.get(n)) for n in shape.names],
        json.dumps(unknown, ensure_ascii=False, separators=(",", ":")) if unknown else None,
    )


def _stage_jsonl(
    path: Path,
    spec: EntitySpec,
    salt: str,
    rows: IncomingRows,
    result: BatchResult,
    limits: LoadLimits,
) -> list[Rejection]:
    rejections: list[Rejection] = []
    shape = _JsonShape(spec.column_names, frozenset(spec.column_names), spec.encoding)
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            if not raw.strip():
                result.blank_lines += 1
                continue
            result.rows_read += 1
            text = raw.decode(spec.encoding, errors="surrogateescape").strip()
            row = _json_row(text, shape, salt, limits)
            if isinstance(row, _JsonRow):
                rows.add(number, row.digest, row.values, row.unknown)
            else:
                rejections.append(
                    Rejection(number, row.field, row.reason_code, row.reason, _shown(text, salt))
                )
    if result.rows_read == 0:
        result.status = "empty_file"
    return rejections


# --------------------------------------------------------------------------- loading
def _record_sql(spec: EntitySpec) -> str:
    """The delivered record rebuilt from `_incoming`, for rows the SQL checks quarantine."""
    if spec.format == "csv":
        return (
            "concat_ws(',', "
            + ", ".join(f"coalesce({quote(spec.stored_name(c))}, '')" for c in spec.columns)
            + ")"
        )
    return (
        "json_object("
        + ", ".join(f"{sql_literal(c.name)}, {quote(c.name)}" for c in spec.columns)
        + ")::varchar"
    )


def _stage_mapped(
    path: Path,
    mapping: SourceMapping,
    salt: str,
    rows: IncomingRows,
    result: BatchResult,
    limits: LoadLimits,
) -> list[Rejection]:
    """A company's own export, read through its mapping (ingest.source_mapping) into the
    contract's fields; from there on the same checks as every delivery."""
    spec = mapping.spec
    rrn_index = next((i for i, c in enumerate(spec.columns) if c.kind == "rrn"), None)
    rejections: list[Rejection] = []
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="")

    def as_text(values: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    header, records = read_export(path, mapping)
    if not header:
        result.status = "empty_file"
        return rejections
    result.read_columns = tuple(n for n in mapping.source_columns if n in header)
    result.unused_columns = tuple(mapping.unused_columns(header))
    missing = mapping.missing_columns(header)
    for line, cells, kept in mapping.records(records):
        if not kept:
            result.rows_skipped += 1
            continue
        result.rows_read += 1
        if isinstance(cells, str):  # a record that cannot be read: nothing of it is kept
            code = "not_an_object" if cells.startswith("expected") else "malformed_json"
            rejections.append(Rejection(line, None, code, cells, "(not kept)"))
            continue
        # Only the columns the mapping reads are ever shown: the rest may hold anything.
        shown = _shown(as_text([cells.get(name, "") for name in mapping.source_columns]), salt)
        if missing:
            reason = (
                f"{path.name} has no column {', '.join(missing)}, which the mapping "
                f"{mapping.name} reads (wrong file, or the export's layout changed?)"
            )
            rejections.append(Rejection(line, "header", "header_mismatch", reason, shown))
            continue
        fields = mapping.contract_row(cells)
        if isinstance(fields, Problem):
            rejections.append(Rejection(line, fields.field, fields.code, fields.reason, shown))
            continue
        problem = _field_problem(fields, list(spec.column_names), limits)
        if problem:
            rejections.append(Rejection(line, *problem, shown))
            continue
        fields = _gated(fields, rrn_index, salt)
        values = [value or None for value in fields]
        if rows.with_unknown:
            rows.add(line, _md5(as_text(fields)), values, None)
        else:
            rows.add(line, _md5(as_text(fields)), values)
    return rejections


def load_file(
    con: duckdb.DuckDBPyConnection,
    spec: EntitySpec,
    path: Path,
    landing_dir: Path,
    salt: str,
    limits: LoadLimits | None = None,
    erasure_secret: str | None = None,
    mapping: SourceMapping | None = None,
) -> BatchResult:
    """Load one landed file into `spec`'s raw table (through `mapping` when it is a company's
    own export). A file already loaded is skipped."""
    limits = limits or LoadLimits.default()
    source_ref = mask_rrns(
        path.relative_to(landing_dir).as_posix() if path.is_relative_to(landing_dir) else str(path),
        salt,
    )
    fingerprint = delivery_fingerprint(path, mapping)
    seen_as = earlier_load(con, spec, fingerprint)
    if seen_as and source_ref in seen_as:
        return BatchResult(spec.name, source_ref, "already_loaded")
    if seen_as:
        # Same bytes under a new name (an unchanged master snapshot): log it, load nothing.
        return log_duplicate_file(con, spec, source_ref, fingerprint, seen_as[0])
    started_at = datetime.now(UTC)
    result = BatchResult(spec.name, source_ref, "loaded", batch_id=new_batch_id())
    result.mapping = mapping.name if mapping is not None else ""
    rows = IncomingRows(
        con, [spec.stored_name(c) for c in spec.columns], with_unknown=spec.format == "jsonl"
    )
    try:
        if mapping is not None:
            rejections = _stage_mapped(path, mapping, salt, rows, result, limits)
        else:
            stage = _stage_csv if spec.format == "csv" else _stage_jsonl
            rejections = stage(path, spec, salt, rows, result, limits)
        rows.flush()
        return publish_batch(
            con,
            spec,
            result,
            fingerprint=fingerprint,
            record_sql=_record_sql(spec),
            rejections=rejections,
            started_at=started_at,
            extra_select="_unknown" if spec.format == "jsonl" else "",
            limits=limits,
            erasure_secret=erasure_secret,
        )
    finally:
        con.execute("drop table if exists _incoming")


# --------------------------------------------------------------------------- which files
FILE_SPECS = tuple(spec for spec in ENTITIES if spec.format != "sql")


def _name_matches(name: str, spec: EntitySpec) -> bool:
    # Case-insensitive: Windows tools export ERP_CUSTOMERS_20261121.CSV.
    return fnmatchcase(name.lower(), PurePosixPath(spec.location).name.lower())


def landed_files(landing_dir: Path, spec: EntitySpec) -> list[Path]:
    """The files of `spec` in its landing folder, oldest name first (none for the shop
    database's tables: their files come only through a mapping)."""
    if spec.format == "sql":
        return []
    folder = landing_dir / PurePosixPath(spec.location).parent
    if not folder.is_dir():
        return []
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and _name_matches(p.name, spec)),
        key=lambda p: p.name.lower(),
    )


def unmatched_files(
    landing_dir: Path, spec: EntitySpec, mappings: Sequence[SourceMapping] = ()
) -> list[str]:
    """Files under `spec`'s landing folder that no loader reads and that concern `spec`: named
    almost like its exports (case, `-` for `_`, a subfolder), or like no export at all. A file
    a mapping reads is read."""
    if spec.format == "sql":
        return []
    folder_name = PurePosixPath(spec.location).parent
    folder = landing_dir / folder_name
    if not folder.is_dir():
        return []
    siblings = [s for s in FILE_SPECS if PurePosixPath(s.location).parent == folder_name]
    claimed = {p for s in siblings for p in landed_files(landing_dir, s)}
    claimed |= {p for m in mappings for p in mapped_files(landing_dir, m)}
    out = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path in claimed or path.name.startswith("."):
            continue
        loose = re.sub(r"[-\s]", "_", path.name)
        owners = [s for s in siblings if _name_matches(loose, s)] or siblings
        if spec in owners:
            out.append(path.relative_to(landing_dir).as_posix())
    return out


def mapped_files(landing_dir: Path, mapping: SourceMapping) -> list[Path]:
    """The files of a mapped delivery under the landing folder, oldest name first."""
    if not landing_dir.is_dir():
        return []
    found = (
        p
        for p in landing_dir.rglob("*")
        if p.is_file() and mapping.matches(p.relative_to(landing_dir).as_posix())
    )
    return sorted(found, key=lambda p: p.name.lower())


def load_entity_files(
    con: duckdb.DuckDBPyConnection,
    spec: EntitySpec,
    landing_dir: Path,
    salt: str,
    limits: LoadLimits | None = None,
    erasure_secret: str | None = None,
    mappings: Sequence[SourceMapping] = (),
) -> list[BatchResult]:
    """Load every landed file of `spec` not loaded before, oldest name first: the contract's own
    exports, then each mapped delivery of `spec`."""
    results = [
        load_file(con, spec, path, landing_dir, salt, limits, erasure_secret)
        for path in landed_files(landing_dir, spec)
    ]
    for mapping in mappings:
        if mapping.spec.name == spec.name and mapping.format != "sql":
            results += [
                load_file(con, spec, path, landing_dir, salt, limits, erasure_secret, mapping)
                for path in mapped_files(landing_dir, mapping)
            ]
    return results
