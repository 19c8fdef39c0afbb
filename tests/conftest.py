"""Shared fixtures: an empty warehouse, a landing folder, and writers for small source files."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from ingest.raw_store import ensure_raw_schema
from ingest.schemas import EntitySpec

SALT = "test-salt"
MARIADB_URL = os.environ.get("GOGAEK_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306")
# The module whose tests start the shared end-to-end build (see pytest_collection_modifyitems).
FIRST_PIPELINE_MODULE = "tests.test_pipeline_end_to_end"

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


def pytest_configure(config: pytest.Config) -> None:
    """Prepare the dbt manifest the Dagster definitions are built from, once per session, as
    `make manifest` does (dbt next to this interpreter: .venv/bin need not be on PATH)."""
    import sys

    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    if hasattr(config, "workerinput"):
        return  # an xdist worker: the controller prepared the manifest before starting it
    from orchestration.dbt_project import dbt_project

    dbt_project.preparer.prepare(dbt_project)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With pytest-xdist (`make test` runs `-n auto --dist loadgroup --no-loadscope-reorder`), a
    module's tests stay on one worker so its module-scoped build runs once, and modules are
    handed out in this order: the module that makes the shared `pipeline` build, the other
    modules that build warehouses, the modules that read the shared build (it is there by
    then), and the quick tests last, to fill the gaps. First: xdist reads the groups in its own
    hook of this name, after ours."""

    slow, reads_pipeline = set(), set()
    for item in items:
        if item.get_closest_marker("slow") is not None:
            slow.add(item.module.__name__)
        if "pipeline" in getattr(item, "fixturenames", ()):
            reads_pipeline.add(item.module.__name__)

    def order(item: pytest.Item) -> tuple[int, str]:
        module = item.module.__name__
        if module == FIRST_PIPELINE_MODULE:
            return 0, module
        if module not in slow:
            return 3, module
        return (2 if module in reads_pipeline else 1), module

    items.sort(key=order)  # stable: the order within a module is kept
    for item in items:
        item.add_marker(pytest.mark.xdist_group(item.module.__name__))


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_raw_schema(con)
    yield con
    con.close()


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    for folder in ("erp", "callcenter", "esp"):
        (root / folder).mkdir(parents=True)
    return root


