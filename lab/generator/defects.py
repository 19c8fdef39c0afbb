"""How dirty the generated data is: every rate in one place, and the contact defect codes.

Rates are per source record (per row for the event feeds). They are repeated in
truth/manifest.json so the quality checks can be compared with what was injected.
"""

from __future__ import annotations

import numpy as np

DEFECT_RATES: dict[str, float] = {
    # --- the same person registered twice inside one system
    "erp_duplicate_person": 0.03,  # walk-in customer re-registered under a second 고객번호
    "shop_duplicate_account": 0.02,  # forgot the password, opened a second account
    # --- ERP: staff type what the customer dictates at the counter
    "erp_mobile_missing": 0.04,  # left empty (on top of people without a mobile)
    "erp_mobile_too_short": 0.01,  # digits dropped while typing: 010-123-456
    "erp_mobile_dummy": 0.01,  # 010-0000-0000 typed to get past a mandatory field
    "erp_mobile_legacy_prefix": 0.03,  # 011/016/017/018/019 numbers, out of service since 2021
    "erp_mobile_leading_zero_lost": 0.005,  # a spreadsheet round trip turned 010... into 10...
    "erp_home_phone_too_short": 0.01,  # 02-123-456
    "erp_home_phone_dummy": 0.005,  # 02-000-0000
    "erp_email_missing": 0.12,  # not asked (on top of people without e-mail)
    "erp_email_no_at_sign": 0.01,  # kimms.naver.com, kimms＠naver.com (full-width at sign)
    "erp_email_typo_domain": 0.03,  # naver.con, gmial.com, hanmial.net, daum.ent, navr.com
    "erp_email_placeholder": 0.005,  # 없음 / - / x typed into the e-mail field
    "erp_postcode_legacy": 0.10,  # 6-digit 123-456 codes, replaced by 5-digit codes in 2015
    "erp_postcode_missing": 0.03,  # address kept without its postal code
    "erp_postcode_leading_zero_lost": 0.01,  # Seoul 0xxxx codes read as numbers: 6236
    "erp_address_missing": 0.02,  # no address at all
    "erp_rrn_filled": 0.40,  # legacy 주민등록번호 column still filled
    "erp_rrn_in_memo": 0.005,  # RRN pasted into 비고: "주민번호 850101-1234567 확인"
    "erp_birth_date_missing": 0.12,  # 생년월일 not asked
    "erp_date_compact": 0.03,  # ERP dates written 20261120 (still valid)
    "erp_date_dots": 0.03,  # ERP dates written 2026.11.20 (still valid)
    "erp_amount_thousands": 0.03,  # amounts written "1,234,000" (still valid)
    # --- shop: the web form validates, so fewer defects
    "shop_mobile_missing": 0.02,  # optional field at sign-up
    "shop_mobile_dummy": 0.005,  # 010-0000-0000 to avoid marketing calls
    "shop_email_typo_domain": 0.01,  # the form checks the shape of an address, not the domain
    "shop_email_missing": 0.03,  # signed up with a social login
    "shop_postcode_missing": 0.06,  # address not entered until the first order
    "shop_postcode_legacy": 0.01,  # members migrated from the old shop
    "shop_address_missing": 0.05,
    "shop_birth_date_missing": 0.30,  # optional field
    # --- call center
    "call_non_customer": 0.10,  # share of calls from people who are no customer
    "call_hidden_number": 0.03,  # caller withheld the number (null)
    "call_number_too_short": 0.005,  # CTI recorded a truncated number
    "call_name_missing": 0.20,  # agent did not type the name
    "call_rrn_in_memo": 0.002,  # agent noted the RRN used for identification
    # 본인확인: the agent asks name and birth date (noted in the memo as 생년월일 YYMMDD) nearly
    # always when the CRM finds nobody by the caller number, now and then when it does
    "call_birth_verified_number_unknown": 0.90,
    "call_birth_verified_number_found": 0.05,
    # --- the same person written differently across systems (values stay valid)
    "name_inner_space": 0.05,  # 김 민수 vs 김민수
    "name_trailing_space": 0.03,  # '김민수 ' (fixed-width legacy fields)
    "email_mixed_case": 0.05,  # Kim.MS@Naver.com
    # --- ESP webhook feed
    "esp_duplicate_event": 0.02,  # the same event delivered twice (same event_id)
    "esp_late_event": 0.01,  # arrives in a later day's file than the day it occurred
}

# Contact defect codes shared by every contact field; status follows from the code.
OK, MISSING, TOO_SHORT, DUMMY, LEGACY_PREFIX, ZERO_LOST = 0, 1, 2, 3, 4, 5
NO_AT, TYPO_DOMAIN, PLACEHOLDER, LEGACY_POSTCODE = 6, 7, 8, 9
DEFECT_NAMES = np.array(
    [
        "",
        "missing",
        "too_short",
        "dummy_number",
        "legacy_prefix",
        "leading_zero_lost",
        "no_at_sign",
        "typo_domain",
        "placeholder",
        "legacy_postcode",
    ],
    dtype=np.dtypes.StringDType(),
)
STATUS_NAMES = np.array(
    ["valid", "missing"] + ["invalid"] * (len(DEFECT_NAMES) - 2), dtype=np.dtypes.StringDType()
)


def draw(rng: np.random.Generator, n: int, outcomes: dict[int, float]) -> np.ndarray:
    """One code per record: each outcome with its rate, mutually exclusive, 0 otherwise."""
    u = rng.random(n)
    codes = np.zeros(n, dtype=np.int8)
    edge = 0.0
    for code, rate in outcomes.items():
        codes[(u >= edge) & (u < edge + rate)] = code
        edge += rate
    return codes


def draw_flag(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    return rng.random(n) < rate
