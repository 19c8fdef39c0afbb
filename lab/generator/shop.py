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
    SHOP_CLAIM_ITEMS,
    SHOP_CLAIMS,
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
from .people import MIX, Population, still_buying
from .truth import Truth

CHUNK = 50_000
SHOP_HISTORY_DAYS = 730  # the shop opened two years before end_date
GRADES = np.array(["FAMILY", "SILVER", "GOLD", "VIP"], dtype=S)
# Order statuses as Korean shop platforms name them (입금전, 결제완료, 배송준비중, 배송중,
# 배송완료, 구매확정, 취소, 반품, 교환).
STATUSES = np.array(
    [
        "pending_payment",
        "paid",
        "preparing",
        "shipped",
        "delivered",
        "confirmed",
        "cancelled",
        "returned",
        "exchanged",
    ],
    dtype=S,
)
PENDING, PAID, PREPARING, SHIPPED, DELIVERED, CONFIRMED, CANCELLED, RETURNED, EXCHANGED = range(9)
CHANNELS = ("email", "sms")


def _metadata() -> tuple[sa.MetaData, dict[str, sa.Table]]:
    """The shop schema; required columns stay nullable so broken rows can exist, as in the field."""
    md = sa.MetaData()
    members = sa.Table(
        "members",
        md,
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
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    orders = sa.Table(
        "orders",
        md,
        sa.Column("order_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("member_id", sa.Integer),  # NULL: guest order (비회원 주문)
        sa.Column("orderer_name", sa.String(40)),
        sa.Column("orderer_mobile", sa.String(30)),
        sa.Column("orderer_email", sa.String(120)),
        sa.Column("ordered_at", sa.DateTime),
        sa.Column("paid_at", sa.DateTime),
        sa.Column("status", sa.String(20)),
        sa.Column("total_amount", sa.Numeric(14, 2)),
        sa.Column("shipping_fee", sa.Numeric(14, 2)),
        sa.Column("discount_amount", sa.Numeric(14, 2)),
        sa.Column("original_order_id", sa.Integer),
        sa.Column("updated_at", sa.DateTime, index=True),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    items = sa.Table(
        "order_items",
        md,
        sa.Column("order_item_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("order_id", sa.Integer),
        sa.Column("product_code", sa.String(20)),
        sa.Column("quantity", sa.Integer),
        sa.Column("unit_price", sa.Numeric(14, 2)),
        sa.Column("updated_at", sa.DateTime, index=True),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    claims = sa.Table(
        "claims",
        md,
        sa.Column("claim_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("order_id", sa.Integer),
        sa.Column("claim_type", sa.String(20)),
        sa.Column("claim_status", sa.String(20)),
        sa.Column("requested_at", sa.DateTime),
        sa.Column("completed_at", sa.DateTime),
        sa.Column("refund_amount", sa.Numeric(14, 2)),
        sa.Column("updated_at", sa.DateTime, index=True),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    claim_items = sa.Table(
        "claim_items",
        md,
        sa.Column("claim_item_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("claim_id", sa.Integer),
        sa.Column("order_item_id", sa.Integer),
        sa.Column("quantity", sa.Integer),
        sa.Column("updated_at", sa.DateTime, index=True),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    consents = sa.Table(
        "marketing_consents",
        md,
        sa.Column("member_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("channel", sa.String(10), primary_key=True),
        sa.Column("consented", sa.Integer),
        sa.Column("updated_at", sa.DateTime, index=True),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    return md, {t.name: t for t in (members, orders, items, claims, claim_items, consents)}


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
                    "COLLATE utf8mb4_unicode_ci"
                )
            server.dispose()
    return sa.create_engine(url), url.get_backend_name()


def build_members(ctx: Context, pop: Population) -> Members:
    rng = ctx.rng("shop.members")
    first = np.flatnonzero(pop.in_shop)
    dup_of = first[rng.random(len(first)) < R["shop_duplicate_account"]]
    person = np.concatenate([first, dup_of]).astype(np.int32)
    duplicate = np.concatenate([np.zeros(len(first), bool), np.ones(len(dup_of), bool)])
    n = len(person)
    start = (ctx.last_day - SHOP_HISTORY_DAYS + 1) * DAY
    joined = start + (rng.random(n) * (ctx.end_sec - start)).astype(np.int64)
    # a second account is opened after the first one
    by_person = np.zeros(pop.n, dtype=np.int64)
    by_person[first] = joined[: len(first)]
    orig = by_person[dup_of]
    joined[len(first) :] = orig + ((ctx.end_sec - orig) * rng.random(len(dup_of))).astype(np.int64)
    order = np.lexsort((rng.random(n), joined))
    person, duplicate, joined = person[order], duplicate[order], joined[order]
    updated = np.where(
        rng.random(n) < 0.3,
        joined + ((ctx.end_sec - 1 - joined) * rng.random(n)).astype(np.int64),
        joined,
    )
    names = pop.names.take(person).vary(rng, 0.02, 0.02)
    mobile = pop.mobile.take(person).spoil(
        rng,
        {PH_PLAIN: 0.3},
        {d.MISSING: R["shop_mobile_missing"], d.DUMMY: R["shop_mobile_dummy"]},
        mobile=True,
    )
    dup_idx = np.flatnonzero(duplicate)
    mobile.layout[dup_idx] = np.where(mobile.layout[dup_idx] == PH_DASH, PH_PLAIN, PH_DASH)
    email = pop.email.take(person).spoil(
        rng, 0.02, {d.MISSING: R["shop_email_missing"], d.TYPO_DOMAIN: R["shop_email_typo_domain"]}
    )
    # a second account usually needs a second address: same name part, other provider
    other = dup_idx[rng.random(len(dup_idx)) < 0.6]
    email.domain[other] = (email.domain[other] + 1 + rng.integers(0, 3, len(other))) % 10
    # ... unless that address is somebody else's: an address has one owner, so the second
    # account then keeps the first account's address
    taken = other[_owned_by_others(pop, email, other)]
    email.domain[taken] = pop.email.domain[person[taken]]
    postcode = pop.postcode.take(person).spoil(
        rng, {d.MISSING: R["shop_postcode_missing"], d.LEGACY_POSTCODE: R["shop_postcode_legacy"]}
    )
    address = pop.address.take(person).copy()
    address.defect = np.where(rng.random(n) < R["shop_address_missing"], d.MISSING, d.OK).astype(
        np.int8
    )
    postcode.defect[address.defect == d.MISSING] = d.MISSING
    # login ids: the e-mail's name part when there is one, made unique with digits
    login = email.local_part(pop.pools.user_names, slice(None))
    _, first_seen = np.unique(login, return_index=True)
    taken = np.ones(n, dtype=bool)
    taken[first_seen] = False
    member_id = np.arange(n, dtype=np.int64) + 10_001
    login[taken] = cat(login[taken], "_", digits(member_id[taken]))
    members = Members(
        person=person,
        member_id=member_id,
        duplicate=duplicate,
        joined=joined,
        updated=updated,
        names=names,
        mobile=mobile,
        email=email,
        postcode=postcode,
        address=address,
        birth_present=rng.random(n) >= R["shop_birth_date_missing"],
        grade=rng.choice(len(GRADES), n, p=[0.6, 0.25, 0.11, 0.04]).astype(np.int8),
        login=login,
        malformed={},
    )
    return members


@dataclass
class ShopOrders:
    member: np.ndarray  # index into Members; -1 for a guest order
    guest_person: np.ndarray  # guest orders: the person behind it, -1 walk-in or member order
    orderer_mobile: np.ndarray  # as typed at checkout
    orderer_email: np.ndarray
    orderer_name: np.ndarray
    ordered: np.ndarray
    paid: np.ndarray  # seconds; -1 unpaid
    status: np.ndarray
    updated: np.ndarray
    shipping: np.ndarray
    discount: np.ndarray
    total: np.ndarray
    original: np.ndarray  # credit notes: the order they reverse; -1 otherwise
    item_start: np.ndarray
    product: np.ndarray
    qty: np.ndarray
    unit: np.ndarray

    def __len__(self) -> int:
        return len(self.ordered)


@dataclass
class ShopClaims:
    order: np.ndarray
    kind: np.ndarray  # CLAIM_TYPES
    status: np.ndarray  # CLAIM_STATUSES
    requested: np.ndarray
    completed: np.ndarray  # -1 when not completed
    refund: np.ndarray
    item_start: np.ndarray
    order_item: np.ndarray  # index into the order items
    qty: np.ndarray

    def __len__(self) -> int:
        return len(self.order)


GUEST_ORDER_SHARE = 0.10  # 비회원 주문 among all orders
GUESTS_KNOWN = 0.65  # guests who are customers elsewhere (their contacts can link them)
SHIPPING_FEE = 3_000
FREE_SHIPPING_FROM = 50_000


def _email_keys(local: np.ndarray, suffix: np.ndarray, domain: np.ndarray) -> np.ndarray:
    return (local.astype(np.int64) * 100_000 + suffix + 1) * 16 + domain


def _owned_by_others(pop: Population, email: Emails, rows: np.ndarray) -> np.ndarray:
    """Which of `rows` now spell an address that belongs to another person of the population."""
    everyone = _email_keys(pop.email.local, pop.email.suffix, pop.email.domain)
    mine = _email_keys(email.local[rows], email.suffix[rows], email.domain[rows])
    return np.isin(mine, everyone)


def _guest_contacts(
    ctx: Context, pop: Population, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(person or -1, name, mobile, email) typed by guests at checkout."""
    known = rng.random(n) < GUESTS_KNOWN
    person = np.where(known, rng.integers(0, pop.n, n), -1)
    idx = np.maximum(person, 0)
    name = pop.name_text(idx)
    mobile = pop.final_mobile.take(idx).render(slice(None))
    email = np.where(
        rng.random(n) < 0.5, pop.email.take(idx).render(pop.pools.user_names, slice(None)), ""
    )
    # Walk-in guests: a name from the pools, a number no customer record holds, no e-mail.
    walk_in = np.flatnonzero(~known)
    taken = pop.mobile.mid.astype(np.int64) * 10_000 + pop.mobile.last
    fresh = rng.choice(80_000_000, len(walk_in) * 2 + 10, replace=False) + 20_000_000
    fresh = fresh[~np.isin(fresh, taken)][: len(walk_in)]
    mobile[walk_in] = cat("010-", digits(fresh // 10_000, 4), "-", digits(fresh % 10_000, 4))
    email[walk_in] = ""
    other = rng.integers(0, pop.n, len(walk_in))
    name[walk_in] = pop.name_text(other)
    return person, name.astype(S), mobile.astype(S), np.asarray(email, dtype=S)


def build_orders(
    ctx: Context, pop: Population, m: Members, p: Products, truth: Truth
) -> tuple[ShopOrders, ShopClaims]:
    rng = ctx.rng("shop.orders")
    # As in the ERP (erp._sales): a steady rate per member over the days since joining.
    since = (ctx.end_sec - m.joined).astype(np.float64)
    mean = np.where(m.duplicate, 0.5, 2.0) * since / max(float(since.mean()), 1.0)
    counts = rng.negative_binomial(1.2, 1.2 / (1.2 + mean))
    member = np.repeat(np.arange(len(m)), counts)
    n_guest = round(len(member) * GUEST_ORDER_SHARE / (1 - GUEST_ORDER_SHARE))
    start = (ctx.last_day - SHOP_HISTORY_DAYS + 1) * DAY
    joined = np.concatenate([m.joined[member], np.full(n_guest, start)])
    member = np.concatenate([member, np.full(n_guest, -1)])
    ordered = joined + ((ctx.end_sec - joined) * rng.random(len(member))).astype(np.int64)
    # Members whose owner stopped buying (people.stops_buying) ordered nothing after it.
    kept = np.ones(len(member), dtype=bool)  # guests: one-off orders of no member
    of = np.flatnonzero(member >= 0)
    kept[of] = still_buying(
        pop.stops_buying[m.person[member[of]]], member[of], ordered[of] // DAY, len(m)
    )
    member, ordered = member[kept], ordered[kept]
    order = np.lexsort((rng.random(len(member)), ordered))
    member, ordered = member[order], ordered[order]
    n = len(member)
    guest = member < 0
    guest_person = np.full(n, -1)
    o_name = np.full(n, "", dtype=S)
    o_mobile = np.full(n, "", dtype=S)
    o_email = np.full(n, "", dtype=S)
    g = np.flatnonzero(guest)
    guest_person[g], o_name[g], o_mobile[g], o_email[g] = _guest_contacts(ctx, pop, len(g), rng)
    mem = np.flatnonzero(~guest)
    o_name[mem] = m.names.render(pop.given_pool, pop.pools.surnames, member[mem])
    o_mobile[mem] = m.mobile.render(member[mem])
    o_email[mem] = m.email.render(pop.pools.user_names, member[mem])

    # Items: merchandise; a few ₩0 orders (free samples, 0원 체험단).
    n_items = 1 + np.minimum(rng.poisson(0.8, n), 4)
    merch = np.flatnonzero(p.active & (p.popularity > 0))
    weights = p.popularity[merch] / p.popularity[merch].sum()
    product = merch[rng.choice(len(merch), int(n_items.sum()), p=weights)]
    qty = (1 + rng.poisson(0.3, len(product))).astype(np.int64)
    unit = np.where(
        rng.random(len(product)) < 0.3, np.rint(p.price[product] * 0.95 / 10) * 10, p.price[product]
    ).astype(np.int64)
    owner = np.repeat(np.arange(n), n_items)
    zero = rng.random(n) < 0.005
    unit[zero[owner]] = 0
    items_value = np.bincount(owner, weights=qty * unit, minlength=n).astype(np.int64)
    shipping = np.where((items_value > 0) & (items_value < FREE_SHIPPING_FROM), SHIPPING_FEE, 0)
    coupon = (items_value >= 30_000) & (rng.random(n) < 0.10)
    discount = np.where(
        coupon, np.where(rng.random(n) < 0.5, 3_000, np.rint(items_value * 0.05 / 10) * 10), 0
    )
    discount = discount.astype(np.int64)

    # Life cycle: unpaid, cancelled before payment, then paid → preparing → shipped → delivered
    # → confirmed by age.
    age = ctx.end_sec - ordered
    u = rng.random((4, n))
    unpaid = (age < 2 * DAY) & (u[0] < 0.1)
    cancelled_unpaid = ~unpaid & (u[1] < 0.03)
    paid = np.where(unpaid | cancelled_unpaid, -1, ordered + rng.integers(0, 600, n)).astype(
        np.int64
    )
    status = np.select(
        [unpaid, cancelled_unpaid, age < DAY, age < 3 * DAY, age < 10 * DAY, u[2] < 0.8],
        [PENDING, CANCELLED, PAID, SHIPPED, DELIVERED, CONFIRMED],
        DELIVERED,
    ).astype(np.int8)
    updated = np.where(
        cancelled_unpaid,
        ordered + rng.integers(600, 2 * DAY, n),
        np.where(paid >= 0, ordered + np.minimum(age, 12 * DAY) * u[3], ordered),
    ).astype(np.int64)

    item_start = np.concatenate([[0], np.cumsum(n_items)])
    claims = _claims(ctx, rng, ordered, paid, status, item_start, qty, unit, shipping, truth)
    # A claim changes the order's last-modified time, and its status when it takes the whole
    # order.
    last = np.where(claims.completed >= 0, claims.completed, claims.requested)
    np.maximum.at(updated, claims.order, last)
    done_whole = (claims.status == COMPLETED) & _whole_order(claims, item_start, qty)
    for kind, new_status in ((CANCEL, CANCELLED), (RETURN, RETURNED), (EXCHANGE, EXCHANGED)):
        status[claims.order[done_whole & (claims.kind == kind)]] = new_status
    updated = np.minimum(updated, ctx.end_sec - 1)

    # Credit notes: a separate document with negative quantities naming the order it reverses,
    # as shops linked to a POS or ERP keep them.
    delivered = np.flatnonzero(
        np.isin(status, [DELIVERED, CONFIRMED]) & (items_value > 0) & (age > 25 * DAY)
    )
    credited = delivered[rng.random(len(delivered)) < 0.01]
    truth.extra.setdefault("order_patterns", {}).update(
        {
            "shop_guest_orders": int(guest.sum()),
            "shop_guest_orders_known_person": int((guest_person >= 0).sum()),
            "shop_zero_value_orders": int(zero.sum()),
            "shop_cancelled_before_payment": int(cancelled_unpaid.sum()),
            "shop_unpaid_orders": int(unpaid.sum()),
            "shop_orders_with_shipping_fee": int((shipping > 0).sum()),
            "shop_orders_with_discount": int((discount > 0).sum()),
            "shop_credit_notes": len(credited),
        }
    )
    return _with_credit_notes(
        ctx,
        rng,
        ShopOrders(
            member=member,
            guest_person=guest_person,
            orderer_mobile=o_mobile,
            orderer_email=o_email,
            orderer_name=o_name,
            ordered=ordered,
            paid=paid,
            status=status,
            updated=updated,
            shipping=shipping.astype(np.int64),
            discount=discount,
            total=items_value + shipping - discount,
            original=np.full(n, -1),
            item_start=item_start,
            product=product,
            qty=qty,
            unit=unit,
        ),
        credited,
        claims,
    )


CLAIM_TYPES = np.array(["cancel", "return", "exchange"], dtype=S)
CANCEL, RETURN, EXCHANGE = range(3)
CLAIM_STATUSES = np.array(["requested", "completed", "withdrawn"], dtype=S)
REQUESTED, COMPLETED, WITHDRAWN = range(3)


def _claims(
    ctx: Context,
    rng: np.random.Generator,
    ordered: np.ndarray,
    paid: np.ndarray,
    status: np.ndarray,
    item_start: np.ndarray,
    qty: np.ndarray,
    unit: np.ndarray,
    shipping: np.ndarray,
    truth: Truth,
) -> ShopClaims:
    """Cancellations after payment (some minutes later), partial and full returns, exchanges
    and withdrawn requests; at most one claim per order."""
    n = len(ordered)
    n_items = np.diff(item_start)
    free = np.ones(n, dtype=bool)

    def pick(mask: np.ndarray, rate: float) -> np.ndarray:
        chosen = np.flatnonzero(mask & free & (rng.random(n) < rate))
        free[chosen] = False
        return chosen

    was_paid = (paid >= 0) & ~np.isin(status, [PENDING, CANCELLED])
    shipped_out = np.isin(status, [DELIVERED, CONFIRMED])
    full_cancel = pick(was_paid, 0.03)
    partial_cancel = pick(was_paid & (n_items >= 2), 0.01)
    returns = pick(shipped_out, 0.04)
    exchanges = pick(shipped_out, 0.01)
    withdrawn = pick(shipped_out, 0.005)

    quick = rng.random(len(full_cancel)) < 1 / 3  # undone minutes after paying
    cancel_req = paid[full_cancel] + np.where(
        quick,
        rng.integers(120, 900, len(full_cancel)),
        rng.integers(3_600, 20 * 3_600, len(full_cancel)),
    )
    cancel_done = cancel_req + np.where(
        quick,
        rng.integers(30, 300, len(full_cancel)),
        rng.integers(600, 4 * 3_600, len(full_cancel)),
    )
    part_req = paid[partial_cancel] + rng.integers(1_800, 20 * 3_600, len(partial_cancel))
    part_done = part_req + rng.integers(600, 4 * 3_600, len(partial_cancel))
    ret_req = ordered[returns] + rng.integers(4 * DAY, 14 * DAY, len(returns))
    ret_done = ret_req + rng.integers(DAY, 5 * DAY, len(returns))
    exc_req = ordered[exchanges] + rng.integers(4 * DAY, 14 * DAY, len(exchanges))
    exc_done = exc_req + rng.integers(2 * DAY, 6 * DAY, len(exchanges))
    wd_req = ordered[withdrawn] + rng.integers(4 * DAY, 14 * DAY, len(withdrawn))

    order = np.concatenate([full_cancel, partial_cancel, returns, exchanges, withdrawn])
    kind = np.concatenate(
        [
            np.full(len(full_cancel) + len(partial_cancel), CANCEL),
            np.full(len(returns), RETURN),
            np.full(len(exchanges), EXCHANGE),
            np.full(len(withdrawn), RETURN),
        ]
    ).astype(np.int8)
    requested = np.concatenate([cancel_req, part_req, ret_req, exc_req, wd_req])
    completed = np.concatenate(
        [cancel_done, part_done, ret_done, exc_done, np.full(len(withdrawn), -1)]
    )
    state = np.concatenate(
        [np.full(len(order) - len(withdrawn), COMPLETED), np.full(len(withdrawn), WITHDRAWN)]
    ).astype(np.int8)
    # Claims still open at the end of the period are only requested; none lies in the future.
    keep = requested < ctx.end_sec
    open_ = keep & (completed >= ctx.end_sec)
    state[open_] = REQUESTED
    completed[open_ | (state != COMPLETED)] = -1
    order, kind, requested, completed, state = (
        a[keep] for a in (order, kind, requested, completed, state)
    )
    first_cancels = len(full_cancel)
    whole = np.concatenate(
        [np.ones(first_cancels, bool), np.zeros(len(keep) - first_cancels, bool)]
    )[keep]

    # Items: a whole cancellation takes every item in full; a partial one the last item; a
    # return the first k items with 1..qty units each; an exchange and a withdrawn request one
    # unit of the first item.
    k = np.where(whole, n_items[order], 1)
    is_return = (kind == RETURN) & (state != WITHDRAWN)
    k = np.where(is_return, 1 + (rng.random(len(order)) * n_items[order]).astype(np.int64), k)
    partial_cancel_claim = (kind == CANCEL) & ~whole
    first = np.where(partial_cancel_claim, item_start[order + 1] - 1, item_start[order])
    claim_of_item = np.repeat(np.arange(len(order)), k)
    offset = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)
    order_item = first[claim_of_item] + offset
    bought = qty[order_item]
    cqty = np.where(whole[claim_of_item] | partial_cancel_claim[claim_of_item], bought, 1)
    ret = is_return[claim_of_item]
    cqty[ret] = np.minimum(
        1 + (rng.random(int(ret.sum())) * bought[ret]).astype(np.int64), bought[ret]
    )
    refund = np.bincount(
        claim_of_item,
        weights=np.where(kind[claim_of_item] == EXCHANGE, 0, cqty * unit[order_item]),
        minlength=len(order),
    )
    refund = refund + np.where(whole, shipping[order], 0)
    claims = ShopClaims(
        order=order,
        kind=kind,
        status=state,
        requested=requested,
        completed=completed,
        refund=np.rint(refund).astype(np.int64),
        item_start=np.concatenate([[0], np.cumsum(k)]),
        order_item=order_item,
        qty=cqty.astype(np.int64),
    )
    full_return = _whole_order(claims, item_start, qty) & is_return
    truth.extra.setdefault("order_patterns", {}).update(
        {
            "shop_cancel_claims_whole": int((whole & (state == COMPLETED)).sum()),
            "shop_cancel_claims_minutes_after_payment": int(
                (
                    whole
                    & (state == COMPLETED)
                    & (completed - requested < 900)
                    & (requested - paid[order] < 900)
                ).sum()
            ),
            "shop_cancel_claims_partial": int((partial_cancel_claim & (state == COMPLETED)).sum()),
            "shop_return_claims_full": int((full_return & (state == COMPLETED)).sum()),
            "shop_return_claims_partial": int(
                (is_return & ~full_return & (state == COMPLETED)).sum()
            ),
            "shop_exchange_claims": int(((kind == EXCHANGE) & (state == COMPLETED)).sum()),
            "shop_claims_not_completed": int((state != COMPLETED).sum()),
        }
    )
    return claims


def _whole_order(claims: ShopClaims, item_start: np.ndarray, qty: np.ndarray) -> np.ndarray:
    """Per claim: does it cover every item of its order in full?"""
    claim_of_item = np.repeat(np.arange(len(claims)), np.diff(claims.item_start))
    in_full = np.bincount(
        claim_of_item, weights=claims.qty == qty[claims.order_item], minlength=len(claims)
    )
    return in_full == np.diff(item_start)[claims.order]


def _with_credit_notes(
    ctx: Context, rng: np.random.Generator, o: ShopOrders, credited: np.ndarray, claims: ShopClaims
) -> tuple[ShopOrders, ShopClaims]:
    """Append a credit-note order (all items negative) for each credited order, then put every
    order in time order again (order ids follow time), remapping claims and items."""
    n, m = len(o), len(credited)
    when = np.minimum(o.ordered[credited] + rng.integers(5 * DAY, 20 * DAY, m), ctx.end_sec - 1)
    counts = np.diff(o.item_start)
    items = (
        np.concatenate([np.arange(o.item_start[c], o.item_start[c + 1]) for c in credited.tolist()])
        if m
        else np.zeros(0, dtype=np.int64)
    )
    value = -np.bincount(
        np.repeat(np.arange(m), counts[credited]), weights=o.qty[items] * o.unit[items], minlength=m
    ).astype(np.int64)

    def cat_(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b])

    ordered = cat_(o.ordered, when)
    position = np.lexsort((np.arange(n + m), ordered))
    rank = np.empty(n + m, dtype=np.int64)
    rank[position] = np.arange(n + m)
    all_counts = cat_(counts, counts[credited])
    all_starts = cat_(
        o.item_start[:-1],
        len(o.product) + np.concatenate([[0], np.cumsum(counts[credited])[:-1]]).astype(np.int64)
        if m
        else np.zeros(0, int),
    )
    product = cat_(o.product, o.product[items])
    qty = cat_(o.qty, -o.qty[items])
    unit = cat_(o.unit, o.unit[items])
    new_counts = all_counts[position]
    new_starts = all_starts[position]
    total = int(new_counts.sum())
    item_index = np.repeat(new_starts, new_counts) + (
        np.arange(total) - np.repeat(np.cumsum(new_counts) - new_counts, new_counts)
    )
    item_rank = np.empty(total, dtype=np.int64)
    item_rank[item_index] = np.arange(total)
    original = cat_(o.original, credited)
    original = np.where(original >= 0, rank[np.maximum(original, 0)], -1)[position]
    orders = ShopOrders(
        member=cat_(o.member, o.member[credited])[position],
        guest_person=cat_(o.guest_person, o.guest_person[credited])[position],
        orderer_mobile=cat_(o.orderer_mobile, o.orderer_mobile[credited])[position],
        orderer_email=cat_(o.orderer_email, o.orderer_email[credited])[position],
        orderer_name=cat_(o.orderer_name, o.orderer_name[credited])[position],
        ordered=ordered[position],
        paid=cat_(o.paid, when)[position],
        status=cat_(o.status, np.full(m, CONFIRMED, dtype=np.int8))[position],
        updated=cat_(o.updated, when)[position],
        shipping=cat_(o.shipping, np.zeros(m, dtype=np.int64))[position],
        discount=cat_(o.discount, np.zeros(m, dtype=np.int64))[position],
        total=cat_(o.total, value)[position],
        original=original,
        item_start=np.concatenate([[0], np.cumsum(new_counts)]),
        product=product[item_index],
        qty=qty[item_index],
        unit=unit[item_index],
    )
    claims = ShopClaims(
        order=rank[claims.order],
        kind=claims.kind,
        status=claims.status,
        requested=claims.requested,
        completed=claims.completed,
        refund=claims.refund,
        item_start=claims.item_start,
        order_item=item_rank[claims.order_item],
        qty=claims.qty,
    )
    return orders, claims


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

    def __init__(
        self,
        ctx: Context,
        engine: Engine,
        backend: str,
        table: sa.Table,
        spec: EntitySpec,
        n_rows: int,
        truth: Truth,
    ) -> None:
        self.engine = engine
        self.table = table
        self.spec = spec
        self.truth = truth
        self.sql = _insert_sql(engine, table)
        kinds = mf.SQLITE_KINDS if backend == "sqlite" else mf.MARIADB_KINDS
        self.malformed = mf.pick(
            ctx.rng(f"malformed:shop:{table.name}"), n_rows, kinds, ctx.malformed_rate
        )
        self.rows = 0
        names = spec.column_names
        self.required = [
            names.index(c.name) for c in spec.columns if c.must_have_value and not c.key
        ]
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
                    i % len(mf.BAD_SQL_TIMESTAMPS)
                ]
            rows[i - self.rows] = tuple(row)
            self.truth.malformed(
                f"shop:{self.table.name}", "|".join(str(row[k]) for k in self.keys), kind
            )
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
        w.write(
            [
                m.member_id[sl].tolist(),
                m.login[sl].tolist(),
                _opt(m.names.render(pop.given_pool, pop.pools.surnames, sl)),
                _opt(m.mobile.render(sl)),
                _opt(m.email.render(users, sl)),
                _opt(where(m.birth_present[sl], fmt_date(pop.birth[m.person[sl]]), "")),
                _opt(m.postcode.render(sl)),
                _opt(m.address.render(pop.pools, sl)),
                _opt(m.address.render_detail(sl)),
                GRADES[m.grade[sl]].tolist(),
                fmt_ts(m.joined[sl]).tolist(),
                fmt_ts(m.updated[sl]).tolist(),
            ]
        )
    w.close()

    o, claims = build_orders(ctx, pop, m, products, truth)
    order_id = np.arange(len(o), dtype=np.int64) + 500_001
    member_id = [
        None if k < 0 else v
        for k, v in zip(
            o.member.tolist(), m.member_id[np.maximum(o.member, 0)].tolist(), strict=True
        )
    ]
    original = [
        None if k < 0 else v
        for k, v in zip(
            o.original.tolist(), order_id[np.maximum(o.original, 0)].tolist(), strict=True
        )
    ]
    paid = where(o.paid >= 0, fmt_ts(np.maximum(o.paid, 0)), "")
    w = _TableWriter(ctx, engine, backend, tables["orders"], SHOP_ORDERS, len(o), truth)
    for sl in _chunks(len(o)):
        w.write(
            [
                order_id[sl].tolist(),
                member_id[sl],
                _opt(o.orderer_name[sl]),
                _opt(o.orderer_mobile[sl]),
                _opt(o.orderer_email[sl]),
                fmt_ts(o.ordered[sl]).tolist(),
                _opt(paid[sl]),
                STATUSES[o.status[sl]].tolist(),
                o.total[sl].tolist(),
                o.shipping[sl].tolist(),
                o.discount[sl].tolist(),
                original[sl],
                fmt_ts(o.updated[sl]).tolist(),
            ]
        )
    w.close()

    n_items = len(o.product)
    owner = np.repeat(np.arange(len(o)), np.diff(o.item_start))
    item_id = np.arange(n_items, dtype=np.int64) + 1_000_001
    w = _TableWriter(ctx, engine, backend, tables["order_items"], SHOP_ORDER_ITEMS, n_items, truth)
    for sl in _chunks(n_items):
        w.write(
            [
                item_id[sl].tolist(),
                order_id[owner[sl]].tolist(),
                products.code[o.product[sl]].tolist(),
                o.qty[sl].tolist(),
                o.unit[sl].tolist(),
                fmt_ts(o.ordered[owner[sl]]).tolist(),
            ]
        )
    w.close()

    claim_id = np.arange(len(claims), dtype=np.int64) + 700_001
    last = np.where(claims.completed >= 0, claims.completed, claims.requested)
    done = where(claims.completed >= 0, fmt_ts(np.maximum(claims.completed, 0)), "")
    refund = [
        v if s == COMPLETED else None
        for v, s in zip(claims.refund.tolist(), claims.status.tolist(), strict=True)
    ]
    w = _TableWriter(ctx, engine, backend, tables["claims"], SHOP_CLAIMS, len(claims), truth)
    for sl in _chunks(len(claims)):
        w.write(
            [
                claim_id[sl].tolist(),
                order_id[claims.order[sl]].tolist(),
                CLAIM_TYPES[claims.kind[sl]].tolist(),
                CLAIM_STATUSES[claims.status[sl]].tolist(),
                fmt_ts(claims.requested[sl]).tolist(),
                _opt(done[sl]),
                refund[sl],
                fmt_ts(last[sl]).tolist(),
            ]
        )
    w.close()
    claim_owner = np.repeat(np.arange(len(claims)), np.diff(claims.item_start))
    n_claim_items = len(claim_owner)
    w = _TableWriter(
        ctx, engine, backend, tables["claim_items"], SHOP_CLAIM_ITEMS, n_claim_items, truth
    )
    for sl in _chunks(n_claim_items):
        w.write(
            [
                (np.arange(sl.start, sl.stop) + 800_001).tolist(),
                claim_id[claim_owner[sl]].tolist(),
                item_id[claims.order_item[sl]].tolist(),
                claims.qty[sl].tolist(),
                fmt_ts(last[claim_owner[sl]]).tolist(),
            ]
        )
    w.close()
    write_guest_truth(o, order_id, pop, truth)

    rng = ctx.rng("shop.consents")
    n = len(m)
    refuse = np.stack(
        [rng.random(n) < MIX["shop_refuses_email"], rng.random(n) < MIX["shop_refuses_sms"]], axis=1
    )
    changed = rng.random((n, 2)) < 0.1  # consent changed after sign-up
    stamp = np.where(
        changed,
        m.joined[:, None]
        + ((ctx.end_sec - 1 - m.joined[:, None]) * rng.random((n, 2))).astype(np.int64),
        m.joined[:, None],
    )
    w = _TableWriter(
        ctx, engine, backend, tables["marketing_consents"], SHOP_MARKETING_CONSENTS, 2 * n, truth
    )
    for sl in _chunks(n):
        size = sl.stop - sl.start
        w.write(
            [
                np.repeat(m.member_id[sl], 2).tolist(),
                list(CHANNELS) * size,
                (~refuse[sl]).astype(np.int64).ravel().tolist(),
                fmt_ts(stamp[sl].ravel()).tolist(),
            ]
        )
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


def write_guest_truth(o: ShopOrders, order_id: np.ndarray, pop: Population, truth: Truth) -> None:
    """Who placed each guest order: a person of the population, or '' for a walk-in guest no
    record knows (anonymous revenue)."""
    guest = np.flatnonzero(o.member < 0)
    person = o.guest_person[guest]
    ids = np.where(person >= 0, pop.person_ids(np.maximum(person, 0)), "")
    truth.identity("shop_guest_order", [str(k) for k in order_id[guest].tolist()], ids.tolist())


def write_member_truth(m: Members, pop: Population, truth: Truth) -> None:
    good = np.ones(len(m), dtype=bool)
    good[np.fromiter(m.malformed, dtype=np.int64)] = False
    idx = np.flatnonzero(good)
    for start in range(0, len(idx), CHUNK * 2):
        rows = idx[start : start + CHUNK * 2]
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
