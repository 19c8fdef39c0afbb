"""dbt tests as operators read them: a short distinct name and a sentence per test.

dbt names a generic test after everything it is given
(`relationships_stg_shop__orders_shop_member_id__shop_member_id__ref_stg_shop__members_`), and
Dagster shows that name, cut short, next to the asset it checks. Here each test gets a name that
is distinct among the checks of its asset (`relationships_shop_member_id_to_stg_shop__members`)
and a description: the test's own description when its yml gives one, for a singular test the
comment it opens with, else a sentence built from what the test asserts on which column.

`readable_manifest` returns the manifest with these names and descriptions on the test nodes;
the dbt assets are built from it, so the check names Dagster declares and the names it reports
results under are the same (dbt still selects and runs tests by their own unique ids).
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

# Where a test's parents are, as dbt writes them in test kwargs: ref('x') / source('s', 't').
_RELATION = re.compile(r"""(?:ref|source)\(\s*(?:'[^']*'\s*,\s*)?'([^']+)'\s*\)""")
_NOT_A_NAME = re.compile(r"[^A-Za-z0-9_]+")


def _relation_name(text: str | None) -> str:
    match = _RELATION.search(text or "")
    return match.group(1) if match else str(text)


def _name_part(text: str) -> str:
    return _NOT_A_NAME.sub("_", text).strip("_").lower()


def _test_kind(node: Mapping[str, Any]) -> str | None:
    return (node.get("test_metadata") or {}).get("name")


def _kwargs(node: Mapping[str, Any]) -> Mapping[str, Any]:
    return (node.get("test_metadata") or {}).get("kwargs") or {}


def base_name(node: Mapping[str, Any]) -> str:
    """The test's name without its model: what it asserts on which column."""
    kind = _test_kind(node)
    if kind is None:  # a singular test: its file name already says it
        return node["name"]
    kwargs = _kwargs(node)
    column = kwargs.get("column_name")
    parts: list[object] = [kind]  # manifest values, joined as text
    if kind == "relationships":
        parts += [column, "to", _relation_name(kwargs.get("to"))]
    elif kind == "unique_combination":
        parts += list(kwargs.get("columns") or [])
    elif kind == "not_empty_when":
        parts += ["rows_in", _relation_name(kwargs.get("source_relation"))]
    elif column:
        parts.append(column)
    return _name_part("_".join(str(p) for p in parts if p))


def _values(values: list[Any], shown: int = 8) -> str:
    listed = ", ".join(f"`{v}`" for v in values[:shown])
    return listed + (f" and {len(values) - shown} more" if len(values) > shown else "")


def _sentence(node: Mapping[str, Any], model: str) -> str:
    kind = _test_kind(node)
    kwargs = _kwargs(node)
    column = f"`{kwargs.get('column_name')}`"
    if kind == "not_null":
        return f"{column} is never null in {model}."
    if kind == "unique":
        return f"{column} is unique in {model}: no two rows share a value."
    if kind == "accepted_values":
        return f"{column} in {model} holds only {_values(list(kwargs.get('values') or []))}."
    if kind == "relationships":
        target = _relation_name(kwargs.get("to"))
        return (
            f"Every {column} of {model} is found in {target}.`{kwargs.get('field')}` "
            "(no row points at a record that does not exist)."
        )
    if kind == "unique_combination":
        columns = ", ".join(f"`{c}`" for c in kwargs.get("columns") or [])
        return f"No two rows of {model} share ({columns}): one row per key."
    if kind == "not_in_future":
        return f"No {column} in {model} lies after the moment the build runs."
    if kind == "values_between":
        return (
            f"{column} in {model} lies between {kwargs.get('min_value')} and "
            f"{kwargs.get('max_value')} (nulls pass)."
        )
    if kind == "is_empty":
        return f"{model} holds no rows (each row it holds is a problem to look at)."
    if kind == "not_empty_when":
        source = _relation_name(kwargs.get("source_relation"))
        condition = kwargs.get("condition") or "true"
        return f"{model} has rows whenever {source} has rows where `{condition}`."
    return f"dbt test `{kind}` on {model}."


def _leading_comment(sql: str) -> str:
    """The `--` comment a singular test opens with (after its config block), as one line."""
    lines = []
    for line in sql.splitlines():
        stripped = line.strip()
        if stripped.startswith("--"):
            lines.append(stripped.lstrip("-").strip())
        elif lines or (stripped and not stripped.startswith("{{")):
            break
    return " ".join(lines)


def description(node: Mapping[str, Any], model: str) -> str:
    """What the test asserts, and what a failure does."""
    text = (node.get("description") or "").strip()
    if not text:
        text = (
            _leading_comment(node.get("raw_code") or "")
            if _test_kind(node) is None
            else _sentence(node, model)
        )
    text = text or f"dbt test {node['name']} on {model}."
    where = (node.get("config") or {}).get("where")
    if where:
        text += f" Rows checked: where `{where}`."
    severity = ((node.get("config") or {}).get("severity") or "error").lower()
    return text + (
        " Severity error: a failure stops what reads this model."
        if severity == "error"
        else " Severity warn: a failure is reported, the run goes on."
    )


def _attached_model(manifest: Mapping[str, Any], node: Mapping[str, Any]) -> str | None:
    """The unique id of the node a test is about: dbt's attached node, else the singular
    test's meta ref (dagster-dbt's rule), else its only parent."""
    ref = ((node.get("config") or {}).get("meta") or {}).get("dagster", {}).get("ref")
    if ref:
        for unique_id, other in manifest["nodes"].items():
            if other["name"] == ref["name"] and other["resource_type"] != "test":
                return unique_id
    if node.get("attached_node"):
        return node["attached_node"]
    parents = node["depends_on"]["nodes"]
    return parents[0] if len(parents) == 1 else None


def readable_manifest(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest with each test's name distinct and readable per model, and described."""
    readable = copy.deepcopy(dict(manifest))
    nodes = readable["nodes"]
    by_model: dict[str | None, list[str]] = defaultdict(list)
    for unique_id in sorted(nodes):
        if nodes[unique_id]["resource_type"] == "test":
            by_model[_attached_model(readable, nodes[unique_id])].append(unique_id)
    for attached, test_ids in by_model.items():
        holder = nodes.get(attached) or readable["sources"].get(attached) or {}
        model = f"`{holder.get('name', attached)}`"
        used: defaultdict[str, int] = defaultdict(int)
        for unique_id in test_ids:
            node = nodes[unique_id]
            name = base_name(node)
            used[name] += 1
            if used[name] > 1:
                name = f"{name}_{used[name]}"
            node["description"] = description(node, model)
            node["name"] = name
    return readable
