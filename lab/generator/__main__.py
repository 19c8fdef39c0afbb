"""CLI: python -m lab.generator --customers 2000 --days 3 --seed 42 --out data"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from ingest.cli_inputs import run_command

from . import DEFAULT_END_DATE, generate


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m lab.generator",
        description="Generate seeded ERP / shop / call-center / ESP source data with truth.",
    )
    p.add_argument("--customers", type=int, default=2000, help="persons in the population")
    p.add_argument("--days", type=int, default=3, help="daily deliveries ending at --end-date")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", type=Path, default=Path("data"), help="output folder")
    p.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=DEFAULT_END_DATE,
        help=f"last delivery day, YYYY-MM-DD (default {DEFAULT_END_DATE})",
    )
    p.add_argument(
        "--malformed-rate",
        type=float,
        default=0.002,
        help="share of broken lines per file (0 for none)",
    )
    p.add_argument(
        "--history-years",
        type=int,
        default=8,
        help="years of ERP order history before --end-date (default 8)",
    )
    p.add_argument(
        "--shop-url",
        default=None,
        help="SQLAlchemy URL of the shop database (default: <out>/shop.sqlite)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        summary = generate(
            args.out,
            args.customers,
            args.days,
            args.seed,
            args.end_date,
            args.malformed_rate,
            args.shop_url,
            args.history_years,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = summary["rows"]
    print(
        f"wrote {args.out} for {args.customers} persons, {args.days} day(s) to "
        f"{args.end_date}, seed {args.seed}"
    )
    groups: dict[str, int] = {}
    for name, count in rows.items():
        key = name.split("_2")[0] if name.startswith(("erp/", "callcenter/", "esp/")) else name
        groups[key] = groups.get(key, 0) + count
    for name, count in groups.items():
        print(f"  {name:<32} {count:>10,} rows")
    bad = summary["malformed"]
    print(
        f"  malformed rows: {sum(bad.values()):,} " + ", ".join(f"{k} {v}" for k, v in bad.items())
    )
    print(f"  truth and manifest in {args.out / 'truth'}")
    return 0


if __name__ == "__main__":
    run_command(
        main, "the generated sources may be incomplete; run `make generate` (or `make demo`) again"
    )
