"""The README's commands as a user runs them, on one small generated base: `make demo`, a second
`make demo` stopped with Ctrl-C, a run that waits while the run holding the warehouse is killed,
`make dbt-build` while a run writes the warehouse and a run that starts while `make dbt-build`
does, `make ui`. Each step reads what the commands print and what they leave; no internals are
called.

One module, one worker: the steps follow each other on the same copy of the project, as a
user's afternoon would.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from tests.journeys import Command, make, project_copy, runs_of, user_env

pytestmark = pytest.mark.slow

STEP_DONE = r"\[\d+/\d+\] \S+: ok in"
RUN_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh copy of the project after `make demo` on 60 generated customers."""
    project = project_copy(tmp_path_factory.mktemp("journey") / "gogaek")
    status, output = make(project, "demo", "CUSTOMERS=60", "DAYS=2")
    assert status == 0, output[-6000:]
    return project


def _no_traceback(output: str) -> None:
    assert "Traceback" not in output, output[-6000:]


def test_make_demo_runs_the_job_and_publishes(project: Path) -> None:
    demo = max(project.glob("data/logs/demo-*.log"))
    assert demo.exists()
    runs = runs_of(project)
    assert [(r["job"], r["status"]) for r in runs] == [("daily_refresh", "SUCCESS")]
    bi = duckdb.connect(str(project / "data" / "serving" / "bi.duckdb"), read_only=True)
    try:
        published_by = bi.execute("select run_id from publish_log").fetchone()
    finally:
        bi.close()
    assert published_by == (runs[0]["run_id"],)
    # The first run wrote the installation's secrets, readable by its owner only.
    secrets = project / "data" / "secrets.env"
    assert secrets.stat().st_mode & 0o777 == 0o600
    assert "gogaek-local-dev-salt" not in secrets.read_text(encoding="utf-8")


def test_ctrl_c_stops_a_run_within_ten_seconds_and_the_run_is_canceled(project: Path) -> None:
    """A second `make demo` (the same sources written again), stopped with Ctrl-C mid-run."""
    with Command(project, "demo", "CUSTOMERS=60", "DAYS=2") as refresh:
        run_id = refresh.wait_for(rf"Dagster run ({RUN_ID}) of job daily_refresh", 180)[1]
        refresh.wait_for(STEP_DONE, 180)
        took = refresh.signal(signal.SIGINT)
        output = refresh.output
    assert took <= 10, (took, output[-3000:])
    assert f"Stopped: run {run_id} is marked canceled" in output, output[-3000:]
    _no_traceback(output)
    status = {r["run_id"]: r["status"] for r in runs_of(project)}
    assert status[run_id] == "CANCELED"


def test_a_waiting_run_survives_its_holders_kill_9(project: Path) -> None:
    """A run holds the warehouse; a second waits, naming it; `make dbt-build` refuses with a
    sentence; the holder is killed outright; the waiting run notices within a minute, goes on
    and succeeds — and `make dbt-build`, started meanwhile, waits for it, then runs as a writer
    a new run waits for."""
    with Command(project, "refresh") as holder:
        holder_id = holder.wait_for(rf"Dagster run ({RUN_ID}) of job daily_refresh", 180)[1]
        holder.wait_for(STEP_DONE, 180)
        # The next run of the day over the same sources: nothing new to load.
        with Command(project, "refresh") as waiter:
            waiter.wait_for(rf"waiting: .*run {holder_id} \(daily_refresh, STARTED", 180)

            status, refused = make(
                project, "dbt-build", env=user_env(project, GOGAEK_WAREHOUSE_WAIT_SECONDS="0")
            )
            assert status != 0
            assert f"is held by Dagster run {holder_id}" in refused, refused[-3000:]
            assert "then run the command again" in refused
            assert "Error 75" in refused
            _no_traceback(refused)
            assert "Could not set lock" not in refused

            holder.signal(signal.SIGKILL)  # the holder's whole process group, dbt and all
            killed_at = time.monotonic()
            waiter.wait_for(rf"recovered: run {holder_id} \(daily_refresh\) lost its worker", 90)
            assert time.monotonic() - killed_at <= 60
            waiter_id = waiter.wait_for(rf"Dagster run ({RUN_ID}) of job daily_refresh", 60)[1]
            waiter.wait_for(STEP_DONE, 180)

            with Command(project, "dbt-build") as dbt_build:
                dbt_build.wait_for(rf"is held by Dagster run {waiter_id}.*Waiting", 120)
                assert waiter.finish() == 0, waiter.output[-5000:]
                assert f"Dagster run {waiter_id} of job daily_refresh: SUCCESS" in waiter.output
                _no_traceback(waiter.output)

                dbt_build.wait_for(
                    r"The warehouse is free: running python -m orchestration build", 120
                )
                # The dbt project and the CLV fit, materialised through Dagster: a step is done.
                dbt_build.wait_for(rf"Dagster run {RUN_ID} of \d+ assets", 60)
                dbt_build.wait_for(STEP_DONE, 300)
                writers = [
                    r
                    for r in runs_of(project)
                    if r["status"] in ("STARTING", "STARTED")
                    and r["tags"].get("gogaek/writes_warehouse") == "true"
                ]
                assert [w["job"] for w in writers] == ["__ASSET_JOB"]
                assert "orchestration build" in writers[0]["tags"]["gogaek/command"]
                # A run started now waits for the build, naming it.
                with Command(project, "refresh") as later:
                    later.wait_for(r"waiting: .*\(asset selection, STARTED", 120)
                    assert dbt_build.finish() == 0, dbt_build.output[-5000:]
                    _no_traceback(dbt_build.output)
                    later.signal(signal.SIGINT)
    status = {r["run_id"]: r["status"] for r in runs_of(project)}
    assert status[holder_id] == "FAILURE"
    assert status[waiter_id] == "SUCCESS"
    # After a canceled run, a killed one and a hand-run build, nothing was loaded twice.
    con = duckdb.connect(str(project / "data" / "warehouse.duckdb"), read_only=True)
    try:
        twice = con.execute(
            "select count(*) from (select fingerprint from raw._load_batches "
            "where rows_loaded > 0 and fingerprint is not null group by 1 having count(*) > 1)"
        ).fetchone()
    finally:
        con.close()
    assert twice == (0,)


