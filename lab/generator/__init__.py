"""Seeded generator of the four source systems' data (ERP, shop, call center, ESP) plus truth.

    from lab.generator import generate
    summary = generate(Path("data"), customers=2000, days=3, seed=42,
                       end_date=date(2026, 11, 20), malformed_rate=0.002, shop_url=None,
                       history_years=8)

Same arguments, same bytes: every random draw comes from numpy streams derived from the seed
(and Faker seeded with it), no wall clock is read, and nothing depends on set or dict order.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from .callcenter import generate_calls, numbers_on_file
from .context import Context
from .defects import DEFECT_RATES
from .erp import generate_erp
from .esp import generate_esp
from .people import MIX, build_population, write_persons
from .pools import build_pools
from .shop import generate_shop
from .truth import Truth

__all__ = ["DEFAULT_END_DATE", "DEFECT_RATES", "generate"]

DEFAULT_END_DATE = date(2026, 11, 20)
# files this generator owns; stale ones from an earlier run (other dates) are removed first
_OWNED = {
    "landing/erp": re.compile(r"erp_(customers|products|orders|order_lines)_\d{8}\.csv"),
    "landing/callcenter": re.compile(r"(calls_\d{8}\.jsonl|tickets_\d{8}\.csv)"),
    "landing/esp": re.compile(r"(campaigns|events)_\d{8}\.jsonl"),
    "truth": re.compile(r"(persons|identity|contacts|malformed)\.csv|manifest\.json"),
}


def _mask_password(url: str | None) -> str | None:
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", url) if url else url


def _clean(out_dir: Path) -> None:
    for folder, pattern in _OWNED.items():
        path = out_dir / folder
        if path.is_dir():
            for f in sorted(path.iterdir()):
                if f.is_file() and pattern.fullmatch(f.name):
                    f.unlink()


def generate(
    out_dir: Path,
    customers: int,
    days: int,
    seed: int,
    end_date: date = DEFAULT_END_DATE,
    malformed_rate: float = 0.002,
    shop_url: str | None = None,
    history_years: int = 8,
) -> dict[str, Any]:
    """Write all landing files, the shop database and truth/; return the manifest."""
    if customers < 1 or days < 1 or seed < 0 or not 0 <= malformed_rate < 1:
        raise ValueError("customers and days must be >= 1, seed >= 0, 0 <= malformed_rate < 1")
    if not 2 <= history_years <= 30:
        raise ValueError("history_years must be between 2 and 30")
    out_dir = Path(out_dir)
    ctx = Context(
        out_dir=out_dir,
        customers=customers,
        days=days,
        seed=seed,
        end_date=end_date,
        malformed_rate=malformed_rate,
        shop_url=shop_url,
        history_years=history_years,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    _clean(out_dir)
    truth = Truth(ctx.truth_dir)
    pop = build_population(ctx, build_pools(seed))
    erp = generate_erp(ctx, pop, truth)
    shop = generate_shop(ctx, pop, erp.products, truth)
    generate_calls(ctx, pop, truth, numbers_on_file(erp, shop))
    generate_esp(ctx, pop, erp, shop, truth)
    truth.count("truth/persons.csv", write_persons(pop, ctx.truth_dir / "persons.csv"))
    manifest = {
        "arguments": {
            "customers": customers,
            "days": days,
            "seed": seed,
            "end_date": end_date.isoformat(),
            "malformed_rate": malformed_rate,
            "history_years": history_years,
            "shop_url": _mask_password(shop_url),
            "delivery_days": [d.isoformat() for d in ctx.day_list],
        },
        "defect_rates": dict(DEFECT_RATES),
        "population_mix": dict(MIX),
    }
    return truth.close(manifest)
