"""Every setting of the project, read in one place.

Two kinds:
- **Where things are and how to reach them** (paths, the shop database, PostgreSQL, secrets):
  environment variables `GOGAEK_*` with safe local defaults (`.env.example` lists them).
  Relative paths are resolved against the current folder once, here, so Dagster, dbt and the
  command-line tools all open the same files whichever folder they run in.
- **Business rules** (scoring window, as-of date, margin and discount rates, currency, ...):
  the dbt vars. Their names and defaults are declared once, under `vars:` in
  `dbt_project/dbt_project.yml`. Each can be overridden by the environment variable
  `GOGAEK_<NAME>` (`GOGAEK_RFM_WINDOW_DAYS=180`, also as `make demo GOGAEK_RFM_WINDOW_DAYS=180`)
  and, for one Dagster run, in the launchpad (`resources.settings.config.dbt_vars`).
  `resolve_dbt_vars` gives the values every dbt invocation receives with `--vars` and the CLV fit
  reads, so dbt and Python never disagree.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, TypedDict

import yaml

from ingest.schemas import SOURCE_SYSTEMS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

# Documented local default; set GOGAEK_RRN_SALT to a secret of your own in any real deployment,
# and keep it: changing it changes every hashed RRN.
DEFAULT_RRN_SALT = "gogaek-local-dev-salt"
# Key of the erasure list's tokens (ingest.erasure): a local default only; set
# GOGAEK_ERASURE_SECRET to a secret of its own (not the RRN salt), kept outside the warehouse, and
# keep it: changing it makes every listed person unrecognisable at load.
DEFAULT_ERASURE_SECRET = "gogaek-local-erasure-secret"
ENV_PREFIX = "GOGAEK_"


class PostgresConnectParams(TypedDict):
    """psycopg2.connect's keywords, each a string as libpq reads it."""

    host: str
    port: str
    user: str
    password: str
    dbname: str


