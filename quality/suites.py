"""The Great Expectations suites, in code: which table each guards, which columns it reads, and
its rules. How strict each rule is (blocking or warning, `mostly`, bounds) lives in
quality/thresholds.yml.

Great Expectations says what dbt tests cannot: shares (`mostly`) and distributions. Keys,
accepted values and relationships are dbt tests in the models' yml, with their severity there.
Contact validity is decided once, by the staging models (dbt_project/macros/contacts.sql): the
contact suites assert on their verdict columns (`valid`, a reason code, or null when the value
is missing), so GE and the marts count the same thing. The raw suites check what a delivery
brings (keys present, names and addresses filled). A suite reads only the columns its rules need
(one SQL select, portable between DuckDB and PostgreSQL). Rules marked `python=True` read a
column computed in pandas — libphonenumber's second opinion on the phone verdicts
(quality/contacts.py) — and run only on the pandas engine; the others also run inside PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal, Required, TypedDict

import great_expectations as gx
import pandas as pd
import yaml

from ingest.schemas import BY_NAME, EntitySpec, KeyRuleKind, key_value_sql
from ingest.sql_text import quote
from quality.contacts import AGREES, VALID, Opinion, opinions, phonenumbers_opinion

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
    # new column: (raw value column, verdict column, opinion) — computed in pandas
    derive: dict[str, tuple[str, str, Opinion]] = field(default_factory=dict)
    description: str = ""

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Add the columns the python rules assert on."""
        for new, (raw, verdict, opinion) in self.derive.items():
            frame[new] = opinions(frame[raw], frame[verdict], opinion)
        return frame

    @property
    def columns_read(self) -> list[str]:
        return sorted(
            {r.column for r in self.rules}
            | {r.example_column for r in self.rules if r.example_column}
        )


@cache
def thresholds() -> dict[str, dict[str, Threshold]]:
    raw = yaml.safe_load(THRESHOLDS_FILE.read_text(encoding="utf-8"))
    out: dict[str, dict[str, Threshold]] = {}
    for suite_name, rules in raw.items():
        out[suite_name] = {}
        for rule_name, spec in rules.items():
            if spec.get("severity") not in ("blocking", "warning"):
                raise ValueError(
                    f"{THRESHOLDS_FILE}: {suite_name}.{rule_name}: severity must be "
                    f"blocking or warning, not {spec.get('severity')!r}"
                )
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


class _ColumnKwargs(TypedDict, total=False):
    """The keywords every rule's expectation takes; `mostly` only below GE's default of 1."""

    column: Required[str]
    meta: Required[dict[str, Any]]
    mostly: float


def expectation(suite: Suite, rule: Rule) -> gx.expectations.Expectation:
    limit = threshold(suite, rule)
    common: _ColumnKwargs = {
        "column": rule.column,
        "meta": {"rule": rule.name, "severity": limit.severity, "description": rule.description},
    }
    if limit.mostly < 1.0:
        common["mostly"] = limit.mostly
    e = gx.expectations
    match rule.kind:
        case "not_null":
            return e.ExpectColumnValuesToNotBeNull(**common)
        case "unique":
            return e.ExpectColumnValuesToBeUnique(**common)
        case "in_set":
            return e.ExpectColumnValuesToBeInSet(**common, value_set=list(rule.values))
        case "not_in_set":
            return e.ExpectColumnValuesToNotBeInSet(**common, value_set=list(rule.values))
        case "between":
            return e.ExpectColumnValuesToBeBetween(
                **common, min_value=limit.min_value, max_value=limit.max_value
            )
        case "regex":
            return e.ExpectColumnValuesToMatchRegex(**common, regex=rule.regex)
    raise ValueError(rule.kind)


# --------------------------------------------------------------------------- building blocks
def _raw_newest_batch(source: str, entity: str) -> str:
    # Raw suites check what arrived last: the newest batch that loaded rows (for the ERP master,
    # the newest full snapshot). The staged suites check the current state of every record.
    return (
        f"_batch_id = (select batch_id from raw._load_batches where source = '{source}' "
        f"and entity = '{entity}' and rows_loaded > 0 order by finished_at desc, "
        "batch_id desc limit 1)"
    )


_KEY_RULE_TEXT: dict[KeyRuleKind, str] = {
    "not_null": "every row has its {label}",
    "unique": "no {label} twice in the delivery",
}


