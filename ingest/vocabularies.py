"""The vocabularies of the sources, read from the dbt seeds that own them.

A vocabulary (the ESP's event types, call directions, ticket statuses) is data: it lives once,
as a CSV in dbt_project/seeds/, where staging checks delivered values against it. Python reads
the same files here instead of restating the lists.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"


@cache
def seed_rows(seed: str) -> tuple[dict[str, str], ...]:
    """The rows of seed `seed` as text, in file order."""
    with (SEEDS_DIR / f"{seed}.csv").open(encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


def vocabulary(seed: str, column: str) -> tuple[str, ...]:
    """The values of `column` in seed `seed`, in file order."""
    return tuple(row[column] for row in seed_rows(seed))


def esp_event_types() -> tuple[str, ...]:
    return vocabulary("esp_event_types", "event_type")


def call_directions() -> tuple[str, ...]:
    return vocabulary("call_directions", "direction")


def ticket_statuses() -> tuple[str, ...]:
    return vocabulary("ticket_statuses", "ticket_status")


def phone_reasons_libphonenumber_checks() -> frozenset[str]:
    """Phone verdict reasons about whether a number exists at all (seed contact_reasons)."""
    return frozenset(
        row["reason"]
        for row in seed_rows("contact_reasons")
        if row["contact_type"] == "phone" and row["checked_by_libphonenumber"] == "true"
    )
