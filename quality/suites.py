"""The Great Expectations suites, in code: which table each guards, which columns it reads, and
its rules. How strict each rule is (blocking or warning, `mostly`, bounds) lives in
quality/thresholds.yml.

A suite reads only the columns its rules need (one SQL select, portable between DuckDB and
PostgreSQL). Rules on contact validity assert on *verdict* columns that quality.contacts computes
in pandas (`<column>__verdict`: `valid`, a reason code, or null when the value is missing), so GE
reports the share of valid values among present ones and the failing examples with their
original value. Rules marked `python=True` need such derived columns and run only on the pandas
engine; the others also run inside PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import great_expectations as gx
import pandas as pd
import yaml

from ingest.schemas import BY_NAME
from quality.contacts import (
    VALID,
    Validator,
    email_verdict,
    mobile_verdict,
    phone_verdict,
    postal_verdict,
    recipient_verdict,
)

THRESHOLDS_FILE = Path(__file__).with_name("thresholds.yml")
Severity = Literal["blocking", "warning"]
RuleKind = Literal["not_null", "unique", "in_set", "not_in_set", "between", "regex"]


@dataclass(frozen=True)
class Rule:
    name: str
    kind: RuleKind
    column: str
    description: str
    values: tuple[Any, ...] = ()
    regex: str = ""
    example_column: str | None = None  # original value shown (masked) for failing rows
    python: bool = False  # needs a derived column: pandas engine only

    @property
    def personal_examples(self) -> bool:
        return self.example_column is not None


@dataclass(frozen=True)
class Threshold:
    severity: Severity
    mostly: float = 1.0
    min_value: float | None = None
    max_value: float | None = None


@dataclass(frozen=True)
class Suite:
    name: str
    asset_key: tuple[str, ...]
    table: str  # the relation it guards, for the history
    sql: str  # selects exactly the columns the rules read
    rules: tuple[Rule, ...]
    derive: dict[str, tuple[str, Validator]] = field(default_factory=dict)  # new col: (col, fn)
    description: str = ""

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Add the verdict columns the python rules assert on."""
        from quality.contacts import verdicts

        for new, (column, validator) in self.derive.items():
            frame[new] = verdicts(frame[column], validator)
        return frame

    @property
    def columns_read(self) -> list[str]:
        return sorted({r.column for r in self.rules} | {r.example_column for r in self.rules
                                                         if r.example_column})


@cache
def thresholds() -> dict[str, dict[str, Threshold]]:
    raw = yaml.safe_load(THRESHOLDS_FILE.read_text(encoding="utf-8"))
    out: dict[str, dict[str, Threshold]] = {}
    for suite_name, rules in raw.items():
        out[suite_name] = {}
        for rule_name, spec in rules.items():
            if spec.get("severity") not in ("blocking", "warning"):
                raise ValueError(f"{THRESHOLDS_FILE}: {suite_name}.{rule_name}: severity must be "
                                 f"blocking or warning, not {spec.get('severity')!r}")
            out[suite_name][rule_name] = Threshold(**spec)
    return out


def threshold(suite: Suite, rule: Rule) -> Threshold:
    try:
        return thresholds()[suite.name][rule.name]
    except KeyError:
        raise KeyError(f"{THRESHOLDS_FILE}: no entry {suite.name}.{rule.name}") from None


def check_thresholds_cover(suites: list[Suite]) -> None:
    """Every rule has a threshold and every threshold a rule."""
    defined = {(s.name, r.name) for s in suites for r in s.rules}
    configured = {(s, r) for s, rules in thresholds().items() for r in rules}
    problems = [f"no threshold for {s}.{r}" for s, r in sorted(defined - configured)]
    problems += [f"threshold for unknown rule {s}.{r}" for s, r in sorted(configured - defined)]
    if problems:
        raise ValueError(f"{THRESHOLDS_FILE}: " + "; ".join(problems))


def expectation(suite: Suite, rule: Rule) -> gx.expectations.Expectation:
    limit = threshold(suite, rule)
    common: dict[str, Any] = {"column": rule.column,
                              "meta": {"rule": rule.name, "severity": limit.severity,
                                       "description": rule.description}}
    mostly = {"mostly": limit.mostly} if limit.mostly < 1.0 else {}
    e = gx.expectations
    match rule.kind:
        case "not_null":
            return e.ExpectColumnValuesToNotBeNull(**common, **mostly)
        case "unique":
            return e.ExpectColumnValuesToBeUnique(**common, **mostly)
        case "in_set":
            return e.ExpectColumnValuesToBeInSet(**common, value_set=list(rule.values), **mostly)
        case "not_in_set":
            return e.ExpectColumnValuesToNotBeInSet(**common, value_set=list(rule.values),
                                                    **mostly)
        case "between":
            return e.ExpectColumnValuesToBeBetween(**common, min_value=limit.min_value,
                                                   max_value=limit.max_value, **mostly)
        case "regex":
            return e.ExpectColumnValuesToMatchRegex(**common, regex=rule.regex, **mostly)
    raise ValueError(rule.kind)


