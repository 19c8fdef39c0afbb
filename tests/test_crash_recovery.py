"""Crash recovery without a person: `kill -9` at the worst moments, then the next run goes on
unattended — the killed run is marked failed, its pool slot freed, its leftovers removed."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import TypeVar

import dagster as dg
import duckdb
import pytest
import yaml
from dagster._core.events import DagsterEventType
from dagster._daemon.monitoring.concurrency import execute_concurrency_slots_iteration
from dagster._daemon.monitoring.run_monitoring import monitor_started_run

from ingest.personal_data import scan_file, scan_tree
from ingest.schemas import ENTITIES
from ingest.work_folders import remove_stale
from orchestration.recovery import LocalRunLauncher, pool_holders
from tests.conftest import copy_pipeline

# Builds a warehouse (dbt, Dagster): the full tier, not `make test-fast`.
pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parents[1]
POOL = "duckdb_warehouse"
T = TypeVar("T")


def _wait_for(condition: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _dagster_home(tmp_path: Path, free_slots_after: int | None = None) -> Path:
    """The project's dagster.yaml (launcher, run monitoring, pools) with storage under tmp."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = yaml.safe_load((PROJECT / "dagster.yaml").read_text(encoding="utf-8"))
    config["storage"]["sqlite"]["base_dir"] = str(home / "storage")
    config["local_artifact_storage"]["config"]["base_dir"] = str(home / "artifacts")
    config["compute_logs"]["config"]["base_dir"] = str(home / "compute_logs")
    if free_slots_after is not None:
        config["run_monitoring"]["free_slots_after_run_end_seconds"] = free_slots_after
    (home / "dagster.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    # Create the SQLite schema here, once: a worker process and this test opening a new home
    # at the same moment both run the migrations and one fails ("alembic_version exists").
    with dg.DagsterInstance.from_config(str(home)):
        pass
    return home


def _env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def _claimed(instance: dg.DagsterInstance) -> set[str]:
    return {
        slot.run_id for slot in instance.event_log_storage.get_concurrency_info(POOL).claimed_slots
    }


HOLDER = textwrap.dedent("""
    import time
    import dagster as dg

    @dg.op(pool="duckdb_warehouse")
    def hold_the_warehouse():
        time.sleep(300)

    @dg.job
    def holder():
        hold_the_warehouse()

    holder.execute_in_process(instance=dg.DagsterInstance.get())
""")


def test_run_monitoring_fails_a_killed_run_and_frees_its_slot(tmp_path: Path) -> None:
    """The daemon's path (dagster dev, production): Dagster's own run monitoring, with the
    worker check our launcher adds, marks the dead run failed; its slot is freed after it."""
    home = _dagster_home(tmp_path, free_slots_after=1)
    script = tmp_path / "holder.py"
    script.write_text(HOLDER, encoding="utf-8")
    worker = subprocess.Popen(
        [sys.executable, str(script)], cwd=PROJECT, env=_env(DAGSTER_HOME=str(home))
    )
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            run_id = _wait_for(
                lambda: next(iter(_claimed(instance)), None), 60, "the run to take the pool slot"
            )
            # What a waiting run prints: who holds the pool, and its worker.
            [holder] = pool_holders(instance, POOL)
            assert run_id in holder and "STARTED" in holder and f"pid {worker.pid}" in holder
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
            assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED
            assert isinstance(instance.run_launcher, LocalRunLauncher)

            logger = logging.getLogger("run_monitoring")
            # workspace: only used to resume a run, and max_resume_run_attempts is 0
            monitor_started_run(instance, None, instance.get_run_record_by_id(run_id), logger)

            assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
            time.sleep(1.5)  # free_slots_after_run_end_seconds
            list(execute_concurrency_slots_iteration(SimpleNamespace(instance=instance), logger))
            assert _claimed(instance) == set()
    finally:
        if worker.poll() is None:
            worker.kill()


def test_a_killed_publish_leaves_nothing_the_next_one_keeps(tmp_path: Path) -> None:
    serving = tmp_path / "serving"
    serving.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import time
        from pathlib import Path
        from ingest.work_folders import work_folder
        with work_folder(Path({str(serving)!r}), ".publish-killed") as folder:
            (folder / "operational.duckdb").write_bytes(b"personal data")
            time.sleep(300)
    """),
        ],
        cwd=PROJECT,
        env=_env(),
    )
    try:
        leftover = serving / ".publish-killed" / "operational.duckdb"
        _wait_for(leftover.exists, 30, "the publish folder")
        assert remove_stale(serving, ".publish-*") == []  # its owner is alive: kept
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        assert remove_stale(serving, ".publish-*") == [serving / ".publish-killed"]
        assert list(serving.iterdir()) == []
    finally:
        if holder.poll() is None:
            holder.kill()


MARTS = (
    "core.fct_orders",
    "core.fct_order_lines",
    "core.dim_customer",
    "marketing.mart_customer_rfm",
    "marketing.mart_kpi_monthly",
    "marketing.mart_customer_ltv",
    "marketing.mart_churn_risk",
    "crm.mart_customer_360",
)


# Every raw table and the quarantine: a run over files and shop rows already loaded adds nothing.
RAW = ("raw._quarantine", *(f"raw.{spec.name}" for spec in ENTITIES))


def _contents(warehouse: Path) -> dict[str, tuple]:
    """Rows and a hash of every row, per mart; rows per raw table."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        marts = {
            table: con.execute(
                f"select count(*), sum(hash(to_json(t))) from {table} as t"
            ).fetchone()
            for table in MARTS
        }
        raw = {table: con.execute(f"select count(*) from {table}").fetchone() for table in RAW}
        return {**marts, **raw}
    finally:
        con.close()


