"""The dbt project parses with the bundled profile, and its sources match the raw layer."""

from __future__ import annotations

import json
from pathlib import Path

from dbt.cli.main import dbtRunner

from ingest.schemas import ENTITIES
from orchestration.assets.dbt import TRANSLATOR
from orchestration.assets.ingest import raw_asset_key

PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"


def test_dbt_sources_declare_every_raw_table_and_column(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GOGAEK_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    result = dbtRunner().invoke(
        [
            "parse",
            "--project-dir",
            str(PROJECT),
            "--profiles-dir",
            str(PROJECT),
            "--target-path",
            str(tmp_path / "target"),
            "--no-partial-parse",
            "--quiet",
        ]
    )
    assert result.success, result.exception
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    sources = {(s["schema"], s["name"]): s for s in manifest["sources"].values()}

    # One per source entity, and the loaders' delete markers (macro not_deleted).
    assert {key for key in sources if key[0] == "raw"} == {
        ("raw", spec.name) for spec in ENTITIES
    } | {("raw", "_deletions")}
    # The other sources: the quality history (quality/history.py) and the CLV fit's tables.
    assert {key for key in sources if key[0] != "raw"} == {
        ("dq", "validation_results"),
        ("ml", "clv_predictions"),
        ("ml", "clv_model_fit"),
        ("ml", "clv_backtest"),
        ("ml", "clv_reliability"),
    }
    for spec in ENTITIES:
        source = sources[("raw", spec.name)]
        assert list(source["columns"]) == [spec.stored_name(c) for c in spec.columns]
        # The translator keys a source by schema and table: the raw asset that writes it.
        assert TRANSLATOR.get_asset_key(source) == raw_asset_key(spec)
        assert source["loaded_at_field"] == "_loaded_at"
