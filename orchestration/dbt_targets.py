"""Where each dbt invocation of a run writes its artefacts, and how it reuses the last parse.

dagster-dbt gives every invocation its own target folder and seeds it with the project's
`target/partial_parse.msgpack`. That file was written by `dbt parse` without the run's `--vars`
(the business settings and the warehouse file), and dbt throws a partial parse away when the
vars, the profile or the target differ: every dbt step of every run parsed the whole project
again (about 7 s of a 10–18 s step on two cores), and the folders piled up without end.

Here an invocation starts from the last parse written with the same vars and target (kept under
`target/parse/<key>/`, replaced atomically after each invocation), so within a run and across
daily runs only changed files are parsed again; and only the newest invocation folders are kept.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PARTIAL_PARSE = "partial_parse.msgpack"
# Invocation folders kept (run_results.json, compiled SQL, dbt.log) for looking into a run.
KEEP_INVOCATIONS = 30
# Parses kept: one per data folder and settings in use (a test suite makes many).
KEEP_PARSES = 10


def parse_key(dbt_vars: str, target: str) -> str:
    """What dbt compares before it reuses a parse: the --vars (which hold the warehouse file,
    the only profile value that changes) and the target. dbt checks again itself: a parse from
    elsewhere costs a full parse, never a wrong result."""
    return hashlib.sha256(f"{target}\0{dbt_vars}".encode()).hexdigest()[:16]


@contextmanager
def invocation_target(target_root: Path, name: str, dbt_vars: str, target: str) -> Iterator[Path]:
    """A new target folder for one dbt invocation, seeded with the last parse of the same key;
    afterwards its parse becomes the one the next invocation starts from."""
    invocations = target_root / "invocations"
    shared = target_root / "parse" / parse_key(dbt_vars, target) / PARTIAL_PARSE
    folder = invocations / f"{name}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    if shared.exists():
        shutil.copyfile(shared, folder / PARTIAL_PARSE)
    try:
        yield folder
    finally:
        written = folder / PARTIAL_PARSE
        if written.exists():
            shared.parent.mkdir(parents=True, exist_ok=True)
            staged = shared.with_name(f".{PARTIAL_PARSE}.{uuid.uuid4().hex[:8]}")
            shutil.copyfile(written, staged)
            os.replace(staged, shared)  # a reader sees the old parse or the new, never half
        prune(invocations, keep=KEEP_INVOCATIONS)
        prune(target_root / "parse", keep=KEEP_PARSES)


def prune(parent: Path, keep: int) -> list[Path]:
    """Remove all but the `keep` newest folders in `parent`; returns what it removed."""
    if not parent.is_dir():
        return []
    folders = sorted((p for p in parent.iterdir() if p.is_dir()), key=_mtime, reverse=True)
    removed = folders[keep:]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def _mtime(path: Path) -> float:
    """Modification time, 0 for a folder another process removed meanwhile (runs on other
    data folders prune the same parent)."""
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0