def test_a_run_killed_mid_dbt_is_recovered_by_the_next_run(pipeline, tmp_path: Path) -> None:
    """`make demo` killed with SIGKILL while dbt builds staging; the next `make demo` marks
    the dead run failed, takes its pool slot, waits for the orphaned dbt to let go of the
    warehouse, and ends with the same marts and a complete publish — no one touches anything.
    Both runs read sources the shared build had loaded: they load nothing twice (the raw
    tables and the quarantine keep their rows)."""
    root = copy_pipeline(pipeline, tmp_path / "data")
    home = _dagster_home(tmp_path)
    env = _env(DAGSTER_HOME=str(home), GOGAEK_DATA_DIR=str(root))
    env.pop("GOGAEK_WAREHOUSE", None)
    before = _contents(root / "warehouse.duckdb")
    demo = [sys.executable, "-m", "orchestration", "run", "daily_refresh"]

    first = subprocess.Popen(
        demo, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:

            def dbt_started() -> str | None:
                for run in instance.get_runs():
                    steps = {
                        r.event_log_entry.step_key
                        for r in instance.get_records_for_run(
                            run.run_id, of_type=DagsterEventType.STEP_START
                        ).records
                    }
                    if "dbt_staging" in steps:
                        return run.run_id
                return None

            killed = _wait_for(dbt_started, 600, "the first run to start dbt_staging")
            time.sleep(3)  # inside dbt build
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
            # The state that used to need a person: STARTED forever, holding the pool.
            assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.STARTED
            assert killed in _claimed(instance)

            second = subprocess.run(
                demo, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=900
            )
            output = second.stdout + second.stderr
            assert second.returncode == 0, output[-3000:]
            assert f"recovered: run {killed}" in output
            next_run = re.search(r"Dagster run (\S+) of job daily_refresh: SUCCESS", output)
            assert next_run, output[-3000:]
            assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.FAILURE
            assert _claimed(instance) == set()
    finally:
        if first.poll() is None:
            first.kill()

    assert _contents(root / "warehouse.duckdb") == before
    bi = duckdb.connect(str(root / "serving" / "bi.duckdb"), read_only=True)
    assert bi.execute("select distinct run_id from publish_log").fetchall() == [
        (next_run.group(1),)
    ]
    bi.close()
    leftovers = [
        p
        for p in root.rglob("*")
        if p.name.startswith((".publish-", ".mirror-")) or p.suffix in (".stage", ".wal", ".tmp")
    ]
    assert leftovers == []
    written = [p for p in root.iterdir() if p.name not in ("landing", "shop.sqlite", "truth")]
    findings = [f for p in [*written, home] for f in (scan_tree(p) if p.is_dir() else scan_file(p))]
    assert findings == []
