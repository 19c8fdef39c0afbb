"""What the evaluation commands (`make contact-eval`, `make identity-eval`) read, checked first:
a missing warehouse or truth folder is a sentence saying what to run, not DuckDB's IO error."""

from __future__ import annotations

import argparse
from pathlib import Path


def require_built(parser: argparse.ArgumentParser, warehouse: str, truth: str) -> None:
    """Stop with a usage error when the warehouse or the generator's truth is missing."""
    if not Path(warehouse).is_file():
        parser.error(
            f"no warehouse at {warehouse}: run `make demo` first, or point GOGAEK_WAREHOUSE "
            "(or --warehouse) at a built one"
        )
    if not Path(truth).is_dir():
        parser.error(
            f"no truth folder at {truth}: the evaluation scores against the answers the "
            "generator writes beside its data (`make demo` or `make generate`)"
        )
