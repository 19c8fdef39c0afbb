"""Erasure of a person: every trace gone from every table and file the project writes, monthly
revenue unchanged, and a re-delivery of the person quarantined, not loaded."""

from __future__ import annotations

import csv
import io
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingest.erasure import erase, find_person, parse_source_key
from ingest.erasure_list import REASON_CODE, ErasureError, ListedRows, listed_rows
from ingest.file_loader import load_entity_files
from ingest.personal_data import is_duckdb_file, text_columns
from ingest.raw_store import accounting_problems
from ingest.schemas import BY_NAME, ENTITIES, ERP_CUSTOMERS
from tests.conftest import PipelineRun, copy_pipeline, pipeline_settings
from tests.journeys import make, project_copy, user_env

# Runs the whole job around an erasure: the full tier, not `make test-fast`.
pytestmark = pytest.mark.slow

# Files of the source systems, not of the project: the landing folder and the shop database are
# the sources' own copies (their owners erase there), the truth folder is the generator's answer.
SOURCE_SYSTEM_FILES = ("landing", "truth", "shop.sqlite")
REVENUE_COLUMNS = (
    "gross_sales",
    "returns",
    "net_revenue",
    "merchandise_revenue",
    "shipping_revenue",
    "fee_revenue",
    "discount_revenue",
    "adjustment_revenue",
    "donation_revenue",
    "cancelled_amount",
)


@dataclass
class Needles:
    """What the scan looks for: the person's values as the sources delivered them."""

    texts: set[str]  # names (spaces removed), e-mails (lower case), keys, hashed keys
    phones: set[str]  # national digits

    def __bool__(self) -> bool:
        return bool(self.texts or self.phones)


def _digits(value: str | None) -> str | None:
    digits = re.sub(r"[^0-9]", "", value or "")
    if digits.startswith("82"):
        digits = "0" + digits[2:]
    return digits if len(digits) >= 9 else None


