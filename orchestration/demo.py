"""`make demo` / `make refresh`: run the daily refresh through Dagster, print a summary.

The run is recorded in the instance under DAGSTER_HOME, so it shows up in the Dagster UI. The
terminal gets one line per step, warnings, failed and warned checks, and the summary; dbt's
output and every Dagster event go to a log file whose path it prints (`<data>/logs/`). How it
takes its turn as the warehouse writer, gets past a holder that died, and stops on Ctrl-C:
orchestration.terminal_run.
"""

import argparse
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import duckdb

from ingest.db_rows import one_row
from ingest.settings import Settings, resolve_dbt_vars, unknown_environment_settings
from orchestration.run_queue import COMMAND_TAG
from orchestration.terminal_run import Stopped, execute, exit_now, terminal
from orchestration.warehouse_lock import identify, probe


def log_path_for(command: str) -> Path:
    """Where a command's run log goes: `<data>/logs/<command>-<time>.log`."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(Settings.from_env().data_dir) / "logs" / f"{command}-{stamp}.log"


def run_daily_refresh(
    selection: str | None, log_path: Path, tags: dict[str, str] | None = None
) -> bool:
    """daily_refresh in process (orchestration.terminal_run): one line per step on the
    terminal, everything else in `log_path`. Raises terminal_run.Stopped on Ctrl-C."""
    from orchestration.definitions import defs

    out = terminal()

    def say(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    instance = dg.DagsterInstance.get()
    job = defs.resolve_job_def("daily_refresh")
    started = time.perf_counter()
    run_id = str(uuid.uuid4())
    say(f"Dagster run {run_id} of job daily_refresh; every event and dbt's output: {log_path}")
    try:
        result = execute(
            job,
            instance,
            say,
            log_path=log_path,
            raise_on_error=False,
            run_id=run_id,
            tags={COMMAND_TAG: "make demo / make refresh", **(tags or {})},
            # Everything goes to the log file; the terminal gets the progress.
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            asset_selection=(
                list(dg.AssetSelection.groups(selection).resolve(defs.resolve_asset_graph()))
                if selection
                else None
            ),
        )
    finally:
        out.close()
    print(
        f"Dagster run {result.run_id} of job daily_refresh: "
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


def print_summary_if_free(warehouse_path: str) -> bool:
    """The summary, unless the next writer (a waiting run, `make dbt-build`) took the
    warehouse the moment this run let go: then a sentence saying so, not DuckDB's lock error."""
    try:
        print_summary(warehouse_path)
    except duckdb.IOException:
        message = probe(Path(warehouse_path))
        if message is None:
            raise
        print(
            f"\nThe run is over; its summary is skipped: the warehouse is now held by "
            f"{identify(message).describe()}, which took its turn when this run let go. The "
            "Dagster UI (`make ui`) shows this run; the BI file below holds what it published."
        )
        return False
    return True


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
        rows = one_row(con.execute(f'select count(*) from "{schema}"."{table}"'))[0]
        print(f"  {schema + '.' + table:45} {rows:>9,}")
    symbol = resolve_dbt_vars()["currency_symbol"]
    scoring = con.execute(
        "select as_of_date, last_activity_date, is_set_by_var from intermediate.int_scoring_date"
    ).fetchone()
    if scoring:
        how = "set by rfm_as_of_date" if scoring[2] else "the last day of loaded activity"
        print(f"\nScoring date {scoring[0]} ({how})")
    purchases = one_row(
        con.execute("""
        select count(*) filter (where is_purchase), count(distinct customer_id)
        from core.fct_purchases""")
    )
    held = con.execute("""
        select exception_code, count(*) from intermediate.int_order_line_exceptions
        group by 1 order by 1""").fetchall()
    print(
        f"Purchases (customer-days, fct_purchases): {purchases[0]:,} by {purchases[1]:,} "
        "customers; order lines held with a reason (int_order_line_exceptions): "
        + (", ".join(f"{code} {n:,}" for code, n in held) or "none")
    )
    row = (
        con.execute("""
            select customers, formula_ltv_total, formula_ltv_per_customer, predicted_clv_12m,
                   bgnbd_r, bgnbd_alpha, bgnbd_a, bgnbd_b, gamma_gamma_p, gamma_gamma_q,
                   gamma_gamma_gamma, clv_is_reliable, clv_reliability_reason
            from marketing.mart_customer_ltv_summary""").fetchone()
        if ("marketing", "mart_customer_ltv_summary") in marts
        else None
    )
    if row is not None:
        print(
            f"LTV (the CRM practice's formula): {row[0]:,} customers, {symbol}{row[1]:,.0f} "
            f"in all, {symbol}{row[2]:,.0f} per customer; predicted 12-month CLV "
            f"{symbol}{row[3]:,.0f}"
        )
        print(
            f"  BG/NBD r={row[4]} alpha={row[5]} a={row[6]} b={row[7]}; "
            f"Gamma-Gamma p={row[8]} q={row[9]} gamma={row[10]}"
        )
        trust = "reliable" if row[11] else "not reliable, an indication only"
        print(f"  CLV predictions {trust}: {row[12]}")
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
    log_path = log_path_for("demo")
    try:
        ok = run_daily_refresh(parser.parse_args().group, log_path)
    except Stopped as stopped:
        exit_now(stopped.exit_code)
    print_summary_if_free(settings.warehouse_path)
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
