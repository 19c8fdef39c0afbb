"""lab.identity_eval on a hand-written crosswalk and truth whose pair counts are known."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import duckdb

from lab.identity_eval import as_text, score

TRUTH = """source,source_key,person_id
erp_customer,E1,P1
erp_customer,E2,P1
shop_member,1,P1
callcenter_call,K1,P1
callcenter_call,K2,P2
erp_customer,E3,P2
shop_member,2,P3
callcenter_call,K3,
"""

# P1: E1, E2, 1 and K1 found together. P2: the call K2 is not found (no customer).
# P3's shop member 2 is wrongly merged with P2's E3. The stranger's call K3 stays unmatched.
CROSSWALK = [
    ("erp_customer", "E1", "c1"),
    ("erp_customer", "E2", "c1"),
    ("shop_member", "1", "c1"),
    ("callcenter_call", "K1", "c1"),
    ("callcenter_call", "K2", None),
    ("erp_customer", "E3", "c2"),
    ("shop_member", "2", "c2"),
    ("callcenter_call", "K3", None),
    ("shop_guest_order", "9", "c1"),  # not a source the pairs count
]


def _scored(tmp_path: Path):
    (tmp_path / "identity.csv").write_text(TRUTH, encoding="utf-8")
    con = duckdb.connect()
    con.execute("create table crosswalk (source varchar, source_key varchar, customer_id varchar)")
    con.executemany("insert into crosswalk values (?, ?, ?)", CROSSWALK)
    return score(con, tmp_path, crosswalk="crosswalk")


def test_pairs_in_all_and_per_source_pair(tmp_path: Path) -> None:
    result = _scored(tmp_path)
    # true pairs: P1 has 4 records (6 pairs), P2 has 2 (1 pair); found: the 6 of P1, and
    # E3–2 predicted but wrong
    assert (result.true_pairs, result.predicted_pairs, result.correct_pairs) == (7, 7, 6)
    assert result.records_compared == 8
    by_pair = {p.sources: p for p in result.by_source_pair}
    assert set(by_pair) == {
        "callcenter_call–erp_customer",
        "callcenter_call–shop_member",
        "erp_customer–erp_customer",
        "erp_customer–shop_member",
    }
    calls_erp = by_pair["callcenter_call–erp_customer"]
    # K1–E1, K1–E2 found; K2–E3 missed
    assert (calls_erp.true_pairs, calls_erp.correct_pairs, calls_erp.predicted_pairs) == (3, 2, 2)
    assert round(calls_erp.recall, 4) == 0.6667 and calls_erp.precision == 1.0
    erp_shop = by_pair["erp_customer–shop_member"]
    # E1–1, E2–1 true and found; E3–2 predicted, wrong
    assert (erp_shop.true_pairs, erp_shop.correct_pairs, erp_shop.predicted_pairs) == (2, 2, 3)
    assert round(erp_shop.precision, 4) == 0.6667 and erp_shop.recall == 1.0
    assert by_pair["erp_customer–erp_customer"].recall == 1.0


def test_duplicate_rates_found_and_true_per_source(tmp_path: Path) -> None:
    result = _scored(tmp_path)
    # ERP: E1 and E2 one customer (and one person) → 1 duplicate of 3 records
    assert result.duplicate_rates["erp_customer"] == 0.3333
    assert result.true_duplicate_rates["erp_customer"] == 0.3333
    # calls: one matched call, no duplicates found; truth: K1 and K2 are different people
    assert result.duplicate_rates["callcenter_call"] == 0.0
    assert result.true_duplicate_rates["callcenter_call"] == 0.0
    assert result.duplicate_rates["shop_member"] == 0.0


def test_text_and_json_reports(tmp_path: Path) -> None:
    result = _scored(tmp_path)
    text = as_text(result)
    assert "precision 0.8571, recall 0.8571" in text
    assert "callcenter_call–erp_customer" in text
    document = json.loads(json.dumps(asdict(result), ensure_ascii=False))
    assert document["by_source_pair"][0]["sources"] == "callcenter_call–erp_customer"
