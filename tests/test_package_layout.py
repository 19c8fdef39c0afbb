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


# The floors, lowest first: a module imports its own floor and the ones below, never above.
FLOORS = ("ingest", "quality", "orchestration")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PRODUCT
        for path in (PROJECT / package).rglob("*.py")
    }


def import_graph() -> dict[str, set[str]]:
    """Product module → the product modules it imports, at the top or inside a function (an
    import deferred into a function still closes a circle, it only hides it)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets.add(base)
                # `from orchestration.clv import store` imports the module store
                targets.update(f"{base}.{alias.name}" for alias in node.names)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_product_modules_import_each_other_without_a_circle() -> None:
    graph = import_graph()
    assert len(graph) > 50  # every module was read
    assert cycles(graph) == []


def test_cycles_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_floor_imports_a_floor_above_it() -> None:
    upward = sorted(
        f"{name} imports {target}"
        for name, targets in import_graph().items()
        for target in targets
        if FLOORS.index(target.split(".")[0]) > FLOORS.index(name.split(".")[0])
    )
    assert upward == []