@dataclass(frozen=True)
class PostgresSettings:
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    database: str = "gogaek"

    def connect_params(self, database: str | None = None) -> PostgresConnectParams:
        """Keyword arguments for psycopg2.connect."""
        return {
            "host": self.host,
            "port": str(self.port),
            "user": self.user,
            "password": self.password,
            "dbname": database or self.database,
        }


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
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LoadLimits:
        default = cls()
        env = (os.environ if environ is None else environ).get
        return cls(
            max_abs_number=float(env("GOGAEK_MAX_ABS_NUMBER", default.max_abs_number)),
            earliest_date=date.fromisoformat(
                env("GOGAEK_EARLIEST_DATE", default.earliest_date.isoformat())
            ),
            max_future_days=int(env("GOGAEK_MAX_FUTURE_DAYS", default.max_future_days)),
            watermark_tolerance_minutes=int(
                env("GOGAEK_WATERMARK_TOLERANCE_MINUTES", default.watermark_tolerance_minutes)
            ),
            max_field_chars=int(env("GOGAEK_MAX_FIELD_CHARS", default.max_field_chars)),
        )


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts of failed runs and failed checks go (orchestration/alerts.py). Off unless
    set: e-mail needs a server and a recipient, the webhook a URL."""

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""  # a secret: never printed
    smtp_starttls: bool = False
    email_from: str = "gogaek@localhost"
    email_to: tuple[str, ...] = ()
    webhook_url: str = ""  # may hold a token (Slack, Teams): never printed
    # Failed checks of this severity and above alert: `error` (blocking) or `warn` (every one).
    check_severity: str = "error"
    # Where the Dagster UI is, for the links in an alert.
    ui_url: str = "http://127.0.0.1:3000"

    @property
    def email_on(self) -> bool:
        return bool(self.smtp_host and self.email_to)

    @property
    def webhook_on(self) -> bool:
        return bool(self.webhook_url)

    @property
    def any_on(self) -> bool:
        return self.email_on or self.webhook_on

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AlertSettings:
        env = os.environ if environ is None else environ
        default = cls()
        severity = (env.get("GOGAEK_ALERT_CHECK_SEVERITY") or default.check_severity).lower()
        if severity not in ("error", "warn"):
            raise ValueError(f"GOGAEK_ALERT_CHECK_SEVERITY must be error or warn, not {severity!r}")
        starttls = (env.get("GOGAEK_ALERT_SMTP_STARTTLS") or "false").strip().lower()
        if starttls not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"GOGAEK_ALERT_SMTP_STARTTLS must be true or false, not {starttls!r}")
        return cls(
            smtp_host=env.get("GOGAEK_ALERT_SMTP_HOST") or "",
            smtp_port=int(env.get("GOGAEK_ALERT_SMTP_PORT") or default.smtp_port),
            smtp_user=env.get("GOGAEK_ALERT_SMTP_USER") or "",
            smtp_password=env.get("GOGAEK_ALERT_SMTP_PASSWORD") or "",
            smtp_starttls=starttls in ("true", "1", "yes"),
            email_from=env.get("GOGAEK_ALERT_EMAIL_FROM") or default.email_from,
            email_to=tuple(
                a.strip() for a in (env.get("GOGAEK_ALERT_EMAIL_TO") or "").split(",") if a.strip()
            ),
            webhook_url=env.get("GOGAEK_ALERT_WEBHOOK_URL") or "",
            check_severity=severity,
            ui_url=(env.get("GOGAEK_ALERT_UI_URL") or default.ui_url).rstrip("/"),
        )

    def shown(self) -> dict[str, Any]:
        """For `make settings`: the secrets as set / not set."""
        return {
            **vars(self),
            "smtp_password": "(set)" if self.smtp_password else "(empty)",
            "webhook_url": "(set)" if self.webhook_url else "(off)",
        }


@dataclass(frozen=True)
class Settings:
    data_dir: str
    warehouse_path: str
    landing_dir: str
    shop_db_url: str
    rrn_salt: str
    erasure_secret: str
    shop_overlap_minutes: int
    quality_dir: str
    serving_dir: str
    dbt_target: str  # duckdb | postgres: where dbt builds and the staged GE suites run
    postgres: PostgresSettings
    bi_reader_role: str
    bi_reader_password: str | None  # only `make postgres-bi-reader` uses it; never logged
    load_limits: LoadLimits = field(default_factory=LoadLimits)
    # Days between full key-and-hash compares of each shop table (deletes, changes behind the
    # watermark); 0 compares on every load.
    shop_full_compare_days: int = 7
    # Runs whose validations each Great Expectations suite keeps in its store and Data Docs.
    data_docs_runs: int = 30
    # Seconds `make dbt-build` / `make dbt-docs` wait for a run that holds the warehouse
    # (orchestration/warehouse_lock.py); 0 fails at once with what holds it.
    warehouse_wait_seconds: int = 1800
    alerts: AlertSettings = field(default_factory=AlertSettings)
    # The source systems this company has (GOGAEK_SOURCES, comma-separated; default all four):
    # a source it does not declare is not expected to deliver, so its freshness is not judged.
    sources: tuple[str, ...] = SOURCE_SYSTEMS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def path(name: str, default: Path) -> str:
            return str(Path(env.get(name) or default).resolve())

        data_dir = Path(path("GOGAEK_DATA_DIR", Path("data")))
        target = env.get("GOGAEK_DBT_TARGET") or "duckdb"
        if target not in ("duckdb", "postgres"):
            raise ValueError(f"GOGAEK_DBT_TARGET must be duckdb or postgres, not {target!r}")
        return cls(
            data_dir=str(data_dir),
            warehouse_path=path("GOGAEK_WAREHOUSE", data_dir / "warehouse.duckdb"),
            landing_dir=path("GOGAEK_LANDING_DIR", data_dir / "landing"),
            shop_db_url=env.get("GOGAEK_SHOP_DB_URL") or f"sqlite:///{data_dir / 'shop.sqlite'}",
            rrn_salt=env.get("GOGAEK_RRN_SALT") or DEFAULT_RRN_SALT,
            erasure_secret=env.get("GOGAEK_ERASURE_SECRET") or DEFAULT_ERASURE_SECRET,
            shop_overlap_minutes=int(env.get("GOGAEK_SHOP_OVERLAP_MINUTES") or 10),
            quality_dir=path("GOGAEK_QUALITY_DIR", data_dir / "quality"),
            # Files BI tools and operations read (orchestration.serving.publish), never the
            # warehouse itself.
            serving_dir=path("GOGAEK_SERVING_DIR", data_dir / "serving"),
            dbt_target=target,
            postgres=PostgresSettings(
                host=env.get("GOGAEK_PG_HOST") or "127.0.0.1",
                port=int(env.get("GOGAEK_PG_PORT") or 5432),
                user=env.get("GOGAEK_PG_USER") or "postgres",
                password=env.get("GOGAEK_PG_PASSWORD", ""),
                database=env.get("GOGAEK_PG_DATABASE") or "gogaek",
            ),
            bi_reader_role=env.get("GOGAEK_BI_READER_ROLE") or "bi_reader",
            bi_reader_password=env.get("GOGAEK_BI_READER_PASSWORD") or None,
            load_limits=LoadLimits.from_env(env),
            shop_full_compare_days=int(env.get("GOGAEK_SHOP_FULL_COMPARE_DAYS") or 7),
            data_docs_runs=_whole(
                "GOGAEK_DATA_DOCS_RUNS", env.get("GOGAEK_DATA_DOCS_RUNS"), 30, minimum=1
            ),
            warehouse_wait_seconds=_whole(
                "GOGAEK_WAREHOUSE_WAIT_SECONDS",
                env.get("GOGAEK_WAREHOUSE_WAIT_SECONDS"),
                1800,
                minimum=0,
            ),
            alerts=AlertSettings.from_env(env),
            sources=declared_sources(env.get("GOGAEK_SOURCES")),
        )


def declared_sources(text: str | None) -> tuple[str, ...]:
    """GOGAEK_SOURCES as the source systems it names (all of them when unset)."""
    if not text or not text.strip():
        return SOURCE_SYSTEMS
    named = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = sorted(set(named) - set(SOURCE_SYSTEMS))
    if unknown or not named:
        raise ValueError(
            f"GOGAEK_SOURCES names the source systems this company has, comma-separated, from "
            f"{', '.join(SOURCE_SYSTEMS)}; {', '.join(unknown) or 'nothing'} is not one of them"
        )
    return tuple(source for source in SOURCE_SYSTEMS if source in named)


def _whole(name: str, text: str | None, default: int, minimum: int) -> int:
    """A whole-number setting of at least `minimum`, `default` when unset."""
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ValueError(f"{name} must be a whole number of at least {minimum}, not {text!r}")
    return value


# ------------------------------------------------------------------ business rules (dbt vars)


@cache
def dbt_var_defaults() -> dict[str, Any]:
    """The dbt vars and their defaults, as dbt_project.yml declares them."""
    with (DBT_PROJECT_DIR / "dbt_project.yml").open(encoding="utf-8") as handle:
        return dict(yaml.safe_load(handle).get("vars") or {})


def env_name(var: str) -> str:
    return ENV_PREFIX + var.upper()


def _coerce(name: str, value: Any, default: Any) -> Any:
    """`value` (text from the environment, or a run-config value) as the type of the default."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "null", "none")):
        return None
    try:
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text in ("true", "1", "yes")
        if isinstance(default, int):
            return int(str(value).strip())
        if isinstance(default, float):
            return float(str(value).strip())
    except ValueError:
        raise ValueError(
            f"setting {name} ({env_name(name)}) must be a "
            f"{type(default).__name__} like {default!r}, not {value!r}"
        ) from None
    text = str(value).strip()
    if name.endswith("_date"):
        try:
            date.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"setting {name} ({env_name(name)}) must be a date YYYY-MM-DD, not {value!r}"
            ) from None
    return text


