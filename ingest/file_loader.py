"""Load landed files (CSV in any encoding, JSON Lines) into the raw layer, streaming.

One streaming pass in Python does what DuckDB cannot do offline or cannot report per line:
decode the source encoding strictly (DuckDB's CSV reader needs the `encodings` extension for
CP949, which downloads at run time), mask resident registration numbers before any byte is
written, check quoting and field counts, and prefix each good line with its source line number
and content hash. The result is a UTF-8 temporary file that DuckDB then reads natively; field
checks run in SQL (see raw_store.publish_batch). Memory stays flat whatever the file size.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingest.raw_store import (
    BatchResult,
    Rejection,
    earlier_load,
    log_duplicate_file,
    new_batch_id,
    publish_batch,
    quote,
    sql_literal,
)
from ingest.rrn import TOKEN_PREFIX, hash_rrn, mask_rrns
from ingest.schemas import EntitySpec

_CHUNK = 1 << 20


def file_fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, bytes without the line break) for every physical line."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            yield number, raw.rstrip(b"\r\n")


def _decode(raw: bytes, encoding: str, line: int, header: list[str] | None,
            salt: str) -> tuple[str | None, Rejection | None]:
    try:
        return raw.decode(encoding), None
    except UnicodeDecodeError as error:
        # Name the field the bad bytes sit in: count the fields before the offending byte.
        field = None
        if header:
            before = raw[: error.start].decode(encoding, errors="replace")
            try:
                position = len(next(csv.reader([before]))) - 1 if before else 0
                field = header[min(position, len(header) - 1)]
            except csv.Error:
                field = None
        shown = mask_rrns(raw.decode(encoding, errors="replace"), salt)
        reason = (f"undecodable {encoding} bytes {raw[error.start:error.end]!r} "
                  f"at byte {error.start}")
        return None, Rejection(line, field, "undecodable_bytes", reason, shown)


class _Staging:
    """The temporary UTF-8 file handed to DuckDB, with line number and hash first."""

    def __init__(self, directory: str) -> None:
        # Closed explicitly: DuckDB reads the file after the pass, then it is removed.
        self.handle = tempfile.NamedTemporaryFile(  # noqa: SIM115
            "w", encoding="utf-8", newline="", suffix=".stage", dir=directory, delete=False)
        self.path = Path(self.handle.name)
        self.lines = 0

    def close(self) -> None:
        self.handle.close()

    def remove(self) -> None:
        self.handle.close()
        self.path.unlink(missing_ok=True)


def _stage_csv(path: Path, spec: EntitySpec, salt: str, staging: _Staging,
               result: BatchResult) -> list[Rejection]:
    rejections: list[Rejection] = []
    expected = list(spec.column_names)
    rrn_index = next((i for i, c in enumerate(spec.columns) if c.kind == "rrn"), None)
    lines = _lines(path)
    header: list[str] | None = None
    header_problem: str | None = None
    for number, raw in lines:
        if not raw.strip():
            result.blank_lines += 1
            continue
        text, rejection = _decode(raw, spec.encoding, number, None, salt)
        if text is not None:
            header = next(csv.reader([text.lstrip("\ufeff")]))
            header = [name.strip() for name in header]
        if header != expected:
            header_problem = (f"header does not match the {spec.name} export "
                              f"(wrong file or encoding?): expected {expected}, found {header}")
        break
    staging.handle.write("_line,_hash," + ",".join(quote(spec.stored_name(c))
                                                   for c in spec.columns) + "\n")
    writer_buffer = io.StringIO()
    writer = csv.writer(writer_buffer, lineterminator="")
    for number, raw in lines:
        if not raw.strip():
            result.blank_lines += 1
            continue
        result.rows_read += 1
        if header_problem:
            shown = mask_rrns(raw.decode(spec.encoding, errors="replace"), salt)
            rejections.append(Rejection(number, "header", "header_mismatch", header_problem,
                                        shown))
            continue
        text, rejection = _decode(raw, spec.encoding, number, expected, salt)
        if rejection:
            rejections.append(rejection)
            continue
        text = mask_rrns(text, salt)
        try:
            fields = next(csv.reader([text], strict=True))
        except (csv.Error, StopIteration) as error:
            rejections.append(Rejection(number, None, "malformed_quoting",
                                        f"malformed CSV quoting: {error}", text))
            continue
        if len(fields) != len(expected):
            rejections.append(Rejection(
                number, None, "wrong_field_count",
                f"expected {len(expected)} fields, found {len(fields)}", text))
            continue
        if rrn_index is not None:
            value = fields[rrn_index].strip()
            if value and not value.startswith(TOKEN_PREFIX):
                # Whatever sits in the RRN column is hashed, even if it is not date-valid.
                fields[rrn_index] = hash_rrn(value, salt)
                writer_buffer.seek(0)
                writer_buffer.truncate()
                writer.writerow(fields)
                text = writer_buffer.getvalue()
        digest = hashlib.md5(text.encode()).hexdigest()
        staging.handle.write(f"{number},{digest},{text}\n")
        staging.lines += 1
    if header is None and result.rows_read == 0:
        result.status = "empty_file"
    return rejections


def _stage_jsonl(path: Path, spec: EntitySpec, salt: str, staging: _Staging,
                 result: BatchResult) -> list[Rejection]:
    rejections: list[Rejection] = []
    for number, raw in _lines(path):
        if not raw.strip():
            result.blank_lines += 1
            continue
        result.rows_read += 1
        text, rejection = _decode(raw, spec.encoding, number, None, salt)
        if rejection:
            rejections.append(rejection)
            continue
        text = mask_rrns(text.lstrip("\ufeff").strip(), salt)
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            rejections.append(Rejection(number, None, "malformed_json",
                                        f"malformed JSON: {error.msg} at column {error.colno}",
                                        text))
            continue
        if not isinstance(record, dict):
            rejections.append(Rejection(
                number, None, "not_an_object",
                f"expected a JSON object, found {type(record).__name__}", text))
            continue
        digest = hashlib.md5(text.encode()).hexdigest()
        staging.handle.write(f'{{"_line":{number},"_hash":"{digest}","r":{text}}}\n')
        staging.lines += 1
    if result.rows_read == 0:
        result.status = "empty_file"
    return rejections


def _read_staged_sql(spec: EntitySpec, staged: Path) -> tuple[str, str, str]:
    """(select that creates _incoming, quarantine record expression, unknown-fields expression)."""
    if spec.format == "csv":
        columns = {"_line": "BIGINT", "_hash": "VARCHAR"}
        columns.update({spec.stored_name(c): "VARCHAR" for c in spec.columns})
        columns_sql = "{" + ", ".join(f"{sql_literal(k)}: {sql_literal(v)}"
                                      for k, v in columns.items()) + "}"
        select = (f"select * from read_csv({sql_literal(str(staged))}, header = true, "
                  f"auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
                  f"columns = {columns_sql}, strict_mode = true)")
        record = "concat_ws(',', " + ", ".join(
            f"coalesce({quote(spec.stored_name(c))}, '')" for c in spec.columns) + ")"
        return select, record, ""
    extracted = ", ".join(f"r->>{sql_literal(c.name)} as {quote(c.name)}" for c in spec.columns)
    known = "[" + ", ".join(sql_literal(c.name) for c in spec.columns) + "]"
    select = (f"select _line, _hash, {extracted}, "
              f"case when len(list_filter(json_keys(r), lambda k: not list_contains({known}, k)))"
              f" > 0 "
              f"then r::varchar end as _unknown "
              f"from read_json({sql_literal(str(staged))}, format = 'newline_delimited', "
              f"columns = {{'_line': 'BIGINT', '_hash': 'VARCHAR', 'r': 'JSON'}})")
    # The JSON text is not kept in _incoming; rebuild a readable record from the fields.
    record = "json_object(" + ", ".join(
        f"{sql_literal(c.name)}, {quote(c.name)}" for c in spec.columns) + ")::varchar"
    return select, record, "_unknown"


def load_file(con: duckdb.DuckDBPyConnection, spec: EntitySpec, path: Path, landing_dir: Path,
              salt: str, temp_dir: str | None = None) -> BatchResult:
    """Load one landed file into `spec`'s raw table. A file already loaded is skipped."""
    source_ref = path.relative_to(landing_dir).as_posix() if path.is_relative_to(
        landing_dir) else str(path)
    fingerprint = file_fingerprint(path)
    seen_as = earlier_load(con, spec, fingerprint)
    if seen_as and source_ref in seen_as:
        return BatchResult(spec.name, source_ref, "already_loaded")
    if seen_as:
        # Same bytes under a new name (an unchanged master snapshot): log it, load nothing.
        return log_duplicate_file(con, spec, source_ref, fingerprint, seen_as[0])
    started_at = datetime.now(UTC)
    result = BatchResult(spec.name, source_ref, "loaded", batch_id=new_batch_id())
    # The staged copy holds no clear RRN (masked above), so the system temp folder will do.
    staging = _Staging(temp_dir or tempfile.gettempdir())
    try:
        stage = _stage_csv if spec.format == "csv" else _stage_jsonl
        rejections = stage(path, spec, salt, staging, result)
        staging.close()
        select, record, unknown = _read_staged_sql(spec, staging.path)
        con.execute(f"create or replace temp table _incoming as {select}")
        incoming = con.execute("select count(*) from _incoming").fetchone()[0]
        if incoming != staging.lines:
            raise RuntimeError(
                f"{source_ref}: DuckDB read {incoming} rows but {staging.lines} lines were "
                "staged; refusing to load a file the two parsers disagree on")
        return publish_batch(con, spec, result, fingerprint=fingerprint, record_sql=record,
                             rejections=rejections, started_at=started_at,
                             extra_select=unknown)
    finally:
        staging.remove()
        con.execute("drop table if exists _incoming")


def landed_files(landing_dir: Path, spec: EntitySpec) -> list[Path]:
    return sorted(p for p in landing_dir.glob(spec.location) if p.is_file())


def load_entity_files(con: duckdb.DuckDBPyConnection, spec: EntitySpec, landing_dir: Path,
                      salt: str) -> list[BatchResult]:
    """Load every landed file of `spec` not loaded before, oldest name first."""
    return [load_file(con, spec, path, landing_dir, salt)
            for path in landed_files(landing_dir, spec)]
