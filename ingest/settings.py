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
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, TypedDict

import yaml

from ingest.installation_secrets import NAMES as SECRET_NAMES
from ingest.installation_secrets import (
    InstallationSecrets,
    ensure_secrets_file,
    installation_secrets,
)
from ingest.schemas import SOURCE_SYSTEMS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

ENV_PREFIX = "GOGAEK_"

# ------------------------------------------------------------------ the declaration


@dataclass(frozen=True)
class Declared:
    """One setting: its environment variable GOGAEK_<name>, its default as the environment would
    hold it ("{data_dir}" stands for the data folder; "" for none) and what it is for."""

    name: str
    default: str
    about: str
    secret: bool = False
    # A value to show, commented out, where the default is empty.
    example: str = ""

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name


# Every setting other than the business rules, in the order `.env.example` lists them. This is
# their one declaration: Settings.from_env, `make settings` and `.env.example` read it.
DECLARED: tuple[tuple[str, tuple[Declared, ...]], ...] = (
    (
        "Where things are",
        (
            Declared(
                "DATA_DIR",
                "data",
                "Folder for generated sources, the warehouse, quality results and published files",
            ),
            Declared("WAREHOUSE", "{data_dir}/warehouse.duckdb", "DuckDB warehouse file"),
            Declared(
                "LANDING_DIR",
                "{data_dir}/landing",
                "Where source systems drop files: erp/, callcenter/, esp/",
            ),
            Declared(
                "SHOP_DB_URL",
                "sqlite:///{data_dir}/shop.sqlite",
                "Online shop database, any SQLAlchemy URL (default: the SQLite file the demo "
                "writes); MariaDB: mysql+pymysql://user:password@host:3306/shop",
            ),
            Declared(
                "MAPPINGS_DIR",
                "{data_dir}/mappings",
                "Source mappings (*.yml): how this company's own exports become the raw "
                "contract; ingest/presets/ holds ready ones to copy",
            ),
            Declared(
                "SERVING_DIR",
                "{data_dir}/serving",
                "Published files for BI tools and operations: bi.duckdb, operational.duckdb",
            ),
            Declared("QUALITY_DIR", "{data_dir}/quality", "Great Expectations project"),
            Declared(
                "SOURCES",
                "erp,shop,callcenter,esp",
                "The source systems this company has, comma-separated; the freshness of one it "
                "does not declare is not judged (a business with only a shop: shop)",
            ),
        ),
    ),
    (
        "Secrets of this installation",
        (
            Declared(
                "SECRETS_FILE",
                "{data_dir}/secrets.env",
                "File holding the two secrets below, written with random values (mode 0600) on "
                "the first run of a new data folder. Back it up with the warehouse; never "
                "change it",
            ),
            Declared(
                "RRN_SALT",
                "",
                "Salt of the resident-registration-number hash; set here only to keep it out "
                "of the secrets file (a vault, say). Never change it afterwards",
                secret=True,
            ),
            Declared(
                "ERASURE_SECRET",
                "",
                "Key of the erasure list's tokens, a secret of its own kept outside the "
                "warehouse; set here only to keep it out of the secrets file",
                secret=True,
            ),
        ),
    ),
    (
        "Loading",
        (
            Declared("SHOP_OVERLAP_MINUTES", "10", "Minutes re-read behind the shop watermark"),
            Declared(
                "SHOP_FULL_COMPARE_DAYS",
                "7",
                "Days between full compares of each shop table: deletes and changes behind the "
                "watermark (0: every load)",
            ),
            Declared(
                "WATERMARK_TOLERANCE_MINUTES",
                "60",
                "A shop updated_at further ahead of now, in minutes, is quarantined",
            ),
            Declared(
                "MAX_ABS_NUMBER",
                "1000000000000",
                "A number beyond plus or minus this is implausible",
            ),
            Declared(
                "EARLIEST_DATE",
                "1900-01-01",
                "Dates and timestamps before this are implausible",
            ),
            Declared(
                "MAX_FUTURE_DAYS",
                "366",
                "Dates and timestamps more than this many days ahead are implausible",
            ),
            Declared(
                "MAX_FIELD_CHARS",
                "1000000",
                "A CSV or JSON field longer than this many characters is quarantined",
            ),
        ),
    ),
    (
        "Building and serving",
        (
            Declared("DBT_TARGET", "duckdb", "Where dbt builds: duckdb or postgres"),
            Declared("PG_HOST", "127.0.0.1", "PostgreSQL of the postgres target"),
            Declared("PG_PORT", "5432", "Its port"),
            Declared("PG_USER", "postgres", "Its user"),
            Declared("PG_PASSWORD", "", "Its password", secret=True),
            Declared("PG_DATABASE", "gogaek", "Its database"),
            Declared(
                "BI_READER_ROLE",
                "bi_reader",
                "PostgreSQL role BI tools log in as (select on the served marts only)",
            ),
            Declared(
                "BI_READER_PASSWORD",
                "",
                "Its password; `make postgres-bi-reader` sets it (unset: the role cannot log in)",
                secret=True,
            ),
            Declared(
                "DATA_DOCS_RUNS",
                "30",
                "Runs whose validations each Great Expectations suite keeps in Data Docs",
            ),
            Declared(
                "WAREHOUSE_WAIT_SECONDS",
                "1800",
                "Seconds make dbt-build / dbt-docs wait for a run that holds the warehouse "
                "(0: stop at once)",
            ),
        ),
    ),
    (
        "Alerts of failed runs and failed checks (off unless a channel is set)",
        (
            Declared("ALERT_SMTP_HOST", "", "E-mail server", example="smtp.example.com"),
            Declared("ALERT_SMTP_PORT", "25", "Its port"),
            Declared("ALERT_SMTP_USER", "", "Its user"),
            Declared("ALERT_SMTP_PASSWORD", "", "Its password", secret=True),
            Declared("ALERT_SMTP_STARTTLS", "false", "STARTTLS: true or false"),
            Declared("ALERT_EMAIL_FROM", "gogaek@localhost", "Sender"),
            Declared(
                "ALERT_EMAIL_TO", "", "Recipients, comma-separated", example="ops@example.com"
            ),
            Declared(
                "ALERT_WEBHOOK_URL",
                "",
                'A webhook gets a JSON POST ("text" is what Slack and Teams incoming '
                "webhooks show)",
                secret=True,
            ),
            Declared(
                "ALERT_CHECK_SEVERITY",
                "error",
                "Which failed checks alert: error (blocking) or warn (every failed check)",
            ),
            Declared("ALERT_UI_URL", "http://127.0.0.1:3000", "The Dagster UI, for run links"),
        ),
    ),
    (
        "Tests",
        (
            Declared(
                "TEST_MARIADB_URL",
                "mysql+pymysql://root@127.0.0.1:3306",
                "MariaDB server the shop-loader tests use",
            ),
        ),
    ),
)
BY_ENV: dict[str, Declared] = {d.env: d for _, group in DECLARED for d in group}


