"""The dbt sources of the raw layer, written from the contract (ingest/schemas.py).

`python -m ingest.contract --write` writes `dbt_project/models/staging/_sources.yml`: one dbt
source per source system (its description, load-time freshness), one table per entity, one
column per stored raw column with the contract's description. `--check` exits 1, naming the
command to run, when the file is not what the contract says; the tests run it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ingest.schemas import ENTITIES, SYSTEMS, Column, EntitySpec, SourceSystem

SOURCES_FILE = Path(__file__).resolve().parents[1] / "dbt_project/models/staging/_sources.yml"
WRITE_COMMAND = "python -m ingest.contract --write"
HEADER = (
    f"# Generated from ingest/schemas.py by `{WRITE_COMMAND}` (make contract); do not edit.\n"
    "# Raw tables written by the Dagster ingest assets (orchestration/assets/ingest.py).\n"
    "# Columns keep the source's own names and hold text exactly as delivered.\n"
)


def _quoted(text: str) -> str:
    # A JSON string is a YAML double-quoted scalar: any description is safe as written.
    return json.dumps(text, ensure_ascii=False)


def _column_description(spec: EntitySpec, column: Column) -> str:
    if column.kind == "rrn":  # the raw table holds only the hash (EntitySpec.stored_name)
        return f"{column.description} (salted hash token, never the number)"
    return column.description


def _source_lines(system: SourceSystem) -> list[str]:
    freshness = system.freshness
    lines = [
        f"  - name: {system.name}",
        f"    description: {_quoted(system.description)}",
        "    schema: raw",
        "    config:",
        f"      loaded_at_field: {system.loaded_at_field}",
        "      freshness:",
        f"        warn_after: {{count: {freshness.warn_after_hours}, period: hour}}",
        f"        error_after: {{count: {freshness.error_after_hours}, period: hour}}",
        "    tables:",
    ]
    for spec in ENTITIES:
        if spec.source != system.name:
            continue
        lines += [
            f"      - name: {spec.name}",
            f"        description: {_quoted(spec.description)}",
            "        columns:",
        ]
        for column in spec.columns:
            lines += [
                f"          - name: {spec.stored_name(column)}",
                f"            description: {_quoted(_column_description(spec, column))}",
            ]
    return lines


def sources_yml() -> str:
    """The text of the sources file the contract implies."""
    lines = ["version: 2", "", "sources:"]
    for system in SYSTEMS:
        lines += _source_lines(system)
    return HEADER + "\n".join(lines) + "\n"


def check(path: Path = SOURCES_FILE) -> str | None:
    """None when the file is what the contract says, else what is wrong and what to run."""
    expected = sources_yml()
    if not path.exists():
        return f"{path} is missing: run `{WRITE_COMMAND}`"
    if path.read_text(encoding="utf-8") != expected:
        return (
            f"{path} differs from the contract in ingest/schemas.py: edit the contract, "
            f"then run `{WRITE_COMMAND}` (make contract)"
        )
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ingest.contract", description=__doc__.splitlines()[0]
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="write the dbt sources file")
    mode.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    # Another file than the project's: the tests check a copy they spoil.
    parser.add_argument("--sources-file", type=Path, default=SOURCES_FILE, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    path: Path = args.sources_file
    if args.write:
        path.write_text(sources_yml(), encoding="utf-8")
        print(f"wrote {path}")
        return 0
    problem = check(path)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    print(f"{path} matches ingest/schemas.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
