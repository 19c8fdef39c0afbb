"""Preview a source mapping on one export, writing nothing: `make source-check MAPPING=… FILE=…`.

Says which of the export's columns the mapping reads and which it leaves (never stored), shows
the first rows as the contract will see them, and loads the whole file into a throw-away
in-memory warehouse to count what would load and what would be quarantined, and why.
Exit status: 0 when the file would load, 1 when it would be refused whole, 2 for a mapping or
file that cannot be read.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path

import duckdb

from ingest.file_loader import load_file
from ingest.personal_data import mask_rrns
from ingest.raw_store import ensure_raw_schema
from ingest.source_mapping import MappingError, Problem, load_mapping, read_export


def preview(mapping_path: Path, export: Path, shown_rows: int = 5) -> tuple[int, list[str]]:
    """The report's lines and the exit status."""
    mapping = load_mapping(mapping_path)
    spec = mapping.spec
    # Only for the preview's own masking and hashing: nothing is kept.
    salt = secrets.token_hex(16)
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
    for count, (line, cells) in enumerate(rows):
        if count >= shown_rows:
            break
        if isinstance(cells, str):
            out.append(f"  line {line}: quarantined: {cells}")
            continue
        fields = mapping.contract_row(cells)
        if isinstance(fields, Problem):
            out.append(f"  line {line}: quarantined ({fields.code}): {fields.reason}")
            continue
        shown = {
            column.name: "(hashed at load)" if column.kind == "rrn" and value else value
            for column, value in zip(spec.columns, fields, strict=True)
        }
        out.append(f"  line {line}: " + mask_rrns(repr(shown), salt))
    con = duckdb.connect()
    try:
        ensure_raw_schema(con)
        result = load_file(con, spec, export, export.parent, salt, mapping=mapping)
        out.append(
            f"would load {result.rows_loaded} of {result.rows_read} rows, quarantine "
            f"{result.rows_quarantined}"
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
    parser.add_argument("--file", required=True, type=Path, help="an export to try it on")
    parser.add_argument("--rows", type=int, default=5, help="rows to show (default 5)")
    args = parser.parse_args(argv)
    if not args.file.is_file():
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
