"""dbt commands by hand while another process writes the warehouse: the wrapper names the
holder (the Dagster run when it is one), waits for it, or stops with what to do — never
DuckDB's raw lock error."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from ingest.settings import Settings
from orchestration.warehouse_lock import EXIT_HELD, identify, probe

# Each test starts real commands and Dagster runs (about 50 s of one worker): the full tier
# (`make test`, what CI runs) holds this door; the fast tier stays under two minutes.
pytestmark = pytest.mark.slow

WRAPPER = [sys.executable, "-m", "orchestration.warehouse_lock", "--warehouse"]
HOLD = (
    "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
    "print('holding', flush=True); time.sleep(float(sys.argv[2]))"
)


@contextmanager
def _holder(warehouse: Path, seconds: float, run_id: str | None = None) -> Iterator[int]:
    """A process holding the warehouse open for writing; with run_id, it is the child of a
    parent whose arguments carry the run id, as a Dagster step process is of its run worker
    (`dagster api execute_run {... "pipeline_run_id": ...}`)."""
    hold = [sys.executable, "-c", HOLD, str(warehouse), str(seconds)]
    if run_id:
        args = json.dumps({"__class__": "ExecuteRunArgs", "pipeline_run_id": run_id})
        command = ["bash", "-c", shlex.join(hold) + "; true", "worker", args]
    else:
        command = hold
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "holding"
        yield process.pid
    finally:
        process.kill()
        process.wait()


def _wrapped(
    warehouse: Path, *options: str, seconds: float = 0
) -> subprocess.CompletedProcess[str]:
    """The wrapper around a command that writes the warehouse (after `seconds`)."""
    wrapper, env = _wrapper_command(warehouse, *options, seconds=seconds)
    return subprocess.run(wrapper, capture_output=True, text=True, timeout=120, env=env)


def _wrapper_command(
    warehouse: Path, *options: str, seconds: float = 0
) -> tuple[list[str], dict[str, str]]:
    write = (
        f"import duckdb, time; time.sleep({seconds}); "
        f"duckdb.connect({str(warehouse)!r}).execute('create table t as select 1')"
    )
    env = {
        **os.environ,
        "GOGAEK_SERVING_DIR": str(warehouse.parent / "serving"),
        "DAGSTER_HOME": str(_dagster_home(warehouse)),
    }
    wrapper = [*WRAPPER, str(warehouse)]
    command = [sys.executable, "-c", write + "; print('wrote the warehouse')"]
    return [*wrapper, *options, "--", *command], env


def _dagster_home(warehouse: Path) -> Path:
    home = warehouse.parent / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return home


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(path)).close()
    return path


def test_a_run_holding_the_warehouse_is_named_and_the_command_stops_with_what_to_do(
    warehouse: Path,
) -> None:
    run_id = str(uuid.uuid4())
    with _holder(warehouse, 60, run_id):
        message = probe(warehouse)
        assert message is not None and "Could not set lock" in message
        result = _wrapped(warehouse, "--wait-seconds", "0")
    assert result.returncode == EXIT_HELD
    assert "wrote the warehouse" not in result.stdout
    assert f"is held by Dagster run {run_id}" in result.stderr
    assert f"http://127.0.0.1:3000/runs/{run_id}" in result.stderr
    assert "run the command again" in result.stderr
    assert str(warehouse.parent / "serving" / "bi.duckdb") in result.stderr
    assert "Conflicting lock" not in result.stderr  # a sentence, not DuckDB's raw error


IN_PROCESS_RUN = """
import sys, time
import dagster as dg, duckdb

@dg.asset
def hold() -> None:
    con = duckdb.connect(sys.argv[1])
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))

with dg.DagsterInstance.get() as instance:
    dg.materialize([hold], instance=instance)
