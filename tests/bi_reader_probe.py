"""A BI tool in miniature, run as its own process by tests/test_serving.py.

Every 100 ms: open the BI file read-only, read publish_log, count the rows of every table it
lists, compare, close. Stops when the stop file appears; writes counters as JSON.

    python tests/bi_reader_probe.py BI_FILE STOP_FILE RESULT_JSON
"""

import json
import sys
import time
from pathlib import Path

import duckdb


def main(bi_file: str, stop_file: str, result_file: str) -> None:
    queries = errors = mismatches = rounds = 0
    run_ids: list[str] = []
    seen_counts: set[str] = set()
    messages: list[str] = []
    while not Path(stop_file).exists():
        try:
            con = duckdb.connect(bi_file, read_only=True)
            try:
                log = con.execute(
                    "select run_id, table_schema, table_name, row_count from main.publish_log"
                ).fetchall()
                queries += 1
                if len({row[0] for row in log}) != 1:
                    mismatches += 1
                    messages.append(f"publish_log mixes runs: {sorted({r[0] for r in log})}")
                for run_id, schema, table, expected in log:
                    actual = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
                    queries += 1
                    if actual != expected:
                        mismatches += 1
                        messages.append(f"{run_id} {schema}.{table}: {actual} != {expected}")
                if log and (not run_ids or run_ids[-1] != log[0][0]):
                    run_ids.append(log[0][0])
                seen_counts.add(json.dumps(sorted((r[1], r[2], r[3]) for r in log)))
                rounds += 1
            finally:
                con.close()
        except duckdb.Error as error:
            errors += 1
            messages.append(f"{type(error).__name__}: {error}")
        time.sleep(0.1)
    Path(result_file).write_text(
        json.dumps(
            {
                "rounds": rounds,
                "queries": queries,
                "errors": errors,
                "mismatches": mismatches,
                "run_ids": run_ids,
                "distinct_count_sets": len(seen_counts),
                "messages": messages[:20],
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
