"""The test set-up itself: a module's tests share one worker, so its module-scoped build runs
once (pytest 9.2 with xdist 3.8 silently stopped this and every such build ran on both workers),
and a build shared by the session is made once for all workers."""

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


SHARED = """
import os
import time
from pathlib import Path

import pytest

from tests.conftest import once_per_session


@pytest.fixture(scope="session")
def shared(tmp_path_factory, worker_id):
    def build(folder: Path) -> str:
        with open(os.environ["BUILDS_LOG"], "a") as log:
            log.write(worker_id + "\\n")
        time.sleep(2)  # the other worker asks meanwhile
        (folder / "made").write_text("yes")
        return worker_id

    return once_per_session(tmp_path_factory, worker_id, "shared", build)


@pytest.mark.parametrize("i", range(2))
def test_reads(shared, i):
    folder, builder = shared
    assert (folder / "made").read_text() == "yes"
    with open(os.environ["READS_LOG"], "a") as log:
        log.write(os.environ["PYTEST_XDIST_WORKER"] + " " + builder + "\\n")
"""


def test_a_session_build_is_made_once_for_every_worker(tmp_path: Path) -> None:
    """Two modules, one per worker, need the same session build: one worker makes it, both read
    it (tests/conftest.py once_per_session, behind the `pipeline` fixture)."""
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_collection_modifyitems  # noqa: F401\n",
        encoding="utf-8",
    )
    for name in ("test_a.py", "test_b.py"):
        (tmp_path / name).write_text(SHARED, encoding="utf-8")
    builds, reads = tmp_path / "builds.log", tmp_path / "reads.log"
    xdist = ["-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *xdist, "-v", "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path,
        env={
            "PYTHONPATH": str(PROJECT),
            "PATH": str(Path(sys.executable).parent),
            "BUILDS_LOG": str(builds),
            "READS_LOG": str(reads),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    [builder] = builds.read_text().split()
    seen = [line.split() for line in reads.read_text().splitlines()]
    assert len(seen) == 4 and {worker for worker, _ in seen} == {"gw0", "gw1"}
    assert {built_by for _, built_by in seen} == {builder}