# --------------------------------------------------------------------------- building blocks
def _raw_newest_batch(source: str, entity: str) -> str:
    # Raw suites check what arrived last: the newest batch that loaded rows (for the ERP master,
    # the newest full snapshot). The staged suites check the current state of every record.
    return (f"_batch_id = (select batch_id from raw._load_batches where source = '{source}' "
            f"and entity = '{entity}' and rows_loaded > 0 order by finished_at desc, "
            "batch_id desc limit 1)")


def _key_rules(column: str, label: str) -> tuple[Rule, ...]:
    return (
        Rule(f"{label}_not_null", "not_null", column, f"every row has its {label}"),
        Rule(f"{label}_unique", "unique", column, f"no {label} twice"),
    )


def _valid(name: str, column: str, description: str) -> Rule:
    return Rule(f"{name}_valid", "in_set", f"{column}__verdict", description, values=(VALID,),
                example_column=column, python=True)


def _present(name: str, column: str, description: str) -> Rule:
    return Rule(f"{name}_present", "not_null", column, description)


_POSTAL_RULES = (
    Rule("postal_code_5_digit", "in_set", "postal_code__verdict",
         "postal codes are the 5-digit codes in use since 2015", values=(VALID,),
         example_column="postal_code", python=True),
    Rule("postal_code_not_legacy", "not_in_set", "postal_code__verdict",
         "legacy 6-digit postal codes, counted separately", values=("legacy_6_digit",),
         example_column="postal_code", python=True),
)
_EMAIL_RULES = (
    _valid("email", "email", "e-mail syntactically valid, domain not a known typo"),
    Rule("email_no_typo_domain", "not_in_set", "email__verdict",
         "domain not a known typo of a popular domain (naver.con, gmial.com, ...)",
         values=("typo_domain",), example_column="email", python=True),
)
_MOBILE_RULES = (
    _valid("mobile", "mobile", "a Korean mobile number in service (phonenumbers; legacy "
           "011/016-019 prefixes and dummy numbers flagged)"),
    Rule("mobile_not_legacy_prefix", "not_in_set", "mobile__verdict",
         "no 011/016/017/018/019 number (service ended 2021-2023)", values=("legacy_prefix",),
         example_column="mobile", python=True),
)
# E.164 forms of Korean numbers the staging models call valid.
E164_KR = r"^\+82(?:10[0-9]{8}|2[0-9]{7,8}|[3-6][1-5][0-9]{7,8}|70[0-9]{8}|1[568][0-9]{6})$"


def _staged_contact_rules(mobile_share_rule: str) -> tuple[Rule, ...]:
    return (
        Rule("mobile_e164_format", "regex", "mobile_e164",
             "standardised mobiles are E.164 Korean numbers", regex=E164_KR,
             example_column="mobile_e164"),
        Rule(mobile_share_rule, "in_set", "mobile_status",
             "share of present mobiles the staging model calls valid", values=(VALID,),
             example_column="mobile_raw"),
        Rule("mobile_confirmed_by_phonenumbers", "in_set", "mobile_e164__verdict",
             "every mobile staging calls valid is a valid mobile for phonenumbers too",
             values=(VALID,), example_column="mobile_e164", python=True),
        Rule("email_valid", "in_set", "email_status", "share of present e-mails valid",
             values=(VALID,), example_column="email"),
        Rule("postal_code_5_digit", "in_set", "postal_code_status",
             "share of present postal codes with 5 digits", values=(VALID,),
             example_column="postal_code"),
        Rule("address_present", "not_null", "address", "address present"),
    )


def _staged_contacts_sql(table: str, key: str, key_alias: str) -> str:
    return f"""
        select {key} as {key_alias}, mobile_raw, mobile_e164,
            case when mobile_status = 'valid' then mobile_e164 end as mobile_e164_if_valid,
            nullif(mobile_status, 'missing') as mobile_status,
            email, nullif(email_status, 'missing') as email_status,
            postal_code, nullif(postal_code_status, 'missing') as postal_code_status,
            address
        from {table}"""


def _order_rules(key: str, customer: str) -> tuple[Rule, ...]:
    """Order headers of either source: columns order_date_check and customer_check."""
    return (Rule("order_date_not_in_future", "in_set", "order_date_check",
                 "no order dated after now", values=("ok",), example_column=key),
            Rule("customer_known", "in_set", "customer_check",
                 "every order's customer is in the customer master", values=("known",),
                 example_column=customer))


