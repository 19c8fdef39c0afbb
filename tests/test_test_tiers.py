"""The test set-up itself: a module's tests share one worker, so its module-scoped build runs
once (pytest 9.2 with xdist 3.8 silently stopped this and every such build ran on both workers)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def test_a_modules_tests_run_on_one_worker() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "--dist",
            "loadgroup",
            "-v",
            "-p",
            "no:cacheprovider",
            "tests/test_settings.py",
            "-k",
            "refused or paths or defaults",
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    workers = re.findall(r"^\[(gw\d)\] .*PASSED tests/test_settings\.py::", done.stdout, re.M)
    assert len(workers) == 3, done.stdout[-3000:]
    assert len(set(workers)) == 1, done.stdout[-3000:]
