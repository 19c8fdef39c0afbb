"""Superset settings for the local dashboards of gogaek (read by Superset via SUPERSET_CONFIG_PATH).

Everything Superset writes stays in one folder under the data folder (GOGAEK_SUPERSET_HOME, set by
dashboards/superset.py): its metadata database and the secret key that
encrypts the connection settings stored there. Nothing machine-specific is committed.
"""

from __future__ import annotations

import os
from pathlib import Path

_HOME = Path(os.environ["GOGAEK_SUPERSET_HOME"]).resolve()

# Made once by `make dashboards` (random, mode 0600); a new key would make the stored connection
# unreadable, so it is never regenerated while the metadata database exists.
SECRET_KEY = (_HOME / "secret_key").read_text(encoding="utf-8").strip()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{_HOME / 'superset.db'}"

# A local, single-user setup: no Redis, no Celery workers, results cached in process memory.
CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache"}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}
FILTER_STATE_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache"}
EXPLORE_FORM_DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache"}

# Korean and English labels: Superset's own UI in English, the data carries both.
BABEL_DEFAULT_LOCALE = "en"
# Amounts are won without decimals; d3's SI format would print ₩1.2M as "1.2M".
D3_FORMAT = {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["₩", ""]}

# Draw every chart when the dashboard opens, not only those scrolled into view, so a full-page
# screenshot (make dashboard-screenshots) shows them all.
FEATURE_FLAGS = {"DASHBOARD_VIRTUALIZATION": False}
