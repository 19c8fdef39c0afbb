"""`python -m orchestration`: the selection `make dbt-build` builds, and `build` running it in
the asset graph's order through Dagster (the Makefile no longer orders dbt and the CLV fit)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType

from orchestration.assets.clv import PREDICTIONS_KEY, SUMMARY_KEY
from orchestration.cli import WAREHOUSE_BUILD, selected_keys
from orchestration.definitions import defs
from tests.conftest import copy_pipeline, dagster_home

PROJECT = Path(__file__).resolve().parents[1]
LTV_MART = dg.AssetKey(["marts", "marketing", "mart_customer_ltv"])


def test_the_warehouse_build_holds_the_dbt_project_and_the_fit_between_its_layers() -> None:
    keys = set(selected_keys(WAREHOUSE_BUILD))
    graph = defs.resolve_asset_graph()
    dbt_keys = {key for key in graph.get_all_asset_keys() if "dbt" in graph.get(key).kinds}
    assert dbt_keys and dbt_keys <= keys
    assert PREDICTIONS_KEY in keys
    assert not any(key.path[0] in ("raw", "serving", "quality", "dq") for key in keys)
    # Dagster orders the fit after the model it reads and before the mart that reads it.
    assert PREDICTIONS_KEY in graph.get(SUMMARY_KEY).child_keys or any(
        PREDICTIONS_KEY in graph.get(child).child_keys
        for child in graph.get(SUMMARY_KEY).child_keys
    )
    downstream = dg.AssetSelection.assets(PREDICTIONS_KEY).downstream().resolve(graph)
    assert LTV_MART in downstream


@pytest.mark.slow
def test_build_runs_the_selection_in_the_graphs_order(pipeline, tmp_path: Path) -> None:
    """`build` on a copy of the generated base: one run, the CLV fit after the dbt step that
    builds the purchase summary and before the value marts, exit 0."""
    root = copy_pipeline(pipeline, tmp_path / "data")
    home = dagster_home(tmp_path / "dagster_home")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "GOGAEK_DATA_DIR": str(root),
        "GOGAEK_RRN_SALT": "e2e-salt",
        "DO_NOT_TRACK": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("GOGAEK_WAREHOUSE", None)
    done = subprocess.run(
        [sys.executable, "-m", "orchestration", "build", "--select", WAREHOUSE_BUILD],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "SUCCESS" in output and "Traceback" not in output, output[-4000:]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (run,) = instance.get_runs()
        assert run.tags["gogaek/writes_warehouse"] == "true"
        assert run.tags["gogaek/command"].startswith("python -m orchestration build")
        records = instance.get_records_for_run(
            run.run_id, of_type=DagsterEventType.STEP_SUCCESS
        ).records
    finished = [record.event_log_entry.step_key for record in records]
    steps = {"dbt_staging", "dbt_marts", "clv_models", "dbt_value_marts"}
    assert steps <= set(finished), finished
    # The rest are the quality suites on the staging models the selection builds.
    assert all(step.startswith("gx_") for step in set(finished) - steps), finished
    assert finished.index("dbt_staging") < finished.index("dbt_marts")
    assert finished.index("dbt_marts") < finished.index("clv_models")
    assert finished.index("clv_models") < finished.index("dbt_value_marts")
