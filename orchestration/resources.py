"""Resources: the warehouse, the landing folder, the shop database, ingest settings."""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import sqlalchemy as sa
from pydantic import Field

from ingest.installation_secrets import InstallationSecrets, installation_secrets
from ingest.raw_store import ensure_raw_schema
from ingest.settings import LoadLimits, resolve_dbt_vars
from ingest.source_mapping import SourceMapping, mappings_in
from quality.history import ensure_dq_schema

# DuckDB has a single writer: every step that opens the warehouse takes a slot of this pool, and
# dagster.yaml gives the pool one slot.
WAREHOUSE_POOL = "duckdb_warehouse"


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file. DuckDB has one writer: open it only inside a step."""

    path: str
    lock_wait_seconds: int = Field(
        default=900,
        description="how long a step waits for another process (a dbt left over "
        "from a killed run, a BI tool opening the warehouse) to let go",
    )

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        """Open the file; while another process holds it, say which and wait."""
        deadline = time.monotonic() + self.lock_wait_seconds
        said = ""
        while True:
            try:
                return duckdb.connect(self.path, read_only=read_only)
            except duckdb.IOException as error:
                if "lock" not in str(error).lower() or time.monotonic() > deadline:
                    raise
                holder = str(error).split("Conflicting lock is held in", 1)[-1].strip()
                if holder != said:
                    dg.get_dagster_logger().warning(
                        f"waiting for the warehouse {self.path}: another process holds it "
                        f"({holder}); up to {self.lock_wait_seconds} s"
                    )
                    said = holder
                time.sleep(2)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if not read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = self._open(read_only)
        try:
            if not read_only:
                ensure_raw_schema(con)
                ensure_dq_schema(con)  # the quality history exists before dbt reads it
            yield con
        finally:
            con.close()


class LandingFolderResource(dg.ConfigurableResource):
    """Folder where source systems drop files (erp/, callcenter/, esp/), and the folder of the
    mappings that read a company's own exports (ingest.source_mapping)."""

    path: str
    mappings_dir: str = Field(
        default="", description="source mappings, *.yml (GOGAEK_MAPPINGS_DIR); empty: none"
    )

    @property
    def root(self) -> Path:
        return Path(self.path)

    def mappings(self) -> list[SourceMapping]:
        """Every mapping of the folder, checked: a bad one stops the load with its sentence."""
        return mappings_in(Path(self.mappings_dir)) if self.mappings_dir else []


class ShopDatabaseResource(dg.ConfigurableResource):
    """The online shop's operational database, any SQLAlchemy URL (SQLite, MariaDB, ...)."""

    url: str

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.url)

    def engine_for(self, mapping: SourceMapping) -> sa.Engine:
        """The database a SQL source mapping reads (a shop of another layout, e.g. 영카트): its
        URL from the environment variable the mapping names, or the mapping's local default."""
        if mapping.database is None or not mapping.database.url:
            raise ValueError(
                f"mapping {mapping.path}: set {mapping.database.env if mapping.database else '?'}"
                " to the shop database's URL"
            )
        return sa.create_engine(mapping.database.url)


class IngestSettingsResource(dg.ConfigurableResource):
    """How raw loads behave: the installation's secrets, the shop watermark, the row-level
    bounds. Configured from the settings (ingest.settings declares them and their defaults)."""

    secrets_file: str = Field(
        description="file of the RRN salt and the erasure key (GOGAEK_SECRETS_FILE); the "
        "secrets themselves are never run config: they belong to the installation"
    )
    shop_overlap_minutes: int
    shop_full_compare_days: int = Field(
        description="days between full key-and-hash compares of a shop table"
    )
    max_abs_number: float
    earliest_date: str
    max_future_days: int
    watermark_tolerance_minutes: int
    max_field_chars: int
    sources: list[str] = Field(
        description="the source systems this company has (GOGAEK_SOURCES): the freshness of "
        "one it does not declare is not judged",
    )

    def _secrets(self) -> InstallationSecrets:
        return installation_secrets(Path(self.secrets_file), os.environ)

    @property
    def rrn_salt(self) -> str:
        return self._secrets().rrn_salt

    @property
    def erasure_secret(self) -> str:
        return self._secrets().erasure_secret

    @property
    def shop_overlap(self) -> timedelta:
        return timedelta(minutes=self.shop_overlap_minutes)

    @property
    def limits(self) -> LoadLimits:
        return LoadLimits(
            max_abs_number=self.max_abs_number,
            earliest_date=date.fromisoformat(self.earliest_date),
            max_future_days=self.max_future_days,
            watermark_tolerance_minutes=self.watermark_tolerance_minutes,
            max_field_chars=self.max_field_chars,
        )


class QualityResource(dg.ConfigurableResource):
    """Where Great Expectations keeps its project (suites, results, Data Docs), and the engine.

    engine `duckdb`: suites read the warehouse through Arrow into GE's pandas engine;
    `postgres`: staged suites run inside PostgreSQL through GE's postgres data source.
    """

    root: str = Field(description="folder of the GE file context; Data Docs under gx/uncommitted")
    build_docs: bool = True
    engine: str = "duckdb"
    postgres_url: str = ""


class ServingResource(dg.ConfigurableResource):
    """Folder of the files BI tools and operations open (orchestration.serving.publish)."""

    dir: str

    @property
    def bi_path(self) -> Path:
        return Path(self.dir) / "bi.duckdb"

    @property
    def operational_path(self) -> Path:
        return Path(self.dir) / "operational.duckdb"


class SettingsResource(dg.ConfigurableResource):
    """The business settings of a run: the dbt vars, which dbt and the CLV fit both read.

    Defaults live in dbt_project/dbt_project.yml (`vars:`); GOGAEK_<NAME> environment variables
    override them; `dbt_vars` overrides both for one run — in the launchpad:
    `resources: {settings: {config: {dbt_vars: {rfm_window_days: 180}}}}`.
    """

    dbt_vars: dict[str, Any] = Field(
        default_factory=dict,
        description="overrides of dbt_project.yml vars for this run, e.g. {rfm_window_days: 180}",
    )

    def resolved(self) -> dict[str, Any]:
        return resolve_dbt_vars(self.dbt_vars)

    def dbt_cli_vars(self, warehouse_path: str) -> dict[str, Any]:
        """`--vars` for dbt: the settings plus the warehouse file profiles.yml opens."""
        return {**self.resolved(), "warehouse_path": str(Path(warehouse_path).resolve())}
