"""Run parameters shared by every part of the generator, and seeded random streams."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

DAY = 86_400  # seconds
EPOCH = date(1970, 1, 1)


def day_number(d: date) -> int:
    """Days since 1970-01-01; all dates are kept as such integers (numpy friendly)."""
    return (d - EPOCH).days


@dataclass(frozen=True)
class Context:
    out_dir: Path
    customers: int
    days: int
    seed: int
    end_date: date
    malformed_rate: float
    shop_url: str | None
    history_years: int = 8  # ERP order history before end_date (the shop opened 2 years before)

    @property
    def landing(self) -> Path:
        return self.out_dir / "landing"

    @property
    def truth_dir(self) -> Path:
        return self.out_dir / "truth"

    @property
    def day_list(self) -> list[date]:
        """The delivery days, oldest first; the last one is end_date."""
        return [self.end_date - timedelta(days=self.days - 1 - i) for i in range(self.days)]

    @property
    def first_day(self) -> int:
        return day_number(self.day_list[0])

    @property
    def last_day(self) -> int:
        return day_number(self.end_date)

    @property
    def history_start(self) -> int:
        """First day of the ERP's order history (day number)."""
        return self.last_day - round(self.history_years * 365.25) + 1

    @property
    def end_sec(self) -> int:
        """First second after the generated period (local time); nothing happens from here on."""
        return (self.last_day + 1) * DAY

    def file_day(self, days: np.ndarray) -> np.ndarray:
        """Index of the delivery file for event days: day 1 holds all history up to itself."""
        return np.maximum(days - self.first_day, 0)

    def rng(self, name: str) -> np.random.Generator:
        """An independent stream per purpose, so changing one part never shifts the others."""
        return np.random.default_rng(np.random.SeedSequence([self.seed, zlib.crc32(name.encode())]))
