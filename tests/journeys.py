"""Running the README's commands the way a user does: `make <target>` in a copy of the project
as a fresh clone holds it, in its own process group (so Ctrl-C reaches it as a terminal sends
it), reading what it prints and what it leaves.

The copy shares this checkout's installed .venv (installing one per test would take minutes);
its own packages come first on the import path, so the code under test is the copy's.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
STAMP = PROJECT / ".venv" / "bin" / ".installed"
# Variables of the outer `make test` and of the developer's shell that a user's make would not
# see: the copy's Makefile sets its own DAGSTER_HOME, data folder and dbt vars.
_NOT_A_USERS = ("GOGAEK_", "DAGSTER_", "DBT_", "PYTEST_", "MAKE", "MFLAGS", "PYTHONPATH")


def project_copy(destination: Path) -> Path:
    """The files a fresh clone holds (tracked, and new ones git does not ignore), at
    `destination`, with this checkout's .venv. The install stamp stays newer than the copy's
    pyproject.toml and lock, so make does not reinstall into the shared .venv."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=PROJECT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = PROJECT / name
        if not source.is_file():
            continue  # deleted in the working tree
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    (destination / ".venv").symlink_to(PROJECT / ".venv")
    older = STAMP.stat().st_mtime - 3600
    for name in ("pyproject.toml", "requirements.lock"):
        os.utime(destination / name, (older, older))
    return destination


def user_env(project: Path, **settings: str) -> dict[str, str]:
    """A user's environment in `project`: none of the test session's settings, `settings` as
    the user would export them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_A_USERS)}
    env["PYTHONPATH"] = str(project)
    env["DO_NOT_TRACK"] = "1"
    return {**env, **settings}


class Command:
    """`make <args>` started in the background in its own session, its output in a file."""

    def __init__(self, project: Path, *args: str, env: dict[str, str] | None = None):
        self.project, self.args = project, args
        self.log = project / f"make-{'-'.join(a.split('=')[0] for a in args)}-{time.time_ns()}.out"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                ["make", *args],
                cwd=project,
                env=env or user_env(project),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first match of `pattern` in the output, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found := re.search(pattern, self.output):
                return found
            if self.process.poll() is not None:
                break
            time.sleep(0.5)
        if found := re.search(pattern, self.output):
            return found
        raise AssertionError(f"{pattern!r} not printed by make {self.args}:\n{self.output[-5000:]}")

    def signal(self, signum: int) -> float:
        """Send `signum` to the whole process group (as a terminal sends Ctrl-C); the seconds
        until every process of the group is gone."""
        started = time.monotonic()
        os.killpg(self.process.pid, signum)
        self.process.wait(timeout=120)
        while _group_alive(self.process.pid) and time.monotonic() - started < 120:
            time.sleep(0.1)
        return time.monotonic() - started

    def finish(self, timeout: float = 900) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise

    def __enter__(self) -> Command:
        return self

    def __exit__(self, *_: object) -> None:
        if self.process.poll() is None or _group_alive(self.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # Zombies of the group are gone for a user: only live members count.
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def make(project: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 900):
    """`make <args>` to the end: (exit status, everything it printed)."""
    result = subprocess.run(
        ["make", *args],
        cwd=project,
        env=env or user_env(project),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=timeout,
    )
    return result.returncode, result.stdout


INSTANCE_QUERY = """
import json, sys
import dagster as dg
with dg.DagsterInstance.get() as instance:
    runs = instance.get_run_records()
    print(json.dumps([
        {"run_id": r.dagster_run.run_id, "job": r.dagster_run.job_name,
         "status": r.dagster_run.status.value, "tags": dict(r.dagster_run.tags)}
        for r in runs
    ]))
"""


def runs_of(project: Path) -> list[dict[str, object]]:
    """The runs the project's Dagster instance records (as the UI lists them), newest first."""
    result = subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-c", INSTANCE_QUERY],
        cwd=project,
        env={**user_env(project), "DAGSTER_HOME": str(project)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])
