"""Rows broken on purpose, so loaders prove they quarantine bad input with a clear reason.

Which rows break is drawn per file at `malformed_rate`; the kinds cycle in a fixed order, and a
file of 200 lines or more gets at least one row of every kind that applies to its entity.
"""

from __future__ import annotations

import json

import numpy as np

from ingest.schemas import Column, EntitySpec

CSV_KINDS = (
    "undecodable_bytes",
    "extra_column",
    "missing_column",
    "unbalanced_quote",
    "missing_key",
    "bad_date",
    "bad_number",
    "bad_timestamp",
)
TICKET_KINDS = ("missing_column", "bad_timestamp", "missing_key")
JSONL_KINDS = ("broken_json", "not_an_object", "missing_key", "bad_timestamp", "bad_number")
SQLITE_KINDS = ("missing_required", "bad_timestamp")
MARIADB_KINDS = ("missing_required",)

BAD_DATES = ("2024-13-45", "미상", "2025-02-30", "0000-00-00", "20241345")
BAD_NUMBERS = ("12만원", "1.2.3", "N/A", "약 5천", "--")
BAD_CSV_TIMESTAMPS = (
    "2024-02-30 10:00:00",
    "2025-13-01 09:00:00",
    "어제 오후 3시",
    "2024-06-01 25:61:00",
)
BAD_ISO_TIMESTAMPS = (
    "2024-02-30T10:00:00+09:00",
    "2025-13-01T09:00:00+09:00",
    "어제",
    "2024-06-01T25:61:00+09:00",
)
BAD_SQL_TIMESTAMPS = ("2024-02-30 10:00:00", "2025-13-01 09:00:00", "2023-04-31 12:00:00")
BAD_DURATIONS = ("3분", "약 5분", "180초")
EXTRA_VALUES = ("초과값", "N", "0")


def _first(spec: EntitySpec, kinds: tuple[str, ...]) -> Column | None:
    """First non-key column of these kinds, preferring required ones (damage must matter)."""
    cols = [c for c in spec.columns if c.kind in kinds and not c.key]
    cols.sort(key=lambda c: not c.must_have_value)  # stable: keeps delivery order otherwise
    return cols[0] if cols else None


def applicable_kinds(spec: EntitySpec, candidates: tuple[str, ...]) -> tuple[str, ...]:
    """Kinds that make sense for this entity (no bad_date where there is no date column)."""

    def ok(kind: str) -> bool:
        if kind == "bad_date":
            return _first(spec, ("date",)) is not None
        if kind == "bad_number":
            return _first(spec, ("int",)) is not None
        if kind == "bad_timestamp":
            return _first(spec, ("timestamp",)) is not None
        return True

    return tuple(k for k in candidates if ok(k))


def pick(
    rng: np.random.Generator, n_rows: int, kinds: tuple[str, ...], rate: float
) -> dict[int, str]:
    """Row index -> kind for the rows of one file that are to be broken."""
    if rate <= 0 or n_rows == 0 or not kinds:
        return {}
    count = round(rate * n_rows)
    if n_rows >= 200:
        count = max(count, len(kinds))
    count = min(count, n_rows)
    rows = np.sort(rng.choice(n_rows, count, replace=False))
    return {int(r): kinds[i % len(kinds)] for i, r in enumerate(rows.tolist())}


def target_column(spec: EntitySpec, kind: str) -> int:
    """Index of the column a kind damages."""
    names = spec.column_names
    if kind == "missing_key":
        return names.index(spec.key_columns[0])
    if kind == "bad_date":
        col = _first(spec, ("date",))
    elif kind == "bad_number":
        col = _first(spec, ("int",))
    elif kind == "bad_timestamp":
        col = _first(spec, ("timestamp",))
    else:  # a free-text column that is not the key
        col = _first(spec, ("text",))
    assert col is not None, (spec.name, kind)
    return names.index(col.name)


def csv_field(value: str) -> str:
    """One field as csv.QUOTE_MINIMAL writes it."""
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def broken_csv_line(
    fields: list[str], kind: str, spec: EntitySpec, variant: int, encoding: str, newline: str
) -> bytes:
    """The bytes of one damaged CSV line (terminator included)."""
    fields = list(fields)
    col = (
        target_column(spec, kind)
        if kind
        in (
            "missing_key",
            "bad_date",
            "bad_number",
            "bad_timestamp",
            "undecodable_bytes",
            "unbalanced_quote",
        )
        else -1
    )
    if kind == "extra_column":
        fields.append(EXTRA_VALUES[variant % len(EXTRA_VALUES)])
    elif kind == "missing_column":
        fields.pop()
    elif kind == "missing_key":
        fields[col] = ""
    elif kind == "bad_date":
        fields[col] = BAD_DATES[variant % len(BAD_DATES)]
    elif kind == "bad_number":
        fields[col] = BAD_NUMBERS[variant % len(BAD_NUMBERS)]
    elif kind == "bad_timestamp":
        fields[col] = BAD_CSV_TIMESTAMPS[variant % len(BAD_CSV_TIMESTAMPS)]
    if kind == "unbalanced_quote":
        # exactly one quote character on the line: no other field may be quoted
        plain = [f.replace(",", "").replace('"', "") for f in fields]
        plain[col] = '"' + (plain[col] or "x")
        return (",".join(plain) + newline).encode(encoding)
    if kind == "undecodable_bytes":
        value = fields[col].replace(",", "").replace('"', "")
        head = "".join(csv_field(f) + "," for f in fields[:col])
        tail = ",".join([value] + [csv_field(f) for f in fields[col + 1 :]])
        # 0xFF is never a valid CP949 or UTF-8 byte: strict decoding of this line fails
        return head.encode(encoding) + b"\xff\xfe" + (tail + newline).encode(encoding)
    return (",".join(csv_field(f) for f in fields) + newline).encode(encoding)


def broken_json_line(
    obj: dict[str, object], kind: str, spec: EntitySpec, variant: int, encoder: json.JSONEncoder
) -> str:
    """One damaged JSON Lines record (without the newline)."""
    obj = dict(obj)
    if kind == "broken_json":
        text = encoder.encode(obj)
        return text[: max(1, len(text) * (1 + variant % 3) // 4)]  # cut off mid-object
    if kind == "not_an_object":
        return encoder.encode(list(obj.values()))
    col = spec.column_names[target_column(spec, kind)]
    if kind == "missing_key":
        if variant % 2:
            obj[col] = None
        else:
            del obj[col]
    elif kind == "bad_timestamp":
        obj[col] = BAD_ISO_TIMESTAMPS[variant % len(BAD_ISO_TIMESTAMPS)]
    elif kind == "bad_number":
        obj[col] = (
            BAD_DURATIONS[variant % len(BAD_DURATIONS)]
            if col == "duration_sec"
            else f"{obj[col]}차"
        )
    return encoder.encode(obj)
