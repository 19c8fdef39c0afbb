"""Measure identity resolution against the generator's truth: pairwise precision and recall.

A pair is two source records (ERP customer, shop member, call, ESP recipient) said to be the
same person. Precision = predicted pairs that are true / predicted pairs; recall = true pairs
found / true pairs. Only records present in both the crosswalk and the truth count (quarantined
rows never reach the crosswalk); records without a person or customer form no pairs.

    python -m quality.identity_eval --warehouse data/warehouse.duckdb --truth data/truth
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from ingest.settings import Settings

SOURCES = ("erp_customer", "shop_member", "callcenter_call", "esp_recipient")


@dataclass(frozen=True)
class IdentityScore:
    records_compared: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    precision: float
    recall: float
    duplicate_rates: dict[str, float]


def score(
    con: duckdb.DuckDBPyConnection,
    truth_dir: Path,
    crosswalk: str = "intermediate.int_identity_crosswalk",
) -> IdentityScore:
    sources = ", ".join(f"'{s}'" for s in SOURCES)
    con.execute(f"""
        create or replace temp table _identity_pairs as
        select crosswalk.customer_id, nullif(truth.person_id, '') as person_id
        from {crosswalk} as crosswalk
        inner join read_csv('{truth_dir / "identity.csv"}', all_varchar = true) as truth
            on truth.source = crosswalk.source and truth.source_key = crosswalk.source_key
        where crosswalk.source in ({sources})""")
    pairs = "sum(n * (n - 1) / 2)"
    records = con.execute("select count(*) from _identity_pairs").fetchone()[0]
    true_pairs = con.execute(
        f"select coalesce({pairs}, 0) from (select count(*) as n from "
        "_identity_pairs where person_id is not null group by person_id)"
    ).fetchone()[0]
    predicted = con.execute(
        f"select coalesce({pairs}, 0) from (select count(*) as n from "
        "_identity_pairs where customer_id is not null group by customer_id)"
    ).fetchone()[0]
    correct = con.execute(
        f"select coalesce({pairs}, 0) from (select count(*) as n from "
        "_identity_pairs where customer_id is not null and person_id is not "
        "null group by customer_id, person_id)"
    ).fetchone()[0]
    rates = dict(
        con.execute(
            "select source, cast(duplicate_rate as double) from "
            "intermediate.int_identity_duplicate_rates"
        ).fetchall()
    )
    return IdentityScore(
        records_compared=records,
        true_pairs=int(true_pairs),
        predicted_pairs=int(predicted),
        correct_pairs=int(correct),
        precision=correct / predicted if predicted else 1.0,
        recall=correct / true_pairs if true_pairs else 1.0,
        duplicate_rates=rates,
    )


def main() -> None:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", default=settings.warehouse_path)
    parser.add_argument("--truth", default=str(Path(settings.data_dir) / "truth"))
    args = parser.parse_args()
    con = duckdb.connect(args.warehouse, read_only=True)
    print(json.dumps(asdict(score(con, Path(args.truth))), indent=2))


if __name__ == "__main__":
    main()
