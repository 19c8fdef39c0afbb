"""The test set-up itself: a module's tests share one worker, so its module-scoped build runs
once (pytest 9.2 with xdist 3.8 silently stopped this and every such build ran on both workers)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

MODULE = """
import os
import pytest

@pytest.mark.parametrize("i", range(4))
def test_one(i):
    print(os.environ["PYTEST_XDIST_WORKER"])
"""


def test_a_modules_tests_run_on_one_worker(tmp_path: Path) -> None:
    """This project's grouping hook (imported from tests/conftest.py), with the pinned pytest
    and xdist, on two modules of four tests each."""
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_collection_modifyitems  # noqa: F401\n",
        encoding="utf-8",
    )
    for name in ("test_a.py", "test_b.py"):
        (tmp_path / name).write_text(MODULE, encoding="utf-8")
    xdist = ["-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *xdist, "-v", "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(PROJECT), "PATH": str(Path(sys.executable).parent)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    ran = re.findall(r"^\[(gw\d)\] .*PASSED (test_[ab])\.py::", done.stdout, re.M)
    assert len(ran) == 8, done.stdout[-3000:]
    for module in ("test_a", "test_b"):
        assert len({worker for worker, m in ran if m == module}) == 1, done.stdout[-3000:]
