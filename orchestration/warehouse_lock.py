"""Run a command that writes the warehouse once no other process holds it.

DuckDB allows one writer per file: while a Dagster run (or `make demo`) writes the warehouse,
`dbt build` or `dbt docs generate` started by hand die with DuckDB's "Could not set lock on
file ... Conflicting lock is held in ... (PID n)". This wrapper probes the lock first and says
who holds it — the Dagster run (id, job, worker process) when the holder is a run's process,
else the process and its command line — then waits for it to let go (checking every few
seconds, up to GOGAEK_WAREHOUSE_WAIT_SECONDS) and runs the command, or, when the wait is 0 or
runs out, stops with a sentence saying what holds the warehouse and what to do.

    python -m orchestration.warehouse_lock [--wait-seconds N] [--cwd DIR] -- dbt build ...

The Makefile's dbt targets go through it. Exit status: the command's own; 75 (EX_TEMPFAIL)
when the warehouse stayed held.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.settings import Settings

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

    def describe(self) -> str:
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
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
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
        import dagster as dg

        from orchestration.recovery import run_worker_pid

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
    what = " ".join([Path(command[0]).name, *command[1:3]])
    advice = (
        f"Wait for the run to finish (Dagster UI: http://127.0.0.1:3000/runs/{holder.run_id}), "
        if holder.run_id
        else "Wait for it to finish or stop it, "
    )
    return (
        f"The warehouse {warehouse} is held by {holder.describe()}: DuckDB lets one process "
        f"write it at a time, so `{what}` cannot open it now. {advice}then run the command "
        "again (or let it wait longer: GOGAEK_WAREHOUSE_WAIT_SECONDS)."
        + (f" To read the marts meanwhile, open the published {bi_file}." if bi_file else "")
    )


def wait_for_warehouse(
    warehouse: Path,
    command: Sequence[str],
    wait_seconds: float,
    poll_seconds: float = 5.0,
    say: Callable[[str], None] = lambda text: print(text, file=sys.stderr, flush=True),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Holder | None:
    """None once the warehouse is free; the holder when it is still held after the wait."""
    deadline = clock() + wait_seconds
    announced: Holder | None = None
    while (message := probe(warehouse)) is not None:
        holder = identify(message)
        if clock() >= deadline:
            return holder
        if holder != announced:
            say(
                f"The warehouse {warehouse} is held by {holder.describe()}. Waiting for it to "
                f"let go (checking every {poll_seconds:g} s, up to {wait_seconds / 60:g} min; "
                "Ctrl-C stops)."
            )
            announced = holder
        sleep(min(poll_seconds, max(deadline - clock(), 0.0)))
    if announced is not None:
        say(f"The warehouse is free: running {' '.join([Path(command[0]).name, *command[1:3]])}.")
    return None


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(
        description="Run a command once no other process holds the warehouse."
    )
    parser.add_argument("--warehouse", default=settings.warehouse_path)
    parser.add_argument(
        "--wait-seconds",
        type=float,
        default=settings.warehouse_wait_seconds,
        help="how long to wait for the holder (0: fail at once)",
    )
    parser.add_argument("--poll-seconds", type=float, default=5.0)
    parser.add_argument("--cwd", help="folder to run the command in (paths resolve here first)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given (python -m orchestration.warehouse_lock -- dbt build)")
    warehouse = Path(args.warehouse)
    holder = wait_for_warehouse(warehouse, command, args.wait_seconds, args.poll_seconds)
    if holder is not None:
        bi_file = Path(settings.serving_dir) / "bi.duckdb"
        print(held_sentence(warehouse, holder, command, bi_file), file=sys.stderr)
        return EXIT_HELD
    sys.stdout.flush()
    if args.cwd:
        os.chdir(args.cwd)
    os.execvp(command[0], command)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
