"""Score the contact validators against the generator's truth: recall of invalid values and the
share of valid values wrongly flagged.

Every contact value of the latest delivered version of each source record (ERP customer, shop
member, call) is judged by quality.contacts and compared with truth/contacts.csv. A value counts
as *flagged* when its verdict is neither valid nor missing. Legacy 6-digit postal codes count as
flagged (the truth calls them invalid); they are reported separately by the suites.

    python -m quality.contact_eval --warehouse data/warehouse.duckdb --truth data/truth
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from ingest.raw_store import quote
from ingest.settings import Settings
from quality.contacts import FIELD_VALIDATORS, RAW_CONTACT_TABLES, VALID, phone_verdict, verdicts

_LATEST_ORDER = {
    "erp_customer": "try_strptime(trim(\"수정일시\"), '%Y-%m-%d %H:%M:%S') desc nulls last, "
                    "_loaded_at desc, _source_file desc, _source_line desc",
    "shop_member": "trim(updated_at) desc, _loaded_at desc, _source_line desc",
    "callcenter_call": "_loaded_at desc, _source_file desc, _source_line desc",
}


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


def judged_values(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """source, source_key, field, value, verdict for the latest version of every record."""
    frames = []
    for source, (table, key, columns) in RAW_CONTACT_TABLES.items():
        select = ", ".join(f"{quote(col)} as {quote(name)}" for name, col in columns.items())
        frame = con.execute(f"""
            select trim({quote(key)}) as source_key, {select}
            from {table}
            qualify row_number() over (partition by trim({quote(key)})
                                       order by {_LATEST_ORDER[source]}) = 1""").df()
        for name in columns:
            validator = FIELD_VALIDATORS.get(name, phone_verdict)
            frames.append(pd.DataFrame({
                "source": source, "source_key": frame["source_key"].astype(str),
                "field": name, "value": frame[name], "verdict": verdicts(frame[name], validator)}))
    return pd.concat(frames, ignore_index=True)


def score(con: duckdb.DuckDBPyConnection, truth_dir: Path) -> ContactScore:
    judged = judged_values(con)
    truth = pd.read_csv(truth_dir / "contacts.csv", dtype=str, keep_default_na=False)
    # Calls: the truth files the caller number under mobile or home_phone by its prefix.
    truth["join_field"] = truth["field"].where(truth["source"] != "callcenter_call", "phone")
    both = truth.merge(judged, left_on=["source", "source_key", "join_field"],
                       right_on=["source", "source_key", "field"], suffixes=("", "_judged"))
    flagged = both["verdict"].notna() & (both["verdict"] != VALID)
    invalid = both["status"] == "invalid"
    valid = both["status"] == "valid"
    per_field = {}
    for name, group in both.groupby("field"):
        g_flag = flagged[group.index]
        g_invalid = invalid[group.index]
        g_valid = valid[group.index]
        per_field[name] = {
            "invalid": int(g_invalid.sum()),
            "recall_invalid": _ratio(g_flag & g_invalid, g_invalid),
            "valid": int(g_valid.sum()), "false_flag_rate": _ratio(g_flag & g_valid, g_valid)}
    missed = both[invalid & ~flagged]
    false_flags = both[valid & flagged]
    return ContactScore(
        values_compared=len(both),
        truth_invalid=int(invalid.sum()), invalid_flagged=int((invalid & flagged).sum()),
        truth_valid=int(valid.sum()), valid_flagged=int((valid & flagged).sum()),
        recall_invalid=_ratio(invalid & flagged, invalid),
        false_flag_rate=_ratio(valid & flagged, valid),
        missed_by_defect=_counts(missed, "defect"),
        false_flags_by_reason=_counts(false_flags, "verdict"),
        per_field=per_field,
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
    con = duckdb.connect(args.warehouse, read_only=True)
    print(json.dumps(asdict(score(con, Path(args.truth))), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