def _choose_person(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """A customer with ERP orders, a shop membership, calls and ESP events, whose name no record
    of anybody else carries (so a find is theirs): (customer_id, ERP customer number)."""
    candidates = con.execute("""
        with per_customer as (
            select customer_id,
                   min(source_key) filter (where source = 'erp_customer') as erp_key,
                   count(*) filter (where source = 'shop_member') as members,
                   count(*) filter (where source = 'callcenter_call') as calls,
                   count(*) filter (where source = 'esp_recipient') as recipients
            from intermediate.int_identity_crosswalk
            where customer_id is not null
            group by customer_id
        )
        select customer_id, erp_key
        from per_customer as p
        where members > 0 and calls > 0 and recipients > 0 and erp_key is not null
          and exists (select 1 from core.fct_orders as o
                      where o.customer_id = p.customer_id and o.source = 'erp')
        order by (select count(*) from raw.erp_customers as e
                  where e."고객번호" = erp_key and e."이메일" like '%@%'
                    and e."주민등록번호_해시" is not null) desc,
                 calls desc, recipients desc, customer_id""").fetchall()
    for customer_id, erp_key in candidates:
        others = con.execute(
            """
            with mine as (
                select source, source_key from intermediate.int_identity_crosswalk
                where customer_id = $1
            ), names as (
                select replace("고객명", ' ', '') as name from raw.erp_customers
                where "고객번호" in (select source_key from mine where source = 'erp_customer')
                union select replace(name, ' ', '') from raw.shop_members
                where member_id in (select source_key from mine where source = 'shop_member')
            ), uses as (
                select replace("고객명", ' ', '') as name from raw.erp_customers
                where "고객번호" not in (select source_key from mine where source = 'erp_customer')
                union all select replace(name, ' ', '') from raw.shop_members
                where member_id not in (select source_key from mine where source = 'shop_member')
                union all select replace(customer_name, ' ', '') from raw.callcenter_calls
                where call_id not in (select source_key from mine where source = 'callcenter_call')
                union all select replace(orderer_name, ' ', '') from raw.shop_orders
                where coalesce(member_id, '') not in
                        (select source_key from mine where source = 'shop_member')
                  and order_id not in
                        (select source_key from mine where source = 'shop_guest_order')
            )
            select count(*) from uses where name in (select name from names)""",
            [customer_id],
        ).fetchone()[0]
        if others == 0:
            return customer_id, erp_key
    raise AssertionError("the generated data holds no customer with orders, calls and ESP events")


def _needles(con: duckdb.DuckDBPyConnection, customer_id: str) -> Needles:
    """The person's name, phones, e-mails, keys and hashed keys, read from raw before erasure."""
    keys = con.execute(
        "select source, source_key from intermediate.int_identity_crosswalk where customer_id = ?",
        [customer_id],
    ).fetchall()
    by_source: dict[str, list[str]] = {}
    for source, key in keys:
        by_source.setdefault(source, []).append(key)
    texts: set[str] = {customer_id, *by_source.get("erp_customer", [])}
    phones: set[str] = set()

    def rows(sql: str, values: list[str]) -> list[tuple]:
        if not values:
            return []
        return con.execute(sql.format(", ".join("?" for _ in values)), values).fetchall()

    for name, mobile, home, work, fax, email, rrn in rows(
        'select "고객명", "휴대폰", "자택전화", "직장전화", "팩스", "이메일", "주민등록번호_해시" '
        'from raw.erp_customers where "고객번호" in ({})',
        by_source.get("erp_customer", []),
    ):
        texts |= {v for v in (name and name.replace(" ", ""), email and email.lower(), rrn) if v}
        phones |= {d for d in map(_digits, (mobile, home, work, fax)) if d}
    for name, mobile, email in rows(
        "select name, mobile, email from raw.shop_members where member_id in ({})",
        by_source.get("shop_member", []),
    ):
        texts |= {v for v in (name and name.replace(" ", ""), email and email.lower()) if v}
        phones |= {d for d in [_digits(mobile)] if d}
    for name, mobile, email in rows(
        "select orderer_name, orderer_mobile, orderer_email from raw.shop_orders "
        "where order_id in ({})",
        by_source.get("shop_guest_order", []),
    ):
        texts |= {v for v in (name and name.replace(" ", ""), email and email.lower()) if v}
        phones |= {d for d in [_digits(mobile)] if d}
    for (number,) in rows(
        "select caller_number from raw.callcenter_calls where call_id in ({})",
        by_source.get("callcenter_call", []),
    ):
        phones |= {d for d in [_digits(number)] if d}
    for recipient in by_source.get("esp_recipient", []):
        if "@" in recipient:
            texts.add(recipient.lower().strip())
        elif _digits(recipient):
            phones.add(_digits(recipient))  # type: ignore[arg-type]
    return Needles(texts, phones)


def _table_traces(con: duckdb.DuckDBPyConnection, where: str, needles: Needles) -> list[str]:
    """Tables and views of the database holding any needle in a text column."""
    found = []
    tables = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_catalog = current_database() order by 1"
    ).fetchall()
    for (table,) in tables:
        columns = text_columns(con, table)
        if not columns:
            continue
        checks = []
        for column in columns:
            value = f'"{column}"'
            bare = f"lower(replace({value}, ' ', ''))"
            digits = f"regexp_replace({value}, '[^0-9]', '', 'g')"
            checks += [
                (column, f"contains({bare}, {_literal(text.lower())})") for text in needles.texts
            ]
            checks += [(column, f"contains({digits}, '{phone}')") for phone in needles.phones]
        schema, name = table.split(".", 1)
        counts = con.execute(
            "select "
            + ", ".join(f"count(*) filter (where {condition})" for _, condition in checks)
            + f' from "{schema}"."{name}"'
        ).fetchone()
        found += [
            f"{where}:{table}.{column}"
            for (column, _), count in zip(checks, counts, strict=True)
            if count
        ]
    return sorted(set(found))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_PHONE_SHAPED = re.compile(r"\+?[0-9][0-9 ().-]{7,}[0-9]")


def _file_traces(path: Path, needles: Needles) -> list[str]:
    if is_duckdb_file(path):
        con = duckdb.connect(str(path), read_only=True)
        try:
            return _table_traces(con, path.name, needles)
        finally:
            con.close()
    text = path.read_bytes().decode("utf-8", errors="replace")
    bare = text.replace(" ", "").lower()
    hits = [t for t in needles.texts if t.lower() in bare]
    hits += [p for p in needles.phones if any(_digits(m) == p for m in _PHONE_SHAPED.findall(text))]
    return [f"{path}: {len(hits)} value(s)"] if hits else []


