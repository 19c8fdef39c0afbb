"""Private work folders under the project's data folder, and the removal of those a killed
process left behind.

A step that must write intermediate files holding personal data (the publish builds the BI and
operational files; the PostgreSQL mirror stages raw tables as CSV) writes them into a folder of
its own beside its output — never the system temp folder — created with mode 0700 and holding an
exclusive lock (flock) on `.lock` while it works. The kernel drops the lock when the process
dies, however it dies, so the next process knows a folder whose lock it can take is stale and
removes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

_LOCK = ".lock"
# A folder without a lock file is being created, or was left by a version that took no lock.
_UNLOCKED_STALE_SECONDS = 600


@contextlib.contextmanager
def work_folder(parent: Path, name: str) -> Iterator[Path]:
    """`parent/name`, private and locked while in use, removed afterwards."""
    folder = Path(parent) / name
    folder.mkdir(mode=0o700, parents=False)
    descriptor = os.open(folder / _LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(descriptor)


def remove_stale(parent: Path, pattern: str) -> list[Path]:
    """Remove the folders matching `pattern` under `parent` whose owner is gone; the removed."""
    removed = []
    for folder in sorted(Path(parent).glob(pattern)):
        if not folder.is_dir():
            continue
        try:
            descriptor = os.open(folder / _LOCK, os.O_RDWR)
        except FileNotFoundError:
            if time.time() - folder.stat().st_mtime > _UNLOCKED_STALE_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # its owner is alive
        else:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(descriptor)
    return removed
