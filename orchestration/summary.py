"""What `make demo` / `make refresh` print after the daily refresh: the raw layer's batches and
quarantine, the marts and their headline figures, the quality results, the published files.

Read-only on the warehouse; the run itself is orchestration.cli's.
"""

import time
from pathlib import Path

import duckdb

from ingest.db_rows import one_row
from ingest.settings import Settings, resolve_dbt_vars
from orchestration.serving.publish import read_publish_log
from orchestration.warehouse_lock import identify, probe


def log_path_for(command: str) -> Path:
    """Where a command's run log goes: `<data>/logs/<command>-<time>.log`."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(Settings.from_env().data_dir) / "logs" / f"{command}-{stamp}.log"


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

        def money(value: object) -> str:
            # A base whose CLV could not be fitted (no repeat purchase yet) has no prediction.
            return "none" if value is None else f"{symbol}{value:,.0f}"

        print(
            f"LTV (the CRM practice's formula): {row[0]:,} customers, {money(row[1])} "
            f"in all, {money(row[2])} per customer; predicted 12-month CLV {money(row[3])}"
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
    bi = Path(serving_dir) / "bi.duckdb"
    if bi.exists():
        run_id, published_at, counts = read_publish_log(bi)
        print(
            f"BI file (open read-only; connecting a BI tool: docs/serving.md): {bi.resolve()}\n"
            f"  {len(counts)} tables, published {published_at:%Y-%m-%d %H:%M %Z} by run "
            f"{run_id}; operational lists (mode 0600): {bi.parent / 'operational.duckdb'}"
        )