def _reader(environ: Mapping[str, str]) -> Callable[[str], str]:
    """Read a declared setting: its environment variable when set, else its default."""
    data_dir = str(Path(environ.get("GOGAEK_DATA_DIR") or "data").resolve())

    def read(name: str) -> str:
        declared = BY_ENV[ENV_PREFIX + name]
        return environ.get(declared.env) or declared.default.replace("{data_dir}", data_dir)

    return read


class PostgresConnectParams(TypedDict):
    """psycopg2.connect's keywords, each a string as libpq reads it."""

    host: str
    port: str
    user: str
    password: str
    dbname: str


@dataclass(frozen=True)
class PostgresSettings:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str

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
    max_abs_number: float
    # Dates and timestamps before this, or more than max_future_days ahead: `implausible_date`.
    earliest_date: date
    max_future_days: int
    # A shop `updated_at` beyond now plus this: `watermark_in_future` (never the watermark).
    watermark_tolerance_minutes: int
    # A CSV or JSON field longer than this many characters: `field_too_large`.
    max_field_chars: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LoadLimits:
        read = _reader(os.environ if environ is None else environ)
        return cls(
            max_abs_number=float(read("MAX_ABS_NUMBER")),
            earliest_date=date.fromisoformat(read("EARLIEST_DATE")),
            max_future_days=int(read("MAX_FUTURE_DAYS")),
            watermark_tolerance_minutes=int(read("WATERMARK_TOLERANCE_MINUTES")),
            max_field_chars=int(read("MAX_FIELD_CHARS")),
        )

    @classmethod
    def default(cls) -> LoadLimits:
        """The declared defaults, whatever the environment says."""
        return cls.from_env({})


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts of failed runs and failed checks go (orchestration/alerts.py). Off unless
    set: e-mail needs a server and a recipient, the webhook a URL."""

    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_password: str = field(repr=False)  # a secret: never printed
    smtp_starttls: bool
    email_from: str
    email_to: tuple[str, ...]
    webhook_url: str = field(repr=False)  # may hold a token (Slack, Teams): never printed
    # Failed checks of this severity and above alert: `error` (blocking) or `warn` (every one).
    check_severity: str
    # Where the Dagster UI is, for the links in an alert.
    ui_url: str

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
        read = _reader(os.environ if environ is None else environ)
        severity = read("ALERT_CHECK_SEVERITY").lower()
        if severity not in ("error", "warn"):
            raise ValueError(f"GOGAEK_ALERT_CHECK_SEVERITY must be error or warn, not {severity!r}")
        starttls = read("ALERT_SMTP_STARTTLS").strip().lower()
        if starttls not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"GOGAEK_ALERT_SMTP_STARTTLS must be true or false, not {starttls!r}")
        return cls(
            smtp_host=read("ALERT_SMTP_HOST"),
            smtp_port=int(read("ALERT_SMTP_PORT")),
            smtp_user=read("ALERT_SMTP_USER"),
            smtp_password=read("ALERT_SMTP_PASSWORD"),
            smtp_starttls=starttls in ("true", "1", "yes"),
            email_from=read("ALERT_EMAIL_FROM"),
            email_to=tuple(a.strip() for a in read("ALERT_EMAIL_TO").split(",") if a.strip()),
            webhook_url=read("ALERT_WEBHOOK_URL"),
            check_severity=severity,
            ui_url=read("ALERT_UI_URL").rstrip("/"),
        )


@dataclass(frozen=True)
class Settings:
    data_dir: str
    warehouse_path: str
    landing_dir: str
    mappings_dir: str
    shop_db_url: str
    secrets_file: str
    shop_overlap_minutes: int
    quality_dir: str
    serving_dir: str
    dbt_target: str  # duckdb | postgres: where dbt builds and the staged GE suites run
    postgres: PostgresSettings
    bi_reader_role: str
    bi_reader_password: str | None = field(repr=False)  # `make postgres-bi-reader` only
    load_limits: LoadLimits
    # Days between full key-and-hash compares of each shop table (deletes, changes behind the
    # watermark); 0 compares on every load.
    shop_full_compare_days: int
    # Runs whose validations each Great Expectations suite keeps in its store and Data Docs.
    data_docs_runs: int
    # Seconds `make dbt-build` / `make dbt-docs` wait for a run that holds the warehouse
    # (orchestration/warehouse_lock.py); 0 fails at once with what holds it.
    warehouse_wait_seconds: int
    alerts: AlertSettings
    # The source systems this company has: a source it does not declare is not expected to
    # deliver, so its freshness is not judged.
    sources: tuple[str, ...]
    # GOGAEK_RRN_SALT / GOGAEK_ERASURE_SECRET as the environment set them (else the file's).
    secret_overrides: Mapping[str, str] = field(repr=False)

    def secrets(self) -> InstallationSecrets:
        """The installation's secrets, the secrets file written first if this data folder is
        new (ingest.installation_secrets)."""
        if len(self.secret_overrides) < len(SECRET_NAMES):
            ensure_secrets_file(Path(self.secrets_file), Path(self.warehouse_path))
        return installation_secrets(Path(self.secrets_file), self.secret_overrides)

    @property
    def rrn_salt(self) -> str:
        return self.secrets().rrn_salt

    @property
    def erasure_secret(self) -> str:
        return self.secrets().erasure_secret

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        read = _reader(env)

        def path(name: str) -> str:
            return str(Path(read(name)).resolve())

        target = read("DBT_TARGET")
        if target not in ("duckdb", "postgres"):
            raise ValueError(f"GOGAEK_DBT_TARGET must be duckdb or postgres, not {target!r}")
        return cls(
            data_dir=path("DATA_DIR"),
            warehouse_path=path("WAREHOUSE"),
            landing_dir=path("LANDING_DIR"),
            mappings_dir=path("MAPPINGS_DIR"),
            shop_db_url=read("SHOP_DB_URL"),
            secrets_file=path("SECRETS_FILE"),
            shop_overlap_minutes=int(read("SHOP_OVERLAP_MINUTES")),
            quality_dir=path("QUALITY_DIR"),
            serving_dir=path("SERVING_DIR"),
            dbt_target=target,
            postgres=PostgresSettings(
                host=read("PG_HOST"),
                port=int(read("PG_PORT")),
                user=read("PG_USER"),
                password=read("PG_PASSWORD"),
                database=read("PG_DATABASE"),
            ),
            bi_reader_role=read("BI_READER_ROLE"),
            bi_reader_password=read("BI_READER_PASSWORD") or None,
            load_limits=LoadLimits.from_env(env),
            shop_full_compare_days=int(read("SHOP_FULL_COMPARE_DAYS")),
            data_docs_runs=_whole("GOGAEK_DATA_DOCS_RUNS", read("DATA_DOCS_RUNS"), minimum=1),
            warehouse_wait_seconds=_whole(
                "GOGAEK_WAREHOUSE_WAIT_SECONDS", read("WAREHOUSE_WAIT_SECONDS"), minimum=0
            ),
            alerts=AlertSettings.from_env(env),
            sources=declared_sources(read("SOURCES")),
            secret_overrides={name: env[name] for name in SECRET_NAMES if env.get(name)},
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


def _whole(name: str, text: str, minimum: int) -> int:
    """A whole-number setting of at least `minimum`."""
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


def unknown_environment_settings(
    environ: Mapping[str, str] | None = None, extra: frozenset[str] = frozenset()
) -> list[str]:
    """GOGAEK_* variables that name no setting: most likely a typo that would change nothing."""
    env = os.environ if environ is None else environ
    known = (
        {env_name(v) for v in dbt_var_defaults()} | set(BY_ENV) | {ENV_PREFIX + n for n in extra}
    )
    return sorted(k for k in env if k.startswith(ENV_PREFIX) and k not in known)


def dbt_cli_vars(
    settings: Settings,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """What `dbt ... --vars` receives: the business settings plus the warehouse file, which
    profiles.yml reads, so dbt opens the file Dagster and the loaders use."""
    return {**resolve_dbt_vars(overrides, environ), "warehouse_path": settings.warehouse_path}


GENERATED = "# Generated from ingest/settings.py by `make env-example`: edit the declaration there."


def env_example() -> str:
    """The text of `.env.example`, written from the declaration (`make env-example`)."""
    lines = [
        GENERATED,
        "# Copy to .env (dagster dev reads it) or export. Every variable has a safe local default;",
        "# the commented lines show it. Relative paths are taken from the folder you start in.",
    ]
    for title, group in DECLARED:
        lines += ["#", f"# --- {title}"]
        for declared in group:
            lines += [f"# {line}" for line in textwrap.wrap(declared.about, 94)]
            value = declared.default.replace("{data_dir}", "data") or declared.example
            lines.append(f"# {declared.env}={value}")
    lines += [
        "#",
        "# --- Business rules: the vars of dbt_project/dbt_project.yml, each as GOGAEK_<NAME>",
        *(f"# {env_name(name)}={_as_env(value)}" for name, value in dbt_var_defaults().items()),
    ]
    return "\n".join(lines) + "\n"


def dbt_profiles() -> str:
    """The text of dbt_project/profiles.yml: its defaults are the declared ones."""

    def env(name: str) -> str:
        declared = BY_ENV[ENV_PREFIX + name]
        return f"env_var('{declared.env}', '{declared.default}')"

    # The default path is relative to dbt_project/, where dbt runs by hand.
    warehouse = "var('warehouse_path', env_var('GOGAEK_WAREHOUSE', '../data/warehouse.duckdb'))"
    return f"""{GENERATED}
