"""`make demo`: run the daily refresh through Dagster on the generated sources, print a summary.

The run is recorded in the instance under DAGSTER_HOME, so it shows up in the Dagster UI. The
terminal gets one line per step, warnings, failed and warned checks, and the summary; dbt's
output and every Dagster event go to a log file whose path it prints (`<data>/logs/`).

Before it starts, runs whose worker died (a killed `make demo`) are marked failed and their pool
slots freed (orchestration.recovery). The run goes past Dagster's run queue (no daemon runs
here), so it keeps the queue's rule itself: while another run writes the warehouse it waits,
saying which (orchestration.run_queue); its own run carries the writer tag, so runs the queue
holds wait for it.
"""

import argparse
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import TextIO

import dagster as dg
import duckdb
from dagster._core.events import DagsterEventType

from ingest.settings import Settings, resolve_dbt_vars, unknown_environment_settings
from orchestration.recovery import pool_holders, recover
from orchestration.resources import WAREHOUSE_POOL
from orchestration.run_queue import wait_for_writers

POLL_SECONDS = 1.0
WAIT_REPORT_SECONDS = 5.0


def _first_line(text: str | None, limit: int = 160) -> str:
    lines = (text or "").strip().splitlines()
    return (lines[0] if lines else "")[:limit]


def _root_cause(event: dg.DagsterEvent) -> str:
    error = event.step_failure_data.error if event.step_failure_data else None
    while error is not None and error.cause is not None:
        error = error.cause
    return _first_line(error.message if error else "")


def _known_noise(message: str) -> bool:
    """Warnings that say nothing to an operator: dagster-dbt's note that a singular dbt test
    with no model to attach to is shown as an observation (its result is in the log file)."""
    return message.startswith("Logging an `AssetObservation` instead of an `AssetCheckResult`")


class Progress:
    """Follows a run's event log: one line per finished step, warnings as they come, and who
    holds the warehouse pool while a step waits for it."""

    def __init__(self, instance: dg.DagsterInstance, run_id: str, say: Callable[[str], None]):
        self.instance, self.run_id, self.say = instance, run_id, say
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
                if entry.level >= logging.WARNING and not _known_noise(entry.user_message):
                    self.say(
                        f"  warning: {entry.step_key or 'run'}: {_first_line(entry.user_message)}"
                    )
                continue
            step = event.step_key or ""
            if event.event_type == DagsterEventType.STEP_START:
                self.started[step] = entry.timestamp
            elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
                self.done += 1
                took = entry.timestamp - self.started.get(step, entry.timestamp)
                outcome = (
                    f"ok in {took:.0f} s"
                    if event.event_type == DagsterEventType.STEP_SUCCESS
                    else f"FAILED after {took:.0f} s: {_root_cause(event)}"
                )
                self.say(f"  [{self.done}/{self._total() or '?'}] {step}: {outcome}")
            elif event.event_type == DagsterEventType.STEP_SKIPPED:
                self.done += 1
                self.say(
                    f"  [{self.done}/{self._total() or '?'}] {step}: skipped (upstream failed)"
                )
        if time.monotonic() - self.last_wait_check >= WAIT_REPORT_SECONDS:
            self.last_wait_check = time.monotonic()
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


def _terminal() -> TextIO:
    """The terminal, still reachable while stdout goes to the log file."""
    return os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")


