"""The one row of a query that always returns one: an aggregate without `group by` (count, max,
min), or a `select` of expressions without `from`.

DB-API cursors (DuckDB's connection, psycopg2's cursor) type `fetchone()` as "a row or None",
since a query may return no row; these queries cannot, and `one_row` says so in one place.
"""

from __future__ import annotations

from typing import Any, Protocol


class Fetches(Protocol):
    """A cursor after `execute`: DuckDB's connection or result, psycopg2's cursor."""

    def fetchone(self) -> tuple[Any, ...] | None: ...


def one_row(cursor: Fetches) -> tuple[Any, ...]:
    """The next row of `cursor`, which the query guarantees (see the module's docstring)."""
    row = cursor.fetchone()
    if row is None:
        raise LookupError("the query returned no row, though it always returns one")
    return row
