"""One settings path: dbt_project.yml declares the business settings, the environment and the
Dagster run config override them, and dbt and the CLV fit receive the same values."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.settings import (
    Settings,
    dbt_cli_vars,
    dbt_var_defaults,
    resolve_dbt_vars,
    unknown_environment_settings,
)
from orchestration.clv.scoring import ClvSettings
from orchestration.resources import SettingsResource

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_come_from_dbt_project_yml_and_env_and_run_config_override() -> None:
    defaults = dbt_var_defaults()
    assert resolve_dbt_vars(environ={}) == defaults
    env = {"GOGAEK_RFM_WINDOW_DAYS": "180", "GOGAEK_LTV_DISCOUNT_RATE": "0.08"}
    resolved = resolve_dbt_vars(environ=env)
    assert resolved["rfm_window_days"] == 180 and resolved["ltv_discount_rate"] == 0.08
    # The run config (launchpad) wins over the environment.
    assert resolve_dbt_vars({"rfm_window_days": 90}, environ=env)["rfm_window_days"] == 90
    # The CLV fit reads the same rates dbt gets.
    assert ClvSettings.from_dbt_vars(resolved) == ClvSettings(
        annual_discount_rate=0.08, default_margin_rate=0.1
    )


def test_bad_settings_are_refused_with_the_variable_name() -> None:
    with pytest.raises(ValueError, match="GOGAEK_RFM_WINDOW_DAYS"):
        resolve_dbt_vars(environ={"GOGAEK_RFM_WINDOW_DAYS": "a year"})
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        resolve_dbt_vars(environ={"GOGAEK_RFM_AS_OF_DATE": "31.12.2019"})
    with pytest.raises(ValueError, match="unknown setting"):
        resolve_dbt_vars({"rfm_window": 180}, environ={})
    assert unknown_environment_settings(
        {"GOGAEK_RFM_WINDOW": "180", "GOGAEK_WAREHOUSE": "x.duckdb"}
    ) == ["GOGAEK_RFM_WINDOW"]


def test_paths_follow_the_data_folder_and_are_absolute(tmp_path: Path) -> None:
    settings = Settings.from_env({"GOGAEK_DATA_DIR": str(tmp_path / "elsewhere")})
    assert settings.warehouse_path == str(tmp_path / "elsewhere" / "warehouse.duckdb")
    assert settings.shop_db_url == f"sqlite:///{tmp_path / 'elsewhere' / 'shop.sqlite'}"
    assert Path(Settings.from_env({}).landing_dir).is_absolute()
    assert dbt_cli_vars(settings, environ={})["warehouse_path"] == settings.warehouse_path
    resource = SettingsResource(dbt_vars={"rfm_window_days": 30})
    cli = resource.dbt_cli_vars(str(tmp_path / "w.duckdb"))
    assert cli["rfm_window_days"] == 30 and cli["warehouse_path"] == str(tmp_path / "w.duckdb")


def test_the_makefile_hands_the_environment_to_dbt(tmp_path: Path) -> None:
    """`make … GOGAEK_X=…` is an environment variable for the recipes: the settings module
    (which the dbt targets call for --vars, and the demo and the CLV fit read) sees it."""
    out = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-s",
            "settings",
            "GOGAEK_RFM_WINDOW_DAYS=200",
            f"GOGAEK_DATA_DIR={tmp_path}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    values = dict(line.split(None, 1) for line in out.stdout.splitlines() if line.strip())
    assert values["rfm_window_days"].split()[0] == "200"
    assert values["warehouse_path"] == str(tmp_path / "warehouse.duckdb")
    dbt_vars = subprocess.run(
        [sys.executable, "-m", "ingest.settings", "--dbt-vars"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"GOGAEK_RFM_WINDOW_DAYS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert json.loads(dbt_vars.stdout)["rfm_window_days"] == 200


def test_the_docs_document_every_setting() -> None:
    settings = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    missing = [name for name in dbt_var_defaults() if f"`{name}`" not in settings]
    assert missing == []


def test_a_deployment_declares_the_source_systems_it_has() -> None:
    assert Settings.from_env({}).sources == ("erp", "shop", "callcenter", "esp")
    assert Settings.from_env({"GOGAEK_SOURCES": " Shop "}).sources == ("shop",)
    assert Settings.from_env({"GOGAEK_SOURCES": "esp,erp"}).sources == ("erp", "esp")
    with pytest.raises(ValueError, match=r"GOGAEK_SOURCES .* pos is not one of them"):
        Settings.from_env({"GOGAEK_SOURCES": "shop,pos"})