def run_daily_refresh(selection: str | None, log_path: Path) -> bool:
    from orchestration.definitions import defs

    terminal = _terminal()

    def say(line: str) -> None:
        terminal.write(line + "\n")
        terminal.flush()

    instance = dg.DagsterInstance.get()
    for done in recover(instance):
        say(f"recovered: {done}")
    wait_for_writers(instance, say)
    job = defs.resolve_job_def("daily_refresh")
    started = time.perf_counter()
    run_id = str(uuid.uuid4())
    say(f"Dagster run {run_id} of job daily_refresh; every event and dbt's output: {log_path}")
    progress = Progress(instance, run_id, say)
    stop = threading.Event()
    watcher = threading.Thread(target=progress.follow, args=(stop,), daemon=True)
    watcher.start()
    try:
        with output_to(log_path):
            result = job.execute_in_process(
                instance=instance,
                raise_on_error=False,
                run_id=run_id,
                # Everything goes to the log file; the terminal gets the progress above.
                run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
                asset_selection=(
                    list(dg.AssetSelection.groups(selection).resolve(defs.resolve_asset_graph()))
                    if selection
                    else None
                ),
            )
    finally:
        stop.set()
        watcher.join()
        terminal.close()
    print(
        f"Dagster run {result.run_id} of job daily_refresh: "
        f"{'SUCCESS' if result.success else 'FAILURE'} in {time.perf_counter() - started:.1f} s"
    )
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:  # type: ignore[union-attr]
                # WARN checks (e.g. order lines whose order header was quarantined) do not
                # stop the run; ERROR ones do.
                level = "FAILED" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "WARN"
                print(
                    f"  check {level}: {evaluation.asset_key.to_user_string()} "
                    f"{evaluation.check_name}"
                )
    return result.success


def print_summary(warehouse_path: str) -> None:
    con = duckdb.connect(warehouse_path, read_only=True)
    try:
        print("\nRaw layer (all batches so far):")
        print(
            f"  {'source.entity':32} {'batches':>7} {'read':>10} {'loaded':>10} "
            f"{'quarantined':>11} {'unchanged':>10}"
        )
        for source, entity, batches, read, loaded, quarantined, unchanged in con.execute("""
                select source, entity, count(*), sum(rows_read), sum(rows_loaded),
                       sum(rows_quarantined), sum(rows_unchanged)
                from raw._load_batches group by 1, 2 order by 1, 2""").fetchall():
            print(
                f"  {source + '.' + entity:32} {batches:>7} {read:>10,} {loaded:>10,} "
                f"{quarantined:>11,} {unchanged:>10,}"
            )
        print("\nQuarantined rows by reason (raw._quarantine):")
        for source, entity, code, count, example in con.execute("""
                select source, entity, reason_code, count(*),
                       min(source_file || ':' || coalesce(source_line::varchar, '-') || ' '
                           || coalesce(field, '') || ' — ' || reason)
                from raw._quarantine group by 1, 2, 3 order by 1, 2, 3""").fetchall():
            print(f"  {source + '.' + entity:28} {code:20} {count:>6,}  e.g. {example[:90]}")
        print_marts(con)
        print_quality(con)
    finally:
        con.close()


