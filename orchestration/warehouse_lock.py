"""Run a command that opens the warehouse outside Dagster (`make dbt-docs`, the evaluations, the
PostgreSQL mirror) as one warehouse writer among the runs, for its whole duration; and the wait
for the warehouse that `python -m orchestration build` takes before its run (`wait_for_turn`).

DuckDB allows one writer per file, and Dagster runs take turns through the run queue (runs
tagged `gogaek/writes_warehouse`, one in progress) and the `duckdb_warehouse` pool. A command
started by hand takes the same turn: it waits while a writer run is in progress or another
process holds the file (naming which: the Dagster run, or the process and its command line;
runs whose worker died are recovered), then runs as a Dagster run of its own — job
`warehouse_command`, tagged as a writer with the command line, its one step in the warehouse
pool — so the queue holds the nightly schedule, a sensor's run or a UI launch until it ends,
and `make demo` waits for it. It waits up to GOGAEK_WAREHOUSE_WAIT_SECONDS, or stops at once
(wait 0) with a sentence saying what holds the warehouse and what to do. Ctrl-C stops it
within seconds, the command and the wait alike (orchestration.terminal_run).

    python -m orchestration.warehouse_lock [--wait-seconds N] [--cwd DIR] -- dbt build ...
        [--then <next command> ...]

Commands joined by `--then` run one after another in the same turn, so no run slips in between
them.

Exit status: the command's own; 75 (EX_TEMPFAIL) when the warehouse stayed held; 130 or 143
when stopped by Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from ingest.settings import Settings
from orchestration.recovery import proc_stat, recover, run_worker_pid
from orchestration.resources import WAREHOUSE_POOL
from orchestration.run_queue import COMMAND_TAG, WAREHOUSE_WRITE_TAG, describe_writer, writer_runs
from orchestration.terminal_run import Signals, Stopped, execute, exit_now, signal_name

EXIT_HELD = 75  # EX_TEMPFAIL: try again later
_LOCK_ERROR = re.compile(r"Could not set lock on file|Conflicting lock is held", re.IGNORECASE)
_HOLDER_PID = re.compile(r"\(PID (\d+)\)")
# `dagster api execute_run <serialised args>`: the args carry the run id.
_RUN_ID_IN_ARGS = re.compile(r'"(?:pipeline_)?run_id"\s*:\s*"([0-9a-f-]{36})"')


@dataclass(frozen=True)
class Holder:
    """Who holds the warehouse: a process, and the Dagster run it works for when known."""

    pid: int | None
    command: str = ""
    run_id: str | None = None
    job: str | None = None
    dagster: bool = False  # a writer run in the instance: `command` is its description

    def describe(self) -> str:
        if self.dagster:
            return f"Dagster {self.command}"
        process = f"process {self.pid}" if self.pid else "another process"
        if self.command:
            process += f" ({self.command})"
        if self.run_id:
            job = f", job {self.job}" if self.job else ""
            return f"Dagster run {self.run_id}{job}, {process}"
        return process


def probe(warehouse: Path) -> str | None:
    """None when the warehouse can be opened for writing now, else DuckDB's lock message."""
    if not warehouse.exists():
        return None  # dbt creates it
    try:
        duckdb.connect(str(warehouse)).close()
    except duckdb.IOException as error:
        if _LOCK_ERROR.search(str(error)):
            return str(error)
        raise
    return None


def _command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)


def _parent(pid: int) -> int | None:
    fields = proc_stat(pid)
    if fields is None:
        return None
    parent = int(fields[1])
    return parent if parent > 1 else None


def _ancestry(pid: int) -> list[int]:
    """pid, its parent, and so on (Linux /proc; just pid elsewhere)."""
    chain = [pid]
    while len(chain) < 20 and (parent := _parent(chain[-1])) is not None:
        chain.append(parent)
    return chain


def _short(command: str, limit: int = 100) -> str:
    # The run worker's arguments are a long serialised blob: keep the head.
    return command if len(command) <= limit else command[: limit - 1] + "…"