# Bundled profile: `dbt build --profiles-dir .` from dbt_project/, or DBT_PROFILES_DIR=dbt_project.
# The warehouse file: var warehouse_path when the caller passes it (Dagster and the Makefile pass
# the resolved setting with --vars), else GOGAEK_WAREHOUSE, else the default relative to
# dbt_project/.
gogaek:
  target: "{{{{ {env("DBT_TARGET")} }}}}"
  outputs:
    duckdb:
      type: duckdb
      path: "{{{{ {warehouse} }}}}"
      threads: 2
    postgres:
      type: postgres
      host: "{{{{ {env("PG_HOST")} }}}}"
      port: "{{{{ {env("PG_PORT")} | as_number }}}}"
      user: "{{{{ {env("PG_USER")} }}}}"
      password: "{{{{ {env("PG_PASSWORD")} }}}}"
      dbname: "{{{{ {env("PG_DATABASE")} }}}}"
      schema: public
      threads: 2
"""


def _as_env(value: Any) -> str:
    """A dbt var's default as the environment would spell it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def shown(settings: Settings, environ: Mapping[str, str] | None = None) -> list[str]:
    """`make settings`: every declared setting as resolved, secrets as where they come from."""
    env = os.environ if environ is None else environ
    read = _reader(env)
    secrets_file = Path(settings.secrets_file)
    lines = []
    for title, group in DECLARED:
        lines.append(f"# {title}")
        for declared in group:
            value = read(declared.name)
            if declared.env in SECRET_NAMES:
                if env.get(declared.env):
                    value = "(set in the environment)"
                elif secrets_file.exists():
                    value = f"(in {secrets_file}: back it up)"
                else:
                    value = f"(written to {secrets_file} on the first run)"
            elif declared.secret:
                value = "(set)" if value else "(empty)"
            lines.append(f"{declared.env:36} {value}")
    lines.append("# Business rules (dbt_project/dbt_project.yml)")
    for name, value in resolve_dbt_vars(environ=env).items():
        lines.append(f"{env_name(name):36} {value!r}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """`python -m ingest.settings` prints the resolved settings; `--dbt-vars` prints the JSON
    for `dbt --vars` (the Makefile's dbt targets use it); `--env-example` writes .env.example
    and dbt_project/profiles.yml from the declaration."""
    args = sys.argv[1:] if argv is None else argv
    if "--env-example" in args:
        (PROJECT_ROOT / ".env.example").write_text(env_example(), encoding="utf-8")
        (DBT_PROJECT_DIR / "profiles.yml").write_text(dbt_profiles(), encoding="utf-8")
        return 0
    settings = Settings.from_env()
    for name in unknown_environment_settings():
        print(f"warning: {name} is set but names no setting", file=sys.stderr)
    if "--dbt-vars" in args:
        print(json.dumps(dbt_cli_vars(settings), ensure_ascii=False))
        return 0
    print("\n".join(shown(settings)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