def traces(root: Path, needles: Needles) -> list[str]:
    """Every file the project writes under its data folder (DuckDB files table by table, with
    their WAL through the database), and nothing of the source systems'."""
    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or relative.parts[0] in SOURCE_SYSTEM_FILES:
            continue
        if path.name.endswith(".wal"):
            continue
        found += _file_traces(path, needles)
    return found


def _monthly_revenue(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        f"select year_month, {', '.join(REVENUE_COLUMNS)} from marketing.mart_kpi_monthly "
        "order by year_month"
    ).fetchall()


def _orders_by_month(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("""
        select date_trunc('month', order_date) as month, source, count(*),
               sum(document_amount)
        from core.fct_orders group by 1, 2 order by 1, 2""").fetchall()


@dataclass
class Erased:
    root: Path
    customer_id: str
    erp_key: str
    needles: Needles
    revenue_before: list[tuple]
    orders_before: list[tuple]
    traces_before: list[str]
    before: Path
    first_run: PipelineRun  # the shared build's run
    status: int  # of `make erase`
    output: str  # what `make erase` printed


@pytest.fixture(scope="module")
def erased(pipeline, tmp_path_factory: pytest.TempPathFactory) -> Erased:
    """A copy of the project holding a copy of the shared build (every asset run once on
    generated sources); one customer erased by `make erase CUSTOMER=…`, as a user runs it: the
    erase_person job, then the rebuild and republish of every table and file."""
    project = project_copy(tmp_path_factory.mktemp("erasure") / "gogaek")
    root = copy_pipeline(pipeline, project / "data")
    first_run = pipeline[1]
    assert first_run.success
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        customer_id, erp_key = _choose_person(con)
        needles = _needles(con, customer_id)
        revenue_before = _monthly_revenue(con)
        orders_before = _orders_by_month(con)
    finally:
        con.close()
    traces_before = traces(root, needles)
    # The warehouse as it was, outside the data folder: what an earlier PostgreSQL copy held.
    before = tmp_path_factory.mktemp("before") / "warehouse.duckdb"
    shutil.copy(root / "warehouse.duckdb", before)
    status, output = make(
        project,
        "erase",
        f"CUSTOMER={customer_id}",
        env=user_env(project, GOGAEK_RRN_SALT=pipeline_settings(root).rrn_salt),
    )
    # The command's own files (its run log, the Dagster instance) are the project's too.
    return Erased(
        root,
        customer_id,
        erp_key,
        needles,
        revenue_before,
        orders_before,
        traces_before,
        before,
        first_run,
        status,
        output,
    )


def _printed_failed_checks(output: str) -> set[tuple[str, str]]:
    """The checks a command's run printed as failed (`check FAILED|WARN: <asset> <check>`)."""
    return {
        (asset, check)
        for asset, check in re.findall(r"^  check (?:FAILED|WARN): (\S+) (\S+)$", output, re.M)
    }


def _failed_checks(run: dg.ExecuteInProcessResult | PipelineRun) -> set[tuple[str, str]]:
    return {
        (e.event_specific_data.asset_key.to_user_string(), e.event_specific_data.check_name)  # type: ignore[union-attr]
        for e in run.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed  # type: ignore[union-attr]
    }


def test_the_scan_finds_the_person_before_erasure(erased: Erased) -> None:
    # The scan can fail: before the erasure it finds the person in raw, the marts, the
    # snapshot and the operational file.
    assert erased.needles.phones and len(erased.needles.texts) >= 4
    places = " ".join(erased.traces_before)
    for table in (
        "raw.erp_customers",
        "raw.esp_events",
        "snapshots.snap_customers",
        "core.dim_customer",
        "operational.duckdb:crm.mart_customer_360",
    ):
        assert table in places, table


def test_make_erase_exits_0_having_rebuilt_and_republished(erased: Erased) -> None:
    assert erased.status == 0, erased.output[-6000:]
    assert "Traceback" not in erased.output
    assert re.search(r"Dagster run \S+ of job erase_person: SUCCESS", erased.output)
    rebuilt = re.search(r"Dagster run (\S+) of job daily_refresh: SUCCESS", erased.output)
    assert rebuilt, erased.output[-6000:]
    # The served files were published again, by the rebuild.
    for served in ("bi.duckdb", "operational.duckdb"):
        con = duckdb.connect(str(erased.root / "serving" / served), read_only=True)
        try:
            assert con.execute("select run_id from publish_log").fetchone() == (rebuilt[1],)
        finally:
            con.close()


def test_erasure_removes_every_trace(erased: Erased) -> None:
    assert erased.status == 0
    # Everything the project writes: the data folder (warehouse, served files, quality
    # results, run logs) and the Dagster instance of the runs (event logs, compute logs).
    assert traces(erased.root, erased.needles) == []
    # The erase_person run's config names the customer id asked for (as the erasure log does,
    # by design: the id resolves to nobody any more); nothing else of the person is there.
    contact = Needles(erased.needles.texts - {erased.customer_id}, erased.needles.phones)
    assert traces(erased.root.parent / ".dagster", contact) == []


def test_monthly_revenue_is_unchanged(erased: Erased) -> None:
    con = duckdb.connect(str(erased.root / "warehouse.duckdb"), read_only=True)
    try:
        assert _monthly_revenue(con) == erased.revenue_before
        assert _orders_by_month(con) == erased.orders_before
        # The orders stay, nobody's: the customer is gone from every fact and dimension.
        assert con.execute(
            "select count(*) from core.fct_orders where customer_id = ?", [erased.customer_id]
        ).fetchone() == (0,)
        assert (
            con.execute(
                "select count(*) from core.fct_orders where source = 'erp' "
                "and customer_source_key is null and customer_id is null"
            ).fetchone()[0]
            > 0
        )
    finally:
        con.close()
    bi = duckdb.connect(str(erased.root / "serving" / "bi.duckdb"), read_only=True)
    try:
        assert _monthly_revenue(bi) == erased.revenue_before
    finally:
        bi.close()


def test_erasure_log_and_accounting(erased: Erased) -> None:
    con = duckdb.connect(str(erased.root / "warehouse.duckdb"), read_only=True)
    try:
        log = con.execute(
            "select requested_as, customers, source_records, rows_deleted, rows_anonymised, "
            "snapshot_rows_deleted, values_listed from raw._erasure_log"
        ).fetchall()
        assert len(log) == 1
        requested_as, customers, records, deleted, anonymised, snapshot, listed = log[0]
        assert (requested_as, customers) == ("customer_id", 1)
        assert records >= 4 and deleted >= 2 and anonymised >= 3 and snapshot >= 1
        kinds = {
            k for (k,) in con.execute("select distinct kind from raw._erasure_list").fetchall()
        }
        assert {"erp_customer", "shop_member", "phone"} <= kinds
        assert listed == con.execute("select count(*) from raw._erasure_list").fetchone()[0]
        # Deleted rows are accounted for: every batch still adds up.
        assert [p for spec in ENTITIES for p in accounting_problems(con, spec)] == []
    finally:
        con.close()
    # The erasure makes no check fail that passed before (batch accounting, relationships, the
    # quality rules): orders without a customer are what the models already expect.
    assert _printed_failed_checks(erased.output) <= _failed_checks(erased.first_run)


def _landed_record(root: Path, erp_key: str) -> dict[str, str]:
    """The person's record as the ERP still holds it (the source owner's copy)."""
    path = sorted((root / "landing" / "erp").glob("erp_customers_*.csv"))[-1]
    # Not the whole file through csv: it also holds the generator's malformed lines (bytes no
    # encoding reads, a quote never closed). The header, then one record from the person's
    # line on — a quoted memo in it may span lines, as ERP memos do.
    # A snapshot an admin saved in Excel writes the key as ="C1000005" and pads every line with
    # empty cells: read the record as the spreadsheet shows it.
    text = path.read_bytes().decode(ERP_CUSTOMERS.encoding, errors="replace")
    header = [name for name in next(csv.reader(io.StringIO(text))) if name]
    key = re.escape(erp_key)
    [start] = [m.start() for m in re.finditer(rf'^(="{key}"|{key}),', text, re.MULTILINE)]
    fields = next(csv.reader(io.StringIO(text[start:])))[: len(header)]
    shown = [v[2:-1] if v.startswith('="') and v.endswith('"') else v for v in fields]
    return dict(zip(header, shown, strict=True))


def test_a_redelivered_person_is_quarantined_not_loaded(erased: Erased) -> None:
    from tests.conftest import write_csv

    record = _landed_record(erased.root, erased.erp_key)
    # The same record again; the person under a new customer number with their mobile; a new
    # customer who is nobody erased.
    renumbered = {**record, "고객번호": "C9999998", "이메일": "", "주민등록번호": ""}
    stranger = {
        **record,
        "고객번호": "C9999999",
        "고객명": "홍길동",
        "휴대폰": "010-3141-5926",
        "이메일": "gildong@example.com",
        "주민등록번호": "",
        "자택전화": "",
        "직장전화": "",
        "팩스": "",
    }
    landing = erased.root / "landing"
    write_csv(
        landing / "erp" / "erp_customers_20991231.csv",
        ERP_CUSTOMERS,
        [record, renumbered, stranger],
    )
    settings = pipeline_settings(erased.root)
    con = duckdb.connect(str(erased.root / "warehouse.duckdb"))
    try:
        (result,) = [
            r
            for r in load_entity_files(
                con,
                ERP_CUSTOMERS,
                landing,
                settings.rrn_salt,
                settings.load_limits,
                settings.erasure_secret,
            )
            if r.status != "already_loaded"
        ]
        assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 1, 2)
        assert result.reasons == {REASON_CODE: 2}
        quarantined = con.execute(
            "select field, raw_record, reason from raw._quarantine where batch_id = ? "
            "order by source_line",
            [result.batch_id],
        ).fetchall()
        assert [(f, r) for f, r, _ in quarantined] == [("고객번호", None), ("휴대폰", None)]
        assert all("erasure list" in reason for _, _, reason in quarantined)
        assert con.execute(
            'select "고객번호" from raw.erp_customers where _batch_id = ?', [result.batch_id]
        ).fetchall() == [("C9999999",)]
        assert accounting_problems(con, ERP_CUSTOMERS) == []
        # The check erased_people_kept_out: none loaded, two held in the latest batch ...
        secret = settings.erasure_secret
        assert listed_rows(con, "erp_customers", secret) == ListedRows(0, 2, 2)
        assert listed_rows(con, "esp_events", secret) == ListedRows(0, 0, 0)
        # ... and a row an older loader let in is found.
        con.execute(
            'insert into raw.erp_customers ("고객번호", _batch_id) values (?, ?)',
            [erased.erp_key, result.batch_id],
        )
        assert listed_rows(con, "erp_customers", secret).loaded == 1
        con.execute('delete from raw.erp_customers where "고객번호" = ?', [erased.erp_key])
        # Without the secret the load refuses rather than let the person back in.
        write_csv(landing / "erp" / "erp_customers_21000101.csv", ERP_CUSTOMERS, [record])
        with pytest.raises(ErasureError, match="erasure secret"):
            load_entity_files(con, ERP_CUSTOMERS, landing, settings.rrn_salt)
    finally:
        con.close()
    assert [t for t in traces(erased.root, erased.needles) if "warehouse.duckdb" in t] == []