def _key_select(spec: EntitySpec, label: str) -> str:
    """The entity's one key column as the contract reads a key (`key_value_sql`: blank is
    missing, as the loaders' missing_key), selected as `label`."""
    (column,) = (spec.stored_name(c) for c in spec.columns if c.key)
    return f"{key_value_sql(quote(column))} as {label}"


def _key_rules(spec: EntitySpec, label: str) -> tuple[Rule, ...]:
    """The contract's key rules (EntitySpec.key_rules) on the column `_key_select` names
    `label`; the rule names (`<label>_not_null`, `<label>_unique`) are thresholds.yml's."""
    return tuple(
        Rule(
            f"{label}_{rule.kind}", rule.kind, label, _KEY_RULE_TEXT[rule.kind].format(label=label)
        )
        for rule in spec.key_rules
    )


def _present(name: str, column: str, description: str) -> Rule:
    return Rule(f"{name}_present", "not_null", column, description)


def _valid(contact: str, description: str) -> Rule:
    """Share of present values the staging model calls valid; failing examples show the value
    as delivered (masked) and the reason."""
    return Rule(
        f"{contact}_valid",
        "in_set",
        f"{contact}_verdict",
        description,
        values=(VALID,),
        example_column=f"{contact}_raw",
    )


def _not_reason(contact: str, reason: str, name: str, description: str) -> Rule:
    return Rule(
        name,
        "not_in_set",
        f"{contact}_verdict",
        description,
        values=(reason,),
        example_column=f"{contact}_raw",
    )


def _confirmed(contact: str) -> Rule:
    return Rule(
        f"{contact}_confirmed_by_phonenumbers",
        "in_set",
        f"{contact}__phonenumbers",
        f"libphonenumber agrees with the staging verdict on whether each {contact} "
        "number exists (a disagreement means one of the two numbering plans is out of "
        "date)",
        values=(AGREES,),
        example_column=f"{contact}_raw",
        python=True,
    )


def _verdict_columns(*contacts: str) -> str:
    """<contact>_raw and <contact>_verdict (valid, the reason, or null when missing)."""
    return ", ".join(
        f"{c}_raw, coalesce({c}_invalid_reason, nullif({c}_status, 'missing')) as {c}_verdict"
        for c in contacts
    )


def _phonenumbers(*contacts: str) -> dict[str, tuple[str, str, Opinion]]:
    return {
        f"{c}__phonenumbers": (f"{c}_raw", f"{c}_verdict", phonenumbers_opinion) for c in contacts
    }


_MOBILE_RULES = (
    _valid(
        "mobile",
        "a Korean mobile number in service (not a retired 01X prefix, a dummy, "
        "a landline or a placeholder)",
    ),
    _not_reason(
        "mobile",
        "legacy_prefix",
        "mobile_not_legacy_prefix",
        "no 011/016/017/018/019 number (service ended 2021-2023)",
    ),
    _confirmed("mobile"),
)
_EMAIL_RULES = (
    _valid("email", "e-mail syntactically valid, domain not a typo of a popular domain"),
    _not_reason(
        "email",
        "typo_domain",
        "email_no_typo_domain",
        "domain not a typo of a popular domain (naver.con, gmial.com, ...)",
    ),
)
_POSTAL_RULES = (
    Rule(
        "postal_code_5_digit",
        "in_set",
        "postal_code_verdict",
        "postal codes are the 5-digit codes in use since 2015",
        values=(VALID,),
        example_column="postal_code_raw",
    ),
    _not_reason(
        "postal_code",
        "legacy_6_digit",
        "postal_code_not_legacy",
        "legacy 6-digit postal codes, counted separately",
    ),
)


