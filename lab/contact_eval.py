"""Score the contact verdicts of record — the staging models' — against the generator's truth:
recall of invalid values and the share of valid values wrongly flagged; and list where
libphonenumber disagrees with them.

Every contact of every source record (ERP customer, shop member, call) as staging holds it (the
latest version of the record) is compared with truth/contacts.csv. A value counts as *flagged*
when its staging status is `invalid`. Legacy 6-digit postal codes count as flagged (the truth
calls them invalid); the suites report them separately.

    python -m lab.contact_eval --warehouse data/warehouse.duckdb --truth data/truth
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from ingest.cli_inputs import require_truth, require_warehouse, run_command
from ingest.settings import Settings
from quality.contacts import AGREES, opinions

# truth source: (staging model, key column, {truth field: contact prefix or plain column})
STAGED_CONTACTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "erp_customer": (
        "staging.stg_erp__customers",
        "erp_customer_no",
        {
            "mobile": "mobile",
            "home_phone": "home_phone",
            "work_phone": "work_phone",
            "fax": "fax",
            "email": "email",
            "postal_code": "postal_code",
            "name": "customer_name",
            "address": "address",
        },
    ),
    "shop_member": (
        "staging.stg_shop__members",
        "shop_member_id",
        {
            "mobile": "mobile",
            "email": "email",
            "postal_code": "postal_code",
            "name": "member_name",
            "address": "address",
        },
    ),
    # the truth files a caller number under mobile or home_phone, by its prefix
    "callcenter_call": ("staging.stg_callcenter__calls", "call_id", {"phone": "caller"}),
}
PHONES = frozenset({"mobile", "home_phone", "work_phone", "fax", "phone"})
PRESENCE_ONLY = frozenset({"name", "address"})  # judged present or missing, nothing more


@dataclass
class ContactScore:
    values_compared: int
    truth_invalid: int
    invalid_flagged: int
    truth_valid: int
    valid_flagged: int
    recall_invalid: float
    false_flag_rate: float
    missed_by_defect: dict[str, int] = field(default_factory=dict)
    false_flags_by_reason: dict[str, int] = field(default_factory=dict)
    per_field: dict[str, dict[str, float]] = field(default_factory=dict)
    libphonenumber_compared: int = 0
    libphonenumber_disagreements: dict[str, int] = field(default_factory=dict)


def _raw_column(prefix: str) -> str:
    return "caller_number_raw" if prefix == "caller" else f"{prefix}_raw"


def staged_verdicts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """source, source_key, field, raw, verdict (valid, the reason, or null when missing)."""
    frames = []
    for source, (table, key, fields) in STAGED_CONTACTS.items():
        for name, column in fields.items():
            if name in PRESENCE_ONLY:
                select = (
                    f"{column} as raw, case when {column} is null then null "
                    "else 'valid' end as verdict"
                )
            else:
                select = (
                    f"{_raw_column(column)} as raw, coalesce({column}_invalid_reason, "
                    f"nullif({column}_status, 'missing')) as verdict"
                )
            frame = con.execute(
                f"select cast({key} as varchar) as source_key, {select} from {table}"
            ).df()
            frame.insert(0, "source", source)
            frame.insert(2, "field", name)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def score(con: duckdb.DuckDBPyConnection, truth_dir: Path) -> ContactScore:
    judged = staged_verdicts(con)
    truth = pd.read_csv(truth_dir / "contacts.csv", dtype=str, keep_default_na=False)
    truth["join_field"] = truth["field"].where(truth["source"] != "callcenter_call", "phone")
    both = truth.merge(
        judged,
        left_on=["source", "source_key", "join_field"],
        right_on=["source", "source_key", "field"],
        suffixes=("", "_judged"),
    )
    flagged = both["verdict"].notna() & (both["verdict"] != "valid")
    invalid = both["status"] == "invalid"
    valid = both["status"] == "valid"
    per_field: dict[str, dict[str, float]] = {}
    for name, group in both.groupby("field"):
        g_flag, g_invalid, g_valid = (
            flagged[group.index],
            invalid[group.index],
            valid[group.index],
        )
        per_field[str(name)] = {  # the field's name: its group key, a string
            "invalid": int(g_invalid.sum()),
            "recall_invalid": _ratio(g_flag & g_invalid, g_invalid),
            "valid": int(g_valid.sum()),
            "false_flag_rate": _ratio(g_flag & g_valid, g_valid),
        }
    phones = judged[judged["field"].isin(PHONES)]
    opinion = opinions(phones["raw"], phones["verdict"])
    compared = opinion.notna()
    disagreements = phones[compared & (opinion != AGREES)].assign(opinion=opinion)
    return ContactScore(
        values_compared=len(both),
        truth_invalid=int(invalid.sum()),
        invalid_flagged=int((invalid & flagged).sum()),
        truth_valid=int(valid.sum()),
        valid_flagged=int((valid & flagged).sum()),
        recall_invalid=_ratio(invalid & flagged, invalid),
        false_flag_rate=_ratio(valid & flagged, valid),
        missed_by_defect=_counts(both[invalid & ~flagged], "defect"),
        false_flags_by_reason=_counts(both[valid & flagged], "verdict"),
        per_field=per_field,
        libphonenumber_compared=int(compared.sum()),
        libphonenumber_disagreements=_counts(
            disagreements.assign(
                detail=disagreements["verdict"] + " / " + disagreements["opinion"]
            ),
            "detail",
        ),
    )


def _counts(frame: pd.DataFrame, column: str) -> dict[str, int]:
    keys = frame["source"] + ":" + frame["field"] + ":" + frame[column].astype(str)
    return {str(k): int(v) for k, v in keys.value_counts().sort_index().items()}


def _ratio(hits: pd.Series, base: pd.Series) -> float:
    total = int(base.sum())
    return round(int(hits.sum()) / total, 5) if total else 0.0


def main() -> None:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", default=settings.warehouse_path)
    parser.add_argument("--truth", default=str(Path(settings.data_dir) / "truth"))
    args = parser.parse_args()
    require_warehouse(parser, args.warehouse)
    require_truth(parser, args.truth)
    con = duckdb.connect(args.warehouse, read_only=True)
    print(json.dumps(asdict(score(con, Path(args.truth))), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    run_command(main, "the evaluation wrote nothing")
