"""Contact validators: is a phone, e-mail, postal code, name or address as delivered usable?

Each validator turns one value into a verdict — a reason code, `valid` when usable, None when the
value is missing — and `verdicts()` applies one to a whole pandas column, once per distinct value
(master snapshots repeat the same values). Great Expectations then asserts on the verdict columns
(quality/suites.py); quality/contact_eval.py scores them against the generator's truth.

Phones: Google's libphonenumber metadata (the `phonenumbers` package) decides whether a Korean
number exists and of which kind. It still accepts the 011/016/017/018/019 mobile prefixes, whose
service ended in 2021-2023, and dummy numbers typed to pass a mandatory field (010-0000-0000), so
those two rules are ours. A number without its trunk zero (1012345678: a spreadsheet ate it) is
flagged `leading_zero_lost` — repairable, but not dialable as delivered.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd
import phonenumbers
from phonenumbers import PhoneNumberType

VALID = "valid"

# --------------------------------------------------------------------------- phones
LEGACY_MOBILE_PREFIXES = ("11", "16", "17", "18", "19")  # national digits after the trunk 0
# Subscriber digits people type to get past a mandatory field.
DUMMY_SUBSCRIBERS = frozenset({"12345678", "12341234", "00001111", "00001234", "87654321"})
_KIND = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "landline",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "landline",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.UAN: "representative",
    PhoneNumberType.TOLL_FREE: "representative",
    PhoneNumberType.SHARED_COST: "representative",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
    PhoneNumberType.PAGER: "pager",
}
_NON_DIGIT = re.compile(r"[^0-9]")


def phone_kind(national: str) -> str | None:
    """Kind of a Korean number given its national significant digits (no trunk 0), or None."""
    if not national or national[0] == "0":
        return None
    number = phonenumbers.PhoneNumber(country_code=82, national_number=int(national))
    # number_type() runs the region's validity patterns: UNKNOWN means not a valid KR number.
    return _KIND.get(phonenumbers.number_type(number))


def _is_dummy(national: str) -> bool:
    """Subscriber digits (after the area or mobile prefix) all alike, a well-known sequence, or
    a mobile with a 0000 middle block."""
    prefix = 1 if national.startswith("2") else 2
    subscriber = national[prefix:]
    if len(subscriber) < 7:
        return False
    middle = subscriber[: len(subscriber) - 4]
    return (len(set(subscriber)) == 1 or subscriber in DUMMY_SUBSCRIBERS
            or (national.startswith("1") and set(middle) == {"0"}))


def phone_verdict(value: str | None, mobile_field: bool = False) -> str | None:
    """`valid`, a reason code, or None when missing.

    Reasons: too_short, too_long, invalid_number, leading_zero_lost, legacy_prefix,
    dummy_number, not_a_mobile (a landline in a mobile field).
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    digits = _NON_DIGIT.sub("", text)
    if not digits:
        return "invalid_number"
    zero_lost = False
    if text.startswith("+82") or (digits.startswith("82") and len(digits) in (11, 12)):
        national = digits[2:].lstrip("0")
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        national, zero_lost = digits, True
    if _is_dummy(national):
        return "dummy_number"
    kind = phone_kind(national)
    if kind is None:
        if len(national) < 8 or (national.startswith("1") and len(national) < 10 and not zero_lost):
            return "too_short"
        return "too_long" if len(national) > 10 else "invalid_number"
    if zero_lost and len(national) >= 9:
        return "leading_zero_lost"
    if kind == "mobile" and national[:2] in LEGACY_MOBILE_PREFIXES:
        return "legacy_prefix"
    if mobile_field and kind != "mobile":
        return "not_a_mobile"
    return VALID


def mobile_verdict(value: str | None) -> str | None:
    return phone_verdict(value, mobile_field=True)


def phone_e164(value: str | None) -> str | None:
    """E.164 form of a valid number, for checking the staged canonical values."""
    if phone_verdict(value) != VALID:
        return None
    return phonenumbers.format_number(phonenumbers.parse(value, "KR"),
                                      phonenumbers.PhoneNumberFormat.E164)


