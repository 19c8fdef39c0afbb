"""Settings from environment variables, with safe local defaults (see .env.example)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

# Documented local default; set GOGAEK_RRN_SALT to a secret of your own in any real deployment,
# and keep it: changing it changes every hashed RRN.
DEFAULT_RRN_SALT = "gogaek-local-dev-salt"


@dataclass(frozen=True)
class LoadLimits:
    """Row-level bounds of the loaders: a value outside them quarantines its row with a reason,
    so one implausible value costs one row instead of overflowing a mart at night."""

    # |number| above this is `implausible_number` (sums of such values overflow the marts).
    max_abs_number: float = 1e12
    # Dates and timestamps before this, or more than max_future_days ahead: `implausible_date`.
    earliest_date: date = date(1900, 1, 1)
    max_future_days: int = 366
    # A shop `updated_at` beyond now plus this: `watermark_in_future` (never the watermark).
    watermark_tolerance_minutes: int = 60
    # A CSV or JSON field longer than this many characters: `field_too_large`.
    max_field_chars: int = 1_000_000

    @classmethod
    def from_env(cls) -> LoadLimits:
        default = cls()
        env = os.environ.get
        return cls(
            max_abs_number=float(env("GOGAEK_MAX_ABS_NUMBER", default.max_abs_number)),
            earliest_date=date.fromisoformat(env("GOGAEK_EARLIEST_DATE",
                                                 default.earliest_date.isoformat())),
            max_future_days=int(env("GOGAEK_MAX_FUTURE_DAYS", default.max_future_days)),
            watermark_tolerance_minutes=int(env("GOGAEK_WATERMARK_TOLERANCE_MINUTES",
                                                default.watermark_tolerance_minutes)),
            max_field_chars=int(env("GOGAEK_MAX_FIELD_CHARS", default.max_field_chars)),
        )


@dataclass(frozen=True)
class Settings:
    warehouse_path: str
    landing_dir: str
    shop_db_url: str
    rrn_salt: str
    shop_overlap_minutes: int
    quality_dir: str = "data/quality"  # Great Expectations project, results and Data Docs
    serving_dir: str = "data/serving"
    load_limits: LoadLimits = field(default_factory=LoadLimits)
    # Days between full key-and-hash compares of each shop table (deletes, changes behind the
    # watermark); 0 compares on every load.
    shop_full_compare_days: int = 7

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("GOGAEK_DATA_DIR", "data"))
        return cls(
            warehouse_path=os.environ.get("GOGAEK_WAREHOUSE", str(data_dir / "warehouse.duckdb")),
            landing_dir=os.environ.get("GOGAEK_LANDING_DIR", str(data_dir / "landing")),
            shop_db_url=os.environ.get("GOGAEK_SHOP_DB_URL",
                                       f"sqlite:///{data_dir / 'shop.sqlite'}"),
            rrn_salt=os.environ.get("GOGAEK_RRN_SALT", DEFAULT_RRN_SALT),
            shop_overlap_minutes=int(os.environ.get("GOGAEK_SHOP_OVERLAP_MINUTES", "10")),
            quality_dir=os.environ.get("GOGAEK_QUALITY_DIR", str(data_dir / "quality")),
            # Files BI tools and operations read (orchestration.serving.publish), never the
            # warehouse itself.
            serving_dir=os.environ.get("GOGAEK_SERVING_DIR", str(data_dir / "serving")),
            load_limits=LoadLimits.from_env(),
            shop_full_compare_days=int(os.environ.get("GOGAEK_SHOP_FULL_COMPARE_DAYS", "7")),
        )
