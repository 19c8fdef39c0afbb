"""What a nightly run costs, in full and incrementally: `make bench`.

    make bench                          # 100,000 customers on DuckDB
    make bench CUSTOMERS=1000000        # a million
    make bench TARGET=postgres          # and each build again on PostgreSQL (GOGAEK_PG_*)

Generates four delivery days into a folder of its own (default <data folder>/bench, emptied
first), lands the first three and runs the daily job — the full build — then lands
the fourth and runs it again: the incremental run a company's night is. (The generated shop
database holds all four days from the start, so the fourth day brings files only.)

For each stage it prints the wall time, the CPU time of its whole process tree, the peak RSS of
its largest process, the seconds of the run's Dagster steps by kind, and from dbt's run results
the thread-seconds of models, tests, unit tests, seeds and snapshots, the tests' share and the
slowest models; then rows of the main tables and the ratio incremental / full. The figures are
written to the benchmark page of the docs between its bench markers. A benchmark prints numbers;
no test asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from lab.benchmarks import current_commit, duration, probe_ms

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "benchmarks.md"
START = "<!-- bench:start (written by `make bench`; edit outside the markers) -->"
END = "<!-- bench:end -->"
INVOCATIONS = ROOT / "dbt_project" / "target" / "invocations"
DAYS = 4
# What `make dbt-build` builds: dbt and the CLV fit between the models it reads and the marts.
WAREHOUSE_BUILD = 'kind:dbt or key:"ml/*"'
KINDS = ("model", "test", "unit_test", "seed", "snapshot")
ROW_COUNTS = (
    "core.dim_customer",
    "core.fct_order_lines",
    "core.fct_email_events",
    "marketing.mart_rfm_history",
)


@dataclass
class Stage:
    """One measured command: what it cost and what dbt spent its time on."""

    name: str
    wall: float = 0.0
    cpu: float = 0.0
    peak_rss_gb: float = 0.0
    exit: int = 0
    dbt: dict[str, float] = field(default_factory=dict)  # thread-seconds by resource kind
    slowest: list[tuple[str, float]] = field(default_factory=list)
    steps: dict[str, float] = field(default_factory=dict)  # Dagster step seconds by kind

    @property
    def test_share(self) -> float:
        total = sum(self.dbt.values())
        return (self.dbt.get("test", 0.0) + self.dbt.get("unit_test", 0.0)) / total if total else 0

    def lines(self) -> list[str]:
        dbt = ", ".join(f"{kind} {self.dbt[kind]:.0f}" for kind in KINDS if kind in self.dbt)
        out = [
            f"{self.name}: exit {self.exit}, {duration(self.wall)} wall, {duration(self.cpu)} CPU, "
            f"peak RSS {self.peak_rss_gb:.2f} GB"
        ]
        if self.steps:
            out.append(
                "  Dagster steps (seconds; steps run side by side): "
                + ", ".join(f"{kind} {seconds:.0f}" for kind, seconds in self.steps.items())
            )
        if self.dbt:
            out.append(f"  dbt thread-seconds: {dbt}; tests {self.test_share:.0%} of dbt's time")
            out.append(
                "  slowest models: "
                + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in self.slowest)
            )
        return out


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# Runs a stage's command and writes the peak RSS of its largest process (ru_maxrss, kilobytes
# on Linux). A process of its own per stage: RUSAGE_CHILDREN's maximum never goes down, so read
# in the bench itself a later stage would repeat an earlier stage's peak.
PEAK_RUNNER = (
    "import resource, subprocess, sys; "
    "code = subprocess.run(sys.argv[2:]).returncode; "
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
    "sys.exit(code)"
)


def dbt_times(
    since: float, invocations: Path = INVOCATIONS
) -> tuple[dict[str, float], list[tuple[str, float]]]:
    """Thread-seconds by resource kind, and the five slowest models, of the dbt invocations
    that wrote their run results after `since`."""
    kinds: dict[str, float] = {}
    models: dict[str, float] = {}
    for results in invocations.glob("*/run_results.json"):
        if results.stat().st_mtime < since:
            continue
        for result in json.loads(results.read_text(encoding="utf-8"))["results"]:
            kind = result["unique_id"].split(".", 1)[0]
            kinds[kind] = kinds.get(kind, 0.0) + float(result.get("execution_time") or 0.0)
            if kind == "model":
                name = result["unique_id"].rsplit(".", 1)[1]
                models[name] = models.get(name, 0.0) + float(result["execution_time"] or 0.0)
    slowest = sorted(models.items(), key=lambda item: -item[1])[:5]
    return kinds, slowest


STEP_LINE = re.compile(r"^\s*\[\d+/\d+\] (\S+): ok in (\d+) s$", re.MULTILINE)


def step_kinds(output: str) -> dict[str, float]:
    """Seconds of the Dagster steps a run printed (`[3/74] raw__erp_customers: ok in 7 s`), by
    kind: the loads, the checks on what they loaded, each dbt step, the Great Expectations
    suites, the CLV fit and the publish. A check on a loaded table is named after it."""
    steps = {name: float(seconds) for name, seconds in STEP_LINE.findall(output)}
    loads = {name for name in steps if name.startswith("raw__")}
    loads -= {name for name in loads if any(name.startswith(f"{o}_") for o in loads - {name})}

    def kind(name: str) -> str:
        if name in loads:
            return "loads"
        if name.startswith("raw__"):
            return "load checks"
        if name.startswith("gx_"):
            return "quality suites"
        if name.startswith("dbt_"):
            return name
        return {"clv_models": "CLV fit", "publish_serving_files": "publish"}.get(name, "other")

    kinds: dict[str, float] = {}
    for name, seconds in steps.items():
        kinds[kind(name)] = kinds.get(kind(name), 0.0) + seconds
    return kinds


@dataclass
class Direct:
    """The SQL dbt ran in a stage, run again in one DuckDB connection: what dbt adds."""

    dbt_wall: float  # the invocations' elapsed time, summed
    direct_wall: float
    direct_cpu: float
    statements: int

    def line(self) -> str:
        return (
            f"  dbt's invocations {duration(self.dbt_wall)} wall; the same {self.statements} "
            f"model and test queries in one DuckDB connection {duration(self.direct_wall)} wall, "
            f"{duration(self.direct_cpu)} CPU: dbt {self.dbt_wall / self.direct_wall:.2f}x"
        )


def direct_sql(since: float, warehouse: Path, scratch: Path) -> Direct:
    """Run the models and tests of the dbt invocations written after `since` again, in their
    order, in one connection on a copy of the warehouse: a model as `create or replace table`
    (an incremental model's new rows into a scratch table), a test as a count of its failures."""
    manifest = json.loads((ROOT / "dbt_project" / "target" / "manifest.json").read_text())
    materialized = {
        uid: node.get("config", {}).get("materialized", "")
        for uid, node in manifest["nodes"].items()
    }
    runs = []
    for path in INVOCATIONS.glob("*/run_results.json"):
        if path.stat().st_mtime >= since:
            document = json.loads(path.read_text(encoding="utf-8"))
            started = min(
                (t["started_at"] for r in document["results"] for t in r.get("timing", [])),
                default="",
            )
            runs.append((started, float(document.get("elapsed_time") or 0.0), document["results"]))
    runs.sort(key=lambda run: run[0])
    statements = []
    for _, _, results in runs:
        for result in results:
            uid, code = result["unique_id"], result.get("compiled_code")
            if result.get("status") not in ("success", "pass", "warn", "fail") or not code:
                continue
            kind = uid.split(".", 1)[0]
            if kind == "model":
                relation = result["relation_name"]
                if materialized.get(uid) == "incremental":
                    relation = "main.bench_incremental_slice"
                what = "view" if materialized.get(uid) == "view" else "table"
                statements.append(f"create or replace {what} {relation} as (\n{code}\n)")
            elif kind == "test":
                statements.append(f"select count(*) from (\n{code}\n) as failures")
    # The copy keeps the file's name: dbt-duckdb's SQL names the database by it ("warehouse").
    copy = scratch / "direct" / warehouse.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(warehouse, copy)
    con = duckdb.connect(str(copy))
    try:
        cpu, started = time.process_time(), time.monotonic()
        for statement in statements:
            con.execute(statement)
        wall, cpu = time.monotonic() - started, time.process_time() - cpu
    finally:
        con.close()
        shutil.rmtree(copy.parent, ignore_errors=True)
    return Direct(sum(run[1] for run in runs), wall, cpu, len(statements))


def run_stage(name: str, command: Sequence[str], env: dict[str, str], log: Path) -> Stage:
    print(f"== {name}", flush=True)
    cpu_before = _children_cpu()
    started_at = time.time()
    started = time.monotonic()
    peak_file = log.with_name("peak_rss_kb")
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n== {name}: {' '.join(command)}\n")
        out.flush()
        begins = out.tell()
        code = subprocess.run(
            [sys.executable, "-c", PEAK_RUNNER, str(peak_file), *command],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
        ).returncode
    wall = time.monotonic() - started
    peak = int(peak_file.read_text()) / 1024 / 1024 if peak_file.exists() else 0.0
    peak_file.unlink(missing_ok=True)
    stage = Stage(name, wall, _children_cpu() - cpu_before, peak, code)
    stage.dbt, stage.slowest = dbt_times(started_at)
    with log.open(encoding="utf-8", errors="replace") as written:
        written.seek(begins)
        stage.steps = step_kinds(written.read())
    print("\n".join(stage.lines()), flush=True)
    if code != 0:
        raise SystemExit(f"{name} failed (exit {code}); its output: {log}")
    return stage


def land_days(source: Path, landing: Path, days: Sequence[str]) -> None:
    for path in sorted(source.rglob("*")):
        if path.is_file() and any(day in path.name for day in days):
            target = landing / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def row_counts(warehouse: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in ROW_COUNTS}
    finally:
        con.close()


def bench(customers: int, target: str, folder: Path) -> list[str]:
    python = sys.executable
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    log = folder / "bench.log"
    env = {
        **os.environ,
        "GOGAEK_DATA_DIR": str(folder / "data"),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    env.pop("GOGAEK_DBT_TARGET", None)
    stages = [
        run_stage(
            "generate",
            [
                python,
                "-m",
                "lab.generator",
                "--customers",
                str(customers),
                "--days",
                str(DAYS),
                "--out",
                str(folder / "generated"),
            ],
            env,
            log,
        )
    ]
    generated = folder / "generated"
    landing = folder / "data" / "landing"
    (folder / "data").mkdir()
    shutil.copy2(generated / "shop.sqlite", folder / "data" / "shop.sqlite")
    days = sorted(
        {
            m.group(0)
            for p in (generated / "landing").rglob("*")
            for m in [re.search(r"20\d{6}", p.name)]
            if m
        }
    )
    land_days(generated / "landing", landing, days[:-1])
    daily = [python, "-m", "orchestration", "run", "daily_refresh"]
    started = time.time()
    stages.append(run_stage(f"full build ({len(days) - 1} delivery days)", daily, env, log))
    direct = direct_sql(started, folder / "data" / "warehouse.duckdb", folder)
    print(direct.line(), flush=True)
    if target == "postgres":
        stages += postgres_stages("full build on PostgreSQL", env, log)
    land_days(generated / "landing", landing, days[-1:])
    stages.append(run_stage("incremental run (one more day)", daily, env, log))
    if target == "postgres":
        stages += postgres_stages("incremental run on PostgreSQL", env, log)
    full, incremental = stages[1], stages[2 if target != "postgres" else 4]
    counts = row_counts(folder / "data" / "warehouse.duckdb")
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    summary = [
        f"{customers:,} customers, target {target}, probe {probe_ms()}, commit "
        f"{current_commit(ROOT)}{' with changes' if dirty else ''}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        *[line for stage in stages for line in stage.lines()],
        "rows: " + ", ".join(f"{table} {n:,}" for table, n in counts.items()),
        "the full build's dbt SQL run directly:",
        direct.line(),
        f"incremental / full: CPU {incremental.cpu / full.cpu:.0%}, "
        f"wall {incremental.wall / full.wall:.0%}",
    ]
    return summary


def postgres_stages(name: str, env: dict[str, str], log: Path) -> list[Stage]:
    pg = {**env, "GOGAEK_DBT_TARGET": "postgres"}
    python = sys.executable
    return [
        run_stage(f"{name}: mirror", [python, "-m", "ingest.postgres_mirror"], pg, log),
        run_stage(
            f"{name}: build",
            [python, "-m", "orchestration", "build", "--select", WAREHOUSE_BUILD],
            pg,
            log,
        ),
    ]


def write_page(summary: Sequence[str], page: Path = PAGE) -> None:
    text = page.read_text(encoding="utf-8")
    block = "\n".join([START, "```text", *summary, "```", END])
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## make bench\n\n" + block + "\n"
    page.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--target", choices=("duckdb", "postgres"), default="duckdb")
    parser.add_argument(
        "--folder",
        type=Path,
        default=Path(os.environ.get("GOGAEK_DATA_DIR", "data")) / "bench",
        help="where it generates and builds (emptied first; default <data folder>/bench)",
    )
    parser.add_argument("--no-page", action="store_true", help="print only; leave the docs")
    args = parser.parse_args(argv)
    summary = bench(args.customers, args.target, args.folder.resolve())
    print("\n".join(["", *summary]))
    if not args.no_page:
        write_page(summary)
        print(f"written to {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
