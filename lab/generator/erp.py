"""ERP exports: customer and product master snapshots, order and order-line increments.

CP949, CRLF, Korean headers. The customer master grows (new registrations on later days) and
changes (grade, moves, new mobile numbers, which bump 수정일시). Day 1's order files hold the
order history (`history_years`, most of it recent); every later day holds that day's slips:
sales with shipping, fee, discount, rounding and donation lines (the product master's 품목구분
says which), ₩0 gift slips, cancellations (취소), and 반품 slips — partial and full returns days
later, sales reversed the same day — naming their original order (원주문번호, 원행번호) or not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from ingest.schemas import ERP_CUSTOMERS, ERP_ORDER_LINES, ERP_ORDERS, ERP_PRODUCTS, EntitySpec

from . import defects as d
from . import malformed as mf
from .contacts import (
    INNER_SPACE,
    Addresses,
    Emails,
    Names,
    Phones,
    Postcodes,
    new_addresses,
)
from .context import DAY, Context, day_number
from .defects import DEFECT_RATES as R
from .formats import (
    DATE_COMPACT,
    DATE_DOTS,
    PH_DASH,
    PH_DOTS,
    PH_INTL_DASH,
    PH_INTL_PLAIN,
    PH_PLAIN,
    PH_SPACE,
    S,
    cat,
    digits,
    fmt_amount,
    fmt_date,
    fmt_ts,
    where,
)
from .people import Population, still_buying
from .pools import PRODUCT_CATEGORIES, PRODUCT_MODIFIERS, PRODUCT_SIZES
from .truth import Truth
from .writers import CsvFile

CHUNK = 100_000
ENCODING = "cp949"
NEWLINE = "\r\n"
ERP_START = date(2008, 1, 1)  # the ERP went live; the oldest registrations date from here

GRADES = np.array(["일반", "실버", "골드", "VIP"], dtype=S)
GRADE_WEIGHTS = (0.62, 0.25, 0.10, 0.03)
GRADE_ORDERS = np.array([2.0, 3.5, 6.0, 10.0])  # mean orders in two years per grade
CHANNELS = np.array(["매장", "TV홈쇼핑", "B2B"], dtype=S)
STORE, TV, B2B = 0, 1, 2
STATUSES = np.array(["정상", "취소", "반품"], dtype=S)
NORMAL, CANCELLED, RETURNED = 0, 1, 2
MEMOS = np.array(
    [
        "",
        "단골 고객",
        "배송 전 연락 요망",
        "주소지 확인 필요",
        "VIP 관리 대상",
        "현금영수증 발급 요청",
        "부재 시 경비실 보관",
        "세금계산서 발행",
    ],
    dtype=S,
)
MEMO_COMPANY = len(MEMOS)  # "<company> 구매담당" for business buyers
MEMO_RRN = MEMO_COMPANY + 1  # an RRN pasted into the memo
RRN_MEMOS = (("주민번호 ", " 확인"), ("본인확인 ", ""), ("주민 ", " (고객 요청)"))
PHONE_LAYOUTS = {
    PH_PLAIN: 0.22,
    PH_SPACE: 0.05,
    PH_INTL_DASH: 0.04,
    PH_INTL_PLAIN: 0.03,
    PH_DOTS: 0.02,
}  # the rest dashed
LANDLINE_LAYOUTS = {PH_PLAIN: 0.08, PH_SPACE: 0.04}


# Lines that are no merchandise, as ERP product masters hold them (품목구분): code, name,
# type, price, cost. Discounts and adjustments carry their (negative) amount on the line.
SPECIAL_ITEMS = (
    ("DLV-0001", "택배비", "배송비", 3_000, 2_500),
    ("DLV-0002", "화물 운반비", "배송비", 30_000, 26_000),
    ("FEE-0001", "선물 포장비", "수수료", 2_000, 800),
    ("FEE-0002", "설치비", "수수료", 20_000, 12_000),
    ("DSC-0001", "쿠폰 할인", "할인", 0, 0),
    ("ADJ-0001", "끝전 조정", "조정", 0, 0),
    ("DON-0001", "사랑나눔 기부금", "기부금", 1_000, 1_000),
)
MERCHANDISE = "상품"
PARCEL, FREIGHT, WRAPPING, INSTALLATION, DISCOUNT, ADJUSTMENT, DONATION = range(7)
FREE_SHIPPING_FROM = 50_000  # orders below this pay the parcel fee, as most Korean shops do


@dataclass
class Products:
    code: np.ndarray
    name: np.ndarray
    category: np.ndarray
    price: np.ndarray
    cost: np.ndarray
    active: np.ndarray
    popularity: np.ndarray  # probability of being picked for an order line (0 for SPECIAL)
    item_type: np.ndarray  # 품목구분
    n_merchandise: int  # the first n are merchandise, then SPECIAL_ITEMS in order

    def special(self, which: int) -> int:
        return self.n_merchandise + which

    def __len__(self) -> int:
        return len(self.code)


@dataclass
class Customers:
    person: np.ndarray
    number: np.ndarray  # 고객번호 as text
    duplicate: np.ndarray  # the second registration of a person
    join: np.ndarray  # 가입일 (day number)
    names: Names
    rrn_filled: np.ndarray
    mobile: Phones
    home: Phones
    work: Phones
    fax: Phones
    email: Emails
    postcode: Postcodes
    address: Addresses
    grade: np.ndarray
    birth_present: np.ndarray
    birth_style: np.ndarray
    join_style: np.ndarray
    memo: np.ndarray
    memo_arg: np.ndarray
    modified: np.ndarray  # 수정일시 (seconds)
    channel: np.ndarray  # preferred sales channel
    malformed: dict[int, str]

    def __len__(self) -> int:
        return len(self.person)


@dataclass
class ErpResult:
    customers: Customers
    products: Products


def _date_styles(rng: np.random.Generator, n: int) -> np.ndarray:
    return d.draw(rng, n, {DATE_COMPACT: R["erp_date_compact"], DATE_DOTS: R["erp_date_dots"]})


def build_products(ctx: Context) -> Products:
    rng = ctx.rng("erp.products")
    n = min(3000, 240 + ctx.customers // 500)
    cats = list(PRODUCT_CATEGORIES)
    cat_idx = rng.integers(0, len(cats), n)
    names, prices = [], []
    for i, c in enumerate(cat_idx.tolist()):
        nouns, lo, hi = PRODUCT_CATEGORIES[cats[c]]
        parts = [
            PRODUCT_MODIFIERS[i * 7 % len(PRODUCT_MODIFIERS)],
            nouns[int(rng.integers(0, len(nouns)))],
            PRODUCT_SIZES[int(rng.integers(0, len(PRODUCT_SIZES)))],
        ]
        names.append(" ".join(p for p in parts if p))
        price = np.exp(rng.uniform(np.log(lo), np.log(hi)))
        prices.append(int(round(price, -3)) - (100 if rng.random() < 0.4 else 0))  # 29,900
    price = np.array(prices, dtype=np.int64)
    weights = 1.0 / (rng.permutation(n) + 8.0)  # a long tail: few products sell most
    special = len(SPECIAL_ITEMS)
    return Products(
        code=np.concatenate(
            [
                cat("A", digits(np.arange(n) + 100_001)),
                np.array([i[0] for i in SPECIAL_ITEMS], dtype=S),
            ]
        ),
        name=np.concatenate(
            [np.array(names, dtype=S), np.array([i[1] for i in SPECIAL_ITEMS], dtype=S)]
        ),
        category=np.concatenate(
            [np.array([cats[c] for c in cat_idx.tolist()], dtype=S), np.full(special, "", dtype=S)]
        ),
        price=np.concatenate([price, [i[3] for i in SPECIAL_ITEMS]]).astype(np.int64),
        cost=np.concatenate(
            [
                (np.rint(price * rng.uniform(0.45, 0.75, n) / 10) * 10).astype(np.int64),
                [i[4] for i in SPECIAL_ITEMS],
            ]
        ).astype(np.int64),
        active=np.concatenate([rng.random(n) < 0.95, np.ones(special, dtype=bool)]),
        popularity=np.concatenate([weights / weights.sum(), np.zeros(special)]),
        item_type=np.concatenate(
            [np.full(n, MERCHANDISE, dtype=S), np.array([i[2] for i in SPECIAL_ITEMS], dtype=S)]
        ),
        n_merchandise=n,
    )


def build_customers(ctx: Context, pop: Population) -> Customers:
    rng = ctx.rng("erp.customers")
    first = np.flatnonzero(pop.in_erp)
    dup_of = first[rng.random(len(first)) < R["erp_duplicate_person"]]
    person = np.concatenate([first, dup_of]).astype(np.int32)
    duplicate = np.concatenate([np.zeros(len(first), bool), np.ones(len(dup_of), bool)])
    n = len(person)
    day1 = ctx.first_day
    age = np.minimum(rng.exponential(4 * 365, n), day1 - day_number(ERP_START))
    # nobody registers before turning 18
    join = np.maximum(day1 - age, pop.birth[person] + 18 * 365.25).astype(np.int32)
    # a duplicate registers again later, after its first record
    by_person = np.zeros(pop.n, dtype=np.int32)
    by_person[first] = join[: len(first)]
    orig_join = by_person[dup_of]
    span = np.maximum(day1 - orig_join, 0)
    join[len(first) :] = orig_join + (span * rng.random(len(dup_of))).astype(np.int32)
    # new registrations on every later day: the master grows
    has_dup = np.isin(first, dup_of)
    candidates = np.flatnonzero(~has_dup)
    per_day = max(2, round(len(first) * 0.0015))
    n_new = min(len(candidates), per_day * (ctx.days - 1))
    new = rng.choice(candidates, n_new, replace=False)
    join[new] = day1 + 1 + np.arange(n_new) % max(ctx.days - 1, 1)
    # 고객번호 in order of registration
    order = np.lexsort((rng.random(n), join))
    person, duplicate, join = person[order], duplicate[order], join[order]
    number = cat("C", digits(np.arange(n) + 1_000_001, 7))

    names = pop.names.take(person).vary(rng, R["name_inner_space"], R["name_trailing_space"])
    # a re-registration is typed differently: toggle the space in the name
    names.variant[duplicate] ^= INNER_SPACE
    mobile = pop.mobile.take(person).spoil(
        rng,
        PHONE_LAYOUTS,
        {
            d.MISSING: R["erp_mobile_missing"],
            d.TOO_SHORT: R["erp_mobile_too_short"],
            d.DUMMY: R["erp_mobile_dummy"],
            d.LEGACY_PREFIX: R["erp_mobile_legacy_prefix"],
            d.ZERO_LOST: R["erp_mobile_leading_zero_lost"],
        },
        mobile=True,
    )
    dup_idx = np.flatnonzero(duplicate)
    mobile.layout[dup_idx] = np.where(mobile.layout[dup_idx] == PH_DASH, PH_PLAIN, PH_DASH)
    home = pop.home.take(person).spoil(
        rng,
        LANDLINE_LAYOUTS,
        {d.TOO_SHORT: R["erp_home_phone_too_short"], d.DUMMY: R["erp_home_phone_dummy"]},
        mobile=False,
    )
    work = pop.work.take(person).spoil(rng, LANDLINE_LAYOUTS, {}, mobile=False)
    fax = pop.fax.take(person).spoil(rng, LANDLINE_LAYOUTS, {}, mobile=False)
    email = pop.email.take(person).spoil(
        rng,
        R["email_mixed_case"],
        {
            d.MISSING: R["erp_email_missing"],
            d.NO_AT: R["erp_email_no_at_sign"],
            d.TYPO_DOMAIN: R["erp_email_typo_domain"],
            d.PLACEHOLDER: R["erp_email_placeholder"],
        },
    )
    postcode = pop.postcode.take(person).spoil(
        rng,
        {
            d.LEGACY_POSTCODE: R["erp_postcode_legacy"],
            d.MISSING: R["erp_postcode_missing"],
            d.ZERO_LOST: R["erp_postcode_leading_zero_lost"],
        },
    )
    address = pop.address.take(person).copy()
    address.short = rng.random(n) < 0.2  # 서울 for 서울특별시
    address.defect = np.where(rng.random(n) < R["erp_address_missing"], d.MISSING, d.OK).astype(
        np.int8
    )
    postcode.defect[address.defect == d.MISSING] = d.MISSING

    grade = rng.choice(len(GRADES), n, p=GRADE_WEIGHTS).astype(np.int8)
    channel = rng.choice(3, n, p=[0.7, 0.2, 0.1]).astype(np.int8)
    memo = np.where(rng.random(n) < 0.15, rng.integers(1, len(MEMOS), n), 0)
    memo = np.where((channel == B2B) & (rng.random(n) < 0.5), MEMO_COMPANY, memo)
    memo = np.where(rng.random(n) < R["erp_rrn_in_memo"], MEMO_RRN, memo).astype(np.int8)
    # 수정일시: registration time, or a later edit for a third of the records
    edited = rng.random(n) < 0.35
    edit_day = join + (np.maximum(day1 - join, 0) * rng.random(n)).astype(np.int32)
    modified = np.where(edited, edit_day, join).astype(np.int64) * DAY + rng.integers(
        9 * 3600, 19 * 3600, n
    )
    customers = Customers(
        person=person,
        number=number,
        duplicate=duplicate,
        join=join,
        names=names,
        rrn_filled=rng.random(n) < R["erp_rrn_filled"],
        mobile=mobile,
        home=home,
        work=work,
        fax=fax,
        email=email,
        postcode=postcode,
        address=address,
        grade=grade,
        birth_present=rng.random(n) >= R["erp_birth_date_missing"],
        birth_style=_date_styles(rng, n),
        join_style=_date_styles(rng, n),
        memo=memo,
        memo_arg=rng.integers(0, 1 << 30, n).astype(np.int32),
        modified=modified,
        channel=channel,
        malformed={},
    )
    # broken rows stay broken in every snapshot: pick them among the day-1 records
    n_day1 = int(np.searchsorted(join, day1, side="right"))
    kinds = mf.applicable_kinds(ERP_CUSTOMERS, mf.CSV_KINDS)
    customers.malformed = mf.pick(
        ctx.rng("malformed:erp_customers"), n_day1, kinds, ctx.malformed_rate
    )
    return customers


def _memo_text(c: Customers, pop: Population, sl: slice) -> np.ndarray:
    memo = c.memo[sl].astype(np.int64)
    out = MEMOS[np.minimum(memo, len(MEMOS) - 1)]
    out[memo == 0] = ""
    company = memo == MEMO_COMPANY
    arg = c.memo_arg[sl]
    companies = pop.pools.companies
    out[company] = cat(companies[arg[company] % len(companies)], " 구매담당")
    rrn = np.flatnonzero(memo == MEMO_RRN)
    if len(rrn):
        style = arg[rrn] % len(RRN_MEMOS)
        before = np.array([t[0] for t in RRN_MEMOS], dtype=S)[style]
        after = np.array([t[1] for t in RRN_MEMOS], dtype=S)[style]
        out[rrn] = cat(before, pop.rrn(c.person[sl][rrn]), after)
    return out


def customer_columns(c: Customers, pop: Population, sl: slice) -> list[np.ndarray]:
    person = c.person[sl]
    pools = pop.pools
    return [
        c.number[sl],
        c.names.render(pop.given_pool, pools.surnames, sl),
        where(c.rrn_filled[sl], pop.rrn(person), ""),
        c.mobile.render(sl),
        c.home.render(sl),
        c.work.render(sl),
        c.fax.render(sl),
        c.email.render(pools.user_names, sl),
        c.postcode.render(sl),
        c.address.render(pools, sl),
        c.address.render_detail(sl),
        GRADES[c.grade[sl]],
        where(c.birth_present[sl], fmt_date(pop.birth[person], c.birth_style[sl]), ""),
        fmt_date(c.join[sl], c.join_style[sl]),
        _memo_text(c, pop, sl),
        fmt_ts(c.modified[sl]),
    ]


def _apply_changes(ctx: Context, c: Customers, pop: Population, day: int, n_rows: int) -> None:
    """Edits staff make on `day`: grade changes, moves, new mobile numbers."""
    rng = ctx.rng(f"erp.changes.{day}")
    ok = np.setdiff1d(np.arange(n_rows), np.fromiter(c.malformed, dtype=np.int64))
    count = min(len(ok), max(1, round(n_rows * 0.003)))
    idx = np.sort(rng.choice(ok, count, replace=False))
    kind = rng.choice(3, count, p=[0.4, 0.3, 0.3])
    grade = idx[kind == 0]
    c.grade[grade] = (c.grade[grade] + rng.integers(1, len(GRADES), len(grade))) % len(GRADES)
    moved = idx[kind == 1]
    address, postcode = new_addresses(rng, pop.pools, len(moved))
    c.address.assign(moved, address)
    c.postcode.assign(moved, postcode)
    pop.final_address.assign(c.person[moved], address)
    pop.final_postcode.assign(c.person[moved], postcode)
    renumbered = idx[kind == 2]
    number = rng.integers(20_000_000, 100_000_000, len(renumbered))
    c.mobile.mid[renumbered] = number // 10_000
    c.mobile.last[renumbered] = number % 10_000
    c.mobile.mid_len[renumbered] = 4
    c.mobile.last_len[renumbered] = 4
    c.mobile.prefix[renumbered] = pop.mobile.prefix[0]
    c.mobile.defect[renumbered] = d.OK
    c.mobile.layout[renumbered] = PH_DASH
    fm = pop.final_mobile
    target = c.person[renumbered]
    fm.mid[target] = number // 10_000
    fm.last[target] = number % 10_000
    fm.defect[target] = d.OK
    c.modified[idx] = day * DAY + rng.integers(9 * 3600, 19 * 3600, count)


def _write(
    path_rel: str,
    ctx: Context,
    spec: EntitySpec,
    n_rows: int,
    render: Callable[[slice], list[np.ndarray]],
    malformed: dict[int, str],
    truth: Truth,
    excel_saved: bool = False,
) -> None:
    out = CsvFile(
        ctx.landing / path_rel,
        path_rel,
        spec,
        malformed,
        truth,
        encoding=ENCODING,
        newline=NEWLINE,
        excel_saved=excel_saved,
    )
    for start in range(0, n_rows, CHUNK):
        cols = render(slice(start, min(start + CHUNK, n_rows)))
        out.write([col.tolist() for col in cols])
    out.close()


def _stamp(day: int) -> str:
    return str(np.datetime64(day, "D")).replace("-", "")


def write_masters(ctx: Context, pop: Population, c: Customers, p: Products, truth: Truth) -> None:
    rng = ctx.rng("erp.products.render")
    thousands_price = rng.random(len(p)) < R["erp_amount_thousands"]
    thousands_cost = rng.random(len(p)) < R["erp_amount_thousands"]
    product_cols = [
        p.code,
        p.name,
        p.category,
        fmt_amount(p.price, thousands_price),
        fmt_amount(p.cost, thousands_cost),
        where(p.active, "Y", "N"),
        p.item_type,
    ]
    product_bad = mf.pick(
        ctx.rng("malformed:erp_products"),
        len(p),
        mf.applicable_kinds(ERP_PRODUCTS, mf.CSV_KINDS),
        ctx.malformed_rate,
    )
    for k, day in enumerate(range(ctx.first_day, ctx.last_day + 1)):
        n_rows = int(np.searchsorted(c.join, day, side="right"))
        if k > 0:
            _apply_changes(ctx, c, pop, day, n_rows)
        stamp = _stamp(day)
        _write(
            f"erp/erp_customers_{stamp}.csv",
            ctx,
            ERP_CUSTOMERS,
            n_rows,
            lambda sl: customer_columns(c, pop, sl),
            c.malformed,
            truth,
            # Every third snapshot was opened in Excel by an admin and saved again.
            excel_saved=k % 3 == 1,
        )
        _write(
            f"erp/erp_products_{stamp}.csv",
            ctx,
            ERP_PRODUCTS,
            len(p),
            lambda sl: [col[sl] for col in product_cols],
            product_bad,
            truth,
        )


def write_customer_truth(c: Customers, pop: Population, truth: Truth) -> None:
    """Identity and contact truth for every well-formed customer record, as last delivered."""
    good = np.ones(len(c), dtype=bool)
    good[np.fromiter(c.malformed, dtype=np.int64)] = False
    idx = np.flatnonzero(good)
    for start in range(0, len(idx), CHUNK):
        rows = idx[start : start + CHUNK]
        keys = c.number[rows].tolist()
        truth.identity("erp_customer", keys, pop.person_ids(c.person[rows]).tolist())
        sub_names = c.names.take(rows)
        fields: list[tuple[str, np.ndarray, np.ndarray]] = [
            (
                "name",
                sub_names.render(pop.given_pool, pop.pools.surnames, slice(None)),
                sub_names.defect,
            ),
        ]
        for field, phones in (
            ("mobile", c.mobile),
            ("home_phone", c.home),
            ("work_phone", c.work),
            ("fax", c.fax),
        ):
            sub = phones.take(rows)
            fields.append((field, sub.render(slice(None)), sub.defect))
        sub_email = c.email.take(rows)
        fields.append(
            ("email", sub_email.render(pop.pools.user_names, slice(None)), sub_email.defect)
        )
        sub_post = c.postcode.take(rows)
        fields.append(("postal_code", sub_post.render(slice(None)), sub_post.defect))
        sub_addr = c.address.take(rows)
        fields.append(("address", sub_addr.render(pop.pools, slice(None)), sub_addr.defect))
        for field, values, codes in fields:
            truth.contacts("erp_customer", keys, field, values, codes)


# ---------------------------------------------------------------- orders
@dataclass
class Orders:
    """ERP order documents: sales slips (정상, 취소) and 반품 slips (returns and credit notes)."""

    customer: np.ndarray  # index into Customers
    day: np.ndarray
    channel: np.ndarray
    status: np.ndarray
    total: np.ndarray
    seq: np.ndarray  # running number within the day (for 주문번호)
    original: np.ndarray  # 반품 slips: index of the order reversed; -1 none; UNKNOWN_ORDER
    show_original: np.ndarray  # 원주문번호 written on the slip
    line_start: np.ndarray  # first line of each order (+ one past the end)
    line_no: np.ndarray
    product: np.ndarray
    qty: np.ndarray
    unit: np.ndarray
    original_line_no: np.ndarray  # 원행번호 written on a return line (0: empty)

    def __len__(self) -> int:
        return len(self.day)


UNKNOWN_ORDER = -2  # a 반품 slip naming an order number the ERP never exported
RETURN_RATE = 0.03  # sales later taken back in part or whole on a 반품 slip
SAME_DAY_REVERSAL_RATE = 0.006  # a sale reversed in full the same day (cancelled at the till)
ZERO_VALUE_RATE = 0.005  # free gifts and samples shipped on a ₩0 slip (사은품 출고)


@dataclass
class _Lines:
    owner: np.ndarray
    product: np.ndarray
    qty: np.ndarray
    unit: np.ndarray
    original_line: np.ndarray  # index of the sale line a return line takes back (-1: none)

    @classmethod
    def concat(cls, parts: list[_Lines]) -> _Lines:
        return cls(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("owner", "product", "qty", "unit", "original_line")
            )
        )


def _sales(
    ctx: Context, c: Customers, p: Products, rng: np.random.Generator, stops: np.ndarray
) -> tuple[dict[str, np.ndarray], _Lines]:
    # Each customer buys at a steady rate of its own over the days it could buy (from joining,
    # or the start of the history, to the end) until it stops (people.stops_buying): a
    # gamma-mixed Poisson count — most customers buy a few times, some very often — whose
    # mean grows with those days (the grade's mean, scaled so the base keeps its volume), on
    # days spread evenly over them. A count that ignored the days would give a customer who
    # joined last month a year's purchases in a month: no real base looks like that, and no
    # purchase model could learn from it. The business still grows: most customers joined
    # recently (build_customers).
    lo_c = np.maximum(c.join, ctx.history_start)
    span_c = np.maximum(ctx.last_day - lo_c + 1, 1)
    mean = GRADE_ORDERS[c.grade] * np.where(c.duplicate, 0.3, 1.0) * 1.5 * span_c / span_c.mean()
    counts = rng.negative_binomial(1.5, 1.5 / (1.5 + mean))
    cust = np.repeat(np.arange(len(c)), counts)
    n = len(cust)
    day = (lo_c[cust] + (span_c[cust] * rng.random(n)).astype(np.int64)).astype(np.int32)
    # A customer whose owner stopped buying (people.stops_buying) bought nothing after it.
    kept = still_buying(stops[cust], cust, day, len(c))
    cust, day = cust[kept], day[kept]
    n = len(cust)
    channel = np.where(
        rng.random(n) < 0.85, c.channel[cust], rng.choice(3, n, p=[0.7, 0.2, 0.1])
    ).astype(np.int8)
    status = np.where(rng.random(n) < 0.04, CANCELLED, NORMAL).astype(np.int8)
    zero = (status == NORMAL) & (rng.random(n) < ZERO_VALUE_RATE)

    n_lines = np.where(
        channel == B2B, 1 + rng.poisson(2.0, n), 1 + np.minimum(rng.poisson(0.7, n), 5)
    )
    owner = np.repeat(np.arange(n), n_lines)
    product = rng.choice(len(p), len(owner), p=p.popularity).astype(np.int32)
    ch = channel[owner]
    qty = np.where(
        ch == B2B,
        rng.integers(5, 60, len(ch)),
        1 + np.where(ch == TV, rng.random(len(ch)) < 0.2, rng.poisson(0.4, len(ch))),
    )
    unit = p.price[product]
    unit = np.where(ch == TV, np.rint(unit * 0.9 / 100) * 100, unit).astype(np.int64)
    unit[zero[owner]] = 0
    merch = np.bincount(owner, weights=qty * unit, minlength=n).astype(np.int64)

    extras: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []

    def extra(
        mask: np.ndarray, which: int, qty_: np.ndarray | int, unit_: np.ndarray | int
    ) -> None:
        idx = np.flatnonzero(mask)
        extras.append(
            (
                idx,
                p.special(which),
                np.broadcast_to(qty_, len(idx)) if np.isscalar(qty_) else np.asarray(qty_)[idx],
                np.broadcast_to(unit_, len(idx)) if np.isscalar(unit_) else np.asarray(unit_)[idx],
            )
        )

    u = rng.random((7, n))
    paid = merch > 0
    extra(paid & (channel != B2B) & (merch < FREE_SHIPPING_FROM) & (u[0] < 0.7), PARCEL, 1, 3_000)
    extra(paid & (channel == B2B) & (u[1] < 0.3), FREIGHT, 1, 30_000)
    extra(paid & (u[2] < 0.02), WRAPPING, 1 + (u[2] * 100).astype(np.int64) % 3, 2_000)
    extra(paid & (channel == TV) & (u[3] < 0.05), INSTALLATION, 1, 20_000)
    extra((merch >= 20_000) & (u[4] < 0.05), DISCOUNT, 1, -(np.rint(merch * 0.05 / 100) * 100))
    extra(paid & (merch % 1_000 > 0) & (u[5] < 0.02), ADJUSTMENT, 1, -(merch % 1_000))
    extra(paid & (u[6] < 0.01), DONATION, 1, 1_000)
    lines = _Lines.concat(
        [
            _Lines(owner, product, qty.astype(np.int64), unit, np.full(len(owner), -1)),
            *[
                _Lines(
                    idx,
                    np.full(len(idx), code, dtype=np.int32),
                    np.asarray(q, dtype=np.int64),
                    np.asarray(un, dtype=np.int64),
                    np.full(len(idx), -1),
                )
                for idx, code, q, un in extras
            ],
        ]
    )
    docs = {
        "customer": cust,
        "day": day,
        "channel": channel,
        "status": status,
        "zero": zero,
        "merch": merch,
    }
    return docs, lines


def _credits(
    ctx: Context,
    docs: dict[str, np.ndarray],
    lines: _Lines,
    p: Products,
    rng: np.random.Generator,
    truth: Truth,
) -> tuple[dict[str, np.ndarray], _Lines]:
    """반품 slips: partial and full returns days later, and same-day reversals (a sale undone
    minutes after it was rung up). Each names its original order or not, as staff typed it."""
    n = len(docs["day"])
    lag = rng.integers(1, 31, n)
    sale = (docs["status"] == NORMAL) & ~docs["zero"] & (docs["merch"] > 0)
    returned = np.flatnonzero(
        sale & (rng.random(n) < RETURN_RATE) & (docs["day"] + lag <= ctx.last_day)
    )
    reversed_ = np.flatnonzero(sale & (rng.random(n) < SAME_DAY_REVERSAL_RATE))
    reversed_ = np.setdiff1d(reversed_, returned)

    order_of = lines.owner
    is_merch = lines.product < p.n_merchandise
    by_order = np.argsort(order_of, kind="stable")
    first_line = np.searchsorted(order_of[by_order], np.arange(n))
    merch_count = np.bincount(order_of[is_merch], minlength=n)

    # Returns: the first k merchandise lines of the order, each with 1..qty units.
    k = 1 + (rng.random(len(returned)) * merch_count[returned]).astype(np.int64)
    ret_lines = (
        np.concatenate(
            [
                by_order[first_line[o] : first_line[o] + kk]
                for o, kk in zip(returned.tolist(), k.tolist(), strict=True)
            ]
        )
        if len(returned)
        else np.zeros(0, dtype=np.int64)
    )
    ret_lines = ret_lines[is_merch[ret_lines]]
    ret_qty = 1 + (rng.random(len(ret_lines)) * lines.qty[ret_lines]).astype(np.int64)
    ret_qty = np.minimum(ret_qty, lines.qty[ret_lines])
    # Every line of a same-day reversal, shipping and fees included, in full.
    rev_lines = np.flatnonzero(np.isin(order_of, reversed_))

    credit_orders = np.concatenate([returned, reversed_])
    n_credit = len(credit_orders)
    credit_index = {o: n + i for i, o in enumerate(credit_orders.tolist())}
    src = np.concatenate([ret_lines, rev_lines])
    owner = np.array([credit_index[o] for o in order_of[src].tolist()], dtype=np.int64)
    qty = -np.concatenate([ret_qty, lines.qty[rev_lines]])
    is_return = np.concatenate([np.ones(len(returned), bool), np.zeros(len(reversed_), bool)])
    show_original = np.where(is_return, rng.random(n_credit) < 0.85, rng.random(n_credit) < 0.5)
    original = credit_orders.copy()
    # Bad input real ERPs export now and then: a slip naming an order that does not exist,
    # and a return of more units than were bought.
    unknown = is_return & (rng.random(n_credit) < 0.01) & show_original
    original[unknown] = UNKNOWN_ORDER
    over = np.flatnonzero(
        np.isin(owner - n, np.flatnonzero(is_return & ~unknown)) & (rng.random(len(owner)) < 0.01)
    )
    qty[over] -= 2
    credit = {
        "customer": docs["customer"][credit_orders],
        "day": np.concatenate(
            [docs["day"][returned] + lag[returned], docs["day"][reversed_]]
        ).astype(np.int32),
        "channel": docs["channel"][credit_orders],
        "status": np.full(n_credit, RETURNED, dtype=np.int8),
        "original": original,
        "show_original": show_original,
    }
    credit_lines = _Lines(owner, lines.product[src], qty, lines.unit[src], src)
    partial = (
        np.bincount(
            owner[: len(ret_lines)] - n,
            weights=(ret_qty < lines.qty[ret_lines]),
            minlength=n_credit,
        )[: len(returned)]
        > 0
    )
    partial |= k < merch_count[returned]
    truth.extra.setdefault("order_patterns", {}).update(
        {
            "erp_return_slips_partial": int(partial.sum()),
            "erp_return_slips_full": int((~partial).sum()),
            "erp_same_day_reversals": len(reversed_),
            "erp_credit_slips_naming_original": int(show_original.sum()),
            "erp_credit_slips_without_original": int((~show_original).sum()),
            "erp_credit_slips_naming_unknown_order": int(unknown.sum()),
            "erp_return_lines_over_bought": len(over),
        }
    )
    return credit, credit_lines


def build_orders(
    ctx: Context, c: Customers, p: Products, truth: Truth, stops_buying: np.ndarray
) -> Orders:
    """`stops_buying`: per person, the last day they buy (people.stops_buying)."""
    rng = ctx.rng("erp.orders")
    sales, sale_lines = _sales(ctx, c, p, rng, stops_buying[c.person])
    credit, credit_lines = _credits(ctx, sales, sale_lines, p, rng, truth)
    n_sales = len(sales["day"])
    day = np.concatenate([sales["day"], credit["day"]])
    n = len(day)
    # 주문번호 follow the order date; a 반품 slip on the day of its sale comes after it.
    is_credit = np.arange(n) >= n_sales
    order = np.lexsort((rng.random(n), is_credit, day))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    lines = _Lines.concat([sale_lines, credit_lines])
    line_owner = rank[lines.owner]
    line_order = np.lexsort((np.arange(len(line_owner)), line_owner))
    owner = line_owner[line_order]
    starts = np.searchsorted(owner, np.arange(n + 1))
    line_no = (np.arange(len(owner)) - starts[owner] + 1).astype(np.int32)
    # 원행번호: the line number of the sale line a return line takes back, where written.
    line_no_of = np.empty(len(owner), dtype=np.int32)
    line_no_of[line_order] = line_no
    src = lines.original_line[line_order]
    original_raw = np.concatenate([np.full(n_sales, -1), credit["original"]])[order]
    show = np.concatenate([np.zeros(n_sales, bool), credit["show_original"]])[order]
    line_ref = (src >= 0) & show[owner] & (original_raw[owner] >= 0)
    line_ref &= ctx.rng("erp.orders.line_refs").random(len(owner)) < 0.6
    original_line_no = np.where(line_ref, line_no_of[np.maximum(src, 0)], 0).astype(np.int32)
    original = np.where(original_raw >= 0, rank[np.maximum(original_raw, 0)], original_raw)
    qty = lines.qty[line_order]
    unit = lines.unit[line_order]
    total = np.bincount(owner, weights=qty * unit, minlength=n)
    day = day[order]
    first_of_day = np.searchsorted(day, day, side="left")
    status = np.concatenate([sales["status"], credit["status"]])[order]
    patterns = truth.extra.setdefault("order_patterns", {})
    patterns.update(
        {
            "erp_sales_slips": int((status == NORMAL).sum()),
            "erp_cancelled_slips": int((status == CANCELLED).sum()),
            "erp_zero_value_slips": int(sales["zero"].sum()),
            "erp_lines_by_item_type": {
                str(t): int(np.isin(lines.product, np.flatnonzero(p.item_type == t)).sum())
                for t in sorted(set(p.item_type.tolist()))
            },
        }
    )
    return Orders(
        customer=np.concatenate([sales["customer"], credit["customer"]])[order],
        day=day.astype(np.int32),
        channel=np.concatenate([sales["channel"], credit["channel"]])[order],
        status=status,
        total=np.rint(total).astype(np.int64),
        seq=(np.arange(n) - first_of_day + 1).astype(np.int32),
        original=original,
        show_original=show,
        line_start=starts,
        line_no=line_no,
        product=lines.product[line_order],
        qty=qty.astype(np.int64),
        unit=unit.astype(np.int64),
        original_line_no=original_line_no,
    )


def _order_numbers(o: Orders, idx: np.ndarray | slice) -> np.ndarray:
    width = max(5, len(str(int(o.seq.max()) if len(o) else 0)))
    return cat(
        "SO",
        fmt_date(o.day[idx], np.full(len(o.day[idx]), DATE_COMPACT)),
        digits(o.seq[idx], width),
    )


def _original_numbers(o: Orders, sl: slice) -> np.ndarray:
    """원주문번호 as written on each slip: the reversed order's number, a number the ERP never
    exported (UNKNOWN_ORDER), or empty."""
    original = o.original[sl]
    shown = o.show_original[sl]
    out = np.full(len(original), "", dtype=S)
    known = shown & (original >= 0)
    if known.any():
        out[known] = _order_numbers(o, original[known])
    unknown = shown & (original == UNKNOWN_ORDER)
    if unknown.any():
        width = max(5, len(str(int(o.seq.max()))))
        out[unknown] = cat(
            "SO",
            fmt_date(o.day[sl][unknown] - 400, np.full(int(unknown.sum()), DATE_COMPACT)),
            "9" * width,
        )
    return out


Render = Callable[[slice], list[np.ndarray]]


def _shifted(render: Render, offset: int) -> Render:
    """A file's rows are a slice of the whole history: shift the file's row range into it."""

    def shifted(sl: slice) -> list[np.ndarray]:
        return render(slice(sl.start + offset, sl.stop + offset))

    return shifted


def write_orders(ctx: Context, c: Customers, p: Products, o: Orders, truth: Truth) -> None:
    rng = ctx.rng("erp.orders.render")
    date_style = _date_styles(rng, len(o))
    thousands = rng.random(len(o)) < R["erp_amount_thousands"]
    n_lines = len(o.line_no)
    line_thousands = rng.random(n_lines) < R["erp_amount_thousands"]
    owner = np.repeat(np.arange(len(o)), np.diff(o.line_start))
    bounds = np.searchsorted(ctx.file_day(o.day), np.arange(ctx.days + 1))
    order_kinds = mf.applicable_kinds(ERP_ORDERS, mf.CSV_KINDS)
    line_kinds = mf.applicable_kinds(ERP_ORDER_LINES, mf.CSV_KINDS)

    def order_cols(sl: slice) -> list[np.ndarray]:
        return [
            _order_numbers(o, sl),
            c.number[o.customer[sl]],
            fmt_date(o.day[sl], date_style[sl]),
            CHANNELS[o.channel[sl]],
            STATUSES[o.status[sl]],
            fmt_amount(o.total[sl], thousands[sl]),
            _original_numbers(o, sl),
        ]

    def line_cols(sl: slice) -> list[np.ndarray]:
        ref = o.original_line_no[sl]
        return [
            _order_numbers(o, owner[sl]),
            digits(o.line_no[sl]),
            p.code[o.product[sl]],
            fmt_amount(o.qty[sl]),
            fmt_amount(o.unit[sl], line_thousands[sl]),
            fmt_amount(o.qty[sl] * o.unit[sl], line_thousands[sl]),
            where(ref > 0, digits(ref), ""),
        ]

    for k, day in enumerate(range(ctx.first_day, ctx.last_day + 1)):
        stamp = _stamp(day)
        a, b = int(bounds[k]), int(bounds[k + 1])
        rel = f"erp/erp_orders_{stamp}.csv"
        bad = mf.pick(ctx.rng(f"malformed:{rel}"), b - a, order_kinds, ctx.malformed_rate)
        _write(rel, ctx, ERP_ORDERS, b - a, _shifted(order_cols, a), bad, truth)
        la, lb = int(o.line_start[a]), int(o.line_start[b])
        rel = f"erp/erp_order_lines_{stamp}.csv"
        bad = mf.pick(ctx.rng(f"malformed:{rel}"), lb - la, line_kinds, ctx.malformed_rate)
        _write(rel, ctx, ERP_ORDER_LINES, lb - la, _shifted(line_cols, la), bad, truth)


def generate_erp(ctx: Context, pop: Population, truth: Truth) -> ErpResult:
    products = build_products(ctx)
    customers = build_customers(ctx, pop)
    write_masters(ctx, pop, customers, products, truth)
    write_customer_truth(customers, pop, truth)
    orders = build_orders(ctx, customers, products, truth, pop.stops_buying)
    write_orders(ctx, customers, products, orders, truth)
    truth.extra.setdefault("counts", {})["erp_orders_by_status"] = {
        str(STATUSES[s]): int((orders.status == s).sum()) for s in range(3)
    }
    return ErpResult(customers=customers, products=products)
