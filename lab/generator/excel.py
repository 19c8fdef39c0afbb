"""A CSV as a Korean admin's Excel saves it, after opening the export to look at it.

What real ERP exports saved this way carry (written down from an outside corpus of such files):
- values Excel would mangle, kept as text with a formula: keys and numbers with a leading zero
  (phones, postal codes) as ="C1000005", ="010-2345-6789";
- date cells in the Korean locale's spelling, 1985. 3. 7., and date-time cells on a 12-hour
  clock, 2026-11-20 오후 3:15:00;
- the empty cells of columns once used further right, on every line, the header too.
The values they show are the values the export had, so the truth does not change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ingest.schemas import EntitySpec

PADDING = ("", "", "")  # three columns once used to the right of the data
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2}):(\d{2})$")
_LEADING_ZERO = re.compile(r"^0\d")
# A formula field as Python's csv module quotes it, "=""C1000005""", and as the admin tools that
# write such files leave it: bare, ="C1000005".
_QUOTED_FORMULA = re.compile(r'"=""([^",\r\n]*)"""')


def _clock(hour: int) -> str:
    """24-hour `hour` on Korean Excel's 12-hour clock: 오전 (a.m.) or 오후 (p.m.) and 1-12."""
    return f"{'오전' if hour < 12 else '오후'} {(hour % 12) or 12}"


def as_saved(spec: EntitySpec, row: Sequence[str]) -> list[str]:
    """One row as Excel writes it back."""
    out = []
    for column, value in zip(spec.columns, row, strict=True):
        if column.kind == "date" and (date := _DATE.match(value)):
            year, month, day = date.groups()
            value = f"{year}. {int(month)}. {int(day)}."
        elif column.kind == "timestamp" and (moment := _TIMESTAMP.match(value)):
            day_part, hour, minute, second = moment.groups()
            value = f"{day_part} {_clock(int(hour))}:{minute}:{second}"
        elif value and '"' not in value and (column.key or _LEADING_ZERO.match(value)):
            value = f'="{value}"'
        out.append(value)
    return [*out, *PADDING]


def unquoted_formulas(text: str) -> str:
    """CSV text with its formula fields bare, as the files that carry them have them."""
    return _QUOTED_FORMULA.sub(r'="\1"', text)
