"""SQL expressions written by the dbt project's own macros, for Python steps that run before dbt.

A rule that staging applies (how a phone number is normalised, how an e-mail is compared) is
written once, as a macro in dbt_project/macros/. Steps that read the raw layer before any dbt
model exists — the erasure and the loaders that keep an erased person out — need the same
expression; they render the macro here instead of restating it. Only plain macros render: one
that reads a model (`ref`), a variable or the adapter fails loudly, because its SQL depends on a
dbt run.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import jinja2

MACROS_DIR = Path(__file__).resolve().parents[1] / "dbt_project" / "macros"
# The files whose plain macros Python renders (a macro may call others in these files).
MACRO_FILES = ("parsing.sql", "contacts.sql")


def _needs_dbt(name: str) -> Callable[..., str]:
    def fail(*_args: object, **_kwargs: object) -> str:
        raise jinja2.TemplateError(
            f"this macro calls dbt's `{name}`: it renders only inside a dbt run, not in Python"
        )

    return fail


@cache
def _macros() -> jinja2.runtime.TemplateModule:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    for name in ("ref", "source", "var", "env_var", "return"):
        env.globals[name] = _needs_dbt(name)
    source = "\n".join((MACROS_DIR / f).read_text(encoding="utf-8") for f in MACRO_FILES)
    return env.from_string(source).module


def macro_sql(name: str, *args: str) -> str:
    """The SQL that macro `name` writes for `args` (column expressions)."""
    macro = getattr(_macros(), name, None)
    if macro is None:
        raise KeyError(f"no macro {name!r} in dbt_project/macros/{{{','.join(MACRO_FILES)}}}")
    return str(macro(*args)).strip()
