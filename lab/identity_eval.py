"""Measure identity resolution against the generator's truth: pairwise precision and recall.

A pair is two source records (ERP customer, shop member, call, ESP recipient) said to be the
same person. Precision = predicted pairs that are true / predicted pairs; recall = true pairs
found / true pairs. Only records present in both the crosswalk and the truth count (quarantined
rows never reach the crosswalk); records without a person or customer form no pairs. The same
figures are reported per source pair (erp_customer–shop_member, callcenter_call–erp_customer,
…, a source with itself for its duplicates), and per source the duplicate rate found (records
that share a customer with an earlier record of the same source, as a share of its records) next
to the true one (the same with the truth's persons).

    python -m lab.identity_eval --warehouse data/warehouse.duckdb --truth data/truth \
        [--json] [--json-out FILE]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from ingest.cli_inputs import require_truth, require_warehouse, run_command
from ingest.db_rows import one_row
from ingest.settings import Settings

SOURCES = ("erp_customer", "shop_member", "callcenter_call", "esp_recipient")


@dataclass(frozen=True)
class PairScore:
    """Pairs between two sources (or within one): true, predicted, correct, P and R."""

    sources: str
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    precision: float
    recall: float


@dataclass(frozen=True)
class IdentityScore:
    records_compared: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    precision: float
    recall: float
    duplicate_rates: dict[str, float]
    true_duplicate_rates: dict[str, float]
    by_source_pair: list[PairScore]


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 1.0


def _pairs_by_source_pair(con: duckdb.DuckDBPyConnection, group_by: str) -> dict[str, int]:
    """Pairs of records sharing `group_by`, per source pair (sources in alphabetical order)."""
    not_null = " and ".join(f"{column} is not null" for column in group_by.split(", "))
    rows = con.execute(f"""
        with per_group as (
            select {group_by}, source, count(*) as n
            from _identity_pairs where {not_null}
            group by {group_by}, source
        )
        select a.source || '–' || b.source,
            sum(case when a.source = b.source then a.n * (a.n - 1) / 2 else a.n * b.n end)
        from per_group as a
        inner join per_group as b using ({group_by})
        where a.source <= b.source
        group by 1""").fetchall()
    return {pair: int(n) for pair, n in rows if n}


def _duplicate_rates(con: duckdb.DuckDBPyConnection, column: str) -> dict[str, float]:
    rows = con.execute(f"""
        select source, count(*), count(distinct {column}), count({column})
        from _identity_pairs group by source order by source""").fetchall()
    # records without a customer (or person) are nobody's duplicate
    return {source: round(_ratio(with_id - ids, n), 4) for source, n, ids, with_id in rows}


def score(
    con: duckdb.DuckDBPyConnection,
    truth_dir: Path,
    crosswalk: str = "intermediate.int_identity_crosswalk",
) -> IdentityScore:
    sources = ", ".join(f"'{s}'" for s in SOURCES)
    con.execute(f"""
        create or replace temp table _identity_pairs as
        select crosswalk.source, crosswalk.customer_id,
            nullif(truth.person_id, '') as person_id
        from {crosswalk} as crosswalk
        inner join read_csv('{truth_dir / "identity.csv"}', all_varchar = true) as truth
            on truth.source = crosswalk.source and truth.source_key = crosswalk.source_key
        where crosswalk.source in ({sources})""")
    records = one_row(con.execute("select count(*) from _identity_pairs"))[0]
    true = _pairs_by_source_pair(con, "person_id")
    predicted = _pairs_by_source_pair(con, "customer_id")
    correct = _pairs_by_source_pair(con, "customer_id, person_id")
    by_pair = [
        PairScore(
            sources=pair,
            true_pairs=true.get(pair, 0),
            predicted_pairs=predicted.get(pair, 0),
            correct_pairs=correct.get(pair, 0),
            precision=_ratio(correct.get(pair, 0), predicted.get(pair, 0)),
            recall=_ratio(correct.get(pair, 0), true.get(pair, 0)),
        )
        for pair in sorted(set(true) | set(predicted))
    ]
    total_true, total_predicted, total_correct = (
        sum(counts.values()) for counts in (true, predicted, correct)
    )
    return IdentityScore(
        records_compared=records,
        true_pairs=total_true,
        predicted_pairs=total_predicted,
        correct_pairs=total_correct,
        precision=_ratio(total_correct, total_predicted),
        recall=_ratio(total_correct, total_true),
        duplicate_rates=_duplicate_rates(con, "customer_id"),
        true_duplicate_rates=_duplicate_rates(con, "person_id"),
        by_source_pair=by_pair,
    )


def as_text(result: IdentityScore) -> str:
    lines = [
        f"records compared {result.records_compared:,}: precision {result.precision:.4f}, "
        f"recall {result.recall:.4f} ({result.correct_pairs:,} of {result.true_pairs:,} true "
        f"pairs found, {result.predicted_pairs:,} predicted)",
        "",
        f"{'source pair':<32} {'true':>9} {'predicted':>9} {'correct':>9} {'precision':>9} "
        f"{'recall':>7}",
    ]
    for pair in result.by_source_pair:
        lines.append(
            f"{pair.sources:<32} {pair.true_pairs:>9,} {pair.predicted_pairs:>9,} "
            f"{pair.correct_pairs:>9,} {pair.precision:>9.4f} {pair.recall:>7.4f}"
        )
    lines += ["", f"{'source':<18} {'duplicate rate found':>20} {'true':>7}"]
    for source, rate in result.duplicate_rates.items():
        true_rate = result.true_duplicate_rates.get(source, 0.0)
        lines.append(f"{source:<18} {rate:>20.4f} {true_rate:>7.4f}")
    return "\n".join(lines)


def main() -> None:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", default=settings.warehouse_path)
    parser.add_argument("--truth", default=str(Path(settings.data_dir) / "truth"))
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--json-out", help="also write the JSON to this file")
    args = parser.parse_args()
    require_warehouse(parser, args.warehouse)
    require_truth(parser, args.truth)
    con = duckdb.connect(args.warehouse, read_only=True)
    result = score(con, Path(args.truth))
    document = json.dumps(asdict(result), indent=2, ensure_ascii=False)
    if args.json_out:
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(document + "\n", encoding="utf-8")
    print(document if args.json else as_text(result))


if __name__ == "__main__":
    run_command(main, "the evaluation's JSON report was not written")
