"""Which dbt models are published where, read from the dbt manifest (never a hand list).

dbt_project.yml sets `meta: {serving: bi | operational | none}` per folder (and per model where a
folder mixes both); a model added to marts/marketing later is published without a code change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeGuard

Serving = Literal["bi", "operational"]
SERVINGS: tuple[Serving, ...] = ("bi", "operational")


@dataclass(frozen=True)
class ServedModel:
    unique_id: str
    schema: str
    name: str  # the relation name in the warehouse (alias)
    serving: Serving
    fqn: tuple[str, ...]
    description: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # column -> description

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"


def serving_of(node: dict[str, Any]) -> str | None:
    return (node.get("config", {}).get("meta") or {}).get("serving")


def _is_served(serving: str | None) -> TypeGuard[Serving]:
    return serving in SERVINGS


def served_models(manifest: dict[str, Any]) -> list[ServedModel]:
    """Enabled models whose meta.serving is bi or operational, in schema/name order."""
    models = []
    for unique_id, node in manifest["nodes"].items():
        serving = serving_of(node)
        if node["resource_type"] != "model" or not _is_served(serving):
            continue
        if not node.get("config", {}).get("enabled", True):
            continue
        models.append(
            ServedModel(
                unique_id=unique_id,
                schema=node["schema"],
                name=node.get("alias") or node["name"],
                serving=serving,
                fqn=tuple(node["fqn"]),
                description=node.get("description") or "",
                columns={
                    name: column.get("description") or ""
                    for name, column in node.get("columns", {}).items()
                },
            )
        )
    return sorted(models, key=lambda model: (model.schema, model.name))


def load_manifest(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))
