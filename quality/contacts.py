"""libphonenumber's second opinion on the staging phone verdicts.

The staging models decide whether a phone number is usable (dbt_project/macros/contacts.sql,
with the Korean numbering plan in the seed phone_prefixes): their `<contact>_status` and
`<contact>_invalid_reason` are the verdict of record. Google's libphonenumber metadata (the
`phonenumbers` package) is an independent reading of the same numbering plan. Where the two
disagree on whether a number exists at all, one of them is out of date: the staging suites'
warning rules `<contact>_confirmed_by_phonenumbers` and `make contact-eval` list those numbers.
Rules libphonenumber does not know — retired 01X prefixes, dummy numbers, placeholders, a
landline in a mobile field, a lost leading zero — are not compared (seed contact_reasons,
column checked_by_libphonenumber).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import phonenumbers

from ingest.vocabularies import phone_reasons_libphonenumber_checks

VALID = "valid"
AGREES = "agrees"


def libphonenumber_valid(raw: str) -> bool:
    """Is `raw` a valid Korean number for libphonenumber?"""
    try:
        number = phonenumbers.parse(raw, "KR")
    except phonenumbers.NumberParseException:
        return False
    return number.country_code == 82 and phonenumbers.is_valid_number(number)


def phonenumbers_opinion(raw: str | None, verdict: str | None) -> str | None:
    """`agrees`, what libphonenumber says instead, or None when there is nothing to compare
    (no value, or a verdict by one of our own rules). `verdict` is `valid` or a reason code."""
    if raw is None or verdict is None:
        return None
    if verdict != VALID and verdict not in phone_reasons_libphonenumber_checks():
        return None
    valid = libphonenumber_valid(raw)
    if valid == (verdict == VALID):
        return AGREES
    return "libphonenumber: valid" if valid else "libphonenumber: not a valid number"


Opinion = Callable[[str | None, str | None], str | None]


def opinions(
    raw: pd.Series, verdict: pd.Series, opinion: Opinion = phonenumbers_opinion
) -> pd.Series:
    """`opinion` over two columns, once per distinct pair (snapshots repeat the same values)."""
    pairs = list(
        zip(
            raw.astype("object").where(raw.notna(), None),
            verdict.astype("object").where(verdict.notna(), None),
            strict=True,
        )
    )
    lookup = {pair: opinion(*pair) for pair in set(pairs)}
    return pd.Series([lookup[pair] for pair in pairs], index=raw.index, dtype="object")
