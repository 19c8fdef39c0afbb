"""Commands that read a built warehouse, run before anything is built: a usage error saying what
to run (exit 2), not a traceback, and no empty warehouse left behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest


def _refusal(*command: str) -> str:
    run = subprocess.run([sys.executable, "-m", *command], capture_output=True, text=True)
    assert run.returncode == 2, run.stderr  # a usage error, not a traceback
    return run.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("lab.identity_eval",),
        ("lab.contact_eval",),
        ("orchestration.serving.publish", "--serving-dir", "{tmp}/serving"),
    ],
)
def test_no_warehouse_is_named_with_what_to_run(tmp_path: Path, command: tuple[str, ...]) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    args = [part.format(tmp=tmp_path) for part in command]
    assert f"no warehouse at {warehouse}: run `make demo`" in _refusal(
        *args, "--warehouse", str(warehouse)
    )
    assert not warehouse.exists()


@pytest.mark.parametrize("module", ["lab.identity_eval", "lab.contact_eval"])
def test_the_evaluations_name_a_missing_truth_folder(tmp_path: Path, module: str) -> None:
    warehouse, truth = tmp_path / "warehouse.duckdb", tmp_path / "truth"
    duckdb.connect(str(warehouse)).close()
    assert f"no truth folder at {truth}" in _refusal(
        module, "--warehouse", str(warehouse), "--truth", str(truth)
    )