def _postgres_traces(database: str, needles: Needles) -> list[str]:
    import psycopg2

    from ingest.postgres_mirror import pg_params

    con = psycopg2.connect(**pg_params(database))
    found = []
    try:
        with con.cursor() as cursor:
            cursor.execute(
                "select table_schema, table_name, column_name from information_schema.columns "
                "where table_schema in ('raw', 'snapshots') and data_type = 'text'"
            )
            for schema, table, column in cursor.fetchall():
                value = f'"{column}"'
                checks = [
                    f"strpos(lower(replace({value}, ' ', '')), {_literal(t.lower())}) > 0"
                    for t in needles.texts
                ] + [
                    f"strpos(regexp_replace({value}, '[^0-9]', '', 'g'), '{p}') > 0"
                    for p in needles.phones
                ]
                cursor.execute(
                    f'select count(*) from "{schema}"."{table}" where {" or ".join(checks)}'
                )
                if cursor.fetchone()[0]:
                    found.append(f"{schema}.{table}.{column}")
    finally:
        con.close()
    return found


def test_the_postgresql_copy_is_erased_too(erased: Erased, pg_database: str) -> None:
    import psycopg2

    from ingest.erasure import erase_postgres_copy
    from ingest.postgres_mirror import mirror_raw, pg_params

    # A copy made before the erasure: the raw layer and the SCD history hold the person.
    mirror_raw(str(erased.before), pg_database)
    con = psycopg2.connect(**pg_params(pg_database))
    with con, con.cursor() as cursor:
        cursor.execute("create schema snapshots")
        cursor.execute(
            "create table snapshots.snap_customers as select * from (values "
            "(%s, %s), ('COTHER', 'other')) as t (customer_id, name)",
            [erased.customer_id, next(iter(erased.needles.texts))],
        )
    con.close()
    assert "raw.erp_customers.고객명" in _postgres_traces(pg_database, erased.needles)
    assert (
        erase_postgres_copy(
            str(erased.root / "warehouse.duckdb"), pg_database, [erased.customer_id]
        )
        == 1
    )
    assert _postgres_traces(pg_database, erased.needles) == []
    con = psycopg2.connect(**pg_params(pg_database))
    with con, con.cursor() as cursor:
        cursor.execute("select customer_id from snapshots.snap_customers")
        assert cursor.fetchall() == [("COTHER",)]
    con.close()


