"""Tiny definitions for tests/test_run_queue.py: one asset that writes "the warehouse" (it takes
a slot of the warehouse pool, as every step of gogaek that opens it does) and one that does not.
Each appends when it starts and ends to a log file named by QUEUE_TEST_LOG."""

import os
import time
from pathlib import Path

import dagster as dg

from orchestration.resources import WAREHOUSE_POOL


def _log(what: str) -> None:
    with Path(os.environ["QUEUE_TEST_LOG"]).open("a", encoding="utf-8") as handle:
        handle.write(f"{time.time():.3f} {what}\n")


@dg.asset(pool=WAREHOUSE_POOL)
def writes_warehouse(context: dg.AssetExecutionContext) -> None:
    _log(f"start {context.run.run_id}")
    time.sleep(float(os.environ.get("QUEUE_TEST_SECONDS", "3")))
    _log(f"end {context.run.run_id}")


@dg.asset
def reads_nothing_of_ours() -> None:
    _log("other")


defs = dg.Definitions(assets=[writes_warehouse, reads_nothing_of_ours])
