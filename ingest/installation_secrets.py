"""The two secrets of an installation: the RRN hash salt and the erasure list's key.

Neither has a public default. Each comes from its environment variable when set, else from a
file of this installation (`GOGAEK_SECRETS_FILE`, default `<data folder>/secrets.env`, mode
0600), written with random values the first time the project runs on a data folder. A salt
printed in a README would make every stored RRN hash reversible by anyone: there are only about
10^11 possible numbers.

The file must be backed up with the warehouse and never changed: a new salt makes every earlier
RRN hash unmatchable, a new erasure key lets erased people load again.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

RRN_SALT = "GOGAEK_RRN_SALT"
ERASURE_SECRET = "GOGAEK_ERASURE_SECRET"
NAMES = (RRN_SALT, ERASURE_SECRET)

_HEADER = (
    "# gogaek's secrets for this installation, generated on its first run.\n"
    "# Back this file up with the warehouse and never change it: without it the hashed resident\n"
    "# registration numbers match nothing and erased people are no longer recognised at load.\n"
    "# An environment variable of the same name takes precedence.\n"
)


class SecretsError(RuntimeError):
    """The secrets cannot be read, or generating them would break an existing warehouse."""


@dataclass(frozen=True)
class InstallationSecrets:
    rrn_salt: str
    erasure_secret: str
    # Where each came from, for `make settings`: "environment" or the file's path.
    origin: Mapping[str, str]


def read_secrets_file(path: Path) -> dict[str, str]:
    """The NAME=value lines of the secrets file; both names must be there."""
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, sep, value = text.partition("=")
        if not sep or name.strip() not in NAMES or not value.strip():
            raise SecretsError(
                f"{path}, line {number}: expected {' or '.join(NAMES)}=<value>, not {text[:40]!r}"
            )
        values[name.strip()] = value.strip()
    missing = [name for name in NAMES if name not in values]
    if missing:
        raise SecretsError(f"{path} lacks {', '.join(missing)}; restore the file from a backup")
    return values


def ensure_secrets_file(path: Path, warehouse: Path) -> None:
    """Write the secrets file with new random values unless it exists.

    Refuses when the warehouse already exists without it: that warehouse was built with other
    secrets (an installation from before they were generated, or a lost file), and new ones would
    silently break its hashes and its erasure list.
    """
    if path.exists():
        return
    if warehouse.exists():
        raise SecretsError(
            f"the warehouse {warehouse} exists but the secrets file {path} does not. The "
            f"warehouse's RRN hashes and erasure list were made with secrets that file should "
            f"hold: restore it from your backup, or set {RRN_SALT} and {ERASURE_SECRET} to the "
            f"values it was built with (a warehouse built before gogaek generated secrets used "
            f"the old public defaults gogaek-local-dev-salt and gogaek-local-erasure-secret; "
            f"rebuild it from the sources to leave them). Demo data: delete the data folder."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    text = _HEADER + "".join(f"{name}={secrets.token_urlsafe(32)}\n" for name in NAMES)
    # Written whole under another name and linked into place: two processes starting at once
    # (the UI's webserver and daemon) end up with the same file, never half of one.
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    handle = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        # Another process may win the race: its file stands.
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)


def installation_secrets(path: Path, environ: Mapping[str, str]) -> InstallationSecrets:
    """The secrets: each from the environment when set there, else from the file."""
    chosen = {name: environ[name] for name in NAMES if environ.get(name)}
    origin = dict.fromkeys(chosen, "environment")
    if len(chosen) < len(NAMES):
        if not path.exists():
            raise SecretsError(
                f"the secrets file {path} does not exist: it is written on the first run of a "
                f"new data folder; if this installation had one, restore it from your backup"
            )
        stored = read_secrets_file(path)
        for name in NAMES:
            if name not in chosen:
                chosen[name], origin[name] = stored[name], str(path)
    return InstallationSecrets(chosen[RRN_SALT], chosen[ERASURE_SECRET], origin)
