"""Crash recovery without a person: a run whose worker died is marked failed and its pool slots
freed, so the next run takes the warehouse; leftovers a killed run may leave are removed.

Dagster's run monitoring (the daemon, `run_monitoring` in dagster.yaml) marks a run failed when
the run launcher reports its worker dead, and frees the slots of failed runs. Dagster's default
launcher cannot tell (it has no worker health check), so `LocalRunLauncher` adds one: the run
worker's process id, recorded in the run's RUN_START event, is looked up on this machine. Runs
that no daemon watches — `make demo` and tests run in process — call `recover()` before they
start. Both paths judge with `worker_alive()`.

Assumes the deployment this project is made for: runs execute on the machine that checks them
(DuckDB allows one writer, on one machine).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEventType
from dagster._core.launcher import DefaultRunLauncher
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus

# A process that started this long after its run did cannot be that run's worker (pid reuse).
_START_SLACK_SECONDS = 5.0


def run_worker_pid(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """(process id, start time) of the process that started the run, from its RUN_START."""
    records = instance.get_records_for_run(
        run_id, of_type=DagsterEventType.RUN_START, limit=1
    ).records
    if not records:
        return None
    entry = records[0].event_log_entry
    if entry.dagster_event is None:
        return None
    pid = entry.dagster_event.pid
    return (pid, entry.timestamp) if pid else None


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first, then the parent
    id, …), None where the process or /proc is not there."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _process_started_at(pid: int) -> float | None:
    """Start time of a process (Linux /proc), None where the system does not tell."""
    fields = proc_stat(pid)
    if fields is None:
        return None
    try:
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime")
        )
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def worker_alive(pid: int, run_started_at: float) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    started = _process_started_at(pid)
    return started is None or started <= run_started_at + _START_SLACK_SECONDS


class LocalRunLauncher(DefaultRunLauncher):
    """Dagster's default launcher, plus the worker health check run monitoring needs."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        worker = run_worker_pid(self._instance, run.run_id)
        if worker is None:  # not started yet: the start timeout covers it
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no run worker recorded yet")
        pid, started = worker
        if worker_alive(pid, started):
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker pid {pid} alive")
        return CheckRunHealthResult(
            WorkerStatus.FAILED, f"run worker pid {pid} is gone (killed, or the machine restarted)"
        )


@dataclass(frozen=True)
class Recovered:
    run_id: str
    job_name: str
    pid: int | None
    slots_freed: bool

    def __str__(self) -> str:
        what = f"run {self.run_id} ({self.job_name})"
        if self.pid is None:
            return f"freed the pool slots still held by finished {what}"
        return f"{what} lost its worker (pid {self.pid}, killed?): marked failed" + (
            ", its pool slots freed" if self.slots_freed else ""
        )


def recover(instance: dg.DagsterInstance) -> list[Recovered]:
    """Mark every started run whose worker died as failed and free the pool slots of runs that
    are over; what was done, one entry per run."""
    done: list[Recovered] = []
    for record in instance.get_run_records(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING])
    ):
        run = record.dagster_run
        worker = run_worker_pid(instance, run.run_id)
        if worker is None or worker_alive(*worker):
            continue
        instance.report_run_failed(
            run,
            f"Run worker (pid {worker[0]}) is gone: marked failed by gogaek's crash "
            "recovery so that the next run can take the warehouse.",
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        done.append(Recovered(run.run_id, run.job_name, worker[0], True))
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        held = storage.get_concurrency_run_ids() - {r.run_id for r in done}
        for run_id in held:
            held_by = instance.get_run_by_id(run_id)
            if held_by is None or held_by.is_finished:
                storage.free_concurrency_slots_for_run(run_id)
                done.append(Recovered(run_id, held_by.job_name if held_by else "?", None, True))
    return done


def pool_holders(instance: dg.DagsterInstance, pool: str, run_id: str | None = None) -> list[str]:
    """Who holds `pool` (other than `run_id`), for a waiting run to say what it waits for."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    out = []
    for holder in sorted(
        {slot.run_id for slot in storage.get_concurrency_info(pool).claimed_slots} - {run_id}
    ):
        run = instance.get_run_by_id(holder)
        worker = run_worker_pid(instance, holder)
        since = time.strftime("%H:%M:%S", time.localtime(worker[1])) if worker else "?"
        state = run.status.value if run else "unknown"
        out.append(
            f"run {holder} ({run.job_name if run else '?'}, {state}, started {since}, "
            f"pid {worker[0] if worker else '?'})"
        )
    return out