# --------------------------------------------------------------------------- the suites
def all_suites() -> list[Suite]:
    erp = BY_NAME["erp_customers"]
    shop = BY_NAME["shop_members"]
    calls = BY_NAME["callcenter_calls"]
    events = BY_NAME["esp_events"]
    suites = [
        Suite(
            name="raw_erp_customers", asset_key=("raw", erp.name), table=erp.raw_table,
            description="ERP customer contacts as delivered (newest snapshot).",
            sql=f"""
                select nullif(trim("고객번호"), '') as customer_no,
                    nullif(trim("고객명"), '') as name, "휴대폰" as mobile,
                    "자택전화" as home_phone, "직장전화" as work_phone, "팩스" as fax,
                    "이메일" as email, "우편번호" as postal_code,
                    nullif(trim("주소"), '') as address
                from {erp.raw_table} where {_raw_newest_batch('erp', 'customers')}""",
            derive={"mobile__verdict": ("mobile", mobile_verdict),
                    "home_phone__verdict": ("home_phone", phone_verdict),
                    "work_phone__verdict": ("work_phone", phone_verdict),
                    "fax__verdict": ("fax", phone_verdict),
                    "email__verdict": ("email", email_verdict),
                    "postal_code__verdict": ("postal_code", postal_verdict)},
            rules=(*_key_rules("customer_no", "customer_no"),
                   _present("name", "name", "customer name present"),
                   _present("address", "address", "address present"),
                   *_MOBILE_RULES,
                   _valid("home_phone", "home_phone", "home phone a valid Korean number"),
                   _valid("work_phone", "work_phone", "work phone a valid Korean number"),
                   _valid("fax", "fax", "fax a valid Korean number"),
                   *_EMAIL_RULES, *_POSTAL_RULES)),
        Suite(
            name="raw_shop_members", asset_key=("raw", shop.name), table=shop.raw_table,
            description="Shop member contacts as delivered (newest batch).",
            sql=f"""
                select nullif(trim(member_id), '') as member_id,
                    nullif(trim(name), '') as name, mobile, email, zipcode as postal_code,
                    nullif(trim(address1), '') as address
                from {shop.raw_table} where {_raw_newest_batch('shop', 'members')}""",
            derive={"mobile__verdict": ("mobile", mobile_verdict),
                    "email__verdict": ("email", email_verdict),
                    "postal_code__verdict": ("postal_code", postal_verdict)},
            rules=(*_key_rules("member_id", "member_id"),
                   _present("name", "name", "member name present"),
                   _present("address", "address", "address present"),
                   *_MOBILE_RULES, *_EMAIL_RULES, *_POSTAL_RULES)),
        Suite(
            name="raw_callcenter_calls", asset_key=("raw", calls.name), table=calls.raw_table,
            description="Caller numbers as the CTI recorded them (newest file).",
            sql=f"""
                select nullif(trim(call_id), '') as call_id, caller_number
                from {calls.raw_table} where {_raw_newest_batch('callcenter', 'calls')}""",
            derive={"caller_number__verdict": ("caller_number", phone_verdict)},
            rules=(*_key_rules("call_id", "call_id"),
                   _valid("caller_number", "caller_number",
                          "caller number a valid Korean number (hidden numbers are missing)"))),
        Suite(
            name="raw_esp_events", asset_key=("raw", events.name), table=events.raw_table,
            description="ESP recipients (e-mail, or mobile for SMS) as delivered (newest file).",
            sql=f"""
                select nullif(trim(event_id), '') as event_id, recipient
                from {events.raw_table} where {_raw_newest_batch('esp', 'events')}""",
            derive={"recipient__verdict": ("recipient", recipient_verdict)},
            rules=(Rule("event_id_not_null", "not_null", "event_id", "every event has its id"),
                   _valid("recipient", "recipient",
                          "recipient a valid e-mail (or mobile for SMS campaigns)"))),
        Suite(
            name="stg_erp__customers", asset_key=("staging", "erp", "stg_erp__customers"),
            table="staging.stg_erp__customers",
            description="Standardised ERP customers: one row per customer number.",
            sql=_staged_contacts_sql("staging.stg_erp__customers", "erp_customer_no",
                                     "customer_no"),
            derive={"mobile_e164__verdict": ("mobile_e164_if_valid", mobile_verdict)},
            rules=(*_key_rules("customer_no", "customer_no"),
                   *_staged_contact_rules("mobile_valid"))),
        Suite(
            name="stg_shop__members", asset_key=("staging", "shop", "stg_shop__members"),
            table="staging.stg_shop__members",
            description="Standardised shop members: one row per member id.",
            sql=_staged_contacts_sql("staging.stg_shop__members", "shop_member_id",
                                     "member_id"),
            derive={"mobile_e164__verdict": ("mobile_e164_if_valid", mobile_verdict)},
            rules=(*_key_rules("member_id", "member_id"),
                   *_staged_contact_rules("mobile_valid"))),
        Suite(
            name="stg_erp__orders", asset_key=("staging", "erp", "stg_erp__orders"),
            table="staging.stg_erp__orders",
            description="ERP order headers: keys, dates, customers.",
            sql="""
                select orders.erp_order_no as order_no, orders.erp_customer_no as customer_no,
                    case when orders.order_date > current_date then 'future' else 'ok' end
                        as order_date_check,
                    case when customers.erp_customer_no is null then 'unknown' else 'known' end
                        as customer_check
                from staging.stg_erp__orders as orders
                left join staging.stg_erp__customers as customers
                    on customers.erp_customer_no = orders.erp_customer_no""",
            rules=(*_key_rules("order_no", "order_no"),
                   *_order_rules("order_no", "customer_no"))),
        Suite(
            name="stg_erp__order_lines", asset_key=("staging", "erp", "stg_erp__order_lines"),
            table="staging.stg_erp__order_lines",
            description="ERP order lines: quantities and prices.",
            sql="""
                select lines.erp_order_no || '/' || cast(lines.line_no as varchar) as line_key,
                    -- a line whose order header is missing (quarantined) cannot be judged:
                    -- null, left out; the orphans are dbt's relationships warning
                    case when orders.erp_order_no is null then null
                         when lines.quantity >= 0 or orders.document_type = 'credit_note'
                        then 'ok' else 'negative' end as quantity_check,
                    lines.unit_price
                from staging.stg_erp__order_lines as lines
                left join staging.stg_erp__orders as orders
                    on orders.erp_order_no = lines.erp_order_no""",
            rules=(Rule("quantity_non_negative_except_returns", "in_set", "quantity_check",
                        "quantities are not negative except on returns", values=("ok",),
                        example_column="line_key"),
                   Rule("unit_price_within_bounds", "between", "unit_price",
                        "unit prices within sane bounds (discount and adjustment lines are "
                        "negative)", example_column="line_key"))),
        Suite(
            name="stg_shop__orders", asset_key=("staging", "shop", "stg_shop__orders"),
            table="staging.stg_shop__orders",
            description="Shop orders: keys, dates, members.",
            sql="""
                select orders.shop_order_id as order_id, orders.shop_member_id as member_id,
                    case when orders.ordered_at > current_timestamp then 'future' else 'ok' end
                        as order_date_check,
                    -- a guest order (비회원 주문) names no member: nothing to look up
                    case when orders.is_guest_order then 'known'
                         when members.shop_member_id is null then 'unknown' else 'known' end
                        as customer_check
                from staging.stg_shop__orders as orders
                left join staging.stg_shop__members as members
                    on members.shop_member_id = orders.shop_member_id""",
            rules=(*_key_rules("order_id", "order_id"),
                   *_order_rules("order_id", "member_id"))),
        Suite(
            name="stg_shop__order_items", asset_key=("staging", "shop", "stg_shop__order_items"),
            table="staging.stg_shop__order_items",
            description="Shop order items: quantities and prices.",
            sql="""
                select items.shop_order_item_id as item_id,
                    -- an item whose order is missing (quarantined) cannot be judged: left out
                    case when orders.shop_order_id is null then null
                         when items.quantity >= 0 or orders.document_type = 'credit_note'
                        then 'ok' else 'negative' end as quantity_check,
                    items.unit_price
                from staging.stg_shop__order_items as items
                left join staging.stg_shop__orders as orders
                    on orders.shop_order_id = items.shop_order_id""",
            rules=(Rule("quantity_non_negative_except_credit_notes", "in_set", "quantity_check",
                        "quantities are not negative except on credit notes (returns are "
                        "claims)", values=("ok",), example_column="item_id"),
                   Rule("unit_price_within_bounds", "between", "unit_price",
                        "unit prices within sane bounds", example_column="item_id"))),
        Suite(
            name="stg_esp__events", asset_key=("staging", "esp", "stg_esp__events"),
            table="staging.stg_esp__events",
            description="ESP events after deduplication.",
            sql="""
                select events.event_id, events.event_type, events.campaign_id,
                    case when campaigns.campaign_id is null then 'unknown' else 'known' end
                        as campaign_check
                from staging.stg_esp__events as events
                left join staging.stg_esp__campaigns as campaigns
                    on campaigns.campaign_id = events.campaign_id""",
            rules=(*_key_rules("event_id", "event_id"),
                   Rule("campaign_known", "in_set", "campaign_check",
                        "every event's campaign is known", values=("known",),
                        example_column="campaign_id"))),
    ]
    check_thresholds_cover(suites)
    return suites


SUITES: dict[str, Suite] = {}


def suite(name: str) -> Suite:
    if not SUITES:
        SUITES.update({s.name: s for s in all_suites()})
    return SUITES[name]

