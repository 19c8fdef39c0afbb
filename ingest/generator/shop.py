"""The online shop's operational database: members, orders, order items, marketing consents.

Written with SQLAlchemy Core into SQLite (default, `<out>/shop.sqlite`) or, with --shop-url, into
MariaDB/MySQL (tables dropped and recreated). Timestamps are local time; every updated_at lies
between the row's creation and the end of end_date, which is what watermark readers rely on.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from ingest.schemas import (
    SHOP_MARKETING_CONSENTS,
    SHOP_MEMBERS,
    SHOP_ORDER_ITEMS,
    SHOP_ORDERS,
    EntitySpec,
)

from . import defects as d
from . import malformed as mf
from .contacts import Addresses, Emails, Names, Phones, Postcodes
from .context import DAY, Context
from .defects import DEFECT_RATES as R
from .erp import Products
from .formats import PH_DASH, PH_PLAIN, S, cat, digits, fmt_date, fmt_ts, where
from .people import MIX, Population
from .truth import Truth

CHUNK = 50_000
HISTORY_DAYS = 730  # the shop opened two years before end_date
GRADES = np.array(["FAMILY", "SILVER", "GOLD", "VIP"], dtype=S)
STATUSES = np.array(["paid", "shipped", "cancelled", "returned"], dtype=S)
PAID, SHIPPED, CANCELLED, RETURNED = range(4)
CHANNELS = ("email", "sms")


def _metadata() -> tuple[sa.MetaData, dict[str, sa.Table]]:
    """The shop schema; required columns stay nullable so broken rows can exist, as in the field."""
    md = sa.MetaData()
    members = sa.Table(
        "members", md,
        sa.Column("member_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("login_id", sa.String(60)),
        sa.Column("name", sa.String(40)),
        sa.Column("mobile", sa.String(30)),
        sa.Column("email", sa.String(120)),
        sa.Column("birth_date", sa.Date),
        sa.Column("zipcode", sa.String(10)),
        sa.Column("address1", sa.String(200)),
        sa.Column("address2", sa.String(100)),
        sa.Column("grade", sa.String(20)),
        sa.Column("joined_at", sa.DateTime),
        sa.Column("updated_at", sa.DateTime, index=True),
        mysql_charset="utf8mb4", mysql_collate="utf8mb4_unicode_ci",
    )
    orders = sa.Table(
        "orders", md,
        sa.Column("order_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("member_id", sa.Integer),
        sa.Column("ordered_at", sa.DateTime),
        sa.Column("status", sa.String(20)),
        sa.Column("total_amount", sa.Integer),
        sa.Column("updated_at", sa.DateTime, index=True),
        mysql_charset="utf8mb4", mysql_collate="utf8mb4_unicode_ci",
    )
    items = sa.Table(
        "order_items", md,
        sa.Column("order_item_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("order_id", sa.Integer),
        sa.Column("product_code", sa.String(20)),
        sa.Column("quantity", sa.Integer),
        sa.Column("unit_price", sa.Integer),
        sa.Column("updated_at", sa.DateTime, index=True),
        mysql_charset="utf8mb4", mysql_collate="utf8mb4_unicode_ci",
    )
    consents = sa.Table(
        "marketing_consents", md,
        sa.Column("member_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("channel", sa.String(10), primary_key=True),
        sa.Column("consented", sa.Integer),
        sa.Column("updated_at", sa.DateTime, index=True),
        mysql_charset="utf8mb4", mysql_collate="utf8mb4_unicode_ci",
    )
    return md, {t.name: t for t in (members, orders, items, consents)}


@dataclass
class Members:
    person: np.ndarray
    member_id: np.ndarray
    duplicate: np.ndarray
    joined: np.ndarray  # seconds
    updated: np.ndarray
    names: Names
    mobile: Phones
    email: Emails
    postcode: Postcodes
    address: Addresses
    birth_present: np.ndarray
    grade: np.ndarray
    login: np.ndarray
    malformed: dict[int, str]

    def __len__(self) -> int:
        return len(self.person)


@dataclass
class ShopResult:
    members: Members
    refused_email: np.ndarray  # per person: refused (or consent unknown) on some account
    refused_sms: np.ndarray


def _engine(ctx: Context) -> tuple[Engine, str]:
    if not ctx.shop_url:
        path = ctx.out_dir / "shop.sqlite"
        path.unlink(missing_ok=True)  # rebuilt from scratch: same arguments, same bytes
        return sa.create_engine(f"sqlite:///{path}"), "sqlite"
    url = make_url(ctx.shop_url)
    if url.get_backend_name() in ("mysql", "mariadb"):
        if "charset" not in url.query:
            url = url.update_query_dict({"charset": "utf8mb4"})
        if url.database:
            server = sa.create_engine(url.set(database=""))
            with server.begin() as conn:
                name = server.dialect.identifier_preparer.quote(url.database)
                conn.exec_driver_sql(
                    f"CREATE DATABASE IF NOT EXISTS {name} CHARACTER SET utf8mb4 "
                    "COLLATE utf8mb4_unicode_ci")
            server.dispose()
    return sa.create_engine(url), url.get_backend_name()


def build_members(ctx: Context, pop: Population) -> Members:
    rng = ctx.rng("shop.members")
    first = np.flatnonzero(pop.in_shop)
    dup_of = first[rng.random(len(first)) < R["shop_duplicate_account"]]
    person = np.concatenate([first, dup_of]).astype(np.int32)
    duplicate = np.concatenate([np.zeros(len(first), bool), np.ones(len(dup_of), bool)])
    n = len(person)
    start = (ctx.last_day - HISTORY_DAYS + 1) * DAY
    joined = start + (rng.random(n) * (ctx.end_sec - start)).astype(np.int64)
    # a second account is opened after the first one
    by_person = np.zeros(pop.n, dtype=np.int64)
    by_person[first] = joined[: len(first)]
    orig = by_person[dup_of]
    joined[len(first):] = orig + ((ctx.end_sec - orig) * rng.random(len(dup_of))).astype(np.int64)
    order = np.lexsort((rng.random(n), joined))
    person, duplicate, joined = person[order], duplicate[order], joined[order]
    updated = np.where(rng.random(n) < 0.3,
                       joined + ((ctx.end_sec - 1 - joined) * rng.random(n)).astype(np.int64),
                       joined)
    names = pop.names.take(person).vary(rng, 0.02, 0.02)
    mobile = pop.mobile.take(person).spoil(rng, {PH_PLAIN: 0.3}, {
        d.MISSING: R["shop_mobile_missing"], d.DUMMY: R["shop_mobile_dummy"]}, mobile=True)
    dup_idx = np.flatnonzero(duplicate)
    mobile.layout[dup_idx] = np.where(mobile.layout[dup_idx] == PH_DASH, PH_PLAIN, PH_DASH)
    email = pop.email.take(person).spoil(rng, 0.02, {
        d.MISSING: R["shop_email_missing"], d.TYPO_DOMAIN: R["shop_email_typo_domain"]})
    # a second account usually needs a second address: same name part, other provider
    other = dup_idx[rng.random(len(dup_idx)) < 0.6]
    email.domain[other] = (email.domain[other] + 1 + rng.integers(0, 3, len(other))) % 10
    postcode = pop.postcode.take(person).spoil(rng, {
        d.MISSING: R["shop_postcode_missing"], d.LEGACY_POSTCODE: R["shop_postcode_legacy"]})
    address = pop.address.take(person).copy()
    address.defect = np.where(rng.random(n) < R["shop_address_missing"], d.MISSING,
                              d.OK).astype(np.int8)
    postcode.defect[address.defect == d.MISSING] = d.MISSING
    # login ids: the e-mail's name part when there is one, made unique with digits
    login = email.local_part(pop.pools.user_names, slice(None))
    _, first_seen = np.unique(login, return_index=True)
    taken = np.ones(n, dtype=bool)
    taken[first_seen] = False
    member_id = np.arange(n, dtype=np.int64) + 10_001
    login[taken] = cat(login[taken], "_", digits(member_id[taken]))
    members = Members(
        person=person, member_id=member_id, duplicate=duplicate, joined=joined,
        updated=updated, names=names, mobile=mobile, email=email, postcode=postcode,
        address=address, birth_present=rng.random(n) >= R["shop_birth_date_missing"],
        grade=rng.choice(len(GRADES), n, p=[0.6, 0.25, 0.11, 0.04]).astype(np.int8),
        login=login, malformed={},
    )
    return members


@dataclass
class ShopOrders:
    member: np.ndarray  # index into Members
    ordered: np.ndarray
    status: np.ndarray
    updated: np.ndarray
    total: np.ndarray
    item_start: np.ndarray
    product: np.ndarray
    qty: np.ndarray
    unit: np.ndarray


def build_orders(ctx: Context, m: Members, p: Products) -> ShopOrders:
    rng = ctx.rng("shop.orders")
    mean = np.where(m.duplicate, 0.5, 2.0)
    counts = rng.negative_binomial(1.2, 1.2 / (1.2 + mean))
    member = np.repeat(np.arange(len(m)), counts)
    joined = m.joined[member]
    ordered = joined + ((ctx.end_sec - joined) * rng.random(len(member))).astype(np.int64)
    order = np.lexsort((rng.random(len(member)), ordered))
    member, ordered = member[order], ordered[order]
    n = len(member)
    age = ctx.end_sec - ordered
    recent = age < 2 * DAY
    status = np.where(recent, np.where(rng.random(n) < 0.9, PAID, CANCELLED),
                      rng.choice(4, n, p=[0.02, 0.88, 0.06, 0.04])).astype(np.int8)
    delay = np.select(
        [status == SHIPPED, status == CANCELLED, status == RETURNED],
        [rng.uniform(0.5, 3, n) * DAY, rng.uniform(600, DAY, n), rng.uniform(5, 20, n) * DAY],
        rng.uniform(0, 600, n))
    updated = np.minimum(ordered + delay.astype(np.int64), ctx.end_sec - 1)
    n_items = 1 + np.minimum(rng.poisson(0.8, n), 4)
    active = np.flatnonzero(p.active)
    weights = p.popularity[active] / p.popularity[active].sum()
    product = active[rng.choice(len(active), int(n_items.sum()), p=weights)]
    qty = 1 + rng.poisson(0.3, len(product))
    unit = np.where(rng.random(len(product)) < 0.3, np.rint(p.price[product] * 0.95 / 10) * 10,
                    p.price[product]).astype(np.int64)
    owner = np.repeat(np.arange(n), n_items)
    total = np.bincount(owner, weights=qty * unit, minlength=n)
    return ShopOrders(member=member, ordered=ordered, status=status, updated=updated,
                      total=np.rint(total).astype(np.int64),
                      item_start=np.concatenate([[0], np.cumsum(n_items)]),
                      product=product, qty=qty, unit=unit)


def _insert_sql(engine: Engine, table: sa.Table) -> str:
    quote = engine.dialect.identifier_preparer.quote
    style = engine.dialect.paramstyle
    if style == "qmark":
        marks = ["?"] * len(table.columns)
    elif style in ("format", "pyformat"):
        marks = ["%s"] * len(table.columns)
    else:  # pragma: no cover - drivers we do not use
        raise ValueError(f"unsupported DB-API paramstyle {style!r}")
    cols = ", ".join(quote(c.name) for c in table.columns)
    return f"INSERT INTO {quote(table.name)} ({cols}) VALUES ({', '.join(marks)})"


class _TableWriter:
    """Inserts one table chunk by chunk (executemany), breaking the chosen rows on the way."""

    def __init__(self, ctx: Context, engine: Engine, backend: str, table: sa.Table,
                 spec: EntitySpec, n_rows: int, truth: Truth) -> None:
        self.engine = engine
        self.table = table
        self.spec = spec
        self.truth = truth
        self.sql = _insert_sql(engine, table)
        kinds = mf.SQLITE_KINDS if backend == "sqlite" else mf.MARIADB_KINDS
        self.malformed = mf.pick(ctx.rng(f"malformed:shop:{table.name}"), n_rows, kinds,
                                 ctx.malformed_rate)
        self.rows = 0
        names = spec.column_names
        self.required = [names.index(c.name) for c in spec.columns
                         if c.must_have_value and not c.key]
        self.stamps = [names.index(c.name) for c in spec.columns if c.kind == "timestamp"]
        self.keys = [names.index(c) for c in spec.key_columns]

    def write(self, cols: Sequence[list[Any]]) -> None:
        rows = list(zip(*cols, strict=True))
        for i in sorted(k for k in self.malformed if self.rows <= k < self.rows + len(rows)):
            row = list(rows[i - self.rows])
            kind = self.malformed[i]
            if kind == "missing_required":
                row[self.required[i % len(self.required)]] = None
            else:  # a text that is no date at all, stored through raw SQL
                row[self.stamps[i % len(self.stamps)]] = mf.BAD_SQL_TIMESTAMPS[
                    i % len(mf.BAD_SQL_TIMESTAMPS)]
            rows[i - self.rows] = tuple(row)
            self.truth.malformed(f"shop:{self.table.name}",
                                 "|".join(str(row[k]) for k in self.keys), kind)
        if rows:
            with self.engine.begin() as conn:
                conn.exec_driver_sql(self.sql, rows)
        self.rows += len(rows)

    def close(self) -> None:
        self.truth.count(f"shop:{self.table.name}", self.rows)


def _chunks(n: int) -> Iterator[slice]:
    for start in range(0, n, CHUNK):
        yield slice(start, min(start + CHUNK, n))


def _opt(values: np.ndarray) -> list[str | None]:
    """Empty text becomes NULL, as a web form stores an unanswered optional field."""
    return [v or None for v in values.tolist()]


def generate_shop(ctx: Context, pop: Population, products: Products, truth: Truth) -> ShopResult:
    engine, backend = _engine(ctx)
    md, tables = _metadata()
    md.drop_all(engine)
    md.create_all(engine)
    if backend == "sqlite":
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
    m = build_members(ctx, pop)
    users = pop.pools.user_names

    w = _TableWriter(ctx, engine, backend, tables["members"], SHOP_MEMBERS, len(m), truth)
    m.malformed = w.malformed
    for sl in _chunks(len(m)):
        w.write([
            m.member_id[sl].tolist(), m.login[sl].tolist(),
            _opt(m.names.render(pop.given_pool, pop.pools.surnames, sl)),
            _opt(m.mobile.render(sl)), _opt(m.email.render(users, sl)),
            _opt(where(m.birth_present[sl], fmt_date(pop.birth[m.person[sl]]), "")),
            _opt(m.postcode.render(sl)), _opt(m.address.render(pop.pools, sl)),
            _opt(m.address.render_detail(sl)), GRADES[m.grade[sl]].tolist(),
            fmt_ts(m.joined[sl]).tolist(), fmt_ts(m.updated[sl]).tolist(),
        ])
    w.close()

    o = build_orders(ctx, m, products)
    w = _TableWriter(ctx, engine, backend, tables["orders"], SHOP_ORDERS, len(o.member), truth)
    order_id = np.arange(len(o.member), dtype=np.int64) + 500_001
    for sl in _chunks(len(o.member)):
        w.write([order_id[sl].tolist(), m.member_id[o.member[sl]].tolist(),
                 fmt_ts(o.ordered[sl]).tolist(), STATUSES[o.status[sl]].tolist(),
                 o.total[sl].tolist(), fmt_ts(o.updated[sl]).tolist()])
    w.close()

    n_items = len(o.product)
    owner = np.repeat(np.arange(len(o.member)), np.diff(o.item_start))
    w = _TableWriter(ctx, engine, backend, tables["order_items"], SHOP_ORDER_ITEMS, n_items,
                     truth)
    for sl in _chunks(n_items):
        w.write([(np.arange(sl.start, sl.stop) + 1_000_001).tolist(),
                 order_id[owner[sl]].tolist(), products.code[o.product[sl]].tolist(),
                 o.qty[sl].tolist(), o.unit[sl].tolist(),
                 fmt_ts(o.ordered[owner[sl]]).tolist()])
    w.close()

    rng = ctx.rng("shop.consents")
    n = len(m)
    refuse = np.stack([rng.random(n) < MIX["shop_refuses_email"],
                       rng.random(n) < MIX["shop_refuses_sms"]], axis=1)
    changed = rng.random((n, 2)) < 0.1  # consent changed after sign-up
    stamp = np.where(changed, m.joined[:, None] + ((ctx.end_sec - 1 - m.joined[:, None])
                                                   * rng.random((n, 2))).astype(np.int64),
                     m.joined[:, None])
    w = _TableWriter(ctx, engine, backend, tables["marketing_consents"],
                     SHOP_MARKETING_CONSENTS, 2 * n, truth)
    for sl in _chunks(n):
        size = sl.stop - sl.start
        w.write([np.repeat(m.member_id[sl], 2).tolist(), list(CHANNELS) * size,
                 (~refuse[sl]).astype(np.int64).ravel().tolist(),
                 fmt_ts(stamp[sl].ravel()).tolist()])
    # a refusal, or a consent row we cannot read, keeps the person off that channel's lists
    unknown = np.zeros((n, 2), dtype=bool)
    for row in w.malformed:
        unknown[row // 2, row % 2] = True
    w.close()
    engine.dispose()

    refused = refuse | unknown
    refused_email = np.zeros(pop.n, dtype=bool)
    refused_sms = np.zeros(pop.n, dtype=bool)
    refused_email[m.person[refused[:, 0]]] = True
    refused_sms[m.person[refused[:, 1]]] = True
    write_member_truth(m, pop, truth)
    truth.extra.setdefault("counts", {})["shop_backend"] = backend
    return ShopResult(members=m, refused_email=refused_email, refused_sms=refused_sms)


def write_member_truth(m: Members, pop: Population, truth: Truth) -> None:
    good = np.ones(len(m), dtype=bool)
    good[np.fromiter(m.malformed, dtype=np.int64)] = False
    idx = np.flatnonzero(good)
    for start in range(0, len(idx), CHUNK * 2):
        rows = idx[start:start + CHUNK * 2]
        keys = [str(k) for k in m.member_id[rows].tolist()]
        truth.identity("shop_member", keys, pop.person_ids(m.person[rows]).tolist())
        names = m.names.take(rows)
        mobile = m.mobile.take(rows)
        email = m.email.take(rows)
        post = m.postcode.take(rows)
        addr = m.address.take(rows)
        for field, values, codes in (
            ("name", names.render(pop.given_pool, pop.pools.surnames, slice(None)), names.defect),
            ("mobile", mobile.render(slice(None)), mobile.defect),
            ("email", email.render(pop.pools.user_names, slice(None)), email.defect),
            ("postal_code", post.render(slice(None)), post.defect),
            ("address", addr.render(pop.pools, slice(None)), addr.defect),
        ):
            truth.contacts("shop_member", keys, field, values, codes)
