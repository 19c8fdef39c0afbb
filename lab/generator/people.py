"""The population of persons behind all four systems, and persons.csv.

Each person gets canonical contact data; the source modules copy and spoil it. Which system a
person appears in is decided here too, so ERP and shop overlap the way real customers do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import defects as d
from .contacts import (
    DOMAIN_WEIGHTS,
    LOWER,
    Addresses,
    Emails,
    Names,
    Phones,
    Postcodes,
    new_addresses,
)
from .context import Context
from .formats import PH_DASH, S, cat, digits, fmt_date, where
from .pools import INTERNET_PHONE, MOBILE, PREFIX_INDEX, REGIONS, Pools

# Who is in which system, and which contact data people have at all.
MIX: dict[str, float] = {
    # every person is a customer somewhere: ERP 62 %, shop 58 %, a fifth in both
    "erp_only": 0.42,  # bought in a store / TV home shopping / as a business
    "erp_and_shop": 0.20,  # also has a shop account (the rest are online-only)
    "caller": 0.25,  # persons who called the call center in the last 180 days
    "has_mobile": 0.97,
    "has_email": 0.88,
    "has_home_phone": 0.45,
    "has_work_phone": 0.30,
    "has_fax": 0.08,
    "shop_refuses_email": 0.15,  # 수신거부 in marketing_consents
    "shop_refuses_sms": 0.20,
}

AREA_CODES = np.array([PREFIX_INDEX[r.area_code] for r in REGIONS], dtype=np.int16)


@dataclass
class Population:
    n: int
    pools: Pools
    gender: np.ndarray  # 0 male, 1 female
    birth: np.ndarray  # day number
    rrn_tail: np.ndarray  # 5 random digits of the RRN's back part (before the check digit)
    names: Names
    mobile: Phones
    home: Phones
    work: Phones
    fax: Phones
    email: Emails
    address: Addresses
    postcode: Postcodes
    in_erp: np.ndarray
    in_shop: np.ndarray
    given_pool: np.ndarray
    # The day after which the person buys nothing more, on any channel (NEVER: still buying).
    # Real customer bases lose customers (the CLV model's dropout); a first purchase is always
    # kept, so a person who stops stops after having bought.
    stops_buying: np.ndarray
    # values as of end_date (the ERP learns of moves and new numbers on the last days)
    final_mobile: Phones = field(init=False)
    final_address: Addresses = field(init=False)
    final_postcode: Postcodes = field(init=False)

    def __post_init__(self) -> None:
        self.final_mobile = self.mobile.copy()
        self.final_address = self.address.copy()
        self.final_postcode = self.postcode.copy()

    def person_ids(self, idx: np.ndarray) -> np.ndarray:
        return cat("P", digits(np.asarray(idx) + 1, 7))

    def rrn(self, idx: np.ndarray) -> np.ndarray:
        """주민등록번호 YYMMDD-GNNNNNC: G from century and gender, C the checksum digit."""
        idx = np.asarray(idx)
        birth = self.birth[idx].astype("datetime64[D]")
        years = birth.astype("datetime64[Y]").astype(np.int64) + 1970
        months = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
        dom = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1
        g = np.where(years >= 2000, 3, 1) + self.gender[idx]
        front = (years % 100) * 10_000 + months * 100 + dom
        back = g * 100_000 + self.rrn_tail[idx]
        weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
        total = np.zeros(len(idx), dtype=np.int64)
        for pos, w in enumerate(weights):
            digit = front // 10 ** (5 - pos) % 10 if pos < 6 else back // 10 ** (11 - pos) % 10
            total += w * digit
        check = (11 - total % 11) % 10
        return cat(digits(front, 6), "-", digits(back, 6), digits(check))

    def name_text(self, idx: np.ndarray) -> np.ndarray:
        return self.names.take(idx).render(self.given_pool, self.pools.surnames, slice(None))


def _phones(
    prefix: np.ndarray, mid: np.ndarray, mid_len: np.ndarray, last: np.ndarray, present: np.ndarray
) -> Phones:
    n = len(mid)
    return Phones(
        prefix=prefix.astype(np.int16),
        mid=mid.astype(np.int32),
        mid_len=mid_len.astype(np.int8),
        last=last.astype(np.int32),
        last_len=np.full(n, 4, dtype=np.int8),
        layout=np.full(n, PH_DASH, dtype=np.int8),
        defect=np.where(present, d.OK, d.MISSING).astype(np.int8),
    )


def _landline(rng: np.random.Generator, area: np.ndarray, present: np.ndarray) -> Phones:
    n = len(area)
    seoul = area == PREFIX_INDEX["02"]
    # 070 internet phones always have a 4-digit exchange (070-1234-5678); area codes have 3 or 4.
    internet = area == PREFIX_INDEX[INTERNET_PHONE]
    four = (rng.random(n) < np.where(seoul, 0.7, 0.5)) | internet
    mid = np.where(four, rng.integers(2000, 10000, n), rng.integers(200, 1000, n))
    return _phones(area, mid, np.where(four, 4, 3), rng.integers(0, 10000, n), present)


def _unique_emails(
    rng: np.random.Generator, n_users: int, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    local = rng.integers(0, n_users, n)
    suffix = np.where(rng.random(n) < 0.55, rng.integers(1, 100, n), -1)
    suffix = np.where(rng.random(n) < 0.15, rng.integers(1960, 2010, n), suffix)
    domain = rng.choice(len(DOMAIN_WEIGHTS), n, p=DOMAIN_WEIGHTS)
    # redraw the suffix of addresses already taken until every person has their own
    for _ in range(50):
        key = (local * 100_000 + suffix + 1) * 16 + domain
        _, first = np.unique(key, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        suffix[dup] = rng.integers(100, 100_000, dup.sum())
    return local.astype(np.int32), suffix.astype(np.int32), domain.astype(np.int8)


def build_population(ctx: Context, pools: Pools) -> Population:
    rng = ctx.rng("people")
    n = ctx.customers
    gender = (rng.random(n) < 0.52).astype(np.int8)
    # adults 18-90, redrawn rather than clipped so no birthday piles up at the bounds
    age = rng.normal(44, 14, n)
    while (out := (age < 18) | (age > 90)).any():
        age[out] = rng.normal(44, 14, int(out.sum()))
    age_days = age * 365.25
    birth = (ctx.last_day - age_days).astype(np.int32)
    given_pool = np.concatenate([pools.given_male, pools.given_female]).astype(S)
    given = np.where(
        gender == 0,
        rng.integers(0, len(pools.given_male), n),
        len(pools.given_male) + rng.integers(0, len(pools.given_female), n),
    )
    names = Names(
        surname=rng.integers(0, len(pools.surnames), n).astype(np.int32),
        given=given.astype(np.int32),
        variant=np.zeros(n, dtype=np.int8),
        defect=np.zeros(n, dtype=np.int8),
    )
    # mobile numbers are unique: draw 8 digits without replacement, never starting 0/1
    number = rng.choice(80_000_000, n, replace=False) + 20_000_000
    mobile = _phones(
        np.full(n, PREFIX_INDEX[MOBILE]),
        number // 10_000,
        np.full(n, 4),
        number % 10_000,
        rng.random(n) < MIX["has_mobile"],
    )
    address, postcode = new_addresses(rng, pools, n)
    area = AREA_CODES[address.region]
    home = _landline(rng, area, rng.random(n) < MIX["has_home_phone"])
    office_area = np.where(rng.random(n) < 0.2, PREFIX_INDEX[INTERNET_PHONE], area)
    work = _landline(rng, office_area, rng.random(n) < MIX["has_work_phone"])
    fax = _landline(rng, area, rng.random(n) < MIX["has_fax"])
    local, suffix, domain = _unique_emails(rng, len(pools.user_names), n)
    email = Emails(
        local=local,
        suffix=suffix,
        domain=domain,
        case=np.full(n, LOWER, dtype=np.int8),
        variant=np.zeros(n, dtype=np.int8),
        defect=np.where(rng.random(n) < MIX["has_email"], d.OK, d.MISSING).astype(np.int8),
    )
    u = rng.random(n)
    in_erp = u < MIX["erp_only"] + MIX["erp_and_shop"]
    in_shop = u >= MIX["erp_only"]
    return Population(
        stops_buying=_stops_buying(ctx, n),
        n=n,
        pools=pools,
        gender=gender,
        birth=birth,
        rrn_tail=rng.integers(0, 100_000, n).astype(np.int32),
        names=names,
        mobile=mobile,
        home=home,
        work=work,
        fax=fax,
        email=email,
        address=address,
        postcode=postcode,
        in_erp=in_erp,
        in_shop=in_shop,
        given_pool=given_pool,
    )


NEVER = np.iinfo(np.int32).max
STOPS_BUYING_SHARE = 0.45  # of persons stop buying at some day of the last STOPS_WITHIN_DAYS
STOPS_WITHIN_DAYS = 4 * 365


def _stops_buying(ctx: Context, n: int) -> np.ndarray:
    """Per person the last day they buy (NEVER for those still buying): its own random stream,
    so every other draw of the generator stays as it was."""
    rng = ctx.rng("people.stops_buying")
    stops = rng.random(n) < STOPS_BUYING_SHARE
    day = ctx.last_day - rng.integers(0, STOPS_WITHIN_DAYS, n)
    return np.where(stops, day, NEVER).astype(np.int32)


def still_buying(
    stops_buying: np.ndarray, account: np.ndarray, day: np.ndarray, accounts: int
) -> np.ndarray:
    """Which purchases (per `account`, on `day`, its owner's `stops_buying` day) are kept: those
    up to the stop day, and each account's first purchase whatever its day."""
    first = np.full(accounts, NEVER, dtype=np.int64)
    np.minimum.at(first, account, day)
    return (day <= stops_buying) | (day == first[account])


PERSON_COLUMNS = (
    "person_id",
    "name",
    "gender",
    "birth_date",
    "mobile",
    "email",
    "postal_code",
    "address",
    "stops_buying_after",  # the last day the person buys on any channel; empty: still buying
)


def persons_chunks(pop: Population, chunk: int = 200_000) -> Iterator[list[list[str]]]:
    """persons.csv rows, canonical values as of end_date, chunk by chunk."""
    for start in range(0, pop.n, chunk):
        sl = slice(start, min(start + chunk, pop.n))
        idx = np.arange(sl.start, sl.stop)
        cols = [
            pop.person_ids(idx),
            pop.names.render(pop.given_pool, pop.pools.surnames, sl),
            where(pop.gender[sl] == 0, "M", "F"),
            fmt_date(pop.birth[sl]),
            pop.final_mobile.render(sl),  # canonical: dashed 010-NNNN-NNNN
            pop.email.render(pop.pools.user_names, sl),  # canonical: lower case
            pop.final_postcode.render(sl),
            pop.final_address.render(pop.pools, sl),
            where(
                pop.stops_buying[sl] == NEVER,
                "",
                fmt_date(np.where(pop.stops_buying[sl] == NEVER, 0, pop.stops_buying[sl])),
            ),
        ]
        yield [c.tolist() for c in cols]


def write_persons(pop: Population, path: Path) -> int:
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(PERSON_COLUMNS)
        for cols in persons_chunks(pop):
            writer.writerows(zip(*cols, strict=True))
    return pop.n
