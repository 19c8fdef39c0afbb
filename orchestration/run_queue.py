"""One warehouse writer at a time, for every run: Dagster's run queue holds a run that writes
the warehouse while another one is in progress.

DuckDB allows one writer per file. `dagster.yaml` limits runs tagged `gogaek/writes_warehouse`
to one in progress (`concurrency.runs.tag_concurrency_limits`), and names `WarehouseRunCoordinator`
as the run coordinator: Dagster's own queue, which before queueing a run gives it that tag when
any of its steps takes a slot of the `duckdb_warehouse` pool. So the nightly schedule, the ERP
sensor and a materialization launched from the UI (an asset selection, which carries no job
tags) wait for each other alike; a run that does not touch the warehouse (the hourly BI
freshness check) is not held. `make demo` runs in process, past the queue: it waits for writing
runs in progress before it starts (`wait_for_writers`), and its own run carries the tag, so
queued runs wait for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import dagster as dg
from dagster._core.run_coordinator import QueuedRunCoordinator, SubmitRunContext

from orchestration.recovery import recover
from orchestration.resources import WAREHOUSE_POOL

WAREHOUSE_WRITE_TAG = {"gogaek/writes_warehouse": "true"}
# A run started from a terminal (`python -m orchestration`) records its command line here.
COMMAND_TAG = "gogaek/command"
_IN_PROGRESS = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def writes_warehouse(run: dg.DagsterRun) -> bool:
    """Does any step of the run take the warehouse pool (or does its job say it writes)?"""
    pools = (run.run_op_concurrency.all_pools or set()) if run.run_op_concurrency else set()
    return WAREHOUSE_POOL in pools or run.tags.get("gogaek/writes_warehouse") == "true"


class WarehouseRunCoordinator(QueuedRunCoordinator):
    """Dagster's queued run coordinator; a run that writes the warehouse gets the writer tag
    before it is queued, whoever launched it."""

    def submit_run(self, context: SubmitRunContext) -> dg.DagsterRun:
        run = context.dagster_run
        if writes_warehouse(run) and run.tags.get("gogaek/writes_warehouse") != "true":
            self._instance.add_run_tags(run.run_id, WAREHOUSE_WRITE_TAG)
            run = self._instance.get_run_by_id(run.run_id) or run
            context = SubmitRunContext(run, context.workspace)
        return super().submit_run(context)


def writer_runs(instance: dg.DagsterInstance, run_id: str | None = None) -> list[dg.RunRecord]:
    """Runs tagged as warehouse writers that are starting or going (other than `run_id`)."""
    return [
        record
        for record in instance.get_run_records(
            filters=dg.RunsFilter(statuses=_IN_PROGRESS, tags=WAREHOUSE_WRITE_TAG)
        )
        if record.dagster_run.run_id != run_id
    ]


def describe_writer(record: dg.RunRecord) -> str:
    """`run <id> (<job>, <status>, started <time>, launched by <who>)`."""
    run = record.dagster_run
    since = (
        time.strftime("%H:%M:%S", time.localtime(record.start_time))
        if record.start_time
        else "not yet"
    )
    launched_by = (
        f"schedule {run.tags['dagster/schedule_name']}"
        if "dagster/schedule_name" in run.tags
        else f"sensor {run.tags['dagster/sensor_name']}"
        if "dagster/sensor_name" in run.tags
        else f"`{run.tags[COMMAND_TAG]}`"
        if COMMAND_TAG in run.tags
        else "the UI or a command"
    )
    # An asset selection's run (`python -m orchestration build`) is in Dagster's implicit job.
    job = "asset selection" if run.job_name.startswith("__ASSET_JOB") else run.job_name
    return (
        f"run {run.run_id} ({job}, {run.status.value}, started {since}, launched by {launched_by})"
    )


def writers_in_progress(instance: dg.DagsterInstance, run_id: str | None = None) -> list[str]:
    """The writer runs in progress (other than `run_id`), each as a phrase."""
    return [describe_writer(record) for record in writer_runs(instance, run_id)]


def wait_for_writers(
    instance: dg.DagsterInstance,
    say: Callable[[str], None],
    poll_seconds: float = 2.0,
    timeout_seconds: float | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Wait while another run writes the warehouse, saying which whenever that changes. A
    writer whose worker died is recovered (marked failed) at the next look, so a killed run is
    waited for a few seconds, not forever. Returns early when `stop` is set."""
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    stop = stop or threading.Event()
    said: list[str] = []
    while not stop.is_set():
        for done in recover(instance):
            say(f"recovered: {done}")
        holders = writers_in_progress(instance)
        if not holders:
            return
        if holders != said:
            say(
                "waiting: one warehouse writer at a time, and "
                + "; ".join(holders)
                + " is writing it; this run starts when it ends (Ctrl-C stops waiting)"
            )
            said = holders
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"still writing after {timeout_seconds} s: {'; '.join(holders)}")
        stop.wait(poll_seconds)
