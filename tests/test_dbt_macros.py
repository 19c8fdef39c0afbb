"""Python steps that run before dbt (the erasure, the loaders' erasure-list check) use the dbt
project's own macros for the rules staging applies, so a phone or an e-mail is the same value
to both."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import jinja2
import pytest

from ingest.dbt_macros import macro_sql
from ingest.erasure_list import email_sql, phone_digits_sql

# Spellings real sources send for one mobile (ERP exports, shop forms, ESP SMS recipients).
ONE_MOBILE = (
    "010-1234-5678",
    "01012345678",
    "010 1234 5678",
    "+82 10-1234-5678",
    "+82 010-1234-5678",  # a trunk zero kept after the country code
    "82-10-1234-5678",
    "821012345678",
    " 010.1234.5678 ",
    "０１０-１２３４-５６７８",  # full-width digits, as a Korean IME in full-width mode types them
)


def _value(expression: str, value: str | None) -> str | None:
    return duckdb.execute(f"select {expression} from (select ?::varchar as v)", [value]).fetchone()[
        0
    ]


@pytest.mark.parametrize("spelling", ONE_MOBILE)
def test_every_spelling_of_a_mobile_is_one_erasure_key(spelling: str) -> None:
    assert _value(phone_digits_sql("v"), spelling) == "01012345678"


@pytest.mark.parametrize(
    ("value", "national"),
    [
        ("02-123-4567", "021234567"),  # Seoul, nine digits
        ("821-234-567", "821234567"),  # nine digits starting 82: not a country code
        ("1012345678", "1012345678"),  # a lost leading zero stays as delivered, as in staging
        ("없음", None),  # a placeholder
        ("1234", None),  # an extension
        ("", None),
        (None, None),
    ],
)
def test_numbers_that_are_no_full_mobile(value: str | None, national: str | None) -> None:
    assert _value(phone_digits_sql("v"), value) == national


def test_the_erasure_key_is_the_staging_normalisation() -> None:
    # The macro staging uses, rendered: the erasure adds only its minimum length.
    assert macro_sql("phone_national", "v") in phone_digits_sql("v")
    assert macro_sql("email_normalised", "v") in email_sql("v")
    assert _value(email_sql("v"), "  Kim.MJ@Naver.com ") == "kim.mj@naver.com"
    assert _value(email_sql("v"), "kim.mj") is None


def test_a_macro_that_needs_dbt_does_not_render_in_python() -> None:
    with pytest.raises(jinja2.TemplateError, match="ref"):
        macro_sql("is_placeholder", "v")
    with pytest.raises(KeyError, match="no macro"):
        macro_sql("no_such_macro", "v")


@pytest.mark.parametrize(
    ("value", "seoul"),
    [
        ("2026-11-19 10:00:00", datetime(2026, 11, 19, 10, 0)),  # ERP, shop: local already
        ("2026-11-19T10:00:00+09:00", datetime(2026, 11, 19, 10, 0)),  # call center
        ("2026-11-19T01:00:00Z", datetime(2026, 11, 19, 10, 0)),  # ESP webhooks: UTC
        ("2026-11-19T01:00:00+0000", datetime(2026, 11, 19, 10, 0)),
        ("2026-11-19 01:00:00.25+00", datetime(2026, 11, 19, 10, 0, 0, 250000)),  # PostgreSQL text
        ("2026-11-19", datetime(2026, 11, 19, 0, 0)),  # a date alone: midnight, no offset
        # Korean Excel saves a date-time cell with a 12-hour clock: 오전 (a.m.), 오후 (p.m.).
        ("2026-11-20 오후 3:15:00", datetime(2026, 11, 20, 15, 15)),
        ("2026-11-20 오전 12:05", datetime(2026, 11, 20, 0, 5)),
        ("2026. 11. 20. 오후 3:15", datetime(2026, 11, 20, 15, 15)),
        ("2026-11-20 오후 13:15:00", None),  # no 13 o'clock on a 12-hour clock
        ("2026-11-19 01:00:00 +09:00", None),  # space before the offset: quarantined
        ("2026-11-19 25:00:00", None),
        ("어제", None),
    ],
)
def test_the_loaders_read_timestamps_as_staging_does(value: str, seoul: datetime | None) -> None:
    # The loaders' bad_timestamp and date-bound checks render staging's macro with try_cast;
    # their earlier copy anchored the offset pattern to the whole value, so a UTC value was
    # judged nine hours early.
    assert _value(macro_sql("parse_timestamp", "v", "try_cast"), value) == seoul
    assert "try_cast" not in macro_sql("parse_timestamp", "v")  # staging casts: fails loudly


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("2026-11-19", date(2026, 11, 19)),
        ("20261119", date(2026, 11, 19)),
        ("2026.11.19", date(2026, 11, 19)),
        ("1985. 3. 7.", date(1985, 3, 7)),  # a Korean Excel or Google Sheets date cell
        ("1985. 13. 7.", None),
        ("2026/11/19", None),
        ("2026-02-30", None),
    ],
)
def test_the_loaders_read_dates_as_staging_does(value: str, parsed: date | None) -> None:
    assert _value(macro_sql("parse_date", "v"), value) == parsed


KOREAN_SPREADSHEET_VALUES = (
    ("parse_timestamp", "2026-11-20 오후 3:15:00", datetime(2026, 11, 20, 15, 15)),
    ("parse_timestamp", "2026. 11. 20. 오전 12:05", datetime(2026, 11, 20, 0, 5)),
    ("parse_timestamp", "2026-11-19T01:00:00Z", datetime(2026, 11, 19, 10, 0)),
    ("parse_date", "1985. 3. 7.", date(1985, 3, 7)),
    ("parse_date", "20261119", date(2026, 11, 19)),
)


def test_postgresql_reads_spreadsheet_dates_as_duckdb_does(pg_database: str) -> None:
    """The postgres target's staging uses the macros' default form: same values, same result."""
    import psycopg2

    from ingest.postgres_mirror import pg_params

    with psycopg2.connect(**pg_params(pg_database)) as con, con.cursor() as cursor:
        for macro, value, parsed in KOREAN_SPREADSHEET_VALUES:
            sql = macro_sql(macro, "v", engine="postgres")
            cursor.execute(f"select {sql} from (select %s::text as v) as t", [value])
            assert (value, cursor.fetchone()[0]) == (value, parsed)
            assert _value(macro_sql(macro, "v"), value) == parsed
