"""One settings path: dbt_project.yml declares the business settings, the environment and the
Dagster run config override them, and dbt and the CLV fit receive the same values."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.installation_secrets import SecretsError
from ingest.settings import (
    BY_ENV,
    Settings,
    dbt_cli_vars,
    dbt_profiles,
    dbt_var_defaults,
    env_example,
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
    lines = [line for line in out.stdout.splitlines() if not line.startswith("#")]
    values = dict([*line.split(None, 1), ""][:2] for line in lines)
    assert values["GOGAEK_RFM_WINDOW_DAYS"] == "200"
    assert values["GOGAEK_WAREHOUSE"] == str(tmp_path / "warehouse.duckdb")
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


def test_env_example_is_written_from_the_declaration() -> None:
    """`.env.example` lists every declared setting and dbt var; `make env-example` writes it."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert text == env_example(), "run `make env-example` after changing ingest/settings.py"
    profiles = (ROOT / "dbt_project" / "profiles.yml").read_text(encoding="utf-8")
    assert profiles == dbt_profiles(), "run `make env-example` after changing ingest/settings.py"
    listed = {line[2:].split("=", 1)[0] for line in text.splitlines() if "=" in line[:60]}
    assert set(BY_ENV) | {f"GOGAEK_{name.upper()}" for name in dbt_var_defaults()} <= listed


def test_every_setting_read_is_declared() -> None:
    """No GOGAEK_ variable is read anywhere in the product without a declaration."""
    read = set()
    for package in ("ingest", "quality", "orchestration"):
        for path in (ROOT / package).rglob("*.py"):
            read |= set(re.findall(r"[\"'](GOGAEK_[A-Z_]+)[\"']", path.read_text(encoding="utf-8")))
    declared = set(BY_ENV) | {f"GOGAEK_{name.upper()}" for name in dbt_var_defaults()}
    assert read - declared == set()


def test_a_new_data_folder_gets_secrets_of_its_own(tmp_path: Path) -> None:
    first = Settings.from_env({"GOGAEK_DATA_DIR": str(tmp_path / "a")})
    second = Settings.from_env({"GOGAEK_DATA_DIR": str(tmp_path / "b")})
    salt = first.rrn_salt
    secrets_file = tmp_path / "a" / "secrets.env"
    assert secrets_file.stat().st_mode & 0o777 == 0o600
    assert len(salt) >= 40 and salt != second.rrn_salt
    assert first.erasure_secret not in (salt, second.erasure_secret)
    # Read again (another process, a later run): the same values.
    again = Settings.from_env({"GOGAEK_DATA_DIR": str(tmp_path / "a")})
    assert (again.rrn_salt, again.erasure_secret) == (salt, first.erasure_secret)
    # The environment wins, one secret at a time.
    chosen = Settings.from_env({"GOGAEK_DATA_DIR": str(tmp_path / "a"), "GOGAEK_RRN_SALT": "v"})
    assert (chosen.rrn_salt, chosen.erasure_secret) == ("v", first.erasure_secret)


def test_a_warehouse_without_its_secrets_file_is_refused(tmp_path: Path) -> None:
    """New secrets would silently unmatch the warehouse's hashes and its erasure list."""
    (tmp_path / "warehouse.duckdb").write_bytes(b"")
    settings = Settings.from_env({"GOGAEK_DATA_DIR": str(tmp_path)})
    with pytest.raises(SecretsError, match=r"secrets file .*secrets\.env does not.*restore it"):
        settings.rrn_salt  # noqa: B018 - reading it is the act under test
    assert not (tmp_path / "secrets.env").exists()
    # Named in the environment, both secrets need no file.
    named = {"GOGAEK_DATA_DIR": str(tmp_path), "GOGAEK_RRN_SALT": "s", "GOGAEK_ERASURE_SECRET": "e"}
    assert Settings.from_env(named).rrn_salt == "s"


def test_a_damaged_secrets_file_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "secrets.env").write_text("GOGAEK_RRN_SALT=x\nGOGAEK_ERASURE_SECRT=y\n")
    with pytest.raises(SecretsError, match=r"secrets\.env, line 2: expected"):
        Settings.from_env({"GOGAEK_DATA_DIR": str(tmp_path)}).rrn_salt  # noqa: B018


def test_make_settings_says_where_the_secrets_are_never_what(tmp_path: Path) -> None:
    def make_settings() -> str:
        command = ["make", "-s", "--no-print-directory", "settings", f"GOGAEK_DATA_DIR={tmp_path}"]
        env = {"PATH": os.environ["PATH"], "GOGAEK_PG_PASSWORD": "pw"}
        return subprocess.run(
            command, cwd=ROOT, env=env, text=True, capture_output=True, check=True
        ).stdout

    assert f"(written to {tmp_path / 'secrets.env'} on the first run)" in make_settings()
    assert not (tmp_path / "secrets.env").exists()  # printing the settings writes nothing
    salt = Settings.from_env({"GOGAEK_DATA_DIR": str(tmp_path)}).rrn_salt
    after = make_settings()
    assert f"(in {tmp_path / 'secrets.env'}: back it up)" in after
    assert salt not in after and "pw" not in after.split()


def test_a_command_on_a_warehouse_without_its_secrets_says_so(tmp_path: Path) -> None:
    """As a user meets it: `python -m orchestration …` (what make demo, make dbt-build and
    make erase run) on a data folder that lost its secrets file stops with the sentence."""
    (tmp_path / "warehouse.duckdb").write_bytes(b"")
    env = {**os.environ, "GOGAEK_DATA_DIR": str(tmp_path), "DAGSTER_HOME": str(tmp_path)}
    env.pop("GOGAEK_RRN_SALT", None)
    env.pop("GOGAEK_ERASURE_SECRET", None)
    refused = subprocess.run(
        [sys.executable, "-m", "orchestration", "build"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2
    assert "Traceback" not in refused.stderr
    assert f"the secrets file {tmp_path / 'secrets.env'} does not" in refused.stderr
    assert not (tmp_path / "secrets.env").exists()