def _dagster_runs_by_pid() -> dict[int, tuple[str, str]]:
    """Worker process id → (run id, job) of the Dagster runs in progress (DAGSTER_HOME)."""
    if not os.environ.get("DAGSTER_HOME"):
        return {}
    try:
        with dg.DagsterInstance.get() as instance:
            runs = instance.get_runs(
                filters=dg.RunsFilter(
                    statuses=[
                        dg.DagsterRunStatus.STARTING,
                        dg.DagsterRunStatus.STARTED,
                        dg.DagsterRunStatus.CANCELING,
                    ]
                )
            )
            out = {}
            for run in runs:
                worker = run_worker_pid(instance, run.run_id)
                if worker:
                    out[worker[0]] = (run.run_id, run.job_name)
            return out
    except Exception:  # the instance is a help for the message, never a reason to fail
        return {}


def identify(message: str) -> Holder:
    """The holder named in DuckDB's lock message, with its Dagster run when it has one."""
    found = _HOLDER_PID.search(message)
    if not found:
        return Holder(None)
    pid = int(found.group(1))
    chain = _ancestry(pid)
    command = _short(_command_line(pid))
    for ancestor in chain:  # a run worker, or a step process it started
        if match := _RUN_ID_IN_ARGS.search(_command_line(ancestor)):
            job = None
            runs = _dagster_runs_by_pid()
            for run_id, name in runs.values():
                if run_id == match.group(1):
                    job = name
            return Holder(pid, command, match.group(1), job)
    runs = _dagster_runs_by_pid()
    for ancestor in chain:  # a run started in process (`make demo`) records its own pid
        if ancestor in runs:
            return Holder(pid, command, *runs[ancestor])
    return Holder(pid, command)


def held_sentence(
    warehouse: Path, holder: Holder, command: Sequence[str], bi_file: Path | None = None
) -> str:
    advice = (
        f"Wait for the run to finish (Dagster UI: http://127.0.0.1:3000/runs/{holder.run_id}), "
        if holder.run_id
        else "Wait for it to finish or stop it, "
    )
    return (
        f"The warehouse {warehouse} is held by {holder.describe()}: DuckDB lets one process "
        f"write it at a time, so `{short_command(command)}` cannot open it now. {advice}then run "
        "the command again (or let it wait longer: GOGAEK_WAREHOUSE_WAIT_SECONDS)."
        + (f" To read the marts meanwhile, open the published {bi_file}." if bi_file else "")
    )


def short_command(command: Sequence[str]) -> str:
    return " ".join([Path(command[0]).name, *command[1:3]])


def current_holder(instance: dg.DagsterInstance, warehouse: Path) -> Holder | None:
    """A writer run in progress (after recovering dead ones), else a process holding the file."""
    recover(instance)
    runs = writer_runs(instance)
    if runs:
        run = runs[0].dagster_run
        return Holder(None, describe_writer(runs[0]), run.run_id, run.job_name, dagster=True)
    message = probe(warehouse)
    return identify(message) if message is not None else None


def wait_for_warehouse(
    instance: dg.DagsterInstance,
    warehouse: Path,
    command: Sequence[str],
    wait_seconds: float,
    poll_seconds: float = 5.0,
    say: Callable[[str], None] = lambda text: print(text, file=sys.stderr, flush=True),
    stop: threading.Event | None = None,
) -> Holder | None:
    """None once no run writes the warehouse and no process holds it; the holder when one still
    does after the wait. Returns None at once when `stop` is set (the caller checks it)."""
    stop = stop or threading.Event()
    deadline = time.monotonic() + wait_seconds
    announced: Holder | None = None
    while not stop.is_set() and (holder := current_holder(instance, warehouse)) is not None:
        if time.monotonic() >= deadline:
            return holder
        if holder != announced:
            say(
                f"The warehouse {warehouse} is held by {holder.describe()}. Waiting for it to "
                f"let go (checking every {poll_seconds:g} s, up to {wait_seconds / 60:g} min; "
                "Ctrl-C stops)."
            )
            announced = holder
        stop.wait(min(poll_seconds, max(deadline - time.monotonic(), 0.0)))
    if announced is not None and not stop.is_set():
        say(f"The warehouse is free: running {short_command(command)}.")
    return None


