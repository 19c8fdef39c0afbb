"""The code location loads as `make ui` loads it, with every job, schedule, sensor and check
(the fast tier: no warehouse is built).

A location with two definitions of one name (the erase op and its job once shared a name) loads
in pieces — each job resolves — but not as a whole: Dagster refuses the repository and the UI
shows the location as failed. These tests load it whole, the way `dagster dev` does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

PROJECT = Path(__file__).resolve().parents[1]
DAGSTER = str(Path(sys.executable).parent / "dagster")


def test_dagster_validates_the_workspace_the_ui_loads(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "definitions",
            "validate",
            "-w",
            "workspace.yaml",
        ],
        cwd=PROJECT,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path), "DAGSTER_DISABLE_TELEMETRY": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "Validation successful for code location gogaek" in output, output[-4000:]


def test_every_job_schedule_sensor_and_asset_check_resolves() -> None:
    from orchestration.definitions import defs

    dg.Definitions.validate_loadable(defs)
    repository = defs.get_repository_def()  # the whole location: names must be unique
    jobs = {job.name for job in repository.get_all_jobs()}
    assert {"daily_refresh", "erase_person", "serving_freshness"} <= jobs
    for schedule in repository.schedule_defs:
        assert schedule.job_name in jobs, schedule.name
    sensor_names = {sensor.name for sensor in repository.sensor_defs}
    assert {"erp_drop_sensor", "rebuild_after_erasure"} <= sensor_names
    for sensor in repository.sensor_defs:
        for target in sensor.targets:
            assert target.job_name in jobs, sensor.name
    graph = defs.resolve_asset_graph()
    checks = graph.asset_check_keys
    assert len(checks) > 50
    assert all(check.asset_key in graph.get_all_asset_keys() for check in checks)
    # One name, one definition: no op shares its name with a job (the UI refuses that).
    op_names = {op.name for job in repository.get_all_jobs() for op in job.graph.iterate_op_defs()}
    assert not (op_names & (jobs - {"__ASSET_JOB"})), op_names & jobs
