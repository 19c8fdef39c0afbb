"""Quoting names and values into the SQL text the loaders, the erasure and the publisher write."""


def quote(name: str) -> str:
    """A DuckDB/PostgreSQL identifier, quoted (Korean column names, reserved words)."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value: str) -> str:
    """A string literal."""
    return "'" + value.replace("'", "''") + "'"