def test_make_ui_loads_every_job_and_stops_on_ctrl_c(project: Path) -> None:
    port = _free_port()
    with Command(project, "ui", f"UI_PORT={port}") as ui:
        location = _graphql(port, LOCATION_QUERY, timeout=240)
        entry = location["workspaceOrError"]["locationEntries"][0]
        assert (entry["name"], entry["loadStatus"]) == ("gogaek", "LOADED")
        loaded = entry["locationOrLoadError"]
        assert loaded["__typename"] == "RepositoryLocation", loaded
        repository = loaded["repositories"][0]
        assert {j["name"] for j in repository["jobs"]} >= {
            "daily_refresh",
            "erase_person",
            "serving_freshness",
        }
        assert {s["name"] for s in repository["schedules"]} == {
            "daily_refresh_0200_kst",
            "serving_freshness_hourly",
        }
        assert {"erp_drop_sensor", "rebuild_after_erasure"} <= {
            s["name"] for s in repository["sensors"]
        }
        # A run launched as the UI launches it goes through the queue and the daemon.
        launched = _graphql(port, LAUNCH, timeout=60)["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        deadline = time.monotonic() + 240
        status = ""
        while time.monotonic() < deadline:
            status = _graphql(port, RUN_STATUS % run_id, timeout=30)["runOrError"]["status"]
            if status in ("SUCCESS", "FAILURE", "CANCELED"):
                break
            time.sleep(2)
        assert status == "SUCCESS", ui.output[-4000:]
        took = ui.signal(signal.SIGINT)
        output = ui.output
    assert took <= 10, (took, output[-3000:])
    assert "Stopped: the UI, the daemon" in output
    _no_traceback(output)


LOCATION_QUERY = """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename
    ... on RepositoryLocation { repositories { name jobs { name } schedules { name }
                                               sensors { name } } }
    ... on PythonError { message } } } } } }"""
LAUNCH = """mutation { launchRun(executionParams: {
  selector: {repositoryLocationName: "gogaek", repositoryName: "__repository__",
             jobName: "serving_freshness"}, runConfigData: "{}"}) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on InvalidSubsetError { message } ... on RunConfigValidationInvalid { errors { message } }
} }"""
RUN_STATUS = '{ runOrError(runId: "%s") { ... on Run { status } } }'


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _graphql(port: int, query: str, timeout: float) -> dict:
    """POST `query` to the UI's GraphQL endpoint, retrying while the server starts."""
    import json
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/graphql",
                data=json.dumps({"query": query}).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                body = json.loads(response.read())
            if "errors" in body:
                raise AssertionError(body["errors"])
            data = body["data"]
            entries = (data.get("workspaceOrError") or {}).get("locationEntries")
            if entries is not None and entries and entries[0]["loadStatus"] == "LOADING":
                raise ConnectionError("the location is still loading")
            return data
        except (OSError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def test_no_make_command_left_a_process_behind(project: Path) -> None:
    leftovers = subprocess.run(
        ["pgrep", "-f", str(project)], capture_output=True, text=True
    ).stdout.split()
    assert leftovers == []
