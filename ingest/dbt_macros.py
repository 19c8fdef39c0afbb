"""SQL expressions written by the dbt project's own macros, for Python steps that run before dbt.

A rule that staging applies (how a phone number is normalised, how an e-mail is compared, which
timestamps and dates parse) is written once, as a macro in dbt_project/macros/. Steps that read
the raw layer before any dbt model exists — the loaders' field checks, the erasure — need the
same expression on DuckDB; they render the macro here instead of restating it. Cross-database
macros render their DuckDB implementation (`adapter.dispatch` picks `duckdb__<name>`, else
`default__<name>`, as dbt does on DuckDB). A macro that reads a model (`ref`), a variable or the
environment fails loudly: its SQL depends on a dbt run.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import jinja2
from jinja2.environment import TemplateModule

MACROS_DIR = Path(__file__).resolve().parents[1] / "dbt_project" / "macros"
# The files whose plain macros Python renders (a macro may call others in these files).
MACRO_FILES = ("parsing.sql", "contacts.sql", "dq.sql")


def _needs_dbt(name: str) -> Callable[..., str]:
    def fail(*_args: object, **_kwargs: object) -> str:
        raise jinja2.TemplateError(
            f"this macro calls dbt's `{name}`: it renders only inside a dbt run, not in Python"
        )

    return fail


class _Dispatch:
    """dbt's `adapter` as far as macros use it here: `adapter.dispatch(name, package)`."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        self.module: TemplateModule | None = None

    def dispatch(self, name: str, _package: str | None = None) -> Callable[..., str]:
        for candidate in (f"{self.engine}__{name}", f"default__{name}"):
            if hasattr(self.module, candidate):
                return getattr(self.module, candidate)
        raise jinja2.TemplateError(f"no {self.engine}__{name} or default__{name} macro")


def _returned(value: object) -> object:
    # dbt's `return`: a dispatching macro's whole body is `{{ return(...) }}`, so rendering the
    # value is what the macro gives back.
    return value


@cache
def _macros(engine: str) -> TemplateModule:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    for name in ("ref", "source", "var", "env_var"):
        env.globals[name] = _needs_dbt(name)
    adapter = _Dispatch(engine)
    env.globals["adapter"] = adapter
    env.globals["return"] = _returned
    source = "\n".join((MACROS_DIR / f).read_text(encoding="utf-8") for f in MACRO_FILES)
    adapter.module = env.from_string(source).module
    return adapter.module


def macro_sql(name: str, *args: str, engine: str = "duckdb") -> str:
    """The SQL that macro `name` writes for `args` (column expressions) on DuckDB, or on the
    engine named (`postgres`: what dbt's postgres target runs)."""
    macro = getattr(_macros(engine), name, None)
    if macro is None:
        raise KeyError(f"no macro {name!r} in dbt_project/macros/{{{','.join(MACRO_FILES)}}}")
    return str(macro(*args)).strip()