# --------------------------------------------------------------------------- e-mail
# Domains Korean customers use most; a domain one edit away from one of them is a typo.
POPULAR_DOMAINS = frozenset({
    "naver.com", "gmail.com", "daum.net", "hanmail.net", "nate.com", "kakao.com",
    "hotmail.com", "icloud.com", "yahoo.co.kr", "outlook.com", "korea.kr", "empas.com",
    "paran.com", "lycos.co.kr", "dreamwiz.com", "hanmir.com", "chol.com", "yahoo.com",
})
# Mistypes further than one edit away, or close to a domain not listed above. A superset of
# dbt_project/macros/contacts.sql email_typo_domains() (a test keeps them in step).
KNOWN_TYPO_DOMAINS: dict[str, str] = {
    "naver.con": "naver.com", "naver.co": "naver.com", "navr.com": "naver.com",
    "naver.cm": "naver.com", "nave.com": "naver.com", "naaver.com": "naver.com",
    "gmial.com": "gmail.com", "gmail.con": "gmail.com", "gmai.com": "gmail.com",
    "gamil.com": "gmail.com", "gmail.co": "gmail.com",
    "hanmial.net": "hanmail.net", "hanmail.ent": "hanmail.net", "hanmail.com": "hanmail.net",
    "hamail.net": "hanmail.net",
    "daum.ent": "daum.net", "daum.com": "daum.net", "duam.net": "daum.net",
    "nate.con": "nate.com", "kakao.con": "kakao.com",
}
PLACEHOLDERS = frozenset({"없음", "-", "x", "xx", "모름", "none", "na", "n/a", "no", "0", "."})
EMAIL_SYNTAX = re.compile(r"^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$")


def _one_edit_apart(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance exactly 1 (one insert, delete, change or swap)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def suggest_domain(domain: str) -> str | None:
    """The popular domain a mistyped domain was meant to be, or None."""
    if domain in POPULAR_DOMAINS:
        return None
    if domain in KNOWN_TYPO_DOMAINS:
        return KNOWN_TYPO_DOMAINS[domain]
    matches = [p for p in POPULAR_DOMAINS if _one_edit_apart(domain, p)]
    return matches[0] if len(matches) == 1 else None


def email_verdict(value: str | None) -> str | None:
    """`valid`, or no_at_sign / placeholder / bad_format / typo_domain; None when missing."""
    if value is None or not value.strip():
        return None
    email = value.strip().lower()
    if email in PLACEHOLDERS or not re.search(r"[a-z0-9]", email):
        return "placeholder"
    if "@" not in email:
        return "no_at_sign"
    if not EMAIL_SYNTAX.match(email):
        return "bad_format"
    if suggest_domain(email.rsplit("@", 1)[1]):
        return "typo_domain"
    return VALID


# --------------------------------------------------------------------------- postal codes
def recipient_verdict(value: str | None) -> str | None:
    """An ESP recipient: an e-mail address, or a mobile number for SMS campaigns."""
    if value is not None and re.fullmatch(r"[0-9+\-() .]+", value.strip()):
        return mobile_verdict(value)
    return email_verdict(value)


def postal_verdict(value: str | None) -> str | None:
    """`valid` (5 digits since 2015), legacy_6_digit, leading_zero_lost, bad_format; None."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if re.fullmatch(r"[0-9]{5}", text):
        return VALID
    if re.fullmatch(r"[0-9]{3}-?[0-9]{3}", text):
        return "legacy_6_digit"
    if re.fullmatch(r"[0-9]{4}", text):
        return "leading_zero_lost"  # Seoul's 0xxxx read as a number
    return "bad_format"


def presence_verdict(value: str | None) -> str | None:
    """Names and addresses: present or not (their content is not checked here)."""
    return VALID if value is not None and value.strip() else None


# --------------------------------------------------------------------------- columns
Validator = Callable[[str | None], str | None]


def verdicts(column: pd.Series, validator: Validator) -> pd.Series:
    """The validator applied once per distinct value; missing values stay missing (None)."""
    values = column.astype("object").where(column.notna(), None)
    distinct = pd.unique(values)
    lookup = {v: validator(v) for v in distinct if v is not None}
    return values.map(lambda v: lookup.get(v) if v is not None else None).astype("object")


# --------------------------------------------------------------------------- where contacts live
# Per raw contact table: key column, and per contact field its raw column and validator.
# The generator's truth (truth/contacts.csv) uses the same field names.
FIELD_VALIDATORS: dict[str, Validator] = {
    "name": presence_verdict, "mobile": mobile_verdict, "home_phone": phone_verdict,
    "work_phone": phone_verdict, "fax": phone_verdict, "email": email_verdict,
    "postal_code": postal_verdict, "address": presence_verdict,
}
RAW_CONTACT_TABLES: dict[str, tuple[str, str, dict[str, str]]] = {
    # truth source: (raw table, key column, {field: raw column})
    "erp_customer": ("raw.erp_customers", "고객번호", {
        "name": "고객명", "mobile": "휴대폰", "home_phone": "자택전화", "work_phone": "직장전화",
        "fax": "팩스", "email": "이메일", "postal_code": "우편번호", "address": "주소"}),
    "shop_member": ("raw.shop_members", "member_id", {
        "name": "name", "mobile": "mobile", "email": "email", "postal_code": "zipcode",
        "address": "address1"}),
    "callcenter_call": ("raw.callcenter_calls", "call_id", {"phone": "caller_number"}),
}
