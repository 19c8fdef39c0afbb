"""Resident registration numbers (주민등록번호): find them, and replace them by a salted hash.

Korean law restricts storing RRNs, so nothing the warehouse writes — raw rows, quarantine rows,
temporary files, logs — may hold one in clear. Loaders call `mask_rrns` on every text before it is
written anywhere. The hash is an HMAC of the 13 digits, so the same person's RRN hashes alike in
every source (identity resolution can still match on it) while the number cannot be recovered
without the salt.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date

TOKEN_PREFIX = "rrn_sha256:"

# YYMMDD, optional hyphen or space, gender/century digit 1-8, six more digits. Not touching
# another digit or ASCII letter, so longer numbers (card and order numbers) and hex strings
# (hashes, ids) do not match.
RRN_PATTERN = re.compile(
    r"(?<![0-9A-Za-z])([0-9]{2})([01][0-9])([0-3][0-9])[- ]?([1-8])([0-9]{6})(?![0-9A-Za-z])")

_CENTURY = {"1": 1900, "2": 1900, "5": 1900, "6": 1900, "3": 2000, "4": 2000, "7": 2000, "8": 2000}


def is_date_valid(yy: str, mm: str, dd: str, gender_digit: str) -> bool:
    """True when YYMMDD is a real calendar date for the century the gender digit implies.

    Numbers issued since October 2020 have random trailing digits, so the check digit proves
    nothing; the birth date and gender digit are what make a 13-digit number look like an RRN.
    """
    try:
        date(_CENTURY[gender_digit] + int(yy), int(mm), int(dd))
    except (KeyError, ValueError):
        return False
    return True


def hash_rrn(value: str, salt: str) -> str:
    """Salted hash of an RRN (or of whatever a legacy RRN column holds), as a token."""
    digits = re.sub(r"[^0-9]", "", value) or value.strip()
    digest = hmac.new(salt.encode(), digits.encode(), hashlib.sha256).hexdigest()
    return TOKEN_PREFIX + digest


def find_rrns(text: str) -> list[str]:
    """Every date-valid RRN in `text`."""
    return [m.group(0) for m in RRN_PATTERN.finditer(text) if is_date_valid(*m.groups()[:4])]


def mask_rrns(text: str, salt: str) -> str:
    """`text` with every date-valid RRN replaced by its hash token."""
    if not RRN_PATTERN.search(text):
        return text

    def replace(match: re.Match[str]) -> str:
        if is_date_valid(*match.groups()[:4]):
            return hash_rrn(match.group(0), salt)
        return match.group(0)

    return RRN_PATTERN.sub(replace, text)
