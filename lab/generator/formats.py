"""Vectorised rendering of dates, timestamps, amounts and phone numbers as text."""

from __future__ import annotations

import numpy as np

from .pools import PHONE_PREFIXES

S = np.dtypes.StringDType()

DATE_DASH, DATE_COMPACT, DATE_DOTS = 0, 1, 2  # 2026-11-20 / 20261120 / 2026.11.20


def cat(*parts: np.ndarray | str) -> np.ndarray:
    """Element-wise string concatenation (numpy.strings runs in C, unlike a Python loop)."""
    out = np.strings.add(parts[0], parts[1]) if len(parts) > 1 else np.asarray(parts[0], dtype=S)
    for part in parts[2:]:
        out = np.strings.add(out, part)
    return out


def digits(values: np.ndarray, width: int | np.ndarray = 0) -> np.ndarray:
    text = np.asarray(values).astype(np.int64).astype(S)
    return np.strings.zfill(text, width) if not np.isscalar(width) or width else text


def where(mask: np.ndarray, a: np.ndarray | str, b: np.ndarray | str) -> np.ndarray:
    return np.where(mask, np.asarray(a, dtype=S), np.asarray(b, dtype=S)).astype(S)


def empty(n: int) -> np.ndarray:
    return np.full(n, "", dtype=S)


def fmt_yymmdd(days: np.ndarray) -> np.ndarray:
    """The six-digit birth date Koreans give on the phone: 850101 for 1985-01-01."""
    text = np.datetime_as_string(np.asarray(days, dtype="datetime64[D]")).astype(S)
    return np.strings.replace(np.strings.slice(text, 2, 10), "-", "")


def fmt_date(days: np.ndarray, style: np.ndarray | None = None) -> np.ndarray:
    text = np.datetime_as_string(np.asarray(days, dtype="datetime64[D]")).astype(S)
    if style is not None:
        compact = style == DATE_COMPACT
        dots = style == DATE_DOTS
        text[compact] = np.strings.replace(text[compact], "-", "")
        text[dots] = np.strings.replace(text[dots], "-", ".")
    return text


def fmt_ts(sec: np.ndarray) -> np.ndarray:
    """Local wall-clock time without offset, as the ERP and the shop database keep it."""
    text = np.datetime_as_string(np.asarray(sec, dtype="datetime64[s]"), unit="s").astype(S)
    return np.strings.replace(text, "T", " ")


def fmt_iso(sec: np.ndarray) -> np.ndarray:
    """ISO 8601 with the Korean offset, as CTI and ESP exports write it."""
    text = np.datetime_as_string(np.asarray(sec, dtype="datetime64[s]"), unit="s").astype(S)
    return np.strings.add(text, "+09:00")


def fmt_amount(values: np.ndarray, thousands: np.ndarray | None = None) -> np.ndarray:
    """Integers; where `thousands` is set, with separators ("1,234,000") as Excel exports do."""
    text = np.asarray(values, dtype=np.int64).astype(S)
    if thousands is not None and thousands.any():
        idx = np.flatnonzero(thousands)
        text[idx] = np.array([f"{v:,}" for v in np.asarray(values)[idx].tolist()], dtype=S)
    return text


# Phone number layouts seen across the sources.
PH_DASH, PH_PLAIN, PH_SPACE, PH_INTL_DASH, PH_INTL_PLAIN, PH_DOTS, PH_NO_ZERO = range(7)
_SEPARATORS = np.array(["-", "", " ", "-", "", ".", ""], dtype=S)


def _heads() -> np.ndarray:
    rows = []
    for layout in range(7):
        for p in PHONE_PREFIXES:
            if layout == PH_INTL_DASH:
                rows.append("+82-" + p[1:])
            elif layout == PH_INTL_PLAIN:
                rows.append("+82" + p[1:])
            elif layout == PH_NO_ZERO:
                rows.append(p[1:])  # a spreadsheet read the number as numeric
            else:
                rows.append(p)
    return np.array(rows, dtype=S)


_HEADS = _heads()


def fmt_phone(
    prefix: np.ndarray,
    mid: np.ndarray,
    mid_len: np.ndarray,
    last: np.ndarray,
    last_len: np.ndarray,
    layout: np.ndarray,
) -> np.ndarray:
    layout = np.asarray(layout, dtype=np.int64)
    head = _HEADS[layout * len(PHONE_PREFIXES) + np.asarray(prefix, dtype=np.int64)]
    sep = _SEPARATORS[layout]
    return cat(head, sep, digits(mid, mid_len), sep, digits(last, last_len))


def phone_digits(values: list[str]) -> list[str]:
    """Digits of a phone as dialled domestically (+82 10 ... -> 010...)."""
    out = []
    for v in values:
        d = "".join(ch for ch in v if ch.isdigit())
        out.append("0" + d[2:] if d.startswith("82") else d)
    return out
