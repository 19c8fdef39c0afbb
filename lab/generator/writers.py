"""Chunked writers for the landing files, with the malformed rows spliced in.

Rows arrive column-wise, one chunk at a time; no field ever contains a line break, so row i of
a CSV file is physical line i + 2 (the header is line 1) and row i of a JSONL file is line i + 1.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from ingest.schemas import EntitySpec

from . import excel
from .malformed import broken_csv_line, broken_json_line
from .truth import Truth


class _Out:
    def __init__(
        self, path: Path, rel: str, spec: EntitySpec, malformed: dict[int, str], truth: Truth
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.rel = rel  # name relative to the landing folder, as malformed.csv reports it
        self.spec = spec
        self.malformed = malformed
        self.truth = truth
        self.rows = 0
        self.fh = path.open("wb")

    def _bad_rows(self, count: int) -> list[int]:
        return sorted(i for i in self.malformed if self.rows <= i < self.rows + count)

    def close(self) -> int:
        self.fh.close()
        self.truth.count(self.rel, self.rows)
        return self.rows


class CsvFile(_Out):
    def __init__(
        self,
        path: Path,
        rel: str,
        spec: EntitySpec,
        malformed: dict[int, str],
        truth: Truth,
        *,
        encoding: str,
        newline: str,
        bom: bool = False,
        excel_saved: bool = False,
    ) -> None:
        super().__init__(path, rel, spec, malformed, truth)
        self.encoding = encoding
        self.newline = newline
        self.excel_saved = excel_saved  # opened and saved in Korean Excel (lab.generator.excel)
        if bom:
            self.fh.write("\ufeff".encode())
        header = [*spec.column_names, *(excel.PADDING if excel_saved else ())]
        self._write_rows([header], as_data=False)

    def _write_rows(self, rows: Sequence[Sequence[str]], as_data: bool = True) -> None:
        if self.excel_saved and as_data:
            rows = [excel.as_saved(self.spec, row) for row in rows]
        buf = io.StringIO()
        csv.writer(buf, lineterminator=self.newline).writerows(rows)
        text = buf.getvalue()
        if self.excel_saved and as_data:
            text = excel.unquoted_formulas(text)
        self.fh.write(text.encode(self.encoding))

    def write(self, cols: Sequence[Sequence[str]]) -> None:
        rows = list(zip(*cols, strict=True))
        done = 0
        for i in self._bad_rows(len(rows)):
            local = i - self.rows
            self._write_rows(rows[done:local])
            kind = self.malformed[i]
            self.fh.write(
                broken_csv_line(list(rows[local]), kind, self.spec, i, self.encoding, self.newline)
            )
            self.truth.malformed(self.rel, i + 2, kind)
            done = local + 1
        self._write_rows(rows[done:])
        self.rows += len(rows)


def _json_fragments(col: Sequence[Any], numeric: bool) -> list[str]:
    """JSON text of each value, exactly as json.dumps(ensure_ascii=False) writes it."""
    if numeric:
        return ["null" if v is None else str(v) for v in col]
    return ["null" if v is None else encode_basestring(v) for v in col]


class JsonlFile(_Out):
    def __init__(
        self, path: Path, rel: str, spec: EntitySpec, malformed: dict[int, str], truth: Truth
    ) -> None:
        super().__init__(path, rel, spec, malformed, truth)
        self.encoder = json.JSONEncoder(ensure_ascii=False)
        self.numeric = [c.kind == "int" for c in spec.columns]
        self.template = (
            "{{"
            + ", ".join(
                f"{json.dumps(name, ensure_ascii=False)}: {{}}" for name in spec.column_names
            )
            + "}}"
        )

    def write(self, cols: Sequence[Sequence[Any]]) -> None:
        frags = [_json_fragments(c, num) for c, num in zip(cols, self.numeric, strict=True)]
        lines = [self.template.format(*row) for row in zip(*frags, strict=True)]
        for i in self._bad_rows(len(lines)):
            local = i - self.rows
            obj = {name: c[local] for name, c in zip(self.spec.column_names, cols, strict=True)}
            kind = self.malformed[i]
            lines[local] = broken_json_line(obj, kind, self.spec, i, self.encoder)
            self.truth.malformed(self.rel, i + 1, kind)
        if lines:
            self.fh.write(("\n".join(lines) + "\n").encode("utf-8"))
        self.rows += len(lines)