def csv_line(values: list[str]) -> str:
    """One CSV record as an ERP writes it (fields holding a line break are quoted)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue().removesuffix("\r\n")


def write_csv(
    path: Path,
    spec: EntitySpec,
    rows: list[dict[str, str] | str | bytes],
    encoding: str | None = None,
    newline: str = "\r\n",
) -> Path:
    """Write a source CSV: dict rows become well-formed lines, str/bytes rows go in verbatim."""
    encoding = encoding or spec.encoding
    out = [csv_line(list(spec.column_names)).encode(encoding)]
    for row in rows:
        if isinstance(row, dict):
            out.append(csv_line([row.get(c, "") for c in spec.column_names]).encode(encoding))
        elif isinstance(row, str):
            out.append(row.encode(encoding))
        else:
            out.append(row)
    path.write_bytes(newline.encode().join(out) + newline.encode())
    return path


def write_jsonl(path: Path, rows: list[dict[str, object] | str | bytes]) -> Path:
    out = []
    for row in rows:
        if isinstance(row, dict):
            out.append(json.dumps(row, ensure_ascii=False).encode())
        elif isinstance(row, str):
            out.append(row.encode())
        else:
            out.append(row)
    path.write_bytes(b"\n".join(out) + b"\n")
    return path


def erp_customer(**overrides: str) -> dict[str, str]:
    row = {
        "고객번호": "C0001",
        "고객명": "김민수",
        "주민등록번호": "",
        "휴대폰": "010-1234-5678",
        "자택전화": "02-123-4567",
        "직장전화": "",
        "팩스": "",
        "이메일": "minsu@naver.com",
        "우편번호": "06236",
        "주소": "서울특별시 강남구 테헤란로 152",
        "상세주소": "12층",
        "고객등급": "골드",
        "생년월일": "1985-03-02",
        "가입일": "2019-07-01",
        "비고": "",
        "수정일시": "2026-11-18 21:05:00",
    }
    row.update(overrides)
    return row


# The shop's members table as the shop builders create it, and one member row.
shop_metadata = sa.MetaData()
shop_members = sa.Table(
    "members",
    shop_metadata,
    sa.Column("member_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("login_id", sa.String(50)),
    sa.Column("name", sa.String(50)),
    sa.Column("mobile", sa.String(30)),
    sa.Column("email", sa.String(100)),
    sa.Column("birth_date", sa.Date),
    sa.Column("zipcode", sa.String(10)),
    sa.Column("address1", sa.String(200)),
    sa.Column("address2", sa.String(100)),
    sa.Column("grade", sa.String(20)),
    sa.Column("joined_at", sa.DateTime),
    sa.Column("updated_at", sa.DateTime),
)


def shop_member(member_id: int, updated_at: str, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "member_id": member_id,
        "login_id": f"user{member_id}",
        "name": "최지우",
        "mobile": "010-2222-3333",
        "email": f"user{member_id}@daum.net",
        "birth_date": date(1990, 5, 17),
        "zipcode": "04524",
        "address1": "서울 중구 세종대로 110",
        "address2": "3층",
        "grade": "일반",
        "joined_at": datetime(2024, 1, 2, 9, 0),
        "updated_at": datetime.fromisoformat(updated_at),
    }
    row.update(overrides)
    return row


def esp_event(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "event_id": "ev-1",
        "campaign_id": "cmp-1",
        "recipient": "minsu@naver.com",
        "event_type": "delivered",
        "occurred_at": "2026-11-18T09:00:05+09:00",
        "url": None,
        "reason": None,
    }
    row.update(overrides)
    return row


# --- hand-written sources loaded through the loaders and built with dbt ------------------


def write_secrets(root: Path, salt: str = SALT) -> None:
    """The installation's secrets file of a data folder whose warehouse a test builds by hand
    with `salt`, so the runs that follow hash with the same one (ingest.installation_secrets)."""
    path = root / "secrets.env"
    if not path.exists():
        root.mkdir(parents=True, exist_ok=True)
        path.write_text(f"GOGAEK_RRN_SALT={salt}\nGOGAEK_ERASURE_SECRET=test-erasure-key\n")
        path.chmod(0o600)


def load_sources(root: Path, salt: str = SALT) -> Path:
    """Load root/landing and root/shop.sqlite into root/warehouse.duckdb with the real loaders
    (files first, so the ERP's records are seen first and name the customers); the data
    folder's secrets file holds the same salt."""
    from datetime import timedelta

    import sqlalchemy as sa

    from ingest.file_loader import load_entity_files
    from ingest.schemas import ENTITIES
    from ingest.shop_loader import load_shop_table

    write_secrets(root, salt)
    warehouse = root / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    ensure_raw_schema(con)
    for spec in ENTITIES:
        if spec.format != "sql":
            load_entity_files(con, spec, root / "landing", salt)
    engine = sa.create_engine(f"sqlite:///{root / 'shop.sqlite'}")
    for spec in ENTITIES:
        if spec.format == "sql":
            load_shop_table(con, engine, spec, salt, timedelta(minutes=10))
    engine.dispose()
    con.close()
    return warehouse


def dbt_build(
    root: Path,
    warehouse: Path,
    *args: str,
    project: Path | None = None,
    env: dict[str, str] | None = None,
    before_clv: bool = True,
) -> None:
    """`dbt build` of everything before the CLV fit (tiny hand-written sets fit no model; with
    `before_clv=False`, what `args` selects, the CLV fit's tables being there), with no settings
    passed: defaults must come from the data. On DuckDB unless `env` names another target;
    `project` is a private copy of the dbt project when a test writes its seeds."""
    import subprocess
    import sys

    project = project or Path(__file__).resolve().parents[1] / "dbt_project"
    build = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "build",
            *(("--exclude", "source:ml+") if before_clv else ()),
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(root / "target"),
            *args,
        ],
        env={
            **os.environ,
            "GOGAEK_WAREHOUSE": str(warehouse),
            "GOGAEK_DBT_TARGET": "duckdb",
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert build.returncode == 0, build.stdout[-4000:]


def expected_customer_id(record_id: str) -> str:
    """The documented customer_id formula (docs/identity-and-erasure.md, "Customer ids that stay
    put"), written out apart from the SQL macro so tests know the answer: "C" and the first 12
    hex digits of the MD5 of the first-seen record's id, upper case."""
    import hashlib

    return "C" + hashlib.md5(record_id.encode()).hexdigest()[:12].upper()


# --- one generated-and-built warehouse shared by the end-to-end and PostgreSQL tests -------


def pipeline_settings(root: Path):  # -> ingest.settings.Settings
    """Settings of a project whose data folder is `root` (the environment is not read)."""
    from ingest.settings import Settings

    return Settings.from_env({"GOGAEK_DATA_DIR": str(root)})


def pipeline_resources(root: Path) -> dict[str, object]:
    """The production resources (orchestration.definitions), on the folders under `root`."""
    from orchestration.definitions import default_resources

    return default_resources(pipeline_settings(root))


def run_everything(
    root: Path, instance_dir: Path | None = None, **resources: object
):  # -> dg.ExecuteInProcessResult
    """The daily_refresh job of the code location's definitions, once, in process, on the
    folders under `root`. The Dagster instance lives in `instance_dir` when given (so a test can
    read what Dagster wrote), else in memory: the job and its assets are what is tested, and
    SQLite event storage on disk costs a third of a run. Keyword arguments replace resources
    (e.g. settings=SettingsResource(dbt_vars=...))."""
    import dagster as dg

    from orchestration.definitions import build_definitions

    defs = build_definitions(pipeline_settings(root), resources)
    job = defs.resolve_job_def("daily_refresh")
    if instance_dir is None:
        return job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    instance_dir.mkdir(parents=True, exist_ok=True)
    with dg.instance_for_test(temp_dir=str(instance_dir)) as instance:
        return job.execute_in_process(instance=instance, raise_on_error=False)


@dataclass(frozen=True)
class PipelineRun:
    """The shared build's Dagster run as its tests read it: whichever pytest-xdist worker made
    the build, the others read its events as Dagster serialises them."""

    run_id: str
    success: bool
    all_events: list  # list[dagster DagsterEvent]

    def get_asset_materialization_events(self) -> list:
        return [e for e in self.all_events if e.event_type_value == "ASSET_MATERIALIZATION"]

    def asset_materializations_for_node(self, node_name: str) -> list:
        return [
            e.event_specific_data.materialization
            for e in self.get_asset_materialization_events()
            if e.step_key == node_name
        ]

    def get_asset_check_evaluations(self) -> list:
        return [
            e.event_specific_data
            for e in self.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
        ]


def once_per_session(
    tmp_path_factory: pytest.TempPathFactory,
    worker_id: str,
    name: str,
    build: Callable[[Path], str],
) -> tuple[Path, str]:
    """Run `build(folder)` once per test session, whichever pytest-xdist worker asks first (the
    others wait on a file lock), and give every worker the folder and the text `build` returned
    (what the builder knows and the folder does not say)."""
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if worker_id != "master" else base  # the session's folder
    folder, record = shared / name, shared / f"{name}.record"
    with FileLock(str(shared / f"{name}.lock")):
        if not record.exists():
            folder.mkdir()
            record.write_text(build(folder), encoding="utf-8")
    return folder, record.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> tuple[Path, PipelineRun]:
    """Generated sources (400 people, 2 days) run through every asset once per test session,
    shared by every worker. Treat the folder as read-only: a test that writes (runs the job
    again, publishes beside it, mirrors from it) works on a copy (`copy_pipeline`)."""
    import dagster as dg

    from lab.generator import generate

    def build(root: Path) -> str:
        generate(root, customers=400, days=2, seed=7)
        result = run_everything(root)
        return json.dumps(
            {
                "run_id": result.run_id,
                "success": result.success,
                "events": dg.serialize_value(list(result.all_events)),
            }
        )

    root, record = once_per_session(tmp_path_factory, worker_id, "e2e", build)
    saved = json.loads(record)
    events = dg.deserialize_value(saved["events"], list)
    return root, PipelineRun(saved["run_id"], saved["success"], events)


def dagster_home(home: Path) -> Path:
    """A Dagster instance folder for a command a test runs: the project's dagster.yaml (run
    queue, pools, monitoring) with its storage under `home`."""
    import dagster as dg
    import yaml

    home.mkdir(parents=True)
    config = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "dagster.yaml").read_text(encoding="utf-8")
    )
    config["storage"]["sqlite"]["base_dir"] = str(home / "storage")
    config["local_artifact_storage"]["config"]["base_dir"] = str(home / "artifacts")
    config["compute_logs"]["config"]["base_dir"] = str(home / "compute_logs")
    (home / "dagster.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    with dg.DagsterInstance.from_config(str(home)):
        pass  # the SQLite schema, created before the command opens it
    return home


def copy_pipeline(pipeline: tuple[Path, PipelineRun], destination: Path) -> Path:
    """A private copy of the shared build's folder (sources, warehouse, serving files)."""
    import shutil

    shutil.copytree(pipeline[0], destination)
    return destination


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A throwaway database on the PostgreSQL server (GOGAEK_PG_*), dropped afterwards.

    Skips with the reason when the server is unreachable, except under CI=true, where a
    missing server is a failure.
    """
    import uuid

    import psycopg2
    from psycopg2 import sql

    from ingest.postgres_mirror import ensure_database, pg_params

    try:
        psycopg2.connect(**pg_params("postgres"), connect_timeout=3).close()
    except psycopg2.OperationalError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"PostgreSQL at {pg_params()['host']} is unreachable under CI=true: {error}"
            )
        pytest.skip(
            f"PostgreSQL unreachable ({str(error).strip()}); set GOGAEK_PG_HOST etc. "
            "or start the server to run this test"
        )
    name = f"gogaek_test_{uuid.uuid4().hex[:8]}"
    ensure_database(name)
    yield name
    con = psycopg2.connect(**pg_params("postgres"))
    con.autocommit = True
    with con.cursor() as cursor:
        cursor.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )
    con.close()


def mariadb_database() -> Iterator[sa.Engine]:
    """A new, empty database on the MariaDB server for one test, dropped after it. Skips with
    the reason when no server answers, except under CI=true, where that is a failure."""
    import uuid

    server = sa.create_engine(MARIADB_URL)
    try:
        with server.connect() as connection:
            connection.execute(sa.text("select 1"))
    except sa.exc.OperationalError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"MariaDB at {MARIADB_URL} is unreachable under CI=true: {error}")
        pytest.skip(
            f"MariaDB at {MARIADB_URL} is unreachable ({error.orig}); "
            "set GOGAEK_TEST_MARIADB_URL or start the server to run this test"
        )
    name = f"gogaek_test_{uuid.uuid4().hex[:8]}"
    with server.begin() as connection:
        connection.execute(sa.text(f"create database {name} character set utf8mb4"))
    engine = sa.create_engine(f"{MARIADB_URL}/{name}?charset=utf8mb4")
    try:
        yield engine
    finally:
        engine.dispose()
        with server.begin() as connection:
            connection.execute(sa.text(f"drop database {name}"))
        server.dispose()