def print_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Rows per mart, and the headline figures marketing asks for first."""
    marts = con.execute("""
        select table_schema, table_name from information_schema.tables
        where table_schema in ('marketing', 'service', 'crm') order by 1, 2""").fetchall()
    if not marts:
        return
    print("\nMarts (schema.table: rows):")
    for schema, table in marts:
        rows = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
        print(f"  {schema + '.' + table:45} {rows:>9,}")
    symbol = resolve_dbt_vars()["currency_symbol"]
    scoring = con.execute(
        "select as_of_date, last_activity_date, is_set_by_var from intermediate.int_scoring_date"
    ).fetchone()
    if scoring:
        how = "set by rfm_as_of_date" if scoring[2] else "the last day of loaded activity"
        print(f"\nScoring date {scoring[0]} ({how})")
    purchases = con.execute("""
        select count(*) filter (where is_purchase), count(distinct customer_id)
        from core.fct_purchases""").fetchone()
    held = con.execute("""
        select exception_code, count(*) from intermediate.int_order_line_exceptions
        group by 1 order by 1""").fetchall()
    print(
        f"Purchases (customer-days, fct_purchases): {purchases[0]:,} by {purchases[1]:,} "
        "customers; order lines held with a reason (int_order_line_exceptions): "
        + (", ".join(f"{code} {n:,}" for code, n in held) or "none")
    )
    if ("marketing", "mart_customer_ltv_summary") in marts:
        row = con.execute("""
            select customers, formula_ltv_total, formula_ltv_per_customer, predicted_clv_12m,
                   bgnbd_r, bgnbd_alpha, bgnbd_a, bgnbd_b, gamma_gamma_p, gamma_gamma_q,
                   gamma_gamma_gamma
            from marketing.mart_customer_ltv_summary""").fetchone()
        print(
            f"LTV (the CRM practice's formula): {row[0]:,} customers, {symbol}{row[1]:,.0f} "
            f"in all, {symbol}{row[2]:,.0f} per customer; predicted 12-month CLV "
            f"{symbol}{row[3]:,.0f}"
        )
        print(
            f"  BG/NBD r={row[4]} alpha={row[5]} a={row[6]} b={row[7]}; "
            f"Gamma-Gamma p={row[8]} q={row[9]} gamma={row[10]}"
        )
    if ("marketing", "mart_clv_backtest") in marts:
        row = con.execute("""
            select actual_purchases, predicted_purchases, error_pct, holdout_weeks
            from marketing.mart_clv_backtest where frequency_group = -1""").fetchone()
        if row:
            print(
                f"  CLV back-test over the last {row[3]:.0f} weeks: {row[0]:,.0f} repeat "
                f"purchases happened, {row[1]:,.0f} predicted ({row[2]:+.1f}%)"
            )
    if ("marketing", "mart_customer_rfm") in marts:
        segments = con.execute("""
            select segment_name_ko || ' (' || segment_code || ')', count(*)
            from marketing.mart_customer_rfm group by 1 order by 2 desc""").fetchall()
        print("  RFM segments: " + ", ".join(f"{name} {n:,}" for name, n in segments))


def print_quality(con: duckdb.DuckDBPyConnection) -> None:
    """The latest validation of every Great Expectations suite, and where the Data Docs are."""
    rows = con.execute("""
        select suite, count(*), count(*) filter (where outcome = 'passed'),
               count(*) filter (where outcome = 'warn'), count(*) filter (where outcome = 'blocked')
        from dq.validation_results
        where run_id = (select run_id from dq.validation_results
                        order by validated_at desc limit 1)
        group by suite order by suite""").fetchall()
    if not rows:
        return
    print("\nData quality, last run (dq.validation_results; rules passed / warn / blocked):")
    for suite, rules, passed, warn, blocked in rows:
        print(
            f"  {suite:24} {rules:>3} rules  {passed:>3} passed  {warn:>3} warn  "
            f"{blocked:>3} blocked"
        )
    index = Path(Settings.from_env().quality_dir) / "gx/uncommitted/data_docs/local_site/index.html"
    print(f"Great Expectations Data Docs: {index.resolve()}")


def print_serving(serving_dir: str) -> None:
    from pathlib import Path

    from orchestration.serving.publish import read_publish_log

    bi = Path(serving_dir) / "bi.duckdb"
    if bi.exists():
        run_id, published_at, counts = read_publish_log(bi)
        print(
            f"BI file (open read-only; README 'Serving to BI tools'): {bi.resolve()}\n"
            f"  {len(counts)} tables, published {published_at:%Y-%m-%d %H:%M %Z} by run "
            f"{run_id}; operational lists (mode 0600): {bi.parent / 'operational.duckdb'}"
        )


def main() -> int:
    for name in unknown_environment_settings():
        print(f"warning: {name} is set but names no setting (see `make settings`)")
    parser = argparse.ArgumentParser(description="Run daily_refresh in-process and summarise.")
    parser.add_argument("--group", help="only this asset group (e.g. ingest, for benchmarks)")
    settings = Settings.from_env()
    log_path = Path(settings.data_dir) / "logs" / f"demo-{time.strftime('%Y%m%d-%H%M%S')}.log"
    ok = run_daily_refresh(parser.parse_args().group, log_path)
    print_summary(settings.warehouse_path)
    print("\nWarehouse:", settings.warehouse_path)
    print_serving(settings.serving_dir)
    print(f"Full log of this run (dbt's output, every Dagster event): {log_path}")
    print(
        "Open the Dagster UI with `make ui` (dagster dev -w workspace.yaml), "
        "then http://127.0.0.1:3000 — the run above is listed under Runs."
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
