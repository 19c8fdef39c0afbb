"""Tests of the source-data generator (lab.generator): determinism, formats, truth."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingest import vocabularies
from ingest.dbt_macros import macro_sql
from ingest.personal_data import find_rrns
from ingest.schemas import BY_NAME, ENTITIES, EntitySpec
from lab.generator import DEFECT_RATES, generate
from lab.generator.__main__ import main

END = date(2026, 11, 20)
RATE = 0.02  # higher than the default so a 300-person run breaks rows of every kind
CSV_KIND_CHECKS = (
    "undecodable_bytes",
    "extra_column",
    "missing_column",
    "unbalanced_quote",
    "missing_key",
    "bad_date",
    "bad_number",
    "bad_timestamp",
)


def _run(out: Path, seed: int = 42, rate: float = RATE, customers: int = 300) -> dict[str, Any]:
    return generate(
        out,
        customers=customers,
        days=2,
        seed=seed,
        end_date=END,
        malformed_rate=rate,
        shop_url=None,
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("gen")
    return out, _run(out)


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _spec_for(rel: str) -> EntitySpec:
    for spec in ENTITIES:
        if spec.format != "sql" and Path(rel).match(spec.location):
            return spec
    raise AssertionError(f"no spec for {rel}")


def _malformed(root: Path) -> dict[tuple[str, str], str]:
    with (root / "truth" / "malformed.csv").open(encoding="utf-8") as fh:
        return {(r["file"], r["line"]): r["kind"] for r in csv.DictReader(fh)}


def _read_csv(path: Path, encoding: str) -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.DictReader(fh))


# ------------------------------------------------------------------ value checks
def _rrns(text: str) -> list[str]:
    return find_rrns(text)  # the project's one RRN definition, every spelling


def _parsed_date(v: str) -> date | None:
    """The date staging reads (the dbt macro parse_date, as the loader renders it)."""
    return duckdb.execute(f"select {macro_sql('parse_date', '?')}", [v]).fetchone()[0]


def _parsed_local_ts(v: str) -> datetime | None:
    """A timestamp without offset as staging reads it (the dbt macro parse_timestamp)."""
    sql = macro_sql("parse_timestamp", "v", "try_cast")
    return duckdb.execute(f"select {sql} from (select ?::varchar as v)", [v]).fetchone()[0]


def _as_shown(fields: list[str], width: int) -> list[str]:
    """A CSV record as the values a spreadsheet shows: the padding cells Korean Excel writes past
    the last column dropped, its text formulas ="..." read as their text."""
    if len(fields) > width and not any(value.strip() for value in fields[width:]):
        fields = fields[:width]
    return [v[2:-1] if v.startswith('="') and v.endswith('"') else v for v in fields]


def _date_ok(v: str) -> bool:
    return _parsed_date(v) is not None


def _ts_ok(v: Any, iso: bool) -> bool:
    if not isinstance(v, str):
        return False
    if not iso:  # ERP and shop text: local time, in any spelling staging reads
        return v.count(":") >= 1 and _parsed_local_ts(v) is not None
    try:
        parsed = datetime.fromisoformat(v)
    except ValueError:
        return False
    return parsed.tzinfo is not None


def _int_ok(v: Any, text: bool) -> bool:
    if text:
        return isinstance(v, str) and re.fullmatch(r"-?\d+", v.replace(",", "")) is not None
    return isinstance(v, int) and not isinstance(v, bool)


def _problems(spec: EntitySpec, row: dict[str, Any], text: bool) -> list[str]:
    """Why a parsed row would be quarantined; empty for a good row."""
    out = []
    for col in spec.columns:
        v = row.get(col.name)
        if v is None or v == "":
            if col.must_have_value:
                out.append(f"missing {col.name}")
            continue
        if col.kind == "date" and not _date_ok(v):
            out.append(f"bad date {col.name}")
        elif col.kind == "timestamp" and not _ts_ok(v, iso=not text or spec.format == "jsonl"):
            out.append(f"bad timestamp {col.name}")
        elif col.kind == "int" and not _int_ok(v, text):
            out.append(f"bad number {col.name}")
    return out


def _lines(path: Path, newline: bytes) -> Iterator[tuple[int, bytes]]:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    assert data == b"" or data.endswith(newline), path
    for i, line in enumerate(data.split(newline)[:-1]):
        yield i + 1, line


def _check_csv_line(spec: EntitySpec, raw: bytes, encoding: str, kind: str | None) -> None:
    if kind == "undecodable_bytes":
        with pytest.raises(UnicodeDecodeError):
            raw.decode(encoding)
        return
    text = raw.decode(encoding)
    assert "\r" not in text and "\n" not in text
    if kind == "unbalanced_quote":
        assert text.count('"') % 2 == 1, text
        return
    width = len(spec.columns)
    fields = _as_shown(next(csv.reader([text], strict=True)), width)
    if kind == "extra_column":
        assert len(fields) == width + 1, text
        return
    if kind == "missing_column":
        assert len(fields) == width - 1, text
        return
    assert len(fields) == width, text
    problems = _problems(spec, dict(zip(spec.column_names, fields, strict=True)), text=True)
    if kind is None:
        assert not problems, (spec.name, text, problems)
    elif kind == "missing_key":
        assert any(fields[spec.column_names.index(k)] == "" for k in spec.key_columns), text
    else:
        assert any(p.startswith(kind.replace("_", " ")) for p in problems), (kind, text)


def _check_jsonl_line(spec: EntitySpec, raw: bytes, kind: str | None) -> None:
    text = raw.decode("utf-8")
    if kind == "broken_json":
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
        return
    obj = json.loads(text)
    if kind == "not_an_object":
        assert isinstance(obj, list), text
        return
    assert isinstance(obj, dict), text
    if kind is None:
        assert list(obj) == list(spec.column_names), text
        assert not _problems(spec, obj, text=False), (text, _problems(spec, obj, text=False))
        assert json.dumps(obj, ensure_ascii=False) == text  # plain json.dumps layout
    elif kind == "missing_key":
        assert any(obj.get(k) is None for k in spec.key_columns), text
    else:
        assert any(p.startswith(kind.replace("_", " ")) for p in _problems(spec, obj, False))


def _expected_kinds(spec: EntitySpec) -> set[str]:
    if spec.format == "jsonl":
        kinds = {"broken_json", "not_an_object", "missing_key", "bad_timestamp", "bad_number"}
    elif spec.source == "erp":
        kinds = set(CSV_KIND_CHECKS)
    else:
        kinds = {"missing_column", "bad_timestamp", "missing_key"}
    column_kinds = {c.kind for c in spec.columns}
    for kind, needs in (
        ("bad_date", "date"),
        ("bad_number", "int"),
        ("bad_timestamp", "timestamp"),
    ):
        if needs not in column_kinds:
            kinds.discard(kind)
    return kinds


# ------------------------------------------------------------------ tests
def test_same_seed_same_bytes_other_seed_differs(
    run: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, _ = run
    again = tmp_path / "again"
    _run(again)
    first, second = _files(out), _files(again)
    assert list(first) == list(second)
    for name in first:
        assert first[name] == second[name], name
    other = tmp_path / "other"
    _run(other, seed=43, rate=0.0)
    third = _files(other)
    assert (
        third["landing/erp/erp_customers_20261120.csv"]
        != first["landing/erp/erp_customers_20261120.csv"]
    )
    assert third["truth/persons.csv"] != first["truth/persons.csv"]
    # no malformed rows at rate 0
    assert (other / "truth" / "malformed.csv").read_text(encoding="utf-8") == "file,line,kind\n"


def test_layout_and_manifest(run: tuple[Path, dict[str, Any]]) -> None:
    out, summary = run
    for day in ("20261119", "20261120"):
        for name in ("erp_customers", "erp_products", "erp_orders", "erp_order_lines"):
            assert (out / "landing" / "erp" / f"{name}_{day}.csv").is_file()
        for name in (
            "callcenter/calls_{}.jsonl",
            "callcenter/tickets_{}.csv",
            "esp/campaigns_{}.jsonl",
            "esp/events_{}.jsonl",
        ):
            assert (out / "landing" / name.format(day)).is_file()
    assert (out / "shop.sqlite").is_file()
    manifest = json.loads((out / "truth" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == summary
    assert manifest["defect_rates"] == DEFECT_RATES
    assert manifest["arguments"]["seed"] == 42
    assert manifest["rows"]["erp/erp_customers_20261120.csv"] > 150
    assert sum(manifest["malformed"].values()) == manifest["rows"]["truth/malformed.csv"]


def test_erp_header_is_cp949_spec_names(run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = run
    for spec in (
        BY_NAME["erp_customers"],
        BY_NAME["erp_products"],
        BY_NAME["erp_orders"],
        BY_NAME["erp_order_lines"],
    ):
        for path in sorted((out / "landing").glob(spec.location)):
            raw = path.read_bytes()
            header = raw.split(b"\r\n", 1)[0]
            names = header.decode("cp949").split(",")
            assert _as_shown(names, len(spec.columns)) == list(spec.column_names)
            assert raw.count(b"\n") == raw.count(b"\r\n")  # CRLF only
    tickets = sorted((out / "landing").glob("callcenter/tickets_*.csv"))[0].read_bytes()
    assert tickets.startswith(b"\xef\xbb\xbfticket_id,") and b"\r" not in tickets


def test_every_line_is_good_or_broken_as_listed(run: tuple[Path, dict[str, Any]]) -> None:
    out, summary = run
    listed = _malformed(out)
    landing = out / "landing"
    checked: set[tuple[str, str]] = set()
    for path in sorted(landing.rglob("*.*")):
        rel = path.relative_to(landing).as_posix()
        spec = _spec_for(rel)
        kinds_here: set[str] = set()
        n_lines = 0
        if spec.format == "csv":
            newline = b"\r\n" if spec.encoding == "cp949" else b"\n"
            encoding = "cp949" if spec.encoding == "cp949" else "utf-8"
            for no, raw in _lines(path, newline):
                if no == 1:
                    continue
                n_lines += 1
                kind = listed.get((rel, str(no)))
                _check_csv_line(spec, raw, encoding, kind)
                if kind:
                    checked.add((rel, str(no)))
                    kinds_here.add(kind)
        else:
            for no, raw in _lines(path, b"\n"):
                n_lines += 1
                kind = listed.get((rel, str(no)))
                _check_jsonl_line(spec, raw, kind)
                if kind:
                    checked.add((rel, str(no)))
                    kinds_here.add(kind)
        assert summary["rows"][rel] == n_lines
        if n_lines >= 200:  # every kind that applies to the entity shows up
            assert _expected_kinds(spec) <= kinds_here, (rel, _expected_kinds(spec) - kinds_here)
    file_rows = {k for k in listed if not k[0].startswith("shop:")}
    assert file_rows == checked  # nothing listed that does not exist
    assert {kind for key, kind in listed.items() if key in checked} >= set(CSV_KIND_CHECKS)


def test_shop_tables_and_malformed_rows(run: tuple[Path, dict[str, Any]]) -> None:
    out, summary = run
    listed = _malformed(out)
    con = sqlite3.connect(out / "shop.sqlite")
    kinds_seen = set()
    for spec in (
        BY_NAME["shop_members"],
        BY_NAME["shop_orders"],
        BY_NAME["shop_order_items"],
        BY_NAME["shop_marketing_consents"],
    ):
        cur = con.execute(f"SELECT * FROM {spec.location}")
        assert tuple(c[0] for c in cur.description) == spec.column_names
        rows = cur.fetchall()
        assert summary["rows"][f"shop:{spec.location}"] == len(rows)
        for values in rows:
            row = dict(zip(spec.column_names, values, strict=True))
            key = "|".join(str(row[k]) for k in spec.key_columns)
            kind = listed.get((f"shop:{spec.location}", key))
            as_text = {k: (str(v) if isinstance(v, int) else v) for k, v in row.items()}
            problems = _problems(spec, as_text, text=True)
            if kind is None:
                assert not problems, (spec.name, row, problems)
                if "updated_at" in row:  # watermark column never before creation
                    created = row.get("joined_at") or row.get("ordered_at") or row["updated_at"]
                    assert row["updated_at"] >= created
            elif kind == "missing_required":
                assert any(p.startswith("missing") for p in problems), row
            else:
                assert kind == "bad_timestamp"
                assert any(p.startswith("bad timestamp") for p in problems), row
            kinds_seen.add(kind)
    con.close()
    assert {"missing_required", "bad_timestamp"} <= kinds_seen


def test_identity_covers_erp_customers_and_shop_members(run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = run
    identity = _read_csv(out / "truth" / "identity.csv", "utf-8")
    by_source: dict[str, dict[str, str]] = {}
    for r in identity:
        by_source.setdefault(r["source"], {})[r["source_key"]] = r["person_id"]
    listed = _malformed(out)
    numbers: set[str] = set()
    for path in sorted((out / "landing" / "erp").glob("erp_customers_*.csv")):
        rel = f"erp/{path.name}"
        for no, raw in _lines(path, b"\r\n"):
            if no > 1 and (rel, str(no)) not in listed:
                numbers.add(_as_shown(next(csv.reader([raw.decode("cp949")])), 16)[0])
    assert numbers and numbers == set(by_source["erp_customer"])
    con = sqlite3.connect(out / "shop.sqlite")
    members = {str(m) for (m,) in con.execute("SELECT member_id FROM members")}
    con.close()
    bad_members = {k for (f, k) in listed if f == "shop:members"}
    assert members - bad_members == set(by_source["shop_member"])
    persons = {r["person_id"] for r in _read_csv(out / "truth" / "persons.csv", "utf-8")}
    for source, keys in by_source.items():
        ids = set(keys.values()) - {""}
        assert ids <= persons, source
    calls = by_source["callcenter_call"]
    strangers = sum(1 for p in calls.values() if not p) / len(calls)
    assert 0.03 < strangers < 0.2  # about one call in ten is from a non-customer


def test_contacts_truth_matches_delivered_values(run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = run
    contacts = _read_csv(out / "truth" / "contacts.csv", "utf-8")
    truth = {(r["source"], r["source_key"], r["field"]): r for r in contacts}
    assert {r["status"] for r in contacts} <= {"valid", "invalid", "missing"}
    for r in contacts:
        assert (r["status"] == "valid") == (r["defect"] == ""), r
        assert (r["status"] == "missing") == (r["value"] == "" or r["defect"] == "missing")
    path = out / "landing" / "erp" / "erp_customers_20261120.csv"
    columns = {
        "name": "고객명",
        "mobile": "휴대폰",
        "home_phone": "자택전화",
        "email": "이메일",
        "postal_code": "우편번호",
        "address": "주소",
        "fax": "팩스",
    }
    seen = 0
    for row in _read_csv_lenient(path):
        key = ("erp_customer", row["고객번호"], "mobile")
        if key not in truth:
            continue
        for field, col in columns.items():
            assert truth[("erp_customer", row["고객번호"], field)]["value"] == row[col]
        seen += 1
    assert seen > 100
    for row in _read_csv_lenient(path):  # 수정일시 never before 가입일 (unless broken on purpose)
        joined = _parsed_date(row["가입일"])
        modified = _parsed_local_ts(row["수정일시"])
        if joined and modified:
            assert modified.date() >= joined, row
    defects = {r["defect"] for r in contacts}
    assert {"missing", "legacy_postcode", "typo_domain"} <= defects


def _read_csv_lenient(path: Path) -> Iterator[dict[str, str]]:
    """Well-formed rows of a CP949 export, skipping broken lines as a loader would."""
    header: list[str] = []
    for no, raw in _lines(path, b"\r\n"):
        try:
            text = raw.decode("cp949")
        except UnicodeDecodeError:
            continue
        if text.count('"') % 2:
            continue
        fields = next(csv.reader(io.StringIO(text)))
        if no == 1:
            header = [name for name in fields if name]
            continue
        fields = _as_shown(fields, len(header))
        if len(fields) == len(header) and fields[0]:
            yield dict(zip(header, fields, strict=True))


def test_rrn_only_in_allowed_places(run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = run
    allowed = 0
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.suffix not in (".csv", ".jsonl", ".json"):
            continue
        rel = path.relative_to(out).as_posix()
        if "erp_customers_" in rel:
            for no, raw in _lines(path, b"\r\n"):
                text = raw.decode("cp949", errors="replace")
                fields = text.split(",") if text.count('"') % 2 else next(csv.reader([text]))
                for i, value in enumerate(fields):
                    if _rrns(value):
                        assert i in (2, 14), (rel, no, i)  # 주민등록번호, 비고
                        allowed += 1
        elif "calls_" in rel:
            for no, raw in _lines(path, b"\n"):
                text = raw.decode("utf-8")
                for rrn in _rrns(text):
                    assert text.rfind('"memo"', 0, text.index(rrn)) >= 0, (rel, no)
        else:
            text = path.read_bytes().decode("cp949" if "erp/" in rel else "utf-8", errors="replace")
            assert not _rrns(text), rel
    con = sqlite3.connect(out / "shop.sqlite")
    for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
        for row in con.execute(f"SELECT * FROM {table}"):
            assert not any(_rrns(str(v)) for v in row if v is not None), table
    con.close()
    assert allowed > 50  # ~40 % of ERP rows carry one


def test_esp_honours_refusals_and_invalid_addresses_never_open(
    run: tuple[Path, dict[str, Any]],
) -> None:
    out, summary = run
    identity = _read_csv(out / "truth" / "identity.csv", "utf-8")
    member_person = {
        r["source_key"]: r["person_id"] for r in identity if r["source"] == "shop_member"
    }
    recipient_person = {
        r["source_key"]: r["person_id"] for r in identity if r["source"] == "esp_recipient"
    }
    con = sqlite3.connect(out / "shop.sqlite")
    refused = {
        member_person[str(m)]
        for (m,) in con.execute(
            "SELECT member_id FROM marketing_consents WHERE channel='email' AND consented=0"
        )
        if str(m) in member_person
    }
    con.close()
    campaigns = {}
    events = []
    for path in sorted((out / "landing" / "esp").glob("*.jsonl")):
        for _, raw in _lines(path, b"\n"):
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict) and "event_type" in obj:
                events.append(obj)
            elif isinstance(obj, dict) and obj.get("campaign_id"):
                campaigns[obj["campaign_id"]] = obj
    assert events and any(c["wave"] == 2 for c in campaigns.values())
    invalid = {
        r["value"]
        for r in _read_csv(out / "truth" / "contacts.csv", "utf-8")
        if r["field"] == "email" and r["status"] == "invalid"
    }
    email_types: dict[str, set[str]] = {}
    for e in events:
        if "@" in str(e.get("recipient")) and e.get("recipient") in recipient_person:
            assert recipient_person[e["recipient"]] not in refused, e
        if e.get("recipient") in invalid:
            email_types.setdefault(e["recipient"], set()).add(e["event_type"])
    for types in email_types.values():
        assert types <= {"sent", "hard_bounce", "failed"}
    funnel = summary["esp_funnel"]
    sent = funnel["email_sent"]
    assert sent > 300
    assert abs(funnel["email_delivered"] / sent - 6506 / 19396) < 0.03
    assert abs(funnel["email_spam_blocked"] / sent - 6007 / 19396) < 0.03


def test_tickets_timestamps_are_consistent(run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = run
    listed = _malformed(out)
    for path in sorted((out / "landing" / "callcenter").glob("tickets_*.csv")):
        rel = f"callcenter/{path.name}"
        for no, raw in _lines(path, b"\n"):
            if no == 1 or (rel, str(no)) in listed:
                continue
            row = dict(
                zip(
                    BY_NAME["callcenter_tickets"].column_names,
                    next(csv.reader([raw.decode("utf-8")])),
                    strict=True,
                )
            )
            stamps = [row["received_at"], row["assigned_at"], row["resolved_at"]]
            filled = [s for s in stamps if s]
            assert filled == sorted(filled)
            assert len(filled) == ["received", "assigned", "resolved"].index(row["status"]) + 1


def test_cli_prints_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "--customers",
            "120",
            "--days",
            "1",
            "--seed",
            "5",
            "--out",
            str(tmp_path / "cli"),
            "--end-date",
            "2026-01-31",
            "--malformed-rate",
            "0",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "erp/erp_customers" in printed and "malformed rows: 0" in printed
    assert (tmp_path / "cli" / "landing" / "erp" / "erp_customers_20260131.csv").is_file()
    assert main(["--customers", "0", "--out", str(tmp_path / "bad")]) == 2


@pytest.mark.mariadb
def test_shop_on_mariadb(tmp_path: Path) -> None:
    sa = pytest.importorskip("sqlalchemy")
    server = "mysql+pymysql://root@127.0.0.1:3306"
    try:
        sa.create_engine(server).connect().close()
    except Exception as exc:  # any failure means: no server here
        pytest.skip(f"no MariaDB on 127.0.0.1:3306 ({exc.__class__.__name__})")
    name = "gogaek_generator_test"
    summary = generate(
        tmp_path,
        customers=150,
        days=1,
        seed=3,
        end_date=END,
        malformed_rate=0.01,
        shop_url=f"{server}/{name}",
    )
    engine = sa.create_engine(f"{server}/{name}?charset=utf8mb4")
    try:
        with engine.connect() as conn:
            for table in ("members", "orders", "order_items", "marketing_consents"):
                count = conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar()
                assert count == summary["rows"][f"shop:{table}"] > 0
            names = (
                conn.exec_driver_sql("SELECT name FROM members WHERE name IS NOT NULL LIMIT 5")
                .scalars()
                .all()
            )
            assert all(re.search("[가-힣]", n) for n in names)  # Korean survives utf8mb4
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        engine.dispose()
    kinds = {k for (f, _), k in _malformed(tmp_path).items() if f.startswith("shop:")}
    assert kinds == {"missing_required"}
    assert not (tmp_path / "shop.sqlite").exists()


def test_generated_vocabularies_are_the_seeds(run: tuple[Path, dict[str, Any]]) -> None:
    """The generator speaks the vocabularies staging checks against (the dbt seeds)."""
    out, _ = run
    seen: dict[str, set[str]] = {"event_type": set(), "direction": set(), "status": set()}
    for path in (out / "landing" / "esp").glob("events_*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("{") and line.endswith("}"):
                with contextlib.suppress(ValueError, AttributeError):
                    seen["event_type"].add(json.loads(line).get("event_type"))
    for path in (out / "landing" / "callcenter").glob("calls_*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError, AttributeError):
                seen["direction"].add(json.loads(line).get("direction"))
    for path in (out / "landing" / "callcenter").glob("tickets_*.csv"):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            seen["status"] |= {row.get("status") for row in csv.DictReader(handle)}
    assert all(seen.values())
    assert seen["event_type"] - {None} <= set(vocabularies.esp_event_types())
    assert seen["direction"] - {None} <= set(vocabularies.call_directions())
    assert seen["status"] - {None, ""} <= set(vocabularies.ticket_statuses())


def test_people_who_stop_buying_buy_nothing_after_that_day(
    run: tuple[Path, dict[str, Any]],
) -> None:
    """The truth's stops_buying_after: after it, no sale of the person on either channel
    except an account's very first purchase (returns and claims may still come); about half
    the people stop, and the others keep buying to the end."""
    out, _ = run
    persons = _read_csv(out / "truth" / "persons.csv", "utf-8")
    stops = {
        p["person_id"]: date.fromisoformat(p["stops_buying_after"])
        for p in persons
        if p["stops_buying_after"]
    }
    assert 0.3 < len(stops) / len(persons) < 0.6
    owner = {
        (r["source"], r["source_key"]): r["person_id"]
        for r in _read_csv(out / "truth" / "identity.csv", "utf-8")
    }
    purchases: dict[tuple[str, str], list[date]] = {}
    for path in sorted((out / "landing" / "erp").glob("erp_orders_*.csv")):
        for row in _read_csv_lenient(path):
            day = _parsed_date(row["주문일자"])
            if day is not None and row["주문상태"] != "반품":
                purchases.setdefault(("erp_customer", row["고객번호"]), []).append(day)
    con = sqlite3.connect(out / "shop.sqlite")
    for member_id, ordered_at in con.execute(
        "select member_id, ordered_at from orders "
        "where member_id is not null and original_order_id is null"
    ):
        try:  # a malformed row (no or a broken timestamp) is no purchase
            day = date.fromisoformat(str(ordered_at)[:10])
        except ValueError:
            continue
        purchases.setdefault(("shop_member", str(member_id)), []).append(day)
    con.close()
    after_stop = late_buyers = 0
    for account, days in purchases.items():
        person = owner.get(account)
        _first, *rest = sorted(days)
        if person in stops:
            after_stop += sum(day > stops[person] for day in rest)
        elif any(day > END - timedelta(days=365) for day in days):
            late_buyers += 1
    assert after_stop == 0
    assert late_buyers > 0
