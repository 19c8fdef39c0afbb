"""The dbt sources of the raw layer are written from the contract (ingest/schemas.py) by
`python -m ingest.contract --write`, and dbt reads them as the contract says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dbt.cli.main import dbtRunner

from ingest.contract import SOURCES_FILE, WRITE_COMMAND
from ingest.schemas import ENTITIES, SYSTEMS
from orchestration.assets.dbt import TRANSLATOR
from orchestration.assets.ingest import raw_asset_key

PROJECT = Path(__file__).resolve().parents[1]


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ingest.contract", "--check", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_sources_file_is_what_the_contract_says() -> None:
    result = _check()
    assert result.returncode == 0, result.stderr


def test_a_stale_sources_file_fails_the_check_naming_the_command(tmp_path: Path) -> None:
    stale = tmp_path / "_sources.yml"
    # A hand edit: the contract says "ERP customer number".
    stale.write_text(
        SOURCES_FILE.read_text(encoding="utf-8").replace(
            '"ERP customer number"', '"customer number"', 1
        ),
        encoding="utf-8",
    )
    result = _check("--sources-file", str(stale))
    assert result.returncode == 1
    assert WRITE_COMMAND in result.stderr and "ingest/schemas.py" in result.stderr

    missing = _check("--sources-file", str(tmp_path / "none.yml"))
    assert missing.returncode == 1 and WRITE_COMMAND in missing.stderr

    write = subprocess.run(
        [sys.executable, "-m", "ingest.contract", "--write", "--sources-file", str(stale)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert write.returncode == 0, write.stderr
    assert _check("--sources-file", str(stale)).returncode == 0


def test_every_entity_belongs_to_a_declared_source_system() -> None:
    systems = [system.name for system in SYSTEMS]
    assert systems == list(dict.fromkeys(spec.source for spec in ENTITIES))


def test_dbt_reads_the_contracts_tables_columns_and_freshness(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GOGAEK_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    result = dbtRunner().invoke(
        [
            "parse",
            "--project-dir",
            str(PROJECT / "dbt_project"),
            "--profiles-dir",
            str(PROJECT / "dbt_project"),
            "--target-path",
            str(tmp_path / "target"),
            "--no-partial-parse",
            "--quiet",
        ]
    )
    assert result.success, result.exception
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    sources = {(s["schema"], s["name"]): s for s in manifest["sources"].values()}

    # One per source entity, the loaders' delete markers (macro not_deleted) and the erasure
    # log (macro keys_loaded_since_last_build).
    assert {key for key in sources if key[0] == "raw"} == {
        ("raw", spec.name) for spec in ENTITIES
    } | {("raw", "_deletions"), ("raw", "_erasure_log")}
    # The other sources: the quality history (quality/history.py) and the CLV fit's tables.
    assert {key for key in sources if key[0] != "raw"} == {
        ("dq", "validation_results"),
        ("ml", "clv_predictions"),
        ("ml", "clv_model_fit"),
        ("ml", "clv_backtest"),
        ("ml", "clv_reliability"),
    }
    freshness = {system.name: system.freshness for system in SYSTEMS}
    for spec in ENTITIES:
        source = sources[("raw", spec.name)]
        assert source["source_name"] == spec.source
        assert list(source["columns"]) == [spec.stored_name(c) for c in spec.columns]
        # The translator keys a source by schema and table: the raw asset that writes it.
        assert TRANSLATOR.get_asset_key(source) == raw_asset_key(spec)
        assert source["loaded_at_field"] == "_loaded_at"
        assert source["freshness"]["warn_after"] == {
            "count": freshness[spec.source].warn_after_hours,
            "period": "hour",
        }
        assert source["freshness"]["error_after"] == {
            "count": freshness[spec.source].error_after_hours,
            "period": "hour",
        }