def resolve_dbt_vars(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Every dbt var: the default from dbt_project.yml, else GOGAEK_<NAME>, else the override.

    Later sources win: dbt_project.yml < environment < `overrides` (Dagster run config).
    An override for a name dbt_project.yml does not declare is an error, not a silent no-op.
    """
    env = os.environ if environ is None else environ
    defaults = dbt_var_defaults()
    resolved: dict[str, Any] = {}
    for name, default in defaults.items():
        raw = env.get(env_name(name))
        resolved[name] = default if raw is None else _coerce(name, raw, default)
    unknown = sorted(set(overrides or {}) - set(defaults))
    if unknown:
        raise ValueError(
            f"unknown setting(s) {unknown}; the settings are the vars of "
            f"dbt_project/dbt_project.yml: {sorted(defaults)}"
        )
    for name, value in (overrides or {}).items():
        resolved[name] = _coerce(name, value, defaults[name])
    return resolved


_PATH_AND_CONNECTION_NAMES = {
    "DATA_DIR",
    "WAREHOUSE",
    "LANDING_DIR",
    "SHOP_DB_URL",
    "RRN_SALT",
    "ERASURE_SECRET",
    "SHOP_OVERLAP_MINUTES",
    "QUALITY_DIR",
    "DATA_DOCS_RUNS",
    "WAREHOUSE_WAIT_SECONDS",
    "SERVING_DIR",
    "SOURCES",
    "DBT_TARGET",
    "PG_HOST",
    "PG_PORT",
    "PG_USER",
    "PG_PASSWORD",
    "PG_DATABASE",
    "BI_READER_ROLE",
    "BI_READER_PASSWORD",
    "TEST_MARIADB_URL",
    "SHOP_FULL_COMPARE_DAYS",
    "WATERMARK_TOLERANCE_MINUTES",
    "MAX_ABS_NUMBER",
    "EARLIEST_DATE",
    "MAX_FUTURE_DAYS",
    "MAX_FIELD_CHARS",
    "ALERT_SMTP_HOST",
    "ALERT_SMTP_PORT",
    "ALERT_SMTP_USER",
    "ALERT_SMTP_PASSWORD",
    "ALERT_SMTP_STARTTLS",
    "ALERT_EMAIL_FROM",
    "ALERT_EMAIL_TO",
    "ALERT_WEBHOOK_URL",
    "ALERT_CHECK_SEVERITY",
    "ALERT_UI_URL",
}


def unknown_environment_settings(
    environ: Mapping[str, str] | None = None, extra: frozenset[str] = frozenset()
) -> list[str]:
    """GOGAEK_* variables that name no setting: most likely a typo that would change nothing."""
    env = os.environ if environ is None else environ
    known = {env_name(v) for v in dbt_var_defaults()} | {
        ENV_PREFIX + n for n in _PATH_AND_CONNECTION_NAMES | set(extra)
    }
    return sorted(k for k in env if k.startswith(ENV_PREFIX) and k not in known)


def dbt_cli_vars(
    settings: Settings,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """What `dbt ... --vars` receives: the business settings plus the warehouse file, which
    profiles.yml reads, so dbt opens the file Dagster and the loaders use."""
    return {**resolve_dbt_vars(overrides, environ), "warehouse_path": settings.warehouse_path}


def main(argv: list[str] | None = None) -> int:
    """`python -m ingest.settings` prints the resolved settings; `--dbt-vars` prints the JSON
    for `dbt --vars` (the Makefile's dbt targets use it)."""
    args = sys.argv[1:] if argv is None else argv
    settings = Settings.from_env()
    for name in unknown_environment_settings():
        print(f"warning: {name} is set but names no setting", file=sys.stderr)
    if "--dbt-vars" in args:
        print(json.dumps(dbt_cli_vars(settings), ensure_ascii=False))
        return 0
    secret = {
        "rrn_salt": settings.rrn_salt != DEFAULT_RRN_SALT,
        "erasure_secret": settings.erasure_secret != DEFAULT_ERASURE_SECRET,
        "bi_reader_password": settings.bi_reader_password is not None,
    }
    for name, value in vars(settings).items():
        if name in secret:
            value = "(set)" if secret[name] else "(default)"
        elif name == "postgres":
            value = {**vars(value), "password": "(set)" if value.password else "(empty)"}
        elif name == "alerts":
            value = value.shown()
        print(f"{name:24} {value}")
    for name, value in resolve_dbt_vars().items():
        print(f"{name:24} {value!r:24} {env_name(name)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
