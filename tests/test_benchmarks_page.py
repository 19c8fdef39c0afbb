"""docs/benchmarks.md is written by lab/benchmarks.py: fake commands stand in for the make targets,
so these tests time `python -c ...` and check what the page becomes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lab.benchmarks import (
    END,
    HEADER,
    START,
    Measure,
    Row,
    duration,
    measure_and_write,
    read_rows,
    split_page,
)

ROOT = Path(__file__).resolve().parents[1]
FAKE_PROBE = (sys.executable, "-c", "print('1 loop, best of 3: 379 msec per loop')")
OLD_ROW = Row(
    "make test", "18:23", "30:00", "0", "379 ms", "creates .venv", "2026-12-07", "8730242"
)


def page_with(rows: list[Row]) -> str:
    table = "\n".join([*HEADER, *(row.render() for row in rows)])
    return f"# Benchmarks\n\nWhy and how.\n\n{START}\n{table}\n{END}\n\n## By hand\n\nKept.\n"


def test_the_table_between_the_markers_is_rewritten_and_the_rest_kept(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(page_with([OLD_ROW]), encoding="utf-8")
    measures = [
        Measure("make demo", (sys.executable, "-c", "pass")),
        Measure("make contact-eval", (sys.executable, "-c", "import sys; sys.exit(3)")),
    ]

    rows = measure_and_write(page, measures, cwd=tmp_path, probe_command=FAKE_PROBE)

    text = page.read_text(encoding="utf-8")
    before, block, after = split_page(text)
    assert before == "# Benchmarks\n\nWhy and how.\n\n"
    assert after == "\n\n## By hand\n\nKept.\n"
    written = read_rows(block)
    # the usual order: demo, ..., contact-eval, then make test; the old row is kept as it was
    assert [row.measure for row in written] == ["make demo", "make contact-eval", "make test"]
    assert written[2] == OLD_ROW
    assert written[:2] == rows
    assert [row.exit for row in rows] == ["0", "3"]
    assert all(row.probe == "379 ms" and row.setup == "creates .venv" for row in rows)
    assert all(row.wall.endswith(" s") and row.cpu.endswith(" s") for row in rows)
    assert f"| `make demo` | {rows[0].wall} |" in block


def test_a_second_run_replaces_its_own_row_only(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(page_with([OLD_ROW]), encoding="utf-8")
    demo = Measure("make demo", (sys.executable, "-c", "pass"))
    measure_and_write(page, [demo], cwd=tmp_path, probe_command=FAKE_PROBE)
    measure_and_write(page, [demo], cwd=tmp_path, probe_command=FAKE_PROBE)
    rows = read_rows(split_page(page.read_text(encoding="utf-8"))[1])
    assert [row.measure for row in rows] == ["make demo", "make test"]


def test_a_page_without_markers_is_refused_before_anything_runs(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n", encoding="utf-8")
    marker = tmp_path / "ran"
    measure = Measure("make demo", (sys.executable, "-c", f"open({str(marker)!r}, 'w')"))
    with pytest.raises(ValueError, match="exactly one"):
        measure_and_write(page, [measure], cwd=tmp_path, probe_command=FAKE_PROBE)
    assert not marker.exists()
    assert page.read_text(encoding="utf-8") == "# Benchmarks\n"


def test_durations_read_like_the_page() -> None:
    assert duration(7.54) == "7.5 s"
    assert duration(151) == "2:31"
    assert duration(3725) == "1:02:05"


def test_the_shipped_page_is_in_the_format_the_script_writes() -> None:
    page = ROOT / "docs" / "benchmarks.md"
    rows = read_rows(split_page(page.read_text(encoding="utf-8"))[1])
    assert {"make demo", "make test-fast", "make identity-eval", "make contact-eval"} <= {
        row.measure for row in rows
    }
    assert all(Row.parse(row.render()) == row for row in rows)


def test_make_bench_reads_dbt_time_by_kind_and_rewrites_only_its_section(tmp_path: Path) -> None:
    """lab/bench.py: dbt's run results of the stage's invocations summed by resource kind (an
    older invocation left out), and its block written between its own markers."""
    import json
    import os

    from lab import bench

    invocations = tmp_path / "invocations"
    for name, results, age in (
        ("old", [("model.gogaek.stg_a", 50.0)], 3600),
        (
            "new",
            [
                ("model.gogaek.stg_a", 2.0),
                ("model.gogaek.int_b", 5.0),
                ("test.gogaek.not_null_stg_a_id.1", 1.5),
                ("unit_test.gogaek.int_b.case", 0.5),
            ],
            0,
        ),
    ):
        folder = invocations / name
        folder.mkdir(parents=True)
        path = folder / "run_results.json"
        path.write_text(
            json.dumps({"results": [{"unique_id": u, "execution_time": t} for u, t in results]})
        )
        when = path.stat().st_mtime - age
        os.utime(path, (when, when))
    kinds, slowest = bench.dbt_times(path.stat().st_mtime - 60, invocations)
    assert kinds == {"model": 7.0, "test": 1.5, "unit_test": 0.5}
    assert slowest == [("int_b", 5.0), ("stg_a", 2.0)]
    stage = bench.Stage("full build", dbt=kinds)
    assert stage.test_share == 2 / 9  # tests and unit tests of all dbt time

    page = tmp_path / "benchmarks.md"
    page.write_text(f"# B\n\n{START}\ntable\n{END}\n\nkept\n", encoding="utf-8")
    bench.write_page(["first"], page)
    bench.write_page(["second"], page)
    text = page.read_text(encoding="utf-8")
    assert text.count(bench.START) == 1 and "first" not in text and "second" in text
    # The first write added the section after the page; the second replaced only its block.
    assert f"{START}\ntable\n{END}\n\nkept\n\n## make bench\n\n{bench.START}" in text


def test_make_bench_sums_the_steps_a_dagster_run_printed_by_kind() -> None:
    """A load and the checks named after it are told apart; dbt's steps keep their names."""
    from lab.bench import step_kinds

    printed = """Dagster run 1 of daily_refresh
  [1/9] raw__erp_customers: ok in 7 s
  [2/9] raw__erp_customers_rows_accounted_for: ok in 1 s
  [3/9] raw__erp_orders: ok in 3 s
  [4/9] gx_raw_erp_customers: ok in 2 s
  [5/9] dbt_staging: ok in 20 s
  [6/9] gx_stg_erp__customers: ok in 3 s
  [7/9] clv_models: ok in 2 s
  [8/9] dbt_value_marts: ok in 7 s
  [9/9] publish_serving_files: ok in 5 s
"""
    assert step_kinds(printed) == {
        "loads": 10.0,
        "load checks": 1.0,
        "quality suites": 5.0,
        "dbt_staging": 20.0,
        "CLV fit": 2.0,
        "dbt_value_marts": 7.0,
        "publish": 5.0,
    }


def test_make_bench_measures_each_stages_own_peak_memory(tmp_path: Path) -> None:
    """A small stage after a large one reports its own peak, not the large one's again."""
    from lab.bench import run_stage

    log = tmp_path / "bench.log"
    env = {"PATH": "/usr/bin:/bin"}
    large = run_stage(
        "large",
        [
            sys.executable,
            "-c",
            "b = bytearray(300 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])",
        ],
        env,
        log,
    )
    small = run_stage("small", [sys.executable, "-c", "pass"], env, log)
    assert large.peak_rss_gb > 0.25 and 0 < small.peak_rss_gb < 0.1
    assert large.exit == small.exit == 0