# --------------------------------------------------------------------------- the suites
def all_suites() -> list[Suite]:
    erp = BY_NAME["erp_customers"]
    shop = BY_NAME["shop_members"]
    calls = BY_NAME["callcenter_calls"]
    events = BY_NAME["esp_events"]
    suites = [
        Suite(
            name="raw_erp_customers",
            asset_key=("raw", erp.name),
            table=erp.raw_table,
            description="ERP customers as delivered (newest snapshot): keys and completeness.",
            sql=f"""
                select {_key_select(erp, "customer_no")},
                    nullif(trim("고객명"), '') as name, nullif(trim("주소"), '') as address
                from {erp.raw_table} where {_raw_newest_batch("erp", "customers")}""",
            rules=(
                *_key_rules(erp, "customer_no"),
                _present("name", "name", "customer name present"),
                _present("address", "address", "address present"),
            ),
        ),
        Suite(
            name="raw_shop_members",
            asset_key=("raw", shop.name),
            table=shop.raw_table,
            description="Shop members as delivered (newest batch): keys and completeness.",
            sql=f"""
                select {_key_select(shop, "member_id")},
                    nullif(trim(name), '') as name, nullif(trim(address1), '') as address
                from {shop.raw_table} where {_raw_newest_batch("shop", "members")}""",
            rules=(
                *_key_rules(shop, "member_id"),
                _present("name", "name", "member name present"),
                _present("address", "address", "address present"),
            ),
        ),
        Suite(
            name="raw_callcenter_calls",
            asset_key=("raw", calls.name),
            table=calls.raw_table,
            description="CTI calls as delivered (newest file): keys.",
            sql=f"""
                select {_key_select(calls, "call_id")}
                from {calls.raw_table} where {_raw_newest_batch("callcenter", "calls")}""",
            rules=_key_rules(calls, "call_id"),
        ),
        Suite(
            name="raw_esp_events",
            asset_key=("raw", events.name),
            table=events.raw_table,
            description="ESP events as delivered (newest file): ids.",
            sql=f"""
                select {_key_select(events, "event_id")}
                from {events.raw_table} where {_raw_newest_batch("esp", "events")}""",
            # The ESP repeats events (webhook retries): ids present, not unique (EntitySpec).
            rules=_key_rules(events, "event_id"),
        ),
        Suite(
            name="stg_erp__customers",
            asset_key=("staging", "erp", "stg_erp__customers"),
            table="staging.stg_erp__customers",
            description="ERP customer contacts: the staging verdicts (one row per customer).",
            sql=f"""
                select {
                _verdict_columns(
                    "mobile", "home_phone", "work_phone", "fax", "email", "postal_code"
                )
            },
                    address
                from staging.stg_erp__customers""",
            derive=_phonenumbers("mobile", "home_phone", "work_phone", "fax"),
            rules=(
                *_MOBILE_RULES,
                _valid("home_phone", "home phone a valid Korean number"),
                _confirmed("home_phone"),
                _valid("work_phone", "work phone a valid Korean number"),
                _confirmed("work_phone"),
                _valid("fax", "fax a valid Korean number"),
                _confirmed("fax"),
                *_EMAIL_RULES,
                *_POSTAL_RULES,
                _present("address", "address", "address present"),
            ),
        ),
        Suite(
            name="stg_shop__members",
            asset_key=("staging", "shop", "stg_shop__members"),
            table="staging.stg_shop__members",
            description="Shop member contacts: the staging verdicts (one row per member).",
            sql=f"""
                select {_verdict_columns("mobile", "email", "postal_code")}, address
                from staging.stg_shop__members""",
            derive=_phonenumbers("mobile"),
            rules=(
                *_MOBILE_RULES,
                *_EMAIL_RULES,
                *_POSTAL_RULES,
                _present("address", "address", "address present"),
            ),
        ),
        Suite(
            name="stg_callcenter__calls",
            asset_key=("staging", "callcenter", "stg_callcenter__calls"),
            table="staging.stg_callcenter__calls",
            description="Caller numbers: the staging verdicts (hidden numbers are missing).",
            sql="""
                select caller_number_raw as caller_raw,
                    coalesce(caller_invalid_reason, nullif(caller_status, 'missing'))
                        as caller_verdict
                from staging.stg_callcenter__calls""",
            derive=_phonenumbers("caller"),
            rules=(_valid("caller", "caller number a valid Korean number"), _confirmed("caller")),
        ),
        Suite(
            name="stg_esp__events",
            asset_key=("staging", "esp", "stg_esp__events"),
            table="staging.stg_esp__events",
            description="ESP recipients: the staging verdicts (e-mail, or mobile for SMS).",
            sql="""
                select recipient_raw,
                    coalesce(recipient_invalid_reason, nullif(recipient_status, 'missing'))
                        as recipient_verdict
                from staging.stg_esp__events""",
            rules=(
                _valid(
                    "recipient",
                    "recipient a valid e-mail (or mobile for SMS "
                    "campaigns); the ESP is handed every address the sources hold",
                ),
            ),
        ),
    ]
    check_thresholds_cover(suites)
    return suites


SUITES: dict[str, Suite] = {}


def suite(name: str) -> Suite:
    if not SUITES:
        SUITES.update({s.name: s for s in all_suites()})
    return SUITES[name]
