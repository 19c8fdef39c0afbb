"""Settings from environment variables, with safe local defaults (see .env.example)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Documented local default; set GOGAEK_RRN_SALT to a secret of your own in any real deployment,
# and keep it: changing it changes every hashed RRN.
DEFAULT_RRN_SALT = "gogaek-local-dev-salt"


@dataclass(frozen=True)
class Settings:
    warehouse_path: str
    landing_dir: str
    shop_db_url: str
    rrn_salt: str
    shop_overlap_minutes: int
    quality_dir: str = "data/quality"  # Great Expectations project, results and Data Docs
    serving_dir: str = "data/serving"

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
        )