"""


def test_a_run_started_in_process_is_named_from_the_dagster_instance(
    warehouse: Path, tmp_path: Path
) -> None:
    """`make demo` runs the job in its own process: no run id in its arguments, but the
    instance's record of the run's process."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    process = subprocess.Popen(
        [sys.executable, "-c", IN_PROCESS_RUN, str(warehouse), "60"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "holding"
        result = subprocess.run(
            [*WRAPPER, str(warehouse), "--wait-seconds", "0", "--", "true"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
    finally:
        process.kill()
        process.wait()
    assert result.returncode == EXIT_HELD
    held = re.search(
        r"is held by Dagster run ([0-9a-f-]{36}), job __ephemeral_asset_job__, "
        rf"process {process.pid} ",
        result.stderr,
    )
    assert held, result.stderr


def test_the_command_waits_for_the_holder_then_runs(warehouse: Path) -> None:
    wrapper, env = _wrapper_command(warehouse, "--wait-seconds", "120", "--poll-seconds", "0.5")
    with _holder(warehouse, 300) as pid:
        waiting = subprocess.Popen(
            wrapper, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        assert waiting.stderr is not None
        said = waiting.stderr.readline()  # the holder lets go once the command says it waits
    stdout, stderr = waiting.communicate(timeout=120)
    stderr = said + stderr
    assert waiting.returncode == 0, stderr
    assert "wrote the warehouse" in stdout
    assert f"is held by process {pid}" in stderr and "Waiting" in stderr
    assert "The warehouse is free" in stderr
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("select * from t").fetchall() == [(1,)]
    con.close()


def test_a_process_that_is_no_run_is_named_with_its_command_line(warehouse: Path) -> None:
    with _holder(warehouse, 60) as pid:
        holder = identify(probe(warehouse) or "")
        result = _wrapped(warehouse, "--wait-seconds", "1", "--poll-seconds", "0.2")
    assert holder.pid == pid and holder.run_id is None and "import duckdb" in holder.command
    assert result.returncode == EXIT_HELD
    assert f"is held by process {pid}" in result.stderr
    assert "Wait for it to finish or stop it, then run the command again" in result.stderr


def test_a_free_or_missing_warehouse_runs_the_command_at_once(
    warehouse: Path, tmp_path: Path
) -> None:
    result = _wrapped(warehouse, "--wait-seconds", "0")
    assert result.returncode == 0 and "wrote the warehouse" in result.stdout
    assert result.stderr == ""
    missing = tmp_path / "new" / "warehouse.duckdb"
    missing.parent.mkdir()
    assert probe(missing) is None and not missing.exists()


def test_the_command_runs_as_a_warehouse_writer_that_runs_wait_for(warehouse: Path) -> None:
    """While the command works, the instance lists it as a writing run in progress (so the run
    queue holds writing runs and `make demo` waits, naming it); afterwards it is a finished run
    of job warehouse_command."""
    import threading

    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    from orchestration.run_queue import writers_in_progress

    outcome: list[subprocess.CompletedProcess[str]] = []
    worker = threading.Thread(target=lambda: outcome.append(_wrapped(warehouse, seconds=4)))
    worker.start()
    seen: list[str] = []
    with dg.DagsterInstance.from_ref(
        InstanceRef.from_dir(str(_dagster_home(warehouse)))
    ) as dagster:
        while worker.is_alive() and not seen:
            seen = writers_in_progress(dagster)
            time.sleep(0.2)
        worker.join()
        runs = dagster.get_runs()
    assert outcome[0].returncode == 0, outcome[0].stderr
    assert len(seen) == 1 and "(warehouse_command, STARTED" in seen[0], seen
    assert "launched by `" in seen[0] and "python -c" in seen[0]
    assert [(r.job_name, r.status.value) for r in runs] == [("warehouse_command", "SUCCESS")]


def test_the_wait_is_a_setting() -> None:
    assert Settings.from_env({}).warehouse_wait_seconds == 1800
    assert Settings.from_env({"GOGAEK_WAREHOUSE_WAIT_SECONDS": "0"}).warehouse_wait_seconds == 0
    with pytest.raises(ValueError, match="GOGAEK_WAREHOUSE_WAIT_SECONDS"):
        Settings.from_env({"GOGAEK_WAREHOUSE_WAIT_SECONDS": "soon"})
