"""Inputs the project's commands read, checked before they open anything: a command run before
`make demo` says what to run, instead of DuckDB's IO error (or, for a command that writes, an
empty warehouse it would create). And how a command ends on Ctrl-C: with a sentence saying what
it left, not a traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn


def run_command(main: Callable[[], int | None], on_stop: str) -> NoReturn:
    """Run a command's `main` and exit with its status; Ctrl-C (which a terminal sends to the
    whole command, make and its children alike) ends it with `on_stop` and status 130."""
    try:
        status = main()
    except KeyboardInterrupt:
        print(f"\nStopped by Ctrl-C: {on_stop}", file=sys.stderr, flush=True)
        status = 130
    sys.exit(status or 0)


def require_warehouse(parser: argparse.ArgumentParser, warehouse: str | Path) -> None:
    """Stop with a usage error (exit 2) when there is no built warehouse at `warehouse`."""
    if not Path(warehouse).is_file():
        parser.error(
            f"no warehouse at {warehouse}: run `make demo` first, or point GOGAEK_WAREHOUSE "
            "(or --warehouse) at a built one"
        )


def require_truth(parser: argparse.ArgumentParser, truth: str | Path) -> None:
    """Stop with a usage error when the generator's answers are not beside its data."""
    if not Path(truth).is_dir():
        parser.error(
            f"no truth folder at {truth}: the evaluation scores against the answers the "
            "generator writes beside its data (`make demo` or `make generate`)"
        )
