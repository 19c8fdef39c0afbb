"""One warehouse writer per run, through Dagster's run queue: two runs launched at once as the
UI launches them, the queue daemon run here iteration by iteration; the second waits in the
queue until the first has ended."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import dagster as dg
import pytest
import yaml
from dagster._core.instance.ref import InstanceRef
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import PythonFileTarget
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
    QueuedRunCoordinatorDaemon,
)
from dagster_graphql.test.utils import materialize_assets

from orchestration.run_queue import WarehouseRunCoordinator, writers_in_progress

# Builds a warehouse or runs the Dagster daemon: the full tier, not `make test-fast`.
pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def _dagster_home(tmp_path: Path) -> Path:
    """The project's dagster.yaml (run queue, limits, launcher) with storage under tmp."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = yaml.safe_load((PROJECT / "dagster.yaml").read_text(encoding="utf-8"))
    config["storage"]["sqlite"]["base_dir"] = str(home / "storage")
    config["local_artifact_storage"]["config"]["base_dir"] = str(home / "artifacts")
    config["compute_logs"]["config"]["base_dir"] = str(home / "compute_logs")
    (home / "dagster.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return home


def _until(
    condition: Callable[[], T | None], timeout: float, what: str, step: Callable[[], None]
) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        step()
        found = condition()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.mark.slow
def test_second_writing_run_waits_in_the_queue_until_the_first_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = _dagster_home(tmp_path)
    log = tmp_path / "queue.log"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("QUEUE_TEST_LOG", str(log))
    monkeypatch.setenv("QUEUE_TEST_SECONDS", "4")
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        assert isinstance(instance.run_coordinator, WarehouseRunCoordinator)
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
        assert {"key": "gogaek/writes_warehouse", "value": "true", "limit": 1} in limits
        target = PythonFileTarget(
            python_file=str(PROJECT / "tests" / "run_queue_defs.py"),
            attribute="defs",
            working_directory=str(PROJECT),
            location_name="queue_test",
        )
        with WorkspaceProcessContext(instance, target) as workspace:
            request = workspace.create_request_context()

            def launch(key: str) -> str:
                # What the UI's "Materialize" sends: an ad-hoc asset selection, no job tags.
                result = materialize_assets(request, [dg.AssetKey(key)])
                launched = result.data["launchPipelineExecution"]
                assert launched["__typename"] == "LaunchRunSuccess", launched
                return launched["run"]["runId"]

            first, second = launch("writes_warehouse"), launch("writes_warehouse")
            other = launch("reads_nothing_of_ours")
            runs = {run_id: instance.get_run_by_id(run_id) for run_id in (first, second, other)}
            assert runs[first].tags.get("gogaek/writes_warehouse") == "true"
            assert runs[second].tags.get("gogaek/writes_warehouse") == "true"
            assert "gogaek/writes_warehouse" not in runs[other].tags
            assert {r.status for r in runs.values()} == {dg.DagsterRunStatus.QUEUED}

            daemon = QueuedRunCoordinatorDaemon(interval_seconds=1)

            def dequeue() -> None:
                list(daemon.run_iteration(workspace))

            def status(run_id: str) -> dg.DagsterRunStatus:
                return instance.get_run_by_id(run_id).status  # type: ignore[union-attr]

            dequeue()
            assert status(first) != dg.DagsterRunStatus.QUEUED
            assert status(other) != dg.DagsterRunStatus.QUEUED  # not a writer: not held
            assert status(second) == dg.DagsterRunStatus.QUEUED
            # While the first goes on, the second stays queued, and says whom it waits for.
            seen_waiting = 0

            def first_over() -> bool:
                nonlocal seen_waiting
                if status(first) in (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING):
                    assert status(second) == dg.DagsterRunStatus.QUEUED
                    assert any(first in holder for holder in writers_in_progress(instance))
                    seen_waiting += 1
                return status(first) == dg.DagsterRunStatus.SUCCESS

            _until(first_over, 120, "the first run to end", dequeue)
            assert seen_waiting >= 3
            _until(
                lambda: status(second) == dg.DagsterRunStatus.SUCCESS,
                120,
                "the second run to be dequeued and end",
                dequeue,
            )

    events = [line.split() for line in log.read_text(encoding="utf-8").splitlines()]
    starts = {e[2]: float(e[0]) for e in events if e[1] == "start"}
    ends = {e[2]: float(e[0]) for e in events if e[1] == "end"}
    assert starts[second] >= ends[first]  # one writer at a time, runs one after another


def test_every_step_that_opens_the_warehouse_takes_the_pool() -> None:
    """The queue tags a run as a writer by the warehouse pool of its steps: so every asset and
    check that gets the warehouse resource must be in that pool."""
    from orchestration.definitions import defs
    from orchestration.resources import WAREHOUSE_POOL

    # Asset checks are nodes of the graph too; dbt writes the warehouse file through `dbt`.
    nodes = [n for n in defs.resolve_asset_graph().assets_defs if n.is_executable]
    using = [n for n in nodes if {"warehouse", "dbt"} & set(n.required_resource_keys)]
    names = {n.node_def.name for n in using}
    assert {"dbt_staging", "dbt_marts", "dbt_value_marts", "clv_models"} <= names
    assert len(using) > 50
    assert [n.node_def.name for n in using if n.node_def.pool != WAREHOUSE_POOL] == []


def test_make_demo_waits_for_a_writing_run_and_says_which() -> None:
    import threading

    from dagster._core.test_utils import create_run_for_test

    from orchestration.run_queue import wait_for_writers

    with dg.instance_for_test() as instance:
        writer = create_run_for_test(
            instance,
            job_name="daily_refresh",
            status=dg.DagsterRunStatus.STARTED,
            tags={"gogaek/writes_warehouse": "true", "dagster/schedule_name": "nightly"},
        )
        create_run_for_test(  # not a writer: not waited for
            instance, job_name="serving_freshness", status=dg.DagsterRunStatus.STARTED
        )
        said: list[str] = []
        waiter = threading.Thread(
            target=wait_for_writers, args=(instance, said.append, 0.1), daemon=True
        )
        waiter.start()
        time.sleep(1.0)
        assert waiter.is_alive()  # still waiting
        assert len(said) == 1
        assert f"run {writer.run_id} (daily_refresh, STARTED" in said[0]
        assert "launched by schedule nightly" in said[0]
        instance.report_run_failed(writer)
        waiter.join(timeout=10)
        assert not waiter.is_alive()
