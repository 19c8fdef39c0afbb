"""The Data Docs site reads offline (no stylesheet, script or image from the web; every local
one it names exists; the index lists the validations in the page) and keeps each suite's last
runs only."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import duckdb
import pytest

from ingest.raw_store import ensure_raw_schema
from ingest.settings import Settings, unknown_environment_settings
from quality.runner import SuiteRunner, gx_context
from quality.suites import suite
from tests.test_quality_suites import _build

SUITE = "raw_shop_members"
# src= of scripts and images, href= of stylesheets and icons
ASSET = re.compile(
    r"<(?:script|img)\b[^>]*?\bsrc=\"([^\"]*)\"|<link\b[^>]*?\bhref=\"([^\"]*)\"", re.IGNORECASE
)


def _assets(page: Path) -> list[str]:
    return [a or b for a, b in ASSET.findall(page.read_text(encoding="utf-8"))]


def _validation_pages(site: Path) -> list[Path]:
    return sorted((site / "validations").rglob("*.html"))


@pytest.fixture
def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_raw_schema(con)
    _build(con, SUITE, {"name": None}, 1)  # one row without a name: a failing rule to show
    yield con
    con.close()


def test_site_loads_nothing_from_the_web_and_lists_its_validations(
    tmp_path: Path, warehouse: duckdb.DuckDBPyConnection
) -> None:
    runner = SuiteRunner(tmp_path / "quality", keep_runs=5)
    runner.validate_duckdb(suite(SUITE), warehouse, "run-a")
    runner.validate_duckdb(suite(SUITE), warehouse, "run-b")
    gx_context(tmp_path / "quality").build_data_docs()  # the whole site, as quality/data_docs
    index = runner.docs_index
    site = index.parent
    pages = [index, *_validation_pages(site), *sorted((site / "expectations").rglob("*.html"))]
    assert len(pages) == 4  # the index, two validations, the suite
    for page in pages:
        assets = _assets(page)
        assert any("bootstrap.min.css" in a for a in assets), page
        for asset in assets:
            assert not re.match(r"(https?:)?//", asset), (page, asset)
            target = (page.parent / unquote(asset.split("?")[0])).resolve()
            assert target.is_file(), (page, asset)
        # nor a picture from the web in the inline styles
        assert not re.search(r"url\(['\"]?https?:", page.read_text(encoding="utf-8")), page
    # Font Awesome's fonts sit where its stylesheet looks for them
    assert (site / "static/vendor/font-awesome/webfonts/fa-solid-900.woff2").is_file()
    # the index lists both runs in the page itself (no script builds the list), newest first
    html = index.read_text(encoding="utf-8")
    assert "bootstrapTable" not in html
    rows = re.findall(r'data-href="(validations/[^"]+)"', html)
    assert [r.split("/")[2] for r in rows] == ["run-b", "run-a"]
    assert all((site / r).is_file() for r in rows)


def test_each_suite_keeps_its_last_runs(
    tmp_path: Path, warehouse: duckdb.DuckDBPyConnection
) -> None:
    runner = SuiteRunner(tmp_path / "quality", keep_runs=3)
    for i in range(5):
        runner.validate_duckdb(suite(SUITE), warehouse, f"run-{i}")
    site = runner.docs_index.parent
    kept = {p.relative_to(site / "validations").parts[1] for p in _validation_pages(site)}
    assert kept == {"run-2", "run-3", "run-4"}
    stored = {
        p.relative_to(tmp_path / "quality/gx/uncommitted/validations").parts[1]
        for p in (tmp_path / "quality/gx/uncommitted/validations").rglob("*.json")
    }
    assert stored == kept
    html = runner.docs_index.read_text(encoding="utf-8")
    assert "run-1" not in html and "run-4" in html
    # no empty folders left behind by the pruned runs
    assert not [p for p in (site / "validations").rglob("*") if p.is_dir() and not any(p.iterdir())]


def test_runs_kept_is_a_setting() -> None:
    assert Settings.from_env({}).data_docs_runs == 30
    assert Settings.from_env({"GOGAEK_DATA_DOCS_RUNS": "7"}).data_docs_runs == 7
    assert unknown_environment_settings({"GOGAEK_DATA_DOCS_RUNS": "7"}) == []
    with pytest.raises(ValueError, match="GOGAEK_DATA_DOCS_RUNS"):
        Settings.from_env({"GOGAEK_DATA_DOCS_RUNS": "0"})
