"""Preview a source mapping on one export, writing nothing: `make source-check MAPPING=… FILE=…`.

Says which of the export's columns the mapping reads and which it leaves (never stored), shows
the first rows as the contract will see them, and loads the whole file into a throw-away
in-memory warehouse to count what would load and what would be quarantined, and why. A mapping
of several deliveries (orders and their lines from one file) is previewed delivery by delivery.
Exit status: 0 when the file would load, 1 when it would be refused whole, 2 for a mapping or
file that cannot be read.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import sqlalchemy as sa

from ingest.file_loader import load_file
from ingest.personal_data import mask_rrns
from ingest.raw_store import ensure_raw_schema
from ingest.schemas import Column
from ingest.shop_loader import load_shop_table
from ingest.source_mapping import (
    MappingError,
    Problem,
    SourceMapping,
    load_deliveries,
    read_export,
)


def preview(mapping_path: Path, export: Path | None, shown_rows: int = 5) -> tuple[int, list[str]]:
    """The report's lines and the exit status."""
    deliveries = load_deliveries(mapping_path)
    reads_database = deliveries[0].format == "sql"
    if reads_database and export is not None:
        raise MappingError(
            f"mapping {mapping_path}: reads a database, not files; preview it without FILE"
        )
    if export is None and not reads_database:
        raise MappingError(f"mapping {mapping_path}: reads files; say which one (FILE=…)")
    # Only for the preview's own masking and hashing: nothing is kept.
    salt = secrets.token_hex(16)
    status, out = 0, []
    for mapping in deliveries:
        if export is None:
            refused, lines = _preview_query(mapping, shown_rows, salt)
        else:
            refused, lines = _preview_one(mapping, export, shown_rows, salt)
        status = max(status, refused)
        out += lines
    return status, out


def _shown(spec_columns: tuple[Column, ...], fields: list[str], salt: str) -> str:
    shown = {
        column.name: "(hashed at load)" if column.kind == "rrn" and value else value
        for column, value in zip(spec_columns, fields, strict=True)
    }
    return mask_rrns(repr(shown), salt)


def _preview_query(mapping: SourceMapping, shown_rows: int, salt: str) -> tuple[int, list[str]]:
    """A database mapping's query: its first rows as the contract sees them, and what a load
    would do, into a throw-away warehouse."""
    spec = mapping.spec
    assert mapping.database is not None  # a sql mapping names its database (load_deliveries)
    engine = sa.create_engine(mapping.database.url)
    where = engine.url.render_as_string(hide_password=True)
    out = [f"mapping {mapping.name}: {where} → {spec.raw_table} (sql)"]
    con = duckdb.connect()
    try:
        with engine.connect() as connection:
            result = connection.execute(sa.text(mapping.query or ""))
            columns = list(result.keys())
            missing = [n for n in mapping.source_columns if n not in columns]
            out.append(f"query columns: {', '.join(columns)}")
            if missing:
                out.append(f"the query has no column {', '.join(missing)}, which the rules read")
                return 1, out
            out.append(f"first rows as {spec.name}:")
            shown = 0
            for number, row in enumerate(result, start=1):
                if shown >= shown_rows:
                    break
                cells = {k: "" if v is None else str(v) for k, v in row._mapping.items()}
                if not mapping.holds(cells):
                    continue
                shown += 1
                fields = mapping.contract_row(cells)
                if isinstance(fields, Problem):
                    out.append(f"  row {number}: quarantined ({fields.code}): {fields.reason}")
                else:
                    out.append(f"  row {number}: " + _shown(spec.columns, fields, salt))
        ensure_raw_schema(con)
        loaded = load_shop_table(con, engine, spec, salt, timedelta(0), mapping=mapping)
        out.append(
            f"would load {loaded.rows_loaded} of {loaded.rows_read} rows, quarantine "
            f"{loaded.rows_quarantined}"
        )
        reasons = con.execute(
            "select reason_code, count(*), min(source_line), min(reason) from raw._quarantine "
            "group by reason_code order by 2 desc, 1"
        ).fetchall()
    except sa.exc.SQLAlchemyError as error:
        said = " ".join(str(getattr(error, "orig", None) or error).split())[:300]
        raise MappingError(
            f"mapping {mapping.path}: {mapping.label or spec.name}: the database at {where} "
            f"refused: {said}"
        ) from None
    finally:
        con.close()
        engine.dispose()
    for code, number, line, reason in reasons:
        out.append(f"  {code}: {number} (first at row {line}: {reason})")
    return 0, out


def _preview_one(
    mapping: SourceMapping, export: Path, shown_rows: int, salt: str
) -> tuple[int, list[str]]:
    spec = mapping.spec
    header, rows = read_export(export, mapping)
    missing = mapping.missing_columns(header)
    out = [
        f"mapping {mapping.name}: {export.name} → {spec.raw_table} ({mapping.format})",
        f"columns read: {', '.join(n for n in mapping.source_columns if n in header) or 'none'}",
        f"columns missing: {', '.join(missing) or 'none'}",
        f"columns not read (never stored): {', '.join(mapping.unused_columns(header)) or 'none'}",
    ]
    if missing:
        out.append(f"the whole file would be refused: it has no column {', '.join(missing)}")
        return 1, out
    out.append(f"first rows as {spec.name}:")
    count = 0
    for line, cells, kept in mapping.records(rows):
        if count >= shown_rows:
            break
        if not kept:
            continue
        if isinstance(cells, str):
            out.append(f"  line {line}: quarantined: {cells}")
            count += 1
            continue
        count += 1
        fields = mapping.contract_row(cells)
        if isinstance(fields, Problem):
            out.append(f"  line {line}: quarantined ({fields.code}): {fields.reason}")
            continue
        out.append(f"  line {line}: " + _shown(spec.columns, fields, salt))
    con = duckdb.connect()
    try:
        ensure_raw_schema(con)
        result = load_file(con, spec, export, export.parent, salt, mapping=mapping)
        skipped = f"; {result.rows_skipped} row(s) of the file make no {spec.name} record" * bool(
            result.rows_skipped
        )
        out.append(
            f"would load {result.rows_loaded} of {result.rows_read} rows, quarantine "
            f"{result.rows_quarantined}{skipped}"
        )
        reasons = con.execute(
            "select reason_code, count(*), min(source_line), min(reason) from raw._quarantine "
            "group by reason_code order by 2 desc, 1"
        ).fetchall()
    finally:
        con.close()
    for code, number, line, reason in reasons:
        out.append(f"  {code}: {number} (first at line {line}: {reason})")
    return 0, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mapping", required=True, type=Path, help="the mapping file (*.yml)")
    parser.add_argument(
        "--file", type=Path, help="an export to try it on (none for a database mapping)"
    )
    parser.add_argument("--rows", type=int, default=5, help="rows to show (default 5)")
    args = parser.parse_args(argv)
    if args.file is not None and not args.file.is_file():
        print(f"no file {args.file}", file=sys.stderr)
        return 2
    try:
        status, lines = preview(args.mapping, args.file, args.rows)
    except (MappingError, UnicodeDecodeError) as error:
        print(error, file=sys.stderr)
        return 2
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
