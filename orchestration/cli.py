"""gogaek's command line: run a job or materialise an asset selection through Dagster from a
terminal — what the Makefile's commands call.

    python -m orchestration run daily_refresh [--group GROUP]   make demo, make refresh
    python -m orchestration build [--select SELECTION]          make dbt-build, make postgres
    python -m orchestration publish                             make publish
    python -m orchestration erase (--customer ID | --source-key SOURCE:KEY)
                                  [--postgres-database DB]      make erase

Every command runs in process and is recorded in the instance under DAGSTER_HOME (the UI lists
it), through orchestration.terminal_run: it waits while a run writes the warehouse, runs as one
warehouse writer itself (runs the queue holds and other commands wait for it), and stops within
seconds on Ctrl-C. `build` and `publish` also wait for a process holding the warehouse file, up
to GOGAEK_WAREHOUSE_WAIT_SECONDS, then stop with a sentence naming it (exit status 75).

The asset graph orders what a selection holds: `build` (default selection WAREHOUSE_BUILD:
every dbt model, seed and snapshot with its tests, and the CLV fit) runs the models the fit
reads, the fit, then the marts that read it. Selections use Dagster's syntax (`dagster asset
list --select` takes the same). The terminal gets one line per step; dbt's output and every
Dagster event go to `<data>/logs/<command>-<time>.log`.

Exit status: 0 when the run succeeded, 1 when it failed, 2 on a usage error, 75 when the
warehouse stayed held, 130 / 143 when stopped by Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg

from ingest.settings import Settings, unknown_environment_settings
from orchestration.definitions import defs
from orchestration.erase_job import ERASE_OP, REBUILD_TAG
from orchestration.run_queue import COMMAND_TAG, WAREHOUSE_WRITE_TAG
from orchestration.summary import log_path_for, print_serving, print_summary_if_free
from orchestration.terminal_run import Stopped, execute, exit_now, root_cause, terminal
from orchestration.warehouse_lock import wait_for_turn

PROG = "python -m orchestration"
# What `make dbt-build` and `make postgres` build: the dbt project and the Python fit between
# its layers; the graph says in which order.
WAREHOUSE_BUILD = 'kind:dbt or key:"ml/*"'
PUBLISH = "group:serving"
# Everything goes to the log file; the terminal gets the progress (terminal_run.Progress).
LOG_TO_FILE = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def run_with_progress(
    job: dg.JobDefinition,
    what: str,
    command: str,
    log_path: Path,
    *,
    asset_selection: Sequence[dg.AssetKey] | None = None,
    tags: dict[str, str] | None = None,
) -> bool:
    """Run `job` (or the assets of `asset_selection` in it) in process, one line per step on
    the terminal, everything else in `log_path`; then its outcome and the checks that did not
    pass. Raises terminal_run.Stopped on Ctrl-C."""
    out = terminal()

    def say(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    instance = dg.DagsterInstance.get()
    started = time.perf_counter()
    run_id = str(uuid.uuid4())
    say(f"Dagster run {run_id} of {what}; every event and dbt's output: {log_path}")
    try:
        result = execute(
            job,
            instance,
            say,
            log_path=log_path,
            raise_on_error=False,
            run_id=run_id,
            tags={COMMAND_TAG: command, **(tags or {})},
            run_config=LOG_TO_FILE,
            asset_selection=list(asset_selection) if asset_selection is not None else None,
        )
    finally:
        out.close()
    print(
        f"Dagster run {result.run_id} of {what}: "
        f"{'SUCCESS' if result.success else 'FAILURE'} in {time.perf_counter() - started:.1f} s"
    )
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.asset_check_evaluation_data
            if not evaluation.passed:
                # WARN checks (e.g. order lines whose order header was quarantined) do not
                # stop the run; ERROR ones do.
                level = "FAILED" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "WARN"
                print(
                    f"  check {level}: {evaluation.asset_key.to_user_string()} "
                    f"{evaluation.check_name}"
                )
    return result.success


def selected_keys(selection: str) -> list[dg.AssetKey]:
    """The asset keys a selection string names in the code location, in a stable order."""
    keys = dg.AssetSelection.from_string(selection).resolve(defs.resolve_asset_graph())
    return sorted(keys, key=lambda key: key.to_user_string())


def run_daily_refresh(
    group: str | None, log_path: Path, command: str, tags: dict[str, str] | None = None
) -> bool:
    """daily_refresh (only the assets of `group` when given): what `make demo` runs."""
    return run_with_progress(
        defs.resolve_job_def("daily_refresh"),
        "job daily_refresh",
        command,
        log_path,
        asset_selection=selected_keys(f"group:{group}") if group else None,
        tags=tags,
    )


def command_run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    command = f"{PROG} run {args.job}" + (f" --group {args.group}" if args.group else "")
    log_path = log_path_for("demo" if args.job == "daily_refresh" else args.job)
    if args.job != "daily_refresh":
        ok = run_with_progress(defs.resolve_job_def(args.job), f"job {args.job}", command, log_path)
        print(f"Full log of this run: {log_path}")
        return 0 if ok else 1
    ok = run_daily_refresh(args.group, log_path, command)
    print_summary_if_free(settings.warehouse_path)
    print("\nWarehouse:", settings.warehouse_path)
    print_serving(settings.serving_dir)
    print(f"Full log of this run (dbt's output, every Dagster event): {log_path}")
    print(
        "Open the Dagster UI with `make ui` (dagster dev -w workspace.yaml), "
        "then http://127.0.0.1:3000 — the run above is listed under Runs."
    )
    return 0 if ok else 1


def build(selection: str, name: str, command: str) -> int:
    """Materialise `selection` as one warehouse writer, once the warehouse is free."""
    settings = Settings.from_env()
    keys = selected_keys(selection)
    if not keys:
        print(f"{PROG} {name}: the selection {selection!r} names no asset", file=sys.stderr)
        return 2
    with dg.DagsterInstance.get() as instance:
        held = wait_for_turn(
            instance,
            Path(settings.warehouse_path),
            [PROG, name],
            settings.warehouse_wait_seconds,
        )
    if held is not None:
        return held
    log_path = log_path_for(name)
    ok = run_with_progress(
        defs.resolve_implicit_global_asset_job_def(),
        f"{len(keys)} assets ({selection})",
        command,
        log_path,
        asset_selection=keys,
        tags=WAREHOUSE_WRITE_TAG,  # an asset selection carries no job tags
    )
    if not ok:
        print(
            f"{PROG} {name} failed: the step marked FAILED above says what broke; its dbt "
            f"output and every event are in {log_path}. What built before it stays built."
        )
    else:
        print(f"Full log of this run (dbt's output, every Dagster event): {log_path}")
    return 0 if ok else 1


def command_build(args: argparse.Namespace) -> int:
    return build(args.select, "build", f"{PROG} build --select {args.select}")


def command_publish(_args: argparse.Namespace) -> int:
    return build(PUBLISH, "publish", f"{PROG} publish")


NOT_REBUILT = (
    "The person is erased from the raw layer, the quarantine and the history, but the rebuild "
    "did not finish: the marts and the published files still hold them until daily_refresh "
    "succeeds. Run `make refresh` (or launch daily_refresh in the Dagster UI) now."
)


def run_erasure(
    customer_id: str | None, source_key: str | None, postgres_database: str = ""
) -> bool:
    """`erase_person` then `daily_refresh`, in process, recorded in the instance (the UI); each
    waits for a run that writes the warehouse. Raises terminal_run.Stopped on Ctrl-C."""
    instance = dg.DagsterInstance.get()
    config = {
        "customer_id": customer_id or "",
        "source_key": source_key or "",
        "postgres_database": postgres_database,
    }
    command = f"{PROG} erase"
    result = execute(
        defs.resolve_job_def("erase_person"),
        instance,
        print,
        raise_on_error=False,
        tags={REBUILD_TAG: "in_process", COMMAND_TAG: command},
        run_config={
            "ops": {ERASE_OP: {"config": config}},
            "loggers": {"console": {"config": {"log_level": "WARNING"}}},
        },
    )
    if not result.success:
        failure = next((e for e in result.all_events if e.is_step_failure), None)
        reason = root_cause(failure) if failure else "see the Dagster UI"
        print(f"Dagster run {result.run_id} of job erase_person: FAILURE\n{reason}")
        return False
    output = result.output_for_node(ERASE_OP)
    print(f"Dagster run {result.run_id} of job erase_person: SUCCESS (erasure {output})")
    print("Rebuilding every table and published file from the erased raw layer (daily_refresh):")
    try:
        rebuilt = run_daily_refresh(
            None, log_path_for("erase"), command, tags={"gogaek/after_erasure": result.run_id}
        )
    except Stopped:
        print(NOT_REBUILT)
        raise
    if not rebuilt:
        print(NOT_REBUILT)
    return rebuilt


def command_erase(args: argparse.Namespace) -> int:
    return 0 if run_erasure(args.customer, args.source_key, args.postgres_database) else 1


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog=PROG,
        description="Run gogaek's jobs and asset selections through Dagster from a terminal.",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run", help="run a job (daily_refresh: load, build, check, publish; then a summary)"
    )
    run.add_argument(
        "job",
        choices=sorted(
            job.name for job in defs.resolve_all_job_defs() if not job.name.startswith("__")
        ),
    )
    run.add_argument("--group", help="daily_refresh: only this asset group (e.g. ingest)")
    run.set_defaults(handler=command_run)
    build_ = commands.add_parser(
        "build", help="materialise an asset selection, in the order of the asset graph"
    )
    build_.add_argument(
        "--select",
        default=WAREHOUSE_BUILD,
        help=f"Dagster asset selection (default {WAREHOUSE_BUILD!r}: the dbt project and the "
        "CLV fit)",
    )
    build_.set_defaults(handler=command_build)
    publish = commands.add_parser(
        "publish", help=f"publish bi.duckdb and operational.duckdb ({PUBLISH})"
    )
    publish.set_defaults(handler=command_publish)
    erase = commands.add_parser(
        "erase", help="erase one person everywhere, then rebuild and republish (daily_refresh)"
    )
    who = erase.add_mutually_exclusive_group(required=True)
    who.add_argument("--customer", help="customer id (customer_id of dim_customer)")
    who.add_argument("--source-key", help="<source>:<key>, e.g. erp_customer:C0001")
    erase.add_argument(
        "--postgres-database",
        default="",
        help="also erase the PostgreSQL copy in this database (then run `make postgres`)",
    )
    erase.set_defaults(handler=command_erase)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    for name in unknown_environment_settings():
        print(f"warning: {name} is set but names no setting (see `make settings`)")
    try:
        handler: Any = args.handler
        return int(handler(args))
    except Stopped as stopped:
        exit_now(stopped.exit_code)
        return stopped.exit_code  # not reached