def wait_for_turn(
    instance: dg.DagsterInstance,
    warehouse: Path,
    command: Sequence[str],
    wait_seconds: float,
    poll_seconds: float = 5.0,
) -> int | None:
    """None once no run writes the warehouse and no process holds it; else the exit status to
    end with (EXIT_HELD), after a sentence saying who holds it and what to do. Raises Stopped
    on Ctrl-C or SIGTERM while waiting."""
    with Signals().caught() as signals:
        holder = wait_for_warehouse(
            instance, warehouse, command, wait_seconds, poll_seconds, stop=signals.received
        )
        if signals.received.is_set():
            print(
                f"Stopped by {signal_name(signals.signum)} while waiting: "
                f"`{short_command(command)}` did not start.",
                file=sys.stderr,
            )
            raise Stopped(signals.signum)
    if holder is None:
        return None
    bi_file = Path(Settings.from_env().serving_dir) / "bi.duckdb"
    print(held_sentence(warehouse, holder, command, bi_file), file=sys.stderr)
    return EXIT_HELD


THEN = "--then"


def split_commands(words: Sequence[str]) -> list[list[str]]:
    """`a b --then c d` → [[a, b], [c, d]]: commands run one after another in one turn."""
    commands: list[list[str]] = [[]]
    for word in words:
        if word == THEN:
            commands.append([])
        else:
            commands[-1].append(word)
    return [command for command in commands if command]


def command_job(
    commands: Sequence[Sequence[str]], cwd: str | None, exit_codes: list[int]
) -> dg.JobDefinition:
    """A one-step job that runs `commands` one after another (their output straight to the
    terminal), stopping at the first that fails, in the warehouse pool; each exit code lands in
    `exit_codes`."""

    @dg.op(name="run_command", pool=WAREHOUSE_POOL)
    def run_command() -> None:
        for command in commands:
            code = subprocess.run(list(command), cwd=cwd, check=False).returncode
            exit_codes.append(code)
            if code != 0:
                raise dg.Failure(description=f"`{short_command(command)}` exited with {code}")

    @dg.job(
        name="warehouse_command",
        tags={
            **WAREHOUSE_WRITE_TAG,
            COMMAND_TAG: " && ".join(shlex.join(command) for command in commands)[:200],
        },
        description="Commands run by hand that open the warehouse (make dbt-docs, the "
        "evaluations, the PostgreSQL mirror), recorded as one warehouse writer.",
    )
    def warehouse_command() -> None:
        run_command()

    return warehouse_command


def run_as_writer(
    instance: dg.DagsterInstance, commands: Sequence[Sequence[str]], cwd: str | None
) -> int:
    """Run `commands` as one Dagster run that writes the warehouse; the exit code of the last
    one that ran (the first that failed)."""
    exit_codes: list[int] = []
    execute(
        command_job(commands, cwd, exit_codes),
        instance,
        lambda text: print(text, file=sys.stderr, flush=True),
        report_steps=False,  # one step: the commands' own output says it all
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
    )
    return exit_codes[-1] if exit_codes else 1


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(
        description="Run a command that writes the warehouse once no run or process holds it, "
        "as a warehouse writer itself."
    )
    parser.add_argument("--warehouse", default=settings.warehouse_path)
    parser.add_argument(
        "--wait-seconds",
        type=float,
        default=settings.warehouse_wait_seconds,
        help="how long to wait for the holder (0: fail at once)",
    )
    parser.add_argument("--poll-seconds", type=float, default=5.0)
    parser.add_argument("--cwd", help="folder to run the command in")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    commands = split_commands(args.command[1:] if args.command[:1] == ["--"] else args.command)
    command = commands[0] if commands else []
    if not command:
        parser.error("no command given (python -m orchestration.warehouse_lock -- dbt build)")
    if not os.environ.get("DAGSTER_HOME"):
        parser.error("DAGSTER_HOME is not set: run this through make (it sets the project's)")
    with dg.DagsterInstance.get() as instance:
        try:
            held = wait_for_turn(
                instance, Path(args.warehouse), command, args.wait_seconds, args.poll_seconds
            )
            if held is not None:
                return held
            return run_as_writer(instance, commands, args.cwd)
        except Stopped as stopped:
            exit_now(stopped.exit_code)
            return stopped.exit_code  # not reached


if __name__ == "__main__":
    sys.exit(main())
