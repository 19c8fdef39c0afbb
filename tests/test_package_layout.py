"""The product's packages stand without the lab and the dashboards beside them: none imports
either, and an install of the project (pyproject's package list) carries neither."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
PRODUCT = ("ingest", "quality", "orchestration")
BESIDE = ("lab", "dashboards")  # top-level folders that use the product, never the reverse


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):  # imports inside functions count too
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_product_module_imports_the_lab_or_the_dashboards() -> None:
    offenders = {
        str(path.relative_to(PROJECT)): sorted(
            name for name in _imported(path) if name.split(".")[0] in BESIDE
        )
        for package in PRODUCT
        for path in (PROJECT / package).rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_installed_packages_are_the_products_alone() -> None:
    config = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    assert sorted(pattern.rstrip("*") for pattern in include) == sorted(PRODUCT)
    for folder in BESIDE:
        assert (PROJECT / folder / "__init__.py").is_file(), folder
