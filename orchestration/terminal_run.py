"""A Dagster run started from a terminal command (`make demo`, `make erase`, `make dbt-build`).

The run is recorded in the instance under DAGSTER_HOME like any run (the UI lists it), and keeps
the rules every run keeps:

- **One warehouse writer at a time.** Before it starts, runs whose worker died are recovered
  (orchestration.recovery) and it waits while another run writes the warehouse, saying which
  (orchestration.run_queue). Its own run carries the writer tag, so runs the queue holds and
  other terminal commands wait for it.
- **A dead holder does not hold it forever.** While a step waits for the warehouse pool, the
  holders are looked at every few seconds: one whose worker process is gone (`kill -9`, a
  machine restart) is marked failed and its slots freed, so the wait ends unattended and
  Dagster's next claim check (at most 15 s later) lets the step go.
- **Ctrl-C and SIGTERM stop it within seconds.** Dagster defers interrupts while a step waits
  for a pool (it raises them only inside a step's own code), so the run executes in a worker
  thread and the main thread keeps the signals: on one, the run's child processes (dbt) are
  stopped, the run is marked canceled with its pool slots freed, and the process exits with a
  sentence. What the run had committed stays; DuckDB drops an unfinished transaction, and the
  next run loads and builds the rest (a killed run is recovered the same way).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout, suppress
from pathlib import Path
from typing import Any, TextIO

import dagster as dg
from dagster._core.events import DagsterEventType

from orchestration.alerts import innermost_line
from orchestration.recovery import pool_holders, proc_stat, recover
from orchestration.resources import WAREHOUSE_POOL
from orchestration.run_queue import wait_for_writers

POLL_SECONDS = 1.0
WAIT_REPORT_SECONDS = 5.0
# After SIGTERM, how long the run's child processes get before SIGKILL.
CHILD_GRACE_SECONDS = 4.0
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}

Say = Callable[[str], None]


def _first_line(text: str | None, limit: int = 160) -> str:
    lines = (text or "").strip().splitlines()
    return (lines[0] if lines else "")[:limit]


def root_cause(event: dg.DagsterEvent) -> str:
    """The innermost error message of a failed step, first line (the alerts' rule)."""
    return innermost_line(event.step_failure_data.error if event.step_failure_data else None)


def _known_noise(message: str) -> bool:
    """Warnings that say nothing to an operator: dagster-dbt's note that a singular dbt test
    with no model to attach to is shown as an observation (its result is in the log file)."""
    return message.startswith("Logging an `AssetObservation` instead of an `AssetCheckResult`")


def _level(level: int | str) -> int:
    """A log entry's level as a number (Dagster records either form)."""
    return level if isinstance(level, int) else logging.getLevelName(level.upper())


class Progress:
    """Follows a run's event log: one line per finished step, warnings as they come, and who
    holds the warehouse pool while a step waits for it (recovering a holder that died)."""

    def __init__(
        self, instance: dg.DagsterInstance, run_id: str, say: Say, report_steps: bool = True
    ):
        self.instance, self.run_id, self.say = instance, run_id, say
        self.report_steps = report_steps
        self.cursor: str | None = None
        self.total: int | None = None
        self.done = 0
        self.started: dict[str, float] = {}
        self.holders: list[str] = []
        self.last_wait_check = 0.0

    def _total(self) -> int | None:
        if self.total is None:
            run = self.instance.get_run_by_id(self.run_id)
            if run and run.execution_plan_snapshot_id:
                plan = self.instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
                self.total = len(plan.step_keys_to_execute)
        return self.total

    def poll(self) -> None:
        connection = self.instance.get_records_for_run(self.run_id, cursor=self.cursor)
        self.cursor = connection.cursor
        for record in connection.records:
            entry = record.event_log_entry
            event = entry.dagster_event
            if event is None:
                if _level(entry.level) >= logging.WARNING and not _known_noise(entry.user_message):
                    self.say(
                        f"  warning: {entry.step_key or 'run'}: {_first_line(entry.user_message)}"
                    )
                continue
            step = event.step_key or ""
            if not self.report_steps:
                continue
            if event.event_type == DagsterEventType.STEP_START:
                self.started[step] = entry.timestamp
            elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
                self.done += 1
                took = entry.timestamp - self.started.get(step, entry.timestamp)
                outcome = (
                    f"ok in {took:.0f} s"
                    if event.event_type == DagsterEventType.STEP_SUCCESS
                    else f"FAILED after {took:.0f} s: {root_cause(event)}"
                )
                self.say(f"  [{self.done}/{self._total() or '?'}] {step}: {outcome}")
            elif event.event_type == DagsterEventType.STEP_SKIPPED:
                self.done += 1
                self.say(
                    f"  [{self.done}/{self._total() or '?'}] {step}: skipped (upstream failed)"
                )
        if time.monotonic() - self.last_wait_check >= WAIT_REPORT_SECONDS:
            self.last_wait_check = time.monotonic()
            self.check_holders()

    def check_holders(self) -> None:
        """Recover holders whose worker died (recover() leaves live ones alone); say who holds
        the pool when that changes."""
        for done in recover(self.instance):
            self.say(f"recovered: {done}; this run goes on")
        holders = pool_holders(self.instance, WAREHOUSE_POOL, self.run_id)
        if holders and holders != self.holders:
            self.say(
                f"waiting: the {WAREHOUSE_POOL} pool (one warehouse writer at a time) is "
                f"held by {'; '.join(holders)}"
            )
        self.holders = holders

    def follow(self, stop: threading.Event) -> None:
        while not stop.wait(POLL_SECONDS):
            self.poll()
        self.poll()


@contextmanager
def output_to(path: Path) -> Iterator[None]:
    """Send this process's stdout and stderr — and its children's: dbt — to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("a", encoding="utf-8", buffering=1) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            with redirect_stdout(log), redirect_stderr(log):
                yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def terminal() -> TextIO:
    """The terminal, still reachable while stdout goes to a log file."""
    return os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")


def _children() -> dict[int, list[int]]:
    """Parent process id → its children, from /proc (empty where there is none)."""
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := proc_stat(int(entry.name))) is not None:
            out.setdefault(int(fields[1]), []).append(int(entry.name))
    return out


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, children first."""
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def stop_children(grace_seconds: float = CHILD_GRACE_SECONDS) -> None:
    """SIGTERM to every process this one started (dbt and what it runs), SIGKILL to those still
    there after `grace_seconds`."""
    pids = descendants(os.getpid())
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and any(_exists(pid) for pid in pids):
        time.sleep(0.1)
    for pid in pids:
        if _exists(pid):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    fields = proc_stat(pid)  # a zombie child has ended; it only waits to be reaped
    return fields is not None and fields[0] != "Z"


class Stopped(Exception):
    """Ctrl-C or SIGTERM arrived: the command ends with this exit status (`exit_now`)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.exit_code = exit_code(signum)


def exit_code(signum: int) -> int:
    """A shell's exit status for a command ended by this signal: 130 for Ctrl-C, 143 SIGTERM."""
    return EXIT_CODES.get(signal.Signals(signum), 128 + signum)


class Signals:
    """SIGINT and SIGTERM, caught instead of raised somewhere inside Dagster: `received` is set
    and `signum` says which."""

    def __init__(self) -> None:
        self.received = threading.Event()
        self.signum = signal.SIGINT.value

    def handler(self, signum: int, _frame: object) -> None:
        self.signum = signum
        self.received.set()

    @contextmanager
    def caught(self) -> Iterator[Signals]:
        previous = {s: signal.signal(s, self.handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for signum, old in previous.items():
                signal.signal(signum, old)


def signal_name(signum: int) -> str:
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


def exit_now(code: int) -> None:
    """End the process at once: a run's worker thread may still be inside Dagster or DuckDB,
    and an orderly interpreter shutdown would wait for it."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def execute(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    say: Say,
    *,
    log_path: Path | None = None,
    report_steps: bool = True,
    **execute_kwargs: Any,
) -> dg.ExecuteInProcessResult:
    """Run `job` in process as a warehouse writer: wait for other writers, follow the steps,
    stop cleanly on Ctrl-C or SIGTERM (raises Stopped once the run is marked canceled)."""
    run_id = str(execute_kwargs.pop("run_id", None) or uuid.uuid4())
    with Signals().caught() as signals:
        wait_for_writers(instance, say, stop=signals.received)  # recovers dead runs first
        if signals.received.is_set():
            say(f"Stopped by {signal_name(signals.signum)} while waiting: nothing was started.")
            raise Stopped(signals.signum)
        outcome: list[dg.ExecuteInProcessResult] = []
        failure: list[BaseException] = []

        def work() -> None:
            try:
                if log_path is None:
                    outcome.append(
                        job.execute_in_process(instance=instance, run_id=run_id, **execute_kwargs)
                    )
                    return
                with output_to(log_path):
                    outcome.append(
                        job.execute_in_process(instance=instance, run_id=run_id, **execute_kwargs)
                    )
            except BaseException as error:  # handed to the main thread
                failure.append(error)

        progress = Progress(instance, run_id, say, report_steps)
        stop_following = threading.Event()
        watcher = threading.Thread(target=progress.follow, args=(stop_following,), daemon=True)
        runner = threading.Thread(target=work, name=f"run {run_id}", daemon=True)
        watcher.start()
        runner.start()
        try:
            while runner.is_alive():
                runner.join(0.5)
                if signals.received.is_set():
                    progress.say = lambda _line: None  # the steps still ending are not news
                    _cancel(instance, run_id, signals.signum, say)
        finally:
            stop_following.set()
            watcher.join(timeout=5)
    if failure:
        raise failure[0]
    return outcome[0]


def _cancel(instance: dg.DagsterInstance, run_id: str, signum: int, say: Say) -> None:
    say(f"Stopping ({signal_name(signum)}): ending dbt and the run's other processes…")
    stop_children()
    run = instance.get_run_by_id(run_id)
    if run is not None and not run.is_finished:
        instance.report_run_canceled(
            run, f"Stopped by {signal_name(signum)} in the terminal that started it."
        )
    if instance.event_log_storage.supports_global_concurrency_limits:
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    say(
        f"Stopped: run {run_id} is marked canceled and holds the warehouse no more. What it "
        "had committed stays; the next run loads and builds the rest."
    )
    raise Stopped(signum)