def test_the_person_must_be_known(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    with pytest.raises(ErasureError, match="no identity crosswalk"):
        erase(con, "secret", customer_id="C123")
    con.execute("create schema intermediate")
    con.execute(
        "create table intermediate.int_identity_crosswalk as select * from (values "
        "('erp_customer', 'C0001', 'CAAA'), ('shop_member', '7', 'CAAA'), "
        "('shop_guest_order', '12', null)) as t (source, source_key, customer_id)"
    )
    with pytest.raises(ErasureError, match="no customer"):
        find_person(con, customer_id="CBBB")
    with pytest.raises(ErasureError, match="not both"):
        find_person(con, customer_id="CAAA", source_key="shop_member:7")
    with pytest.raises(ErasureError, match="source"):
        parse_source_key("member:7")
    assert find_person(con, source_key="shop_member:7").records == {
        "erp_customer": ["C0001"],
        "shop_member": ["7"],
    }
    # A guest order that belongs to nobody is a person of its own.
    assert find_person(con, source_key="shop_guest_order:12").records == {
        "shop_guest_order": ["12"]
    }
    con.close()
    assert BY_NAME["erp_customers"] is ERP_CUSTOMERS


def test_a_listed_person_in_an_unparsable_line_is_held_without_the_line(
    tmp_path: Path, landing: Path
) -> None:
    """Small and fast: the erasure list filled by hand, one ERP drop with a good row of the
    person, a broken line holding their mobile, and a stranger."""
    from ingest.erasure_list import token_sql, with_secret
    from ingest.raw_store import ensure_raw_schema
    from tests.conftest import erp_customer, write_csv

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_raw_schema(con)
    with_secret(con, "s3cret")
    con.execute(
        f"insert into raw._erasure_list select {token_sql('kind', 'value')}, kind, 'e1', now() "
        "from (values ('email', 'minsu@naver.com'), ('phone', '01012345678')) as v (kind, value)"
    )
    write_csv(
        landing / "erp" / "erp_customers_20261120.csv",
        ERP_CUSTOMERS,
        [
            erp_customer(고객번호="C0002", 휴대폰="", 이메일="MINSU@naver.com "),
            '"C0003,broken,+82 10-1234-5678',  # a quote never closed: not parsed
            erp_customer(고객번호="C0004", 휴대폰="010-9999-8888", 이메일="other@daum.net"),
        ],
    )
    (result,) = load_entity_files(con, ERP_CUSTOMERS, landing, "salt", erasure_secret="s3cret")
    assert (result.rows_read, result.rows_loaded, result.reasons) == (3, 1, {REASON_CODE: 2})
    rows = con.execute(
        "select source_line, field, raw_record from raw._quarantine order by source_line"
    ).fetchall()
    assert rows == [(2, "이메일", None), (3, None, None)]
    assert accounting_problems(con, ERP_CUSTOMERS) == []
    # Another secret recognises nobody: the tokens are keyed.
    write_csv(
        landing / "erp" / "erp_customers_20261121.csv",
        ERP_CUSTOMERS,
        [erp_customer(고객번호="C0002", 휴대폰="", 이메일="minsu@naver.com")],
    )
    (other,) = [
        r
        for r in load_entity_files(con, ERP_CUSTOMERS, landing, "salt", erasure_secret="other")
        if r.status != "already_loaded"
    ]
    assert (other.rows_loaded, other.rows_quarantined) == (1, 0)
    con.close()
